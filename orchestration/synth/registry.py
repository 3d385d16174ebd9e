"""Every writer of the generator, in the order generate.py calls them.

The order is part of the output: the plan's draws come first (plan.py), then the writers that draw
from the run's shared stream continue it in this order (Fingertips, deprivation, the survey, ONS
population, FFT), so the reference and survey files come before them, and a writer added in their
midst would move later writers' bytes. Writers with streams of their own (QOF and the record-level
feeds) could go anywhere; they come last, the record-level ones, most of a national run's time,
at the end. `_manifest.json` lists the planted gaps in this order too.
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
