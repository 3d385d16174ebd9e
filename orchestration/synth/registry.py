"""Every writer of the generator, in the order generate.py calls them.

The order is part of the output. The plan's draws come first (plan.py); then Fingertips,
deprivation, the survey, ONS population and FFT draw from the run's shared stream in this order,
so moving one of them, or adding a writer that draws from that stream before them, changes the
bytes of every one after it. QOF and the record-level feeds draw from streams of their own, so
their places move no file's bytes, only the order of `_manifest.json`'s gaps, which follow the
writers' order.
"""

from __future__ import annotations

from orchestration.synth.context import Writer
from orchestration.synth.cost import CostWriter
from orchestration.synth.deprivation import DeprivationWriter
from orchestration.synth.fft import FftWriter
from orchestration.synth.gpps import GppsWriter
from orchestration.synth.hospital_activity import HospitalActivityWriter
from orchestration.synth.ons_population import OnsPopulationWriter
from orchestration.synth.prescribing import PrescribingWriter
from orchestration.synth.public_health import FingertipsWriter
from orchestration.synth.qof import QofWriter
from orchestration.synth.reference import Eccg, Epraccur, ListSizes, PracticeMap
from orchestration.synth.urgent_care import UrgentCareWriter

WRITERS: tuple[Writer, ...] = (
    ListSizes(),
    PracticeMap(),
    Epraccur(),
    Eccg(),
    FingertipsWriter(),
    DeprivationWriter(),
    GppsWriter(),
    OnsPopulationWriter(),
    FftWriter(),
    QofWriter(),
    HospitalActivityWriter(),
    UrgentCareWriter(),
    CostWriter(),
    PrescribingWriter(),
)
