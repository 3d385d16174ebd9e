# ruff: noqa: E501  (the presentation catalogue is a data table, one presentation a row)
"""English Prescribing Dataset (EPD) monthly files for the generated geography.

One file a month, `epd/<YYYY-MM>/EPD_<YYYYMM>` (zipped at sample scale, plain CSV nationally), with
rows for every GP practice, the three non-GP cost centres the ODS generator writes (out of hours,
community nursing, hospital pharmacy: codes `Y0<j+1><number of sub-ICBs>`, prescribing settings 2, 9
and 10) and `UNIDENTIFIED DOCTORS` rows whose organisation fields are all '-'.

Layout by month (orchestration/defs/prescribing/feeds.py): STP columns before 2022-07, ICB columns
from 2022-07, the renamed SNOMED layout (`BNF_PRESENTATION_CODE`, `ADQ_USAGE`, `SNOMED_CODE`, …)
from 2025-03 — that boundary is UNVERIFIED (one third-party QC script).

Volumes: items per 1,000 registered patients per month by presentation, higher on older lists
(`Presentation.age`), with a practice-level preference per measure (`Presentation.tilt`) so that
practices differ the way OpenPrescribing measures show. A presentation's items are split over two
rows by quantity per item in a share of cells (the grain is not unique, as in the real file).
Prices are NIC per unit of the order of the Drug Tariff; actual cost = NIC less ~7% discount plus a
small fee per item. The measure-relevant presentations use real BNF codes where one was seen in a
real file (`seen=True`); the others follow the BNF pattern with an UNVERIFIED product/strength
suffix. Nationally, synthetic filler presentations (valid pattern, chapters no measure reads) bring
a month to about 17 million rows. SNOMED codes are synthetic 17-digit dm+d-style identifiers.

Planted (returned): a practice missing from one month's file, a practice at ~40% of its usual
volume in one month, and rows for a practice code no ODS file knows.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.defs.prescribing.feeds import EPD
from orchestration.synth import activity_base
from orchestration.synth.context import RECORD_WEIGHT, WriteContext
from orchestration.synth.geography import SUB_ICB_ERA, Geography, commissioner
from orchestration.synth.manifest import PlantedGap, Receive

FEED = EPD.name
SNOMED_RENAMED_ERA = date(2025, 3, 1)  # UNVERIFIED boundary (3P QC script 202502/202503)
SAMPLE_LAST_MONTH = date(2022, 12, 1)
PUBLICATION_DAY = 28  # NHSBSA publishes about two months after dispensing (UNVERIFIED)
NIC_DISCOUNT = 0.0725  # actual cost ≈ NIC less the discount, plus fees per item (PCA definition)
FEE_PER_ITEM = 0.012
SPLIT_SHARE = {"sample": 0.12, "national": 0.3}


@dataclass(frozen=True)
class Presentation:
    code: str
    name: str
    chemical: str
    form_route: str | None
    pack: float  # usual quantity per item
    alt_pack: float  # quantity per item of the second row when a cell is split
    price: float  # NIC per unit of quantity, GBP
    adq: float  # ADQs per unit of quantity (0: no ADQ)
    rate: float  # items per 1,000 patients per month on a list of average age
    age: float  # log-slope of the rate on the practice's older share
    group: str  # therapeutic group (decides what non-GP settings prescribe)
    tilt: str | None = None  # a practice-level preference a measure picks up
    seen: bool = False  # code seen in a real publisher file
    sample: bool = False  # written at sample scale too

    @property
    def chemical_code(self) -> str:
        return self.code[:4] if self.is_appliance else self.code[:9]

    @property
    def is_appliance(self) -> bool:
        return self.code[:2] >= "20"


def _p(
    code, name, chemical, route, pack, alt, price, adq, rate, age, group, tilt=None, seen=False, sample=False
):
    return Presentation(
        code, name, chemical, route, pack, alt, price, adq, rate, age, group, tilt, seen, sample
    )


TAB, CAP = "tablet.oral", "capsule.oral"
PMDI, DPI, NEB = (
    "pressurizedinhalation.inhalation",
    "powderinhalation.inhalation",
    "inhalationsolution.inhalation",
)
SC = "solutioninjection.subcutaneous"

# fmt: off
CATALOGUE: tuple[Presentation, ...] = (
    # NSAIDs (ktt13_nsaids_ibuprofen: 100101 excluding ibuprofen 1001010J0 and naproxen 1001010P0)
    _p("1001010J0AAADAD", "Ibuprofen 400mg tablets", "Ibuprofen", TAB, 84, 24, 0.030, 0.33, 3.5, 0.0, "nsaid", sample=True),
    _p("1001010P0AAADAD", "Naproxen 500mg tablets", "Naproxen", TAB, 56, 28, 0.050, 1.0, 6.0, 0.3, "nsaid", sample=True),
    _p("1001010P0AAACAC", "Naproxen 250mg tablets", "Naproxen", TAB, 56, 28, 0.040, 0.5, 1.5, 0.3, "nsaid"),
    _p("1001010C0AAAEAE", "Diclofenac sodium 50mg gastro-resistant tablets", "Diclofenac sodium",
       "gastroresistanttablet.oral", 84, 28, 0.086, 0.5, 1.2, 0.3, "nsaid", "nsaid_nonpreferred", seen=True,
       sample=True),
    _p("1001010AJAAAAAA", "Etoricoxib 60mg tablets", "Etoricoxib", TAB, 28, 56, 0.15, 1.0, 0.6, 0.4, "nsaid",
       "nsaid_nonpreferred", sample=True),
    _p("1001010AHAAABAB", "Celecoxib 200mg capsules", "Celecoxib", CAP, 28, 56, 0.08, 1.0, 0.4, 0.4, "nsaid",
       "nsaid_nonpreferred"),
    _p("1001010R0AAABAB", "Meloxicam 15mg tablets", "Meloxicam", TAB, 28, 30, 0.05, 1.0, 0.5, 0.4, "nsaid",
       "nsaid_nonpreferred"),
    # Antibacterials (broad_spectrum: co-amoxiclav 0501013K0, cephalosporins 0501021, quinolones 050112 over
    # oral 0501 excluding 050109 antituberculosis and 050110 antileprotic)
    _p("0501013B0AAABAB", "Amoxicillin 500mg capsules", "Amoxicillin", CAP, 21, 15, 0.05, 0.33, 10.0, 0.2,
       "antibacterial", sample=True),
    _p("0501013B0AAAAAA", "Amoxicillin 250mg capsules", "Amoxicillin", CAP, 21, 15, 0.04, 0.17, 1.5, 0.2,
       "antibacterial"),
    _p("0501013K0AAAJAJ", "Co-amoxiclav 500mg/125mg tablets", "Co-amoxiclav", TAB, 21, 15, 0.12, 0.67, 1.2, 0.3,
       "antibacterial", "broad_spectrum", sample=True),
    _p("0501013K0AAAPAP", "Co-amoxiclav 1000mg/200mg powder for solution for injection vials", "Co-amoxiclav",
       "powderforsolutionforinjection.intravenous", 1, 3, 2.40, 0.0, 0.02, 0.0, "antibacterial", sample=True),
    _p("0501021B0AAAAAA", "Cefalexin 500mg capsules", "Cefalexin", CAP, 21, 28, 0.07, 0.5, 1.0, 0.3, "antibacterial",
       "broad_spectrum", sample=True),
    _p("0501120L0AAAAAA", "Ciprofloxacin 500mg tablets", "Ciprofloxacin", TAB, 10, 14, 0.06, 1.0, 0.5, 0.4,
       "antibacterial", "broad_spectrum", sample=True),
    _p("0501030I0AAABAB", "Doxycycline 100mg capsules", "Doxycycline hyclate", CAP, 8, 14, 0.08, 1.0, 4.5, 0.2,
       "antibacterial", sample=True),
    _p("0501050B0AAAAAA", "Clarithromycin 500mg tablets", "Clarithromycin", TAB, 14, 10, 0.10, 1.0, 2.5, 0.1,
       "antibacterial"),
    _p("0501011P0AAAAAA", "Phenoxymethylpenicillin 250mg tablets", "Phenoxymethylpenicillin", TAB, 28, 40, 0.04,
       0.25, 3.0, -0.3, "antibacterial"),
    _p("0501012G0AAABAB", "Flucloxacillin 500mg capsules", "Flucloxacillin sodium", CAP, 28, 56, 0.07, 0.5, 3.5, 0.2,
       "antibacterial"),
    _p("0501130R0AAADAD", "Nitrofurantoin 100mg modified-release capsules", "Nitrofurantoin",
       "modifiedreleasecapsule.oral", 6, 14, 0.40, 1.0, 3.5, 0.5, "antibacterial", sample=True),
    _p("0501080W0AAADAD", "Trimethoprim 200mg tablets", "Trimethoprim", TAB, 6, 14, 0.05, 1.0, 2.0, 0.5,
       "antibacterial"),
    _p("0501090R0AAAAAA", "Rifampicin 300mg capsules", "Rifampicin", CAP, 56, 28, 0.30, 2.0, 0.03, 0.0,
       "antibacterial", sample=True),
    # Respiratory (saba: salbutamol 0301011R0, terbutaline 0301011V0% over SABA + ICS 0302, inhaler routes)
    _p("0301011R0AAAPAP", "Salbutamol 100micrograms/dose inhaler CFC free", "Salbutamol", PMDI, 1, 2, 1.50, 50.0,
       20.0, 0.1, "respiratory", "saba", seen=True, sample=True),
    _p("0301011R0BEAIAP", "Ventolin 100micrograms/dose Evohaler", "Salbutamol", PMDI, 2, 1, 1.50, 50.0, 5.0, 0.1,
       "respiratory", "saba", seen=True, sample=True),
    _p("0301011R0AAAQAQ", "Salbutamol 200micrograms/dose dry powder inhaler", "Salbutamol", DPI, 1, 2, 3.60, 30.0,
       1.0, 0.1, "respiratory", "saba", seen=True),
    _p("0301011R0AAAAAA", "Salbutamol 2.5mg/2.5ml nebuliser liquid unit dose vials", "Salbutamol", NEB, 20, 60,
       0.10, 0.6, 0.4, 0.8, "respiratory", "saba", sample=True),
    _p("0301011R0AAAEAE", "Salbutamol 2mg/5ml oral solution sugar free", "Salbutamol", "oralsolution.oral", 150,
       300, 0.01, 0.0, 0.1, 0.0, "respiratory", sample=True),
    _p("0301011V0BBABAB", "Bricanyl 500micrograms/dose Turbohaler", "Terbutaline sulfate", DPI, 1, 2, 8.30, 50.0,
       0.6, 0.2, "respiratory", "saba", sample=True),
    _p("0302000C0BPABBF", "Clenil Modulite 100micrograms/dose inhaler", "Beclometasone dipropionate", PMDI, 1, 2,
       7.42, 25.0, 8.0, 0.2, "respiratory", seen=True, sample=True),
    _p("0302000C0AABFBF", "Beclometasone 100micrograms/dose inhaler CFC free", "Beclometasone dipropionate", PMDI,
       1, 2, 7.42, 25.0, 2.0, 0.2, "respiratory", seen=True),
    _p("0302000K0BDABAM", "Symbicort 200/6 Turbohaler", "Budesonide", DPI, 1, 2, 38.00, 30.0, 6.0, 0.3,
       "respiratory", seen=True, sample=True),
    _p("0302000C0BRAABY", "Fostair NEXThaler 100micrograms/dose / 6micrograms/dose dry powder inhaler",
       "Beclometasone dipropionate", DPI, 1, 2, 29.32, 30.0, 7.0, 0.3, "respiratory", seen=True, sample=True),
    _p("0302000N0BCAEBF", "Seretide 125 Evohaler", "Fluticasone propionate (inh)", PMDI, 1, 2, 35.00, 30.0, 2.0,
       0.3, "respiratory", seen=True),
    _p("0302000V0BBABAB", "Relvar Ellipta 92micrograms/dose / 22micrograms/dose dry powder inhaler",
       "Fluticasone furoate", DPI, 1, 2, 22.00, 30.0, 3.0, 0.3, "respiratory", seen=True),
    # Hypnotics and anxiolytics (bdzper1000: ADQ of 0401 less the exclusions, per 1,000 patients)
    _p("0401020K0AAAHAH", "Diazepam 2mg tablets", "Diazepam", TAB, 28, 56, 0.034, 0.2, 4.0, 0.3, "cns", "hypnotic",
       seen=True, sample=True),
    _p("0401020K0AAAIAI", "Diazepam 5mg tablets", "Diazepam", TAB, 28, 42, 0.024, 0.5, 1.5, 0.3, "cns", "hypnotic",
       seen=True),
    _p("0401020K0AAADAD", "Diazepam 5mg/2.5ml rectal solution tube", "Diazepam", "rectalsolution.rectal", 5, 10,
       1.30, 0.0, 0.05, 0.0, "cns", sample=True),
    _p("0401010Z0AAAAAA", "Zopiclone 7.5mg tablets", "Zopiclone", TAB, 28, 14, 0.05, 1.0, 5.0, 0.5, "cns",
       "hypnotic", seen=True, sample=True),
    _p("0401010Z0AAABAB", "Zopiclone 3.75mg tablets", "Zopiclone", TAB, 28, 14, 0.06, 0.5, 1.0, 0.8, "cns",
       "hypnotic"),
    _p("0401010T0AAAAAA", "Temazepam 10mg tablets", "Temazepam", TAB, 28, 14, 0.08, 0.5, 1.0, 0.8, "cns",
       "hypnotic", sample=True),
    _p("0401020P0AAABAB", "Lorazepam 1mg tablets", "Lorazepam", TAB, 28, 10, 0.48, 0.4, 0.8, 0.3, "cns", "hypnotic",
       seen=True),
    _p("0401010R0AAACAC", "Nitrazepam 5mg tablets", "Nitrazepam", TAB, 28, 9, 0.13, 1.0, 0.4, 0.8, "cns",
       "hypnotic", seen=True),
    _p("0401010ADAAAAAA", "Melatonin 2mg modified-release tablets", "Melatonin", "modifiedreleasetablet.oral", 30,
       28, 0.51, 0.0, 1.2, 0.2, "cns", seen=True, sample=True),
    # Diabetes (ktt12_diabetes_insulin: long-acting analogues among long/intermediate insulins;
    # nhse_bgts: test strips outside NHS England's commissioning recommendations)
    _p("0601022B0AAABAB", "Metformin 500mg tablets", "Metformin hydrochloride", TAB, 56, 112, 0.02, 0.25, 14.0,
       0.6, "diabetes", sample=True),
    _p("0601022B0AAASAS", "Metformin 500mg modified-release tablets", "Metformin hydrochloride",
       "modifiedreleasetablet.oral", 56, 112, 0.06, 0.25, 3.0, 0.6, "diabetes"),
    _p("0601021M0AAAAAA", "Gliclazide 80mg tablets", "Gliclazide", TAB, 56, 112, 0.03, 0.5, 4.0, 0.7, "diabetes"),
    _p("0601012V0BXAAAA", "Insulin glargine 100units/ml 3ml pre-filled disposable devices", "Insulin glargine", SC,
       5, 10, 6.95, 0.0, 1.2, 0.6, "diabetes", "analogue_insulin", sample=True),
    _p("0601012X0BBAAAA", "Levemir 100units/ml FlexPen 3ml pre-filled pens", "Insulin detemir", SC, 5, 10, 8.40, 0.0,
       0.35, 0.6, "diabetes", "analogue_insulin", sample=True),
    _p("0601012Z0BBAAAA", "Tresiba 100units/ml FlexTouch 3ml pre-filled pens", "Insulin degludec", SC, 5, 10, 14.40,
       0.0, 0.3, 0.6, "diabetes", "analogue_insulin"),
    _p("0601012S0BBAAAA", "Humulin I KwikPen 100units/ml 3ml pre-filled pens", "Isophane insulin", SC, 5, 10, 4.30,
       0.0, 0.6, 0.6, "diabetes", sample=True),
    _p("0601060D0EVAAA0", "Glucofix Tech Sensor testing strips", "Glucose blood testing reagents", None, 50, 100,
       0.19, 0.0, 0.8, 0.5, "diabetes", sample=True),
    _p("0601060D0ENAAA0", "Contour Plus testing strips", "Glucose blood testing reagents", None, 50, 100, 0.19, 0.0,
       0.7, 0.5, "diabetes"),
    _p("0601060D0BNAAA0", "Accu-Chek Performa testing strips", "Glucose blood testing reagents", None, 50, 100,
       0.33, 0.0, 1.0, 0.5, "diabetes", "bgts_nonrec", sample=True),
    _p("0601060X0BBAAA0", "KEYA Smart testing strips", "Glucose and ketone blood testing reagents", None, 50, 100,
       0.19, 0.0, 0.2, 0.5, "diabetes"),
    # Dementia
    _p("0411000D0AAABAB", "Donepezil 10mg tablets", "Donepezil hydrochloride", TAB, 28, 56, 0.04, 1.0, 2.2, 2.5,
       "dementia", sample=True),
    _p("0411000D0AAAAAA", "Donepezil 5mg tablets", "Donepezil hydrochloride", TAB, 28, 56, 0.04, 0.5, 0.6, 2.5,
       "dementia"),
    _p("0411000G0AAABAB", "Memantine 10mg tablets", "Memantine hydrochloride", TAB, 28, 56, 0.05, 1.0, 1.2, 2.5,
       "dementia", sample=True),
    _p("0411000F0AAAGAG", "Rivastigmine 9.5mg/24hours transdermal patches", "Rivastigmine",
       "transdermalpatch.transdermal", 30, 60, 1.10, 1.0, 0.25, 2.5, "dementia"),
    # Anticoagulants and antiplatelets (stroke prevention)
    _p("0208020Z0AAABAB", "Apixaban 5mg tablets", "Apixaban", TAB, 56, 28, 0.95, 0.5, 6.0, 1.8, "cardio", seen=True,
       sample=True),
    _p("0208020Z0AAAAAA", "Apixaban 2.5mg tablets", "Apixaban", TAB, 56, 28, 0.95, 0.25, 1.5, 2.2, "cardio"),
    _p("0208020Y0AAABAB", "Rivaroxaban 15mg tablets", "Rivaroxaban", TAB, 28, 56, 1.80, 0.75, 1.0, 1.8, "cardio",
       seen=True),
    _p("0208020Y0AAACAC", "Rivaroxaban 20mg tablets", "Rivaroxaban", TAB, 28, 56, 1.80, 1.0, 3.0, 1.8, "cardio"),
    _p("0208020X0AAACAC", "Dabigatran etexilate 150mg capsules", "Dabigatran etexilate", CAP, 60, 56, 0.85, 0.5,
       0.3, 1.8, "cardio", seen=True),
    _p("0208020AAAAAAAA", "Edoxaban 60mg tablets", "Edoxaban", TAB, 28, 56, 1.75, 1.0, 1.2, 1.8, "cardio"),
    _p("0208020V0AAABAB", "Warfarin 3mg tablets", "Warfarin sodium", TAB, 28, 56, 0.024, 0.0, 1.2, 1.8, "cardio",
       seen=True, sample=True),
    _p("0208020V0AAAAAA", "Warfarin 1mg tablets", "Warfarin sodium", TAB, 28, 60, 0.0225, 0.0, 1.0, 1.8, "cardio",
       seen=True),
    _p("0209000C0AAAAAA", "Clopidogrel 75mg tablets", "Clopidogrel", TAB, 28, 84, 0.045, 1.0, 5.0, 1.5, "cardio",
       seen=True, sample=True),
    _p("0209000A0AAABAB", "Aspirin 75mg dispersible tablets", "Aspirin", "dispersibletablet.oral", 28, 56, 0.11, 1.0,
       5.0, 1.5, "cardio", seen=True),
    _p("0209000A0AAAJAJ", "Aspirin 75mg gastro-resistant tablets", "Aspirin", "gastroresistanttablet.oral", 56, 28,
       0.04, 1.0, 3.0, 1.5, "cardio", seen=True),
    _p("0209000Z0AAAAAA", "Ticagrelor 90mg tablets", "Ticagrelor", TAB, 56, 28, 1.46, 0.5, 0.4, 1.0, "cardio",
       seen=True),
    # Lipids (lpomega3: cost of omega-3 0212000AB, 0212000V0 per 1,000 patients; statins as common filler)
    _p("0212000ABBBAAAA", "Omacor 1000mg capsules", "Omega-3-acid ethyl esters", CAP, 28, 56, 0.48, 0.5, 0.05, 1.0,
       "cardio", "omega3", sample=True),
    _p("0212000V0AAAAAA", "Omega-3 marine triglycerides 1g capsules", "Omega-3 marine triglycerides", CAP, 100, 200,
       0.20, 0.0, 0.02, 1.0, "cardio", "omega3"),
    _p("0212000B0AAABAB", "Atorvastatin 20mg tablets", "Atorvastatin", TAB, 28, 56, 0.03, 1.0, 18.0, 1.2, "cardio",
       seen=True, sample=True),
    _p("0212000B0AAACAC", "Atorvastatin 40mg tablets", "Atorvastatin", TAB, 28, 56, 0.03, 2.0, 14.0, 1.2, "cardio",
       seen=True),
    _p("0212000Y0AAADAD", "Simvastatin 40mg tablets", "Simvastatin", TAB, 28, 56, 0.04, 1.33, 6.0, 1.2, "cardio",
       seen=True),
    # Appliances and dressings (11-character codes; chemical field is 4 characters)
    _p("21010900725", "CareSens Lancets 0.36mm/28 gauge", "Lancets", None, 100, 200, 0.03, 0.0, 0.3, 0.5,
       "appliance", seen=True, sample=True),
    _p("21010900738", "Omnican Fine needles 4mm/31 gauge", "Needles", None, 100, 200, 0.06, 0.0, 0.3, 0.5,
       "appliance", seen=True),
    _p("20030100372", "Softpore dressing 10cm x 15cm", "Wound Management & Other Dressings", None, 10, 20, 0.18,
       0.0, 0.1, 1.5, "appliance", seen=True, sample=True),
    _p("20020201081", "UrgoKTwo multi-layer compression bandage kit (10cm) 18cm-25cm ankle circumference",
       "Arm Sling/Bandages", None, 2, 4, 7.99, 0.0, 0.05, 2.0, "appliance", seen=True),
    _p("21130000110", "Uro-Tainer sodium chloride 0.9% catheter maintenance solution", "Catheter Maintenance "
       "Products", None, 500, 1000, 0.065, 0.0, 0.08, 2.0, "appliance", seen=True),
)
# fmt: on

CHAPTERS = {
    "01": "Gastro-Intestinal System",
    "02": "Cardiovascular System",
    "03": "Respiratory System",
    "04": "Central Nervous System",
    "05": "Infections",
    "06": "Endocrine System",
    "07": "Obstetrics, Gynae + Urinary Tract Disorders",
    "08": "Malignant Disease & Immunosuppression",
    "09": "Nutrition and Blood",
    "10": "Musculoskeletal & Joint Diseases",
    "11": "Eye",
    "12": "Ear, Nose and Oropharynx",
    "13": "Skin",
    "15": "Anaesthesia",
    "19": "Other Drugs and Preparations",
    "20": "Dressings",
    "21": "Appliances",
}

TILTS = (
    "nsaid_nonpreferred",
    "broad_spectrum",
    "saba",
    "hypnotic",
    "analogue_insulin",
    "bgts_nonrec",
    "omega3",
)

# Non-GP cost centres (the ODS generator's settings 2, 9, 10) and unidentified doctors: a notional
# list size and what they prescribe, as a multiple of a GP practice's rate per 1,000 patients.
SETTINGS = {
    "2": (
        "OUT OF HOURS SERVICE",
        60_000,
        {"antibacterial": 0.5, "nsaid": 0.2, "respiratory": 0.1, "cns": 0.05},
    ),
    "9": ("COMMUNITY NURSING", 30_000, {"appliance": 5.0, "antibacterial": 0.02, "diabetes": 0.05}),
    "10": (
        "HOSPITAL PHARMACY",
        20_000,
        {"antibacterial": 0.3, "cardio": 0.1, "cns": 0.1, "respiratory": 0.1},
    ),
}
# Unidentified doctors: a notional list of 0.2% of the registered population prescribing a quarter of
# a practice's rates (about 0.05% of items).
UNIDENTIFIED_SHARE_OF_PATIENTS = 0.002
UNIDENTIFIED_MIX = 0.25

# Synthetic filler for national volume: chapters and sections no measure reads.
FILLER_SECTIONS = (
    "0101",
    "0102",
    "0106",
    "0205",
    "0206",
    "0404",
    "0603",
    "0702",
    "0904",
    "1106",
    "1202",
    "1302",
)
FILLER_PRESENTATIONS = 4100
FILLER_ITEMS_PER_1000 = 1250.0


@dataclass(frozen=True)
class Catalogue:
    """Columns of the presentations written at one scale, index-aligned."""

    frame: pd.DataFrame  # code, name, chemical_code, chemical_name, chapter_plus, snomed, …

    @property
    def n(self) -> int:
        return len(self.frame)


def snomed_code(bnf_code: str) -> str:
    """A synthetic 17-digit dm+d-style identifier (UK extension namespace 1000001, partition 10)."""
    digest = int.from_bytes(hashlib.sha256(bnf_code.encode()).digest()[:8], "little")
    return f"{digest % 9_000_000 + 1_000_000}1000001102"


def _filler(rng: np.random.Generator) -> list[Presentation]:
    """Pattern-valid synthetic presentations with heavy-tailed rates summing to the national rest."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    rates = rng.lognormal(0, 1.6, FILLER_PRESENTATIONS)
    rates *= FILLER_ITEMS_PER_1000 / rates.sum()
    result = []
    for i, rate in enumerate(rates):
        # 4 strengths per chemical; the chemical's section, paragraph digit and letter make it unique.
        j, strength = divmod(i, 4)
        section = FILLER_SECTIONS[j % len(FILLER_SECTIONS)]
        chem = f"{section}0{j // 12 % 10}0{letters[j // 120 % 24]}Z"
        code = f"{chem}AAA{letters[strength]}A{letters[strength]}"
        result.append(
            Presentation(
                code,
                f"Synthetic presentation {i + 1:04d} tablets",
                f"Synthetic chemical {chem}",
                TAB,
                28.0,
                56.0,
                round(float(rng.lognormal(-2.5, 1.2)), 4),
                1.0,
                float(rate),
                float(rng.normal(0.8, 0.5)),
                "filler",
            )
        )
    return result


