"""Write every reference feed for a geography, month range and scale, with planted gaps.

Output layout is the landing folder (`<feed>/<YYYY-MM>/<file as published>`), plus:
- `_manifest.json`: what was generated and every data gap planted (the ground truth that
  validation tests measure recall and precision against);
- `_receipts.csv`: when each file "arrived" (as an SFTP drop or download log would record),
  so timeliness can be judged; one planted gap is a late file.

Deterministic: the same arguments give byte-identical files.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from orchestration.defs.reference.feeds import (
    ECCG,
    EPRACCUR,
    GP_PRACTICE_MAP,
    GP_REGISTERED_PATIENTS,
)
from orchestration.lib.dbt_vars import months_between
from orchestration.synth import (
    activity_base,
    cost,
    deprivation,
    fft,
    geography,
    gpps,
    hospital_activity,
    ons_population,
    population,
    prescribing,
    public_health,
    qof,
    urgent_care,
    writers,
)

GENERATOR_VERSION = "1"
MERGER_2021 = date(2021, 4, 1)
SUB_ICB_ERA = date(2022, 7, 1)
SUPPLIER_ERA = date(2025, 1, 1)  # SUPPLIER_NAME seen by October 2025; its first month is unverified


@dataclass
class Gap:
    kind: str
    feed: str
    period: str
    org_code: str
    detail: str
    severity: str = "warn"


@dataclass
class Plan:
    scale: str
    start: date
    end: date
    seed: int
    sub_icbs: tuple[str, ...] | None
    practices_per_sub_icb: int | None  # None: varied, national-like
    gaps: list[Gap] = field(default_factory=list)


def sample_plan() -> Plan:
    """The shipped sample: 24 months over 13 sub-ICB locations, record-level activity in the last
    12 (admitted care at real volume; activity_base.SAMPLE_FRACTION), about 38 MB zipped."""
    return Plan("sample", date(2021, 1, 1), date(2022, 12, 1), 20130401, geography.SAMPLE_SUB_ICBS, 14)


def national_plan(start: date, end: date, seed: int = 20130401) -> Plan:
    """All 106 sub-ICB locations, about 6,500 practices and 60 million patients."""
    return Plan("national", start, end, seed, None, None)


def _practice_counts(plan: Plan, n_sub_icbs: int, rng: np.random.Generator) -> np.ndarray:
    if plan.practices_per_sub_icb:
        return np.full(n_sub_icbs, plan.practices_per_sub_icb)
    # National: sub-ICB sizes vary roughly tenfold; scale to about 6,500 practices.
    weights = rng.lognormal(0, 0.6, n_sub_icbs)
    return np.maximum(np.round(weights / weights.sum() * 6500), 8).astype(int)


def _commissioner(sub: geography.SubIcb, predecessor: str, month: date) -> tuple[str, str, str]:
    """(code, name, ONS code) a practice's commissioner was published under in a month."""
    if month < MERGER_2021 and sub.predecessors:
        name = dict(sub.predecessors)[predecessor]
        return predecessor, name, ""
    if month < SUB_ICB_ERA:
        return sub.code, sub.ccg_name, sub.ons_code
    return sub.code, sub.name, sub.ons_code


RECORD_WEIGHT = 5  # progress steps per month of a record-level writer


