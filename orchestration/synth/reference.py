"""The reference feeds' writers: list sizes, the practice map and the two ODS files.

Every month's lists and where the reference gaps are planted are decided in plan.py (the list-size
file and the practice map must agree on them); these writers only lay them out as NHS England and
ODS publish them (writers.py) and return the gaps of their own feed.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from orchestration.defs.reference.feeds import ECCG, EPRACCUR, GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.synth import writers
from orchestration.synth.context import WriteContext
from orchestration.synth.geography import MERGER_2021, SUB_ICB_ERA, commissioner
from orchestration.synth.manifest import PlantedGap

SUPPLIER_ERA = date(2025, 1, 1)  # SUPPLIER_NAME seen by October 2025; its first month is unverified
LIST_SIZE_DAY = 14  # both monthly files are published mid-month
ODS_DAY = 5
LATE_DAYS = 50  # the planted late practice map


def _own_gaps(ctx: WriteContext, feed: str) -> list[PlantedGap]:
    """The plan's gaps of one feed: those the writer of that feed plants."""
    return [g for g in ctx.shared.gaps if g.feed == feed]


def _commissioners(ctx: WriteContext, month: date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each practice's commissioner code, name and ONS code as published in a month."""
    p = ctx.geo.practices
    published = [
        commissioner(ctx.by_code[s], pred, month)
        for s, pred in zip(p["sub_icb"], p["predecessor"], strict=True)
    ]
    return tuple(np.array([c[k] for c in published], dtype=object) for k in range(3))


class ListSizes:
    """gp-reg-pat-prac-quin-age: one zip a month."""

    label = "list sizes"

    def steps(self, ctx: WriteContext) -> int:
        return len(ctx.months)

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        p, n, ref = ctx.geo.practices, ctx.geo.n, ctx.shared.reference
        for month in ctx.months:
            codes, _, ons = _commissioners(ctx, month)
            keep = np.ones(n, dtype=bool)
            if ref and month == ref.missing_month:
                keep[list(p["code"]).index(ref.missing_practice)] = False
            q_codes, q_post, q_counts, q_comm, q_ons = (
                p["code"][keep],
                p["postcode"][keep],
                ctx.shared.lists.counts[month][keep],
                codes[keep],
                ons[keep],
            )
            if ref and month == ref.unknown_practice_month:
                q_codes = np.append(q_codes, ref.unknown_practice)
                q_post = np.append(q_post, q_post[0])
                q_counts = np.vstack([q_counts, ctx.shared.lists.unknown_practice])
                q_comm, q_ons = np.append(q_comm, q_comm[0]), np.append(q_ons, q_ons[0])
            if ref and month == ref.variant_month:
                variant = "prac_sub_icb_2023" if month >= SUB_ICB_ERA else "prac_ccg_2021"
            else:
                variant = "quin_age_org_2017"
            path = ctx.out / GP_REGISTERED_PATIENTS.name / f"{month:%Y-%m}" / "gp-reg-pat-prac-quin-age.zip"
            writers.write_zip(
                path,
                "gp-reg-pat-prac-quin-age.csv",
                writers.quin_age_csv(month, variant, q_codes, q_post, q_counts, q_comm, q_ons),
            )
            ctx.receive(GP_REGISTERED_PATIENTS.name, month, path, LIST_SIZE_DAY)
            ctx.advance(1)
        return _own_gaps(ctx, GP_REGISTERED_PATIENTS.name)


class PracticeMap:
    """gp-reg-pat-prac-map: one zip a month, CCG columns before July 2022, sub-ICB after."""

    label = "practice map"

    def steps(self, ctx: WriteContext) -> int:
        return len(ctx.months)

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        p, n, ref = ctx.geo.practices, ctx.geo.n, ctx.shared.reference
        default_pcn = ref.default_pcn if ref else ()
        pcn_codes = np.array(
            [("U" if c in default_pcn else v) for c, v in zip(p["code"], p["pcn_code"], strict=True)],
            dtype=object,
        )
        pcn_names = np.array(
            [
                ("Unallocated" if c in default_pcn else v)
                for c, v in zip(p["code"], p["pcn_name"], strict=True)
            ],
            dtype=object,
        )
        subs_of = [ctx.by_code[s] for s in p["sub_icb"]]
        for month in ctx.months:
            codes, names, ons = _commissioners(ctx, month)
            if month < SUB_ICB_ERA:
                variant = "ccg_stp_2021"
                parent = [(s.stp_code, s.stp_name, s.ons_stp_code) for s in subs_of]
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
            if ref and month == ref.unknown_commissioner_month:
                codes[list(p["code"]).index(ref.unknown_commissioner_practice)] = "Z9Z"
            columns = {
                "PUBLICATION": ["GP_PRAC_PAT_LIST"] * n,
                "EXTRACT_DATE": [writers.extract_date(month, "title")] * n,
                "PRACTICE_CODE": p["code"],
                "PRACTICE_NAME": p["name"],
                "PRACTICE_POSTCODE": p["postcode"],
                "PCN_CODE": pcn_codes,
                "PCN_NAME": pcn_names,
                commissioner_cols[0]: codes,
                commissioner_cols[1]: names,
                commissioner_cols[2]: ons,
                commissioner_cols[3]: [x[0] for x in parent],
                commissioner_cols[4]: [x[1] for x in parent],
                commissioner_cols[5]: [x[2] for x in parent],
                "ONS_COMM_REGION_CODE": [s.ons_region_code for s in subs_of],
                "COMM_REGION_CODE": [s.region_code for s in subs_of],
                "COMM_REGION_NAME": [s.region_name for s in subs_of],
                "SUPPLIER_NAME": ["EMIS" if i % 3 else "TPP" for i in range(n)],
            }
            path = ctx.out / GP_PRACTICE_MAP.name / f"{month:%Y-%m}" / "gp-reg-pat-prac-map.zip"
            writers.write_zip(
                path, "gp-reg-pat-prac-map.csv", writers.practice_map_csv(month, variant, columns)
            )
            late = LATE_DAYS if ref and month == ref.late_month else 0
            ctx.receive(GP_PRACTICE_MAP.name, month, path, LIST_SIZE_DAY, late)
            ctx.advance(1)
        return _own_gaps(ctx, GP_PRACTICE_MAP.name)


class Epraccur:
    """ODS epraccur, quarterly: the practices, three non-GP cost centres and one closed practice."""

    label = "ODS"

    def steps(self, ctx: WriteContext) -> int:
        return 1

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        geo, p, ref = ctx.geo, ctx.geo.practices, ctx.shared.reference
        orphan = ref.orphan if ref else None
        for release in [m for m in ctx.months if m.month in (1, 4, 7, 10)] or ctx.months[:1]:
            rows = []
            for i in range(geo.n):
                sub = ctx.by_code[p["sub_icb"][i]]
                code, _, _ = commissioner(sub, p["predecessor"][i], release)
                if p["code"][i] == orphan:
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
            path = ctx.out / EPRACCUR.name / f"{release:%Y-%m}" / "epraccur.zip"
            writers.write_zip(path, "epraccur.csv", writers.ods_csv(rows))
            ctx.receive(EPRACCUR.name, release, path, ODS_DAY)
        return _own_gaps(ctx, EPRACCUR.name)


class Eccg:
    """ODS eccg: the commissioners, at the first month and at each geography change in the run."""

    label = "ODS"

    def steps(self, ctx: WriteContext) -> int:
        return 1

    def write(self, ctx: WriteContext) -> list[PlantedGap]:
        months = ctx.months
        for release in sorted({months[0], *(m for m in months if m in (MERGER_2021, SUB_ICB_ERA))}):
            rows = []
            for sub in ctx.geo.sub_icbs:
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
            path = ctx.out / ECCG.name / f"{release:%Y-%m}" / "eccg.zip"
            writers.write_zip(path, "eccg.csv", writers.ods_csv(rows))
            ctx.receive(ECCG.name, release, path, ODS_DAY)
        return _own_gaps(ctx, ECCG.name)