def catalogue(scale: str, rng: np.random.Generator) -> tuple[list[Presentation], Catalogue]:
    """The presentations written at a scale: the measure-relevant sample subset, or all plus filler."""
    items = [p for p in CATALOGUE if p.sample] if scale == "sample" else [*CATALOGUE, *_filler(rng)]
    frame = pd.DataFrame(
        {
            "p": np.arange(len(items), dtype=np.int32),
            "bnf_code": [p.code for p in items],
            "bnf_description": [p.name for p in items],
            "chemical_code": [p.chemical_code for p in items],
            "chemical_name": [p.chemical for p in items],
            "chapter_plus": [
                f"{p.code[:2]}: {CHAPTERS.get(p.code[:2], 'Other Drugs and Preparations')}" for p in items
            ],
            "snomed_code": [snomed_code(p.code) for p in items],
        }
    )
    return items, Catalogue(frame)


# --------------------------------------------------------------------------------------------
# Cost centres
# --------------------------------------------------------------------------------------------


@dataclass
class CostCentres:
    """Everyone who appears in a month's file: practices, non-GP centres, unidentified doctors."""

    code: np.ndarray
    name: np.ndarray
    postcode: np.ndarray
    sub: list  # SubIcb or None (unidentified)
    predecessor: np.ndarray
    setting: np.ndarray  # '4', '2', '9', '10', '-'
    older: np.ndarray
    tilt: np.ndarray  # n × len(TILTS) multipliers

    @property
    def n(self) -> int:
        return len(self.code)


