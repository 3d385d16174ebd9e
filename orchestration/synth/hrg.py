"""The HRG4+ currencies the generators use, with tariff-like prices.

Codes and names are real HRG4+ currencies (NHS England HRG4+ code-to-group documentation); the
prices are invented but of the published order of magnitude (2019/20–2023/25 national prices),
so costed activity looks like a real acute trust's. `UZ01Z` ("Data Invalid for Grouping") has no
price in any tariff: the activity generator plants it as the unpriced HRG.

Fields follow the tariff's APC & OPROC sheet (feeds_and_methods.md §4.2). `None` means the
tariff shows `-` (no price) for that column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hrg:
    code: str
    name: str
    combined_day_case_elective: float | None
    day_case: float | None
    ordinary_elective: float | None
    elective_trim_days: int | None
    non_elective: float | None
    non_elective_trim_days: int | None
    per_day_long_stay: float | None
    short_stay_emergency_applicable: bool = False
    short_stay_emergency_percent: int | None = None
    outpatient_procedure: float | None = None

    @property
    def reduced_short_stay_emergency(self) -> float | None:
        if not self.short_stay_emergency_applicable or self.non_elective is None:
            return None
        return round(self.non_elective * (self.short_stay_emergency_percent or 0) / 100)


def _h(code, name, cde, dc, el, el_trim, nel, nel_trim, xs, rsse=None, op=None) -> Hrg:
    return Hrg(code, name, cde, dc, el, el_trim, nel, nel_trim, xs, rsse is not None, rsse, op)


HRGS: tuple[Hrg, ...] = (
    # Nervous system: stroke, dementia, epilepsy
    _h("AA35C", "Stroke with CC Score 10-12", None, 4102, 4102, 19, 5931, 38, 275),
    _h("AA35F", "Stroke with CC Score 0-3", None, 2106, 2106, 5, 3109, 21, 275),
    _h(
        "AA25D",
        "Cerebral Degenerations or Miscellaneous Disorders of Nervous System, with CC Score 4-8",
        None,
        1011,
        2433,
        11,
        3051,
        23,
        262,
        28,
    ),
    _h(
        "AA26H",
        "Muscular, Balance, Cranial or Peripheral Nerve Disorders, Epilepsy or Head Injury, "
        "with CC Score 0-2",
        712,
        None,
        None,
        5,
        1076,
        4,
        262,
        41,
    ),
    # Eyes, ENT
    _h(
        "BZ34B",
        "Phacoemulsification Cataract Extraction and Lens Implant, with CC Score 0-1",
        842,
        None,
        None,
        2,
        1577,
        5,
        285,
        None,
        842,
    ),
    _h("CA60A", "Tonsillectomy, 19 years and over", 1453, None, None, 2, 1905, 4, 301),
    # Respiratory: COPD, asthma, pneumonia, LRTI
    _h(
        "DZ65K",
        "Chronic Obstructive Pulmonary Disease or Bronchitis, without Interventions, with CC Score 0-4",
        None,
        407,
        1562,
        5,
        1793,
        8,
        268,
        32,
    ),
    _h("DZ15R", "Asthma without Interventions, with CC Score 0-2", None, 378, 1020, 3, 1093, 4, 268, 41),
    _h(
        "DZ11R",
        "Lobar, Atypical or Viral Pneumonia, without Interventions, with CC Score 0-4",
        None,
        599,
        1814,
        6,
        2101,
        10,
        268,
        36,
    ),
    _h(
        "DZ22Q",
        "Unspecified Acute Lower Respiratory Infection, without Interventions, with CC Score 0-4",
        None,
        456,
        1290,
        4,
        1325,
        6,
        268,
        40,
    ),
    # Heart
    _h("EB03E", "Heart Failure or Shock, with CC Score 0-3", None, 741, 2024, 7, 2484, 13, 269, 34),
    _h(
        "EB10E",
        "Actual or Suspected Myocardial Infarction, with CC Score 0-3",
        None,
        821,
        1754,
        4,
        1780,
        6,
        269,
        42,
    ),
    _h(
        "EB07E", "Arrhythmia or Conduction Disorders, with CC Score 0-2", None, 579, 1342, 3, 1192, 5, 269, 45
    ),
    _h(
        "ED28C",
        "Percutaneous Coronary Intervention, 1 Stent, with CC Score 0-2",
        None,
        3286,
        3286,
        5,
        4123,
        9,
        269,
    ),
    # Digestive
    _h("FE22Z", "Diagnostic Colonoscopy, 19 years and over", 581, None, None, 2, 1120, 5, 253, None, 581),
    _h(
        "FD10M",
        "Non-Malignant Gastrointestinal Tract Disorders without Interventions, with CC Score 0-2",
        None,
        451,
        1027,
        3,
        1016,
        4,
        253,
        46,
    ),
    _h("GA10J", "Cholecystectomy with CC Score 0-2", 3860, None, None, 4, 4620, 8, 253),
    # Musculoskeletal and trauma: hip replacement, hip fracture
    _h(
        "HN12C",
        "Very Major Hip Procedures for Non-Trauma, with CC Score 2-3",
        None,
        6510,
        6510,
        6,
        8120,
        16,
        251,
    ),
    _h(
        "HN22C",
        "Very Major Knee Procedures for Non-Trauma, with CC Score 2-3",
        None,
        6018,
        6018,
        6,
        7301,
        15,
        251,
    ),
    _h(
        "HT12C", "Very Major Hip Procedures for Trauma with CC Score 2-3", None, None, 7440, 19, 8002, 22, 251
    ),
    _h(
        "HE11C",
        "Hip Fracture without Interventions, with CC Score 0-3",
        None,
        652,
        2421,
        12,
        3107,
        25,
        251,
        27,
    ),
    # Skin, breast
    _h(
        "JC42C",
        "Intermediate Skin Procedures, 19 years and over",
        1021,
        None,
        None,
        2,
        1433,
        5,
        240,
        None,
        168,
    ),
    # Endocrine: diabetes
    _h(
        "KB02K",
        "Diabetes with Hyperglycaemic Disorders, with CC Score 0-1",
        None,
        512,
        1310,
        3,
        1562,
        6,
        264,
        38,
    ),
    _h(
        "KB01F",
        "Diabetes with Hypoglycaemic Disorders, with CC Score 0-1",
        None,
        402,
        1081,
        2,
        1007,
        4,
        264,
        44,
    ),
    # Urinary
    _h(
        "LA04S",
        "Kidney or Urinary Tract Infections, without Interventions, with CC Score 0-1",
        None,
        402,
        1061,
        3,
        1212,
        5,
        260,
        40,
    ),
    _h(
        "LB40E",
        "Attention to Suprapubic Bladder Catheter, 19 years and over",
        380,
        None,
        None,
        2,
        702,
        3,
        260,
        None,
        162,
    ),
    # Maternity and neonates
    _h("NZ30C", "Normal Delivery with CC Score 0", None, None, None, None, 1622, 4, 327),
    _h("NZ50C", "Planned Caesarean Section with CC Score 0-1", None, None, 3010, 5, 3010, 5, 327),
    _h("NZ16Z", "Antenatal Care, Non-Delivery", None, 305, 651, 2, 651, 3, 327),
    _h("PB03Z", "Healthy Baby", None, None, None, None, 402, 3, 327),
    # Children
    _h("PD12C", "Paediatric Asthma or Wheezing, with CC Score 0-1", None, 406, 706, 2, 812, 3, 345, 43),
    _h(
        "PA14D",
        "Lower Respiratory Tract Disorders without Acute Bronchiolitis, with CC Score 0",
        None,
        420,
        752,
        2,
        857,
        3,
        345,
        44,
    ),
    # Mental health (acute trust activity), alcohol
    _h("WD11Z", "Alcohol-Related Disorders", None, 394, 1021, 3, 1377, 6, 243, 35),
    _h("WH08B", "Unspecified Pain, with CC Score 0-2", None, 312, 807, 2, 787, 3, 243, 48),
    # Chemotherapy and radiotherapy are unbundled; symptoms
    _h("WA22Y", "Other Admissions or Attendances, with CC Score 0-2", None, 298, 712, 3, 702, 3, 243, 49),
    # Invalid for grouping: never priced (the planted unpriced HRG)
    _h("UZ01Z", "Data Invalid for Grouping", None, None, None, None, None, None, None),
)

# Outpatient attendance currencies (non-admitted, priced by treatment function in the tariff)
OP_ATTENDANCE_HRGS = {
    "WF01B": "Non-Admitted Face-to-Face Attendance, First",
    "WF01A": "Non-Admitted Face-to-Face Attendance, Follow-up",
    "WF01D": "Non-Admitted Non-Face-to-Face Attendance, First",
    "WF01C": "Non-Admitted Non-Face-to-Face Attendance, Follow-up",
}

# Emergency medicine (A&E) currencies; costed from National Cost Collection unit costs.
AE_HRGS = {
    "VB01Z": ("Emergency Medicine, Any Investigation with Category 5 Treatment", 498),
    "VB03Z": ("Emergency Medicine, Category 3 Investigation with Category 4 Treatment", 389),
    "VB06Z": ("Emergency Medicine, Category 1 Investigation with Category 3-4 Treatment", 243),
    "VB08Z": ("Emergency Medicine, Category 2 Investigation with Category 1 Treatment", 197),
    "VB09Z": ("Emergency Medicine, Category 1 Investigation with Category 1-2 Treatment", 152),
    "VB11Z": ("Emergency Medicine, No Investigation with No Significant Treatment", 98),
}

BY_CODE = {h.code: h for h in HRGS}

# Treatment function codes (NHS Data Dictionary TREATMENT FUNCTION CODE) the outpatient and
# admitted-care generators use, with the tariff-like outpatient attendance prices (£) for a
# first and a follow-up face-to-face attendance, single professional.
TREATMENT_FUNCTIONS: dict[str, tuple[str, int, int]] = {
    "100": ("General Surgery Service", 165, 104),
    "101": ("Urology Service", 138, 95),
    "110": ("Trauma and Orthopaedic Service", 146, 91),
    "120": ("Ear Nose and Throat Service", 128, 89),
    "130": ("Ophthalmology Service", 127, 76),
    "300": ("General Internal Medicine Service", 235, 120),
    "301": ("Gastroenterology Service", 206, 102),
    "307": ("Diabetes Service", 192, 101),
    "320": ("Cardiology Service", 156, 91),
    "330": ("Dermatology Service", 119, 78),
    "340": ("Respiratory Medicine Service", 182, 99),
    "400": ("Neurology Service", 207, 111),
    "410": ("Rheumatology Service", 188, 94),
    "420": ("Paediatric Service", 225, 150),
    "430": ("Elderly Medicine Service", 273, 161),
    "501": ("Obstetrics Service", 140, 96),
    "502": ("Gynaecology Service", 147, 97),
    "650": ("Physiotherapy Service", 58, 41),
    "800": ("Clinical Oncology Service", 176, 119),
}