def generate(plan: Plan, out: Path, progress: bool = True) -> dict:
    """Write the landing files and the manifest; return the manifest."""
    rng = np.random.default_rng(plan.seed)
    subs = geography.load_sub_icbs(plan.sub_icbs)
    geo = geography.build_geography(subs, _practice_counts(plan, len(subs), rng), rng)
    by_code = geography.sub_icb_index(geo)
    months = months_between(plan.start, plan.end)
    p = geo.practices
    gaps: list[Gap] = []
    receipts: list[tuple[str, str, str, str]] = []
    # The quinary list-size counts of each March and April, as the list-size feed publishes them:
    # QOF measures its registers against the lists at 1 April after the year (qof.write_qof).
    counts_at: dict[date, np.ndarray] = {}

    # ---- choose the planted gaps (deterministically) -------------------------------------
    picks = rng.choice(geo.n, size=6, replace=False)
    mid = len(months) // 2
    missing_practice, step_practice, unknown_comm_practice, *default_pcn = (
        str(p["code"][i]) for i in picks[:5]
    )
    missing_month = months[min(mid + 2, len(months) - 1)]
    unknown_practice_month = months[min(mid - 1, len(months) - 1)]
    unknown_comm_month = months[min(mid + 1, len(months) - 1)]
    variant_month = months[min(mid + 9, len(months) - 1)]
    late_month = months[min(mid + 4, len(months) - 1)]
    step_month = months[min(mid + 5, len(months) - 1)]
    unknown_practice_code = f"{p['code'][picks[5]][0]}99999"
    orphan = next((str(p["code"][i]) for i in range(geo.n) if by_code[p["sub_icb"][i]].predecessors), None)
    if len(months) >= 3:
        gaps += [
            Gap(
                "missing_practice_month",
                GP_REGISTERED_PATIENTS.name,
                f"{missing_month:%Y-%m}",
                missing_practice,
                "practice left out of the month's list-size file while still in the practice map",
            ),
            Gap(
                "unknown_practice",
                GP_REGISTERED_PATIENTS.name,
                f"{unknown_practice_month:%Y-%m}",
                unknown_practice_code,
                "list sizes for a practice code that is in neither the practice map nor ODS",
            ),
            Gap(
                "unknown_commissioner_code",
                GP_PRACTICE_MAP.name,
                f"{unknown_comm_month:%Y-%m}",
                unknown_comm_practice,
                "practice mapped to commissioner code Z9Z, which no crosswalk knows",
            ),
            Gap(
                "renamed_column_variant",
                GP_REGISTERED_PATIENTS.name,
                f"{variant_month:%Y-%m}",
                "",
                "list-size file published in the TYPE/CODE/AGE layout, not ORG_TYPE/ORG_CODE/AGE_GROUP_5",
            ),
            Gap(
                "late_file",
                GP_PRACTICE_MAP.name,
                f"{late_month:%Y-%m}",
                "",
                "practice map received 50 days after its usual publication day",
            ),
            Gap(
                "list_size_step",
                GP_REGISTERED_PATIENTS.name,
                f"{step_month:%Y-%m}",
                step_practice,
                "list grows 45% in one month (absorbs a neighbouring practice)",
            ),
        ]
        gaps += [
            Gap("default_code", GP_PRACTICE_MAP.name, "all", code, "PCN_CODE U (not in a PCN)")
            for code in default_pcn
        ]
        if orphan:
            gaps.append(
                Gap(
                    "orphan_practice",
                    EPRACCUR.name,
                    "all",
                    orphan,
                    "ODS still attaches the practice to its pre-April-2021 CCG code",
                )
            )

    def receive(feed: str, month: date, path: Path, day: int, late_days: int = 0) -> None:
        received = datetime(month.year, month.month, day, 9, 30) + timedelta(days=late_days)
        receipts.append((feed, f"{month:%Y-%m}", path.name, received.isoformat()))

    # ---- monthly feeds -------------------------------------------------------------------
    base = p["list_size"].copy()
    step_index = list(p["code"]).index(step_practice) if gaps else -1
    # One bar over the whole generation, weighted by the work: a list-size month is 1 step, each
    # reference section 1, each record-level writer (most of a national run) 5 per month.
    record_writers = (
        ("hospital activity", hospital_activity.write_hospital_activity),
        ("urgent care", urgent_care.write_urgent_care),
        ("cost", cost.write_cost),
        ("prescribing", prescribing.write_prescribing),
    )
    reference_steps = 2 + (5 if len(months) >= 3 else 0)
    bar = tqdm(
        total=len(months) + reference_steps + RECORD_WEIGHT * len(months) * len(record_writers),
        desc=f"{plan.scale}: list sizes",
        unit="step",
        disable=not progress,
    )
    for index, month in enumerate(months):
        sizes = population.list_sizes(base, p["growth"], index, rng)
        if gaps and month >= step_month:
            sizes[step_index] = int(sizes[step_index] * 1.45)
        counts = population.cells(sizes, p["older"], rng)
        if month.month in (3, 4):
            counts_at[month] = counts
        comm = [
            _commissioner(by_code[s], pred, month)
            for s, pred in zip(p["sub_icb"], p["predecessor"], strict=True)
        ]
        codes = np.array([c[0] for c in comm], dtype=object)
        names = np.array([c[1] for c in comm], dtype=object)
        ons = np.array([c[2] for c in comm], dtype=object)

        # gp-reg-pat-prac-map
        subs_of = [by_code[s] for s in p["sub_icb"]]
        if month < SUB_ICB_ERA:
            variant, parent = (
                "ccg_stp_2021",
                [(s.stp_code, s.stp_name, s.ons_stp_code) for s in subs_of],
            )
            commissioner_cols = (
                "CCG_CODE",
                "CCG_NAME",
                "ONS_CCG_CODE",
                "STP_CODE",
                "STP_NAME",
                "ONS_STP_CODE",
            )
        else:
            variant = "sub_icb_supplier_2025" if month >= SUPPLIER_ERA else "sub_icb_2022"
            parent = [(s.icb_code, s.icb_name, s.ons_icb_code) for s in subs_of]
            commissioner_cols = (
                "SUB_ICB_LOCATION_CODE",
                "SUB_ICB_LOCATION_NAME",
                "ONS_SUB_ICB_LOCATION_CODE",
                "ICB_CODE",
                "ICB_NAME",
                "ONS_ICB_CODE",
            )
        map_codes = codes.copy()
        if gaps and month == unknown_comm_month:
            map_codes[list(p["code"]).index(unknown_comm_practice)] = "Z9Z"
        pcn_codes = np.array(
            [
                ("U" if gaps and c in default_pcn else v)
                for c, v in zip(p["code"], p["pcn_code"], strict=True)
            ],
            dtype=object,
        )
        pcn_names = np.array(
            [
                ("Unallocated" if gaps and c in default_pcn else v)
                for c, v in zip(p["code"], p["pcn_name"], strict=True)
            ],
            dtype=object,
        )
        columns = {
            "PUBLICATION": ["GP_PRAC_PAT_LIST"] * geo.n,
            "EXTRACT_DATE": [writers.extract_date(month, "title")] * geo.n,
            "PRACTICE_CODE": p["code"],
            "PRACTICE_NAME": p["name"],
            "PRACTICE_POSTCODE": p["postcode"],
            "PCN_CODE": pcn_codes,
            "PCN_NAME": pcn_names,
            commissioner_cols[0]: map_codes,
            commissioner_cols[1]: names,
            commissioner_cols[2]: ons,
            commissioner_cols[3]: [x[0] for x in parent],
            commissioner_cols[4]: [x[1] for x in parent],
            commissioner_cols[5]: [x[2] for x in parent],
            "ONS_COMM_REGION_CODE": [s.ons_region_code for s in subs_of],
            "COMM_REGION_CODE": [s.region_code for s in subs_of],
            "COMM_REGION_NAME": [s.region_name for s in subs_of],
            "SUPPLIER_NAME": ["EMIS" if i % 3 else "TPP" for i in range(geo.n)],
        }
        map_path = out / GP_PRACTICE_MAP.name / f"{month:%Y-%m}" / "gp-reg-pat-prac-map.zip"
        writers.write_zip(
            map_path, "gp-reg-pat-prac-map.csv", writers.practice_map_csv(month, variant, columns)
        )
        receive(GP_PRACTICE_MAP.name, month, map_path, 14, 50 if gaps and month == late_month else 0)

        # gp-reg-pat-prac-quin-age
        keep = np.ones(geo.n, dtype=bool)
        if gaps and month == missing_month:
            keep[list(p["code"]).index(missing_practice)] = False
        q_codes, q_post, q_counts, q_comm, q_ons = (
            p["code"][keep],
            p["postcode"][keep],
            counts[keep],
            codes[keep],
            ons[keep],
        )
        if gaps and month == unknown_practice_month:
            extra = population.cells(np.array([4200]), np.array([0.5]), rng)
            q_codes = np.append(q_codes, unknown_practice_code)
            q_post = np.append(q_post, q_post[0])
            q_counts = np.vstack([q_counts, extra])
            q_comm, q_ons = np.append(q_comm, q_comm[0]), np.append(q_ons, q_ons[0])
        if gaps and month == variant_month:
            q_variant = "prac_sub_icb_2023" if month >= SUB_ICB_ERA else "prac_ccg_2021"
        else:
            q_variant = "quin_age_org_2017"
        quin_path = out / GP_REGISTERED_PATIENTS.name / f"{month:%Y-%m}" / "gp-reg-pat-prac-quin-age.zip"
        writers.write_zip(
            quin_path,
            "gp-reg-pat-prac-quin-age.csv",
            writers.quin_age_csv(month, q_variant, q_codes, q_post, q_counts, q_comm, q_ons),
        )
        receive(GP_REGISTERED_PATIENTS.name, month, quin_path, 14)
        bar.update(1)

    # ---- ODS snapshots: epraccur quarterly, eccg at each geography change -----------------
    bar.set_description(f"{plan.scale}: ODS")
    releases = [m for m in months if m.month in (1, 4, 7, 10)] or months[:1]
    for release in releases:
        rows = []
        for i in range(geo.n):
            sub = by_code[p["sub_icb"][i]]
            code, _, _ = _commissioner(sub, p["predecessor"][i], release)
            if gaps and p["code"][i] == orphan:
                code = p["predecessor"][i]
            rows.append(
                writers.ods_row(
                    {
                        "Organisation Code": p["code"][i],
                        "Name": p["name"][i],
                        "National Grouping": sub.region_code,
                        "High Level Health Geography": sub.icb_code
                        if release >= SUB_ICB_ERA
                        else sub.stp_code,
                        "Address Line 1": p["name"][i],
                        "Address Line 3": sub.ccg_name.removeprefix("NHS ").removesuffix(" CCG").upper(),
                        "Postcode": p["postcode"][i],
                        "Open Date": p["open_date"][i].strftime("%Y%m%d"),
                        "Status Code": "A",
                        "Organisation Sub-Type Code": "B",
                        "Commissioner": code,
                        "Join Provider/Purchaser Date": "20130401",
                        "Amended Record Indicator": "0",
                        "Provider/Purchaser": code,
                        "Prescribing Setting": "4",
                    }
                )
            )
        # Non-GP cost centres (out of hours, community, hospital) and one closed practice.
        for j, (setting, label) in enumerate(
            (("2", "OUT OF HOURS SERVICE"), ("9", "COMMUNITY NURSING"), ("10", "HOSPITAL PHARMACY"))
        ):
            sub = geo.sub_icbs[j % len(geo.sub_icbs)]
            rows.append(
                writers.ods_row(
                    {
                        "Organisation Code": f"Y0{j + 1}{len(geo.sub_icbs):03d}",
                        "Name": f"{sub.code} {label}",
                        "National Grouping": sub.region_code,
                        "Postcode": "ZZ99 9ZZ",
                        "Open Date": "20050401",
                        "Status Code": "A",
                        "Organisation Sub-Type Code": "Z",
                        "Commissioner": sub.code,
                        "Provider/Purchaser": sub.code,
                        "Prescribing Setting": setting,
                    }
                )
            )
        first = geo.sub_icbs[0]
        rows.append(
            writers.ods_row(
                {
                    "Organisation Code": f"{p['code'][0][0]}79001",
                    "Name": "OLD MILL SURGERY",
                    "National Grouping": first.region_code,
                    "Postcode": p["postcode"][0],
                    "Open Date": "19740401",
                    "Close Date": "20191231",
                    "Status Code": "C",
                    "Organisation Sub-Type Code": "B",
                    "Commissioner": first.code,
                    "Provider/Purchaser": first.code,
                    "Prescribing Setting": "4",
                }
            )
        )
        path = out / EPRACCUR.name / f"{release:%Y-%m}" / "epraccur.zip"
        writers.write_zip(path, "epraccur.csv", writers.ods_csv(rows))
        receive(EPRACCUR.name, release, path, 5)

    for release in sorted({months[0], *(m for m in months if m in (MERGER_2021, SUB_ICB_ERA))}):
        rows = []
        for sub in geo.sub_icbs:
            name = sub.name if release >= SUB_ICB_ERA else sub.ccg_name
            opened = "20210401" if sub.predecessors else "20130401"
            if release < MERGER_2021 and sub.predecessors:
                for code, pred_name in sub.predecessors:
                    rows.append(
                        writers.ods_row(
                            {
                                "Organisation Code": code,
                                "Name": pred_name,
                                "National Grouping": sub.region_code,
                                "Open Date": "20130401",
                                "Organisation Sub-Type Code": "C",
                                "Amended Record Indicator": "0",
                            }
                        )
                    )
                continue
            rows.append(
                writers.ods_row(
                    {
                        "Organisation Code": sub.code,
                        "Name": name.upper(),
                        "National Grouping": sub.region_code,
                        "High Level Health Geography": sub.icb_code,
                        "Open Date": opened,
                        "Organisation Sub-Type Code": "C",
                        "Amended Record Indicator": "0",
                    }
                )
            )
            for code, pred_name in sub.predecessors:
                rows.append(
                    writers.ods_row(
                        {
                            "Organisation Code": code,
                            "Name": pred_name,
                            "National Grouping": sub.region_code,
                            "Open Date": "20130401",
                            "Close Date": "20210331",
                            "Organisation Sub-Type Code": "C",
                            "Amended Record Indicator": "0",
                        }
                    )
                )
        path = out / ECCG.name / f"{release:%Y-%m}" / "eccg.zip"
        writers.write_zip(path, "eccg.csv", writers.ods_csv(rows))
        receive(ECCG.name, release, path, 5)

    bar.update(2)
    # ---- public health: Fingertips releases (after every other feed, so their bytes are stable) ----
    if len(months) >= 3:
        bar.set_description(f"{plan.scale}: public health, survey, population, FFT")
        planted: list[tuple[str, str, str, str]] = []
        public_health.write_fingertips(geo, by_code, rng, out, months, planted, receive)
        gaps += [
            Gap(kind, public_health.FINGERTIPS_DATA.name, period, code, detail)
            for kind, code, period, detail in planted
        ]
        # ---- deprivation and the LSOA lookup -------------------------------------------------
        gaps += [
            Gap(kind, deprivation.LSOA_LOOKUP.name, period, code, detail)
            for kind, code, period, detail in deprivation.write_deprivation(geo, rng, out, receive)
        ]
        # ---- GP Patient Survey: one file a survey year published in the range ------------------
        survey_years = sorted({m.year for m in months if m.month >= 7})
        gaps += [
            Gap(kind, gpps.GPPS_PRACTICE.name, period, code, detail)
            for kind, code, period, detail in gpps.write_gpps(geo, rng, out, survey_years, receive)
        ]
        # ---- ONS mid-year population: the years before the last month's ---------------------------
        ons_population.write_ons_population(
            geo, rng, out, [months[-1].year - 2, months[-1].year - 1], receive
        )
        # ---- Friends and Family Test: inpatient and A&E, every month -----------------------------
        gaps += [
            Gap(kind, fft.FFT_INPATIENT.name, period, code, detail)
            for kind, code, period, detail in fft.write_fft(geo, rng, out, months, receive)
        ]
        # ---- Quality and Outcomes Framework: a release per financial year ending in the range -------
        # Its own random stream, its gaps in their own manifest and no receipts: adding QOF left every
        # file the generator wrote before it (_manifest.json and _receipts.csv too) byte for byte.
        qof_gaps = [
            Gap(kind, feed, period, code, detail)
            for kind, feed, code, period, detail in qof.write_qof(geo, plan.seed, out, months, counts_at)
        ]
        if qof_gaps:
            _write_qof_manifest(out, plan, qof_gaps)
        bar.update(5)
    # ---- Record-level activity, cost and prescribing, for any number of months: each feed draws
    # from its own random stream (activity_base.feed_rng), so none disturbs another feed's bytes --
    for label, writer in record_writers:
        bar.set_description(f"{plan.scale}: {label}")
        gaps += [
            Gap(kind, feed, period, code, detail)
            for kind, feed, code, period, detail in writer(geo, plan.seed, out, months, receive, plan.scale)
        ]
        bar.update(RECORD_WEIGHT * len(months))
    bar.close()

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "scale": plan.scale,
        "seed": plan.seed,
        "months": [f"{months[0]:%Y-%m}", f"{months[-1]:%Y-%m}"],
        "sub_icb_locations": [s.code for s in geo.sub_icbs],
        "practices": int(geo.n),
        "activity_sample_fraction": activity_base.SAMPLE_FRACTION if plan.scale == "sample" else None,
        "registered_patients_first_month": int(
            population.list_sizes(base, p["growth"], 0, np.random.default_rng(0)).sum()
        ),
        "gaps": [asdict(g) for g in gaps],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    with (out / "_receipts.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["feed", "period", "file", "received_at"])
        writer.writerows(sorted(receipts))
    return manifest


def _write_qof_manifest(out: Path, plan: Plan, gaps: list[Gap]) -> None:
    """`_manifest_qof.json`: the QOF gaps, listed apart from `_manifest.json` so that the QOF
    feeds could be added to the shipped sample as new files only (merge them into `_manifest.json`
    once no other branch is changing it)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "scale": plan.scale,
        "seed": plan.seed,
        "feeds": ["qof_prevalence", "qof_achievement"],
        "gaps": [asdict(g) for g in gaps],
    }
    (out / "_manifest_qof.json").write_text(json.dumps(manifest, indent=2) + "\n")


Generator = Callable[[Plan, Path], dict]