def cost_centres(geo: Geography, rng: np.random.Generator, unknown_code: str | None) -> CostCentres:
    p = geo.practices
    by_code = {s.code: s for s in geo.sub_icbs}
    codes, names, posts, subs, preds, settings = (
        list(p["code"]),
        list(p["name"]),
        list(p["postcode"]),
        [by_code[s] for s in p["sub_icb"]],
        list(p["predecessor"]),
        ["4"] * geo.n,
    )
    older = list(p["older"])
    for j, setting in enumerate(("2", "9", "10")):
        sub = geo.sub_icbs[j % len(geo.sub_icbs)]
        codes.append(f"Y0{j + 1}{len(geo.sub_icbs):03d}")
        names.append(f"{sub.code} {SETTINGS[setting][0]}")
        posts.append("ZZ99 9ZZ")
        subs.append(sub)
        preds.append(sub.code)
        settings.append(setting)
        older.append(0.5)
    if unknown_code:
        codes.append(unknown_code)
        names.append("RIVERSIDE WALK-IN SURGERY")
        posts.append(p["postcode"][0])
        subs.append(by_code[p["sub_icb"][0]])
        preds.append(p["predecessor"][0])
        settings.append("4")
        older.append(0.5)
    codes.append("-")
    names.append("UNIDENTIFIED DOCTORS")
    posts.append("-")
    subs.append(None)
    preds.append("-")
    settings.append("-")
    older.append(0.5)
    n = len(codes)
    tilt = rng.lognormal(0, 0.35, (n, len(TILTS)))
    order = np.argsort(np.array(codes, dtype=object), kind="stable")
    return CostCentres(
        code=np.array(codes, dtype=object)[order],
        name=np.array(names, dtype=object)[order],
        postcode=np.array(posts, dtype=object)[order],
        sub=[subs[i] for i in order],
        predecessor=np.array(preds, dtype=object)[order],
        setting=np.array(settings, dtype=object)[order],
        older=np.array(older, dtype=float)[order],
        tilt=tilt[order],
    )


