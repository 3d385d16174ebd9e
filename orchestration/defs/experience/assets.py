"""Load assets for the patient-experience feeds (GP Patient Survey; Friends and Family Test)."""

from __future__ import annotations

from orchestration.defs.experience import fft, gpps, publish
from orchestration.lib.load_assets import monthly_feed_asset, snapshot_feed_asset

GROUP = "experience"

gpps_practice_results = snapshot_feed_asset(gpps.GPPS_PRACTICE, GROUP)
fft_inpatient = monthly_feed_asset(fft.FFT_INPATIENT, GROUP)
fft_ae = monthly_feed_asset(fft.FFT_AE, GROUP)

assets = [gpps_practice_results, fft_inpatient, fft_ae, publish.fft_trust_experience]