def _organisation_frame(centres: CostCentres, month: date) -> pd.DataFrame:
    """The organisation columns of each cost centre as published in a month."""
    rows = []
    for i in range(centres.n):
        sub = centres.sub[i]
        if sub is None:
            rows.append(("UNIDENTIFIED", "-", "UNIDENTIFIED", "-", "UNIDENTIFIED", "-", "-", "-", "-"))
            continue
        pco = commissioner(sub, centres.predecessor[i], month)[:2]
        area = (sub.stp_name, sub.stp_code) if month < SUB_ICB_ERA else (sub.icb_name, sub.icb_code)
        town = sub.ccg_name.upper().removeprefix("NHS ").removesuffix(" CCG")
        rows.append(
            (sub.region_name.upper(), sub.region_code, area[0].upper(), area[1], pco[1].upper(), pco[0],
             f"{i % 90 + 1} HIGH STREET", town, "ENGLAND")
        )  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=[
            "region_name",
            "region_code",
            "area_name",
            "area_code",
            "pco_name",
            "pco_code",
            "address_1",
            "address_3",
            "address_4",
        ],
    )
    frame.insert(0, "c", np.arange(centres.n, dtype=np.int32))
    frame["practice_code"] = centres.code
    frame["practice_name"] = centres.name
    frame["postcode"] = centres.postcode
    frame["address_2"] = np.where(centres.code == "-", "-", None)
    frame.loc[frame["practice_code"] == "-", ["address_1", "address_3", "address_4"]] = "-"
    frame["unidentified"] = np.where(centres.code == "-", "Y", "N")
    return frame


# --------------------------------------------------------------------------------------------
# Volumes
# --------------------------------------------------------------------------------------------


def _expected_items(
    centres: CostCentres, items: list[Presentation], list_sizes: np.ndarray, rows: slice
) -> np.ndarray:
    """Expected items per cost centre (rows of `rows`) × presentation in the month."""
    rate = np.array([p.rate for p in items])
    age = np.array([p.age for p in items])
    lam = (list_sizes[rows] / 1000.0)[:, None] * rate[None, :]
    lam *= np.exp(age[None, :] * (centres.older[rows, None] - 0.5))
    tilt_index = np.array([TILTS.index(p.tilt) if p.tilt else -1 for p in items])
    tilted = tilt_index >= 0
    lam[:, tilted] *= centres.tilt[rows][:, tilt_index[tilted]]
    groups = np.array([p.group for p in items], dtype=object)
    settings = centres.setting[rows]
    for setting, (_, _, mix) in SETTINGS.items():
        mask = settings == setting
        if mask.any():
            factor = np.array([mix.get(g, 0.0) for g in groups])
            lam[mask] *= factor[None, :]
    lam[settings == "-"] *= UNIDENTIFIED_MIX
    return lam


def _month_rows(
    centres: CostCentres,
    items: list[Presentation],
    list_sizes: np.ndarray,
    scale_factor: np.ndarray,
    rng: np.random.Generator,
    split_share: float,
    chunk: int,
) -> Iterator[pd.DataFrame]:
    """One month's rows, a block of cost centres at a time (cost centre index, presentation index,
    items, quantity per item, totals and costs), so a national month never sits in memory whole."""
    pack = np.array([p.pack for p in items], dtype=float)
    alt = np.array([p.alt_pack for p in items], dtype=float)
    price = np.array([p.price for p in items])
    adq = np.array([p.adq for p in items])
    for start in range(0, centres.n, chunk):
        rows = slice(start, min(start + chunk, centres.n))
        lam = _expected_items(centres, items, list_sizes, rows) * scale_factor[rows, None]
        drawn = rng.poisson(lam)
        ci, pi = np.nonzero(drawn)
        n = drawn[ci, pi]
        split = (n >= 2) & (rng.random(len(n)) < split_share)
        first = np.where(split, 1 + rng.binomial(np.maximum(n - 2, 0), 0.35), n)
        ci2, pi2, n2 = ci[split], pi[split], (n - first)[split]
        frame = pd.DataFrame(
            {
                "c": np.concatenate([ci, ci2]).astype(np.int32) + start,
                "p": np.concatenate([pi, pi2]).astype(np.int32),
                "items": np.concatenate([first, n2]).astype(np.int64),
                "quantity": np.concatenate([pack[pi], alt[pi2]]),
            }
        )
        frame["total_quantity"] = frame["items"] * frame["quantity"]
        frame["nic"] = np.round(frame["total_quantity"] * price[frame["p"]], 2)
        frame["actual_cost"] = np.round(frame["nic"] * (1 - NIC_DISCOUNT) + frame["items"] * FEE_PER_ITEM, 5)
        frame["adq_usage"] = np.round(frame["total_quantity"] * adq[frame["p"]], 5)
        yield frame


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def layout(month: date) -> str:
    """The EPD layout NHSBSA used for a month (see the module docstring)."""
    if month >= SNOMED_RENAMED_ERA:
        return "epd_snomed_renamed"
    return "epd_legacy_icb" if month >= SUB_ICB_ERA else "epd_legacy_stp"


_SOURCE = {
    "year_month": "strftime(m.month, '%Y%m')",
    "regional_office_name": "o.region_name",
    "regional_office_code": "o.region_code",
    "area_name": "o.area_name",
    "area_code": "o.area_code",
    "pco_name": "o.pco_name",
    "pco_code": "o.pco_code",
    "practice_name": "o.practice_name",
    "practice_code": "o.practice_code",
    "address_1": "o.address_1",
    "address_2": "o.address_2",
    "address_3": "o.address_3",
    "address_4": "o.address_4",
    "postcode": "o.postcode",
    "bnf_chemical_substance_code": "k.chemical_code",
    "bnf_chemical_substance_name": "k.chemical_name",
    "bnf_code": "k.bnf_code",
    "bnf_description": "k.bnf_description",
    "bnf_chapter_plus_code": "k.chapter_plus",
    "quantity": "r.quantity",
    "items": "r.items",
    "total_quantity": "r.total_quantity",
    "adq_usage": "r.adq_usage",
    "nic": "r.nic",
    "actual_cost": "r.actual_cost",
    "unidentified": "o.unidentified",
    "snomed_code": "k.snomed_code",
}


def _select_sql(variant_name: str) -> str:
    variant = EPD.variant(variant_name)
    published = {v: k for k, v in variant.mapping.items()}
    columns = ", ".join(f'{_SOURCE[published[c]]} as "{c}"' for c in variant.columns)
    return (
        f"select {columns} from rows_month r join organisations o using (c) join presentations k using (p) "
        "cross join month_value m order by o.practice_code, k.bnf_code, r.quantity"
    )


def write_month_file(
    conn: duckdb.DuckDBPyConnection,
    blocks: Iterable[pd.DataFrame],
    organisations: pd.DataFrame,
    presentations: pd.DataFrame,
    month: date,
    out: Path,
    zipped: bool,
) -> Path:
    """One month's file as NHSBSA names and lays it out; zipped (sample) or plain CSV (national).

    Blocks of cost centres come in code order; each is sorted and written by DuckDB and appended,
    so the file is ordered by practice, presentation and quantity without sorting it whole."""
    stem = f"EPD_SNOMED_{month:%Y%m}" if month >= SNOMED_RENAMED_ERA else f"EPD_{month:%Y%m}"
    folder = out / FEED / f"{month:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{stem}.csv"
    conn.register("organisations", organisations)
    conn.register("presentations", presentations)
    conn.execute("create or replace temp table month_value as select ?::date as month", [month])
    with tempfile.TemporaryDirectory(prefix="cw-epd-") as tmp, csv_path.open("wb") as target:
        part = Path(tmp) / "part.csv"
        for index, block in enumerate(blocks):
            conn.register("rows_month", block)
            activity_base.copy_to_csv(conn, _select_sql(layout(month)), part, header=index == 0)
            conn.unregister("rows_month")
            with part.open("rb") as source:
                shutil.copyfileobj(source, target, 1 << 22)
    conn.unregister("organisations")
    conn.unregister("presentations")
    if not zipped:
        return csv_path
    return activity_base.zip_file(csv_path, folder / f"{stem}.zip")


def write_prescribing(
    geo: Geography,
    seed: int,
    out: Path,
    months: list[date],
    receive: Receive,
    scale: str = "sample",
) -> list[PlantedGap]:
    """Write the EPD files of every month; return the planted gaps."""
    rng = activity_base.feed_rng(seed, FEED)
    written = [
        (index, m)
        for index, m in enumerate(months)
        if scale != "sample" or activity_base.FIRST_ACTIVITY_MONTH_SAMPLE <= m <= SAMPLE_LAST_MONTH
    ]
    items, catalogue_ = catalogue(scale, rng)
    practices = list(geo.practices["code"])
    plant = len(written) >= 3
    gaps: list[PlantedGap] = []
    unknown_code = None
    if plant:
        missing, partial = (practices[i] for i in rng.choice(len(practices), 2, replace=False))
        mid = len(written) // 2
        missing_month, partial_month, unknown_month = (
            written[mid][1],
            written[min(mid + 2, len(written) - 1)][1],
            written[mid - 1][1],
        )
        unknown_code = f"{practices[0][0]}99997"
        gaps = [
            PlantedGap("missing_practice_month", FEED, f"{missing_month:%Y-%m}", missing,
                       "practice left out of the month's EPD file while in every other month"),
            PlantedGap("partial_submission", FEED, f"{partial_month:%Y-%m}", partial,
                       "practice's items at about 40% of its usual volume in one month (partial submission)"),
            PlantedGap("unknown_practice", FEED, f"{unknown_month:%Y-%m}", unknown_code,
                       "prescribing for a practice code that no ODS epraccur release knows"),
        ]  # fmt: skip
    centres = cost_centres(geo, rng, unknown_code)
    gp_index = {code: i for i, code in enumerate(centres.code)}
    chunk = max(1, 4_000_000 // max(catalogue_.n, 1))
    conn = duckdb.connect()
    try:
        for index, month in written:
            sizes = np.zeros(centres.n)
            sizes[[gp_index[c] for c in practices]] = activity_base.expected_cells(geo, index).sum(axis=1)
            for setting, (_, virtual, _) in SETTINGS.items():
                sizes[centres.setting == setting] = virtual
            sizes[centres.code == "-"] = max(
                500.0, UNIDENTIFIED_SHARE_OF_PATIENTS * sizes[centres.setting == "4"].sum()
            )
            factor = np.ones(centres.n)
            if plant:
                if month == unknown_month:
                    sizes[gp_index[unknown_code]] = 6_000
                else:
                    factor[gp_index[unknown_code]] = 0.0
                if month == missing_month:
                    factor[gp_index[missing]] = 0.0
                if month == partial_month:
                    factor[gp_index[partial]] = 0.4
            rows = _month_rows(centres, items, sizes, factor, rng, SPLIT_SHARE.get(scale, 0.3), chunk)
            path = write_month_file(
                conn,
                rows,
                _organisation_frame(centres, month),
                catalogue_.frame,
                month,
                out,
                zipped=scale == "sample",
            )
            receive(FEED, month, path, PUBLICATION_DAY)
    finally:
        conn.close()
    return gaps


class PrescribingWriter:
    label = "prescribing"

    def steps(self, ctx: WriteContext) -> int:
        return RECORD_WEIGHT * len(ctx.months)

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        return write_prescribing(ctx.geo, ctx.seed, ctx.out, ctx.months, ctx.receive, ctx.scale)
