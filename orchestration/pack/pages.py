"""One area's pack page: its sheets (each printed as one PDF page) and their charts and tables.

`PackBuilder` indexes the release's rows (`data.PackData`) per area once, then `page()` builds
the page of England, an ICB or a sub-ICB location from those indexes: a national pack costs one
pass over each table, not one query per area.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from orchestration.pack import charts
from orchestration.pack.data import ENGLAND, ICB, SUB_ICB, PackData, Row

SPINE_ROWS_PER_SHEET = 9
CHARTS_PER_SHEET = 6  # funnels and trends: a 3 × 2 grid on an A4 landscape page
MEASURES_PER_SHEET = 4
GAP_ROWS_SHOWN = 12
NOTE_CHARS = 150  # a data note longer than this shows in full on hover (and in the gap sheet)
TOP_SERVICES = 20
PEERS = 10
ENGLAND_CODE = "E92000001"

MEASURES_SEED = (
    Path(__file__).resolve().parents[2] / "seeds" / "reference" / "prescribing" / "prescribing_measures.csv"
)

# What each long-term-condition programme page joins: its needs measures (mart_needs_profile) and
# outcome indicators (mart_ois_indicator). Stroke and dementia have no OIS outcome the feeds allow yet.
PROGRAMMES = {
    "diabetes": ("Diabetes", ("Diabetes: QOF prevalence (17+)",), ("ctx_diabetes_prevalence", "ois_2_07")),
    "cvd": (
        "Cardiovascular disease",
        ("Under 75 mortality rate from all cardiovascular diseases",),
        ("ois_1_02",),
    ),
    "respiratory": (
        "Respiratory",
        (
            "Under 75 mortality rate from respiratory disease",
            "Smoking Prevalence in adults (18+) - current smokers (APS)",
        ),
        ("ois_1_06", "ois_3_04"),
    ),
    "stroke": ("Stroke", (), ()),
    "dementia": ("Dementia", ("pct_registered_aged_65_plus",), ()),
}

POD_LABELS = {
    "elective_day_case": "Elective day case",
    "elective_ordinary": "Elective ordinary",
    "maternity": "Maternity",
    "non_elective_emergency": "Non-elective emergency",
    "non_elective_other": "Non-elective other",
    "regular_attender": "Regular day/night attender",
    "outpatient_first": "Outpatient first",
    "outpatient_follow_up": "Outpatient follow-up",
    "outpatient_not_attended": "Outpatient did not attend",
    "outpatient_procedure": "Outpatient procedure",
    "prescribing_gp_practice": "Prescribing: GP practices",
    "prescribing_other_cost_centre": "Prescribing: other cost centres",
    "ae_type_01": "A&E type 1",
    "ae_type_02": "A&E type 2",
    "ae_type_03": "A&E type 3/4",
}
SETTING_LABELS = {
    "admitted_care": "Admitted",
    "outpatients": "Outpatients",
    "urgent_and_emergency_care": "A&E",
    "primary_care_prescribing": "Prescribing",
}
LEVEL_NAMES = {ENGLAND: "England", ICB: "Integrated care board", SUB_ICB: "Sub-ICB location"}


@dataclass
class Sheet:
    kind: str
    title: str
    charts: list[int] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    level: str
    code: str
    name: str
    path: str  # relative to the pack folder
    parent: tuple[str, str, str] | None = None  # (label, name, path)
    links: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # heading → (code, name, path)
    sheets: list[Sheet] = field(default_factory=list)
    specs: list[dict[str, Any]] = field(default_factory=list)
    gaps: dict[str, Any] = field(default_factory=dict)

    def chart(self, kind: str, rows: Iterable[dict], title: str, description: str) -> int:
        self.specs.append(charts.spec(kind, rows, title, description))
        return len(self.specs) - 1


def page_path(level: str, code: str) -> str:
    return {ENGLAND: "index.html", ICB: f"icb/{code}.html", SUB_ICB: f"sub_icb/{code}.html"}[level]


def _index(rows: list[Row], key: Callable[[Row], Any]) -> dict[Any, list[Row]]:
    index: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        index[key(row)].append(row)
    return index


def _num(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _money(value: Any) -> str:
    return "–" if value is None else f"£{value:,.0f}"


def _ratio(numerator: Any, denominator: Any, scale: float = 1.0) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator * scale


def _sum(rows: Iterable[Row], column: str) -> float | None:
    values = [r[column] for r in rows if r[column] is not None]
    return sum(values) if values else None


def _trend_arrow(trend: Any) -> tuple[str, str]:
    text = str(trend or "")
    arrow = (
        "↑"
        if "Increasing" in text
        else "↓"
        if "Decreasing" in text
        else "→"
        if "No significant" in text
        else "–"
    )
    tone = "better" if "better" in text else "worse" if "worse" in text else "neutral"
    return arrow, tone


def _short(title: str, limit: int = 70) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _service_label(row: Row) -> str:
    """A service by its name, or by what its code is where the mart has no name."""
    if row["service_name"]:
        return _short(f"{row['service_name']} ({row['service_code']})", 42)
    kind = "BNF section" if row["setting"] == "primary_care_prescribing" else "HRG"
    return f"{kind} {row['service_code']}"


def _label(row: Row) -> str:
    return _short(f"{row['ois_code'] + ' ' if row['ois_code'] else ''}{row['indicator_title']}", 60)


class PackBuilder:
    """Indexes the release's rows per area and builds each area's page."""

    def __init__(self, data: PackData, gap_report_pages: dict[str, str] | None = None):
        self.data = data
        self.gap_report_pages = gap_report_pages or {}
        self.sub_icbs = {r["area_code"]: r for r in data["areas"] if r["area_level"] == SUB_ICB}
        self.icbs = {r["area_code"]: r for r in data["areas"] if r["area_level"] == ICB}
        self.icb_members = _index(list(self.sub_icbs.values()), lambda r: r["parent_code"])
        ois = data["ois"]  # ordered by indicator, level, area, period
        self.ois = _index(ois, lambda r: (r["area_level"], r["area_code"]))
        self.ois_england = [r for r in ois if r["area_level"] == ENGLAND]
        self.ois_value = {
            (r["area_code"], r["indicator_id"], r["period"]): r["value"]
            for r in ois
            if r["area_level"] == SUB_ICB and r["value"] is not None
        }
        self.ranges = {(r["indicator_id"], r["period"], r["area_level"]): r for r in data["ranges"]}
        self.funnel = _index(data["funnel"], lambda r: (r["indicator_id"], r["period"]))
        self.peers = _index(data["peers"], lambda r: r["area_code"])
        self.opportunity = _index(data["opportunity"], lambda r: r["area_code"])
        self.money = _index(data["money"], lambda r: (r["area_level"], r["area_code"]))
        self.money_england = self.money.get((ENGLAND, ENGLAND_CODE), [])
        self.top = _index(data["top_services"], lambda r: (r["area_level"], r["area_code"]))
        self.ltc = _index(data["ltc"], lambda r: (r["programme"], r["area_level"], r["area_code"]))
        self.needs = _index(data["needs"], lambda r: r["area_code"])
        self.prescribing = _index(
            data["prescribing"], lambda r: (r["area_level"], r["area_code"], r["measure_id"])
        )
        self.deciles = _index(data["deciles"], lambda r: r["measure_id"])
        self.gaps_by_sub = _index(data["gaps"], lambda r: r["area_code"])
        self.gaps_by_icb = _index(data["gaps"], lambda r: r["icb_code"])
        self.measures = _measure_names()

    # --- areas and links ------------------------------------------------------------------
    def areas(self) -> list[tuple[str, str, str]]:
        return (
            [(ENGLAND, ENGLAND_CODE, "England")]
            + [(ICB, code, r["area_name"]) for code, r in self.icbs.items()]
            + [(SUB_ICB, code, r["area_name"]) for code, r in self.sub_icbs.items()]
        )

    def _link(self, level: str, code: str) -> tuple[str, str, str]:
        table = self.icbs if level == ICB else self.sub_icbs
        return code, table[code]["area_name"] if code in table else code, page_path(level, code)

    def page(self, level: str, code: str, name: str) -> Page:
        page = Page(level=level, code=code, name=name, path=page_path(level, code))
        if level == SUB_ICB:
            icb = self.sub_icbs[code]["parent_code"]
            page.parent = ("ICB", self._link(ICB, icb)[1], page_path(ICB, icb)) if icb in self.icbs else None
            page.links["Most similar sub-ICB locations (peers)"] = [
                self._link(SUB_ICB, p) for p in self._peer_codes(code) if p in self.sub_icbs
            ]
            page.links["Other sub-ICB locations in the ICB"] = [
                self._link(SUB_ICB, r["area_code"])
                for r in self.icb_members.get(icb, [])
                if r["area_code"] != code
            ]
        elif level == ICB:
            page.parent = ("England", "England", "index.html")
            page.links["Sub-ICB locations in this ICB"] = [
                self._link(SUB_ICB, r["area_code"]) for r in self.icb_members.get(code, [])
            ]
        else:
            page.links["Integrated care boards"] = [self._link(ICB, c) for c in self.icbs]
            page.links["Sub-ICB locations"] = [self._link(SUB_ICB, c) for c in self.sub_icbs]
        page.gaps = self._gaps(level, code)
        self._summary(page)
        self._spine(page)
        if level != ENGLAND:
            self._funnels(page)
        self._trends(page)
        if level == SUB_ICB:
            self._peers(page)
        self._money(page)
        self._top_services(page)
        for programme in PROGRAMMES:
            self._programme(page, programme)
        self._prescribing(page)
        page.sheets.append(
            Sheet("gaps", "Data gaps: what cannot be trusted here, and why", context=page.gaps)
        )
        return page

    def _peer_codes(self, code: str) -> list[str]:
        return [r["peer_code"] for r in self.peers.get(code, [])[:PEERS]]

    # --- indicators -----------------------------------------------------------------------
    def _indicator_rows(self, level: str, code: str) -> list[Row]:
        return self.ois_england if level == ENGLAND else self.ois.get((level, code), [])

    def _latest_indicators(self, level: str, code: str) -> list[Row]:
        latest: dict[str, Row] = {}
        for row in self._indicator_rows(level, code):  # ordered by period within an indicator
            latest[row["indicator_id"]] = row
        return [latest[k] for k in sorted(latest)]

    def _summary(self, page: Page) -> None:
        latest = self._latest_indicators(page.level, page.code)
        compared: dict[str, int] = {}
        if page.level != ENGLAND:
            for row in latest:
                label = row["compared_to_england"] or "Not compared"
                compared[label] = compared.get(label, 0) + 1
        money = self._money_rows(page)
        facts: dict[str, Any] = {
            "indicators": len(latest),
            "with_value": sum(r["value"] is not None for r in latest),
        }
        if money:
            cost = _sum(money, "cost") or 0.0
            weighted = max((r["weighted_patients"] or 0.0) for r in money)
            facts["spend"] = _money(cost)
            facts["per_head"] = _num(_ratio(cost, weighted), 2)
            if page.level != ENGLAND:
                facts["registered"] = _num(max((r["registered_patients"] or 0.0) for r in money), 0)
        page.sheets.append(Sheet("summary", "Summary", context={"compared": compared, "facts": facts}))

    def _spine(self, page: Page) -> None:
        range_level = SUB_ICB if page.level == ENGLAND else page.level
        rows = []
        for order, r in enumerate(self._latest_indicators(page.level, page.code)):
            rng = self.ranges.get((r["indicator_id"], r["period"], range_level))
            england = r["value"] if page.level == ENGLAND else r["england_value"]
            high_good = r["polarity"] != "low_is_good"
            worst = best = q25 = q75 = None
            if rng is not None:
                lo, hi = rng["min_value"], rng["max_value"]
                worst, best = (lo, hi) if high_good else (hi, lo)
                q25, q75 = (rng["p25"], rng["p75"]) if high_good else (rng["p75"], rng["p25"])
            arrow, tone = _trend_arrow(r["recent_trend"])
            compared = (
                "Not compared" if page.level == ENGLAND else (r["compared_to_england"] or "Not compared")
            )
            value = None if page.level == ENGLAND else r["value"]
            row = {
                "order": order,
                "indicator_id": r["indicator_id"],
                "label": _label(r),
                "period": r["period"],
                "count": _num(r["count"], 0),
                "value": _num(r["value"]),
                "england": _num(england),
                "worst": _num(worst),
                "best": _num(best),
                "compared": compared,
                "colour": charts.SIGNIFICANCE_COLOURS.get(compared, "#FFFFFF"),
                "arrow": arrow,
                "tone": tone,
                "trend": r["recent_trend"] or "",
                "note": r["value_note"] or "",
                "note_short": _short(r["value_note"] or "", NOTE_CHARS),
                "value_text": _num(r["value"]),
                "england_text": _num(england),
            }
            row.update(_spine_positions(england, worst, q25, q75, best, value, high_good))
            rows.append(row)
        for start in range(0, max(len(rows), 1), SPINE_ROWS_PER_SHEET):
            chunk = rows[start : start + SPINE_ROWS_PER_SHEET]
            plotted = [row for row in chunk if row["worst_pos"] is not None]
            sheet = Sheet("spine", "Outcomes against England: spine chart", context={"rows": chunk})
            if plotted:
                sheet.charts.append(
                    page.chart(
                        "spine",
                        [
                            {k: v for k, v in row.items() if k not in ("note", "note_short", "trend")}
                            for row in plotted
                        ],
                        "Outcome indicators: England's range and this area's value",
                        f"Spine chart of {len(plotted)} indicators for {page.name}: each row shows the range "
                        "of areas' values from worst (left) to best (right), the middle half in dark grey, "
                        "England as a red line and this area's value as a circle coloured by its "
                        "significance against England.",
                    )
                )
            page.sheets.append(sheet)

    def _funnels(self, page: Page) -> None:
        if page.level == ICB:
            members = {r["area_code"] for r in self.icb_members.get(page.code, [])}
            peers: set[str] = set()
        else:
            members, peers = {page.code}, set(self._peer_codes(page.code))
        items = []
        for r in self._latest_indicators(page.level, page.code):
            funnel = self.funnel.get((r["indicator_id"], r["period"]), [])
            if not any(f["area_code"] in members for f in funnel):
                continue
            rows = [
                {
                    **f,
                    "role": "This area"
                    if f["area_code"] in members
                    else "Peer"
                    if f["area_code"] in peers
                    else "Other",
                }
                for f in funnel
            ]
            items.append((r["indicator_title"], r["period"], rows))
        highlighted = "this ICB's sub-ICB locations" if page.level == ICB else "this area and its peers"
        self._chart_sheets(
            page,
            "funnel",
            "Funnel plots: sub-ICB locations against England",
            items,
            lambda title, period, rows: (
                _short(title, 55) + f" ({period})",
                f"Funnel plot of {len(rows)} sub-ICB locations for {title}, {period}: value against "
                f"denominator "
                f"with England's value and 95% and 99.8% control limits; {highlighted} highlighted.",
            ),
        )

    def _trends(self, page: Page) -> None:
        mine = _index(self._indicator_rows(page.level, page.code), lambda r: r["indicator_id"])
        parent = {}
        if page.level == SUB_ICB:
            parent = _index(
                self.ois.get((ICB, self.sub_icbs[page.code]["parent_code"]), []), lambda r: r["indicator_id"]
            )
        england = _index(self.ois_england, lambda r: r["indicator_id"])
        own_series = charts.ENGLAND_SERIES if page.level == ENGLAND else charts.AREA
        items = []
        for indicator_id in sorted(mine):
            rows = mine[indicator_id]
            if all(r["value"] is None for r in rows):
                continue
            series = _trend_rows(rows, own_series)
            if page.level == SUB_ICB:
                series += _trend_rows(parent.get(indicator_id, []), charts.ICB_SERIES)
            if page.level != ENGLAND:
                series += _trend_rows(england.get(indicator_id, []), charts.ENGLAND_SERIES)
            items.append((rows[0]["indicator_title"], series))
        others = {SUB_ICB: ", its ICB and England", ICB: " and England", ENGLAND: ""}[page.level]
        self._chart_sheets(
            page,
            "trend",
            "Trends: this area, its ICB and England" if page.level == SUB_ICB else "Trends",
            items,
            lambda title, rows: (
                _short(title, 60),
                f"Line chart of {title} by period for {page.name}{others}"
                + ", with 95% confidence limits as error bars.",
            ),
        )

    def _chart_sheets(self, page: Page, kind: str, title: str, items: list[tuple], describe) -> None:
        for start in range(0, len(items), CHARTS_PER_SHEET):
            sheet = Sheet(kind, title)
            for item in items[start : start + CHARTS_PER_SHEET]:
                chart_title, description = describe(*item)
                sheet.charts.append(page.chart(kind, item[-1], chart_title, description))
            page.sheets.append(sheet)

    # --- peers and opportunity --------------------------------------------------------------
    def _peers(self, page: Page) -> None:
        peers = self._peer_codes(page.code)
        opportunity = {(r["indicator_id"], r["period"]): r for r in self.opportunity.get(page.code, [])}
        strip, order = [], 0
        for r in self._latest_indicators(SUB_ICB, page.code):
            england = r["england_value"]
            if r["value"] is None or not england:
                continue
            key = (r["indicator_id"], r["period"])
            values = [(p, self.ois_value.get((p, *key))) for p in peers]
            values = [(p, v) for p, v in values if v is not None]
            if not values:
                continue
            label = _short(r["indicator_title"], 55)
            strip += [_strip_row(order, label, "Peer", p, v, england) for p, v in values]
            strip.append(_strip_row(order, label, "This area", page.code, r["value"], england))
            best_five = (opportunity.get(key) or {}).get("best_five_peer_mean")
            if best_five is not None:
                strip.append(_strip_row(order, label, "Best five peers (mean)", "", best_five, england))
            order += 1
        latest: dict[str, Row] = {}
        for r in sorted(self.opportunity.get(page.code, []), key=lambda r: r["period"]):
            latest[r["indicator_id"]] = r
        ranked = sorted(
            (r for r in latest.values() if r["spend_avoidable"] is not None),
            key=lambda r: -r["spend_avoidable"],
        )
        table = [
            {
                "title": r["indicator_title"],
                "period": r["period"],
                "value": _num(r["value"]),
                "peer_mean": _num(r["peer_mean"]),
                "best_five": _num(r["best_five_peer_mean"]),
                "events": _num(r["events_avoidable"], 0),
                "spend": _money(r["spend_avoidable"]),
            }
            for r in ranked
        ]
        bars = [
            {
                "order": i,
                "label": _short(r["indicator_title"], 55),
                "amount": r["spend_avoidable"],
                "setting": "admitted_care",
            }
            for i, r in enumerate(ranked)
            if r["spend_avoidable"] > 0
        ]
        sheet = Sheet("peers", "Peers and opportunity", context={"table": table, "peers": len(peers)})
        if strip:
            sheet.charts.append(
                page.chart(
                    "peer_strip",
                    strip,
                    f"This area and its {len(peers)} most similar peers (England = 100)",
                    f"Dot plot, one row per indicator, of {page.name} and its most similar sub-ICB "
                    "locations, each value as a share of England's (100), with the mean of the best five "
                    "peers.",
                )
            )
        if bars:
            sheet.charts.append(
                page.chart(
                    "opportunity",
                    bars,
                    "Opportunity: spend if this area matched its best five peers",
                    f"Bar chart of the spend {page.name} would avoid per indicator at the best-five-peer "
                    "mean.",
                )
            )
        page.sheets.append(sheet)

    # --- money ------------------------------------------------------------------------------
    def _money_rows(self, page: Page) -> list[Row]:
        return self.money_england if page.level == ENGLAND else self.money.get((page.level, page.code), [])

    def _money(self, page: Page) -> None:
        mine = sorted(self._money_rows(page), key=lambda r: (r["setting"], r["point_of_delivery"]))
        peer_values = _index(
            [
                r
                for p in (self._peer_codes(page.code) if page.level == SUB_ICB else [])
                for r in self.money.get((SUB_ICB, p), [])
            ],
            lambda r: r["point_of_delivery"],
        )
        england = {r["point_of_delivery"]: r["cost_per_weighted_head"] for r in self.money_england}
        own = charts.ENGLAND_SERIES if page.level == ENGLAND else charts.AREA
        rows, table = [], []
        for order, r in enumerate(mine):
            pod = r["point_of_delivery"]
            label = POD_LABELS.get(pod, pod)
            peer_heads = [
                p["cost_per_weighted_head"]
                for p in peer_values.get(pod, [])
                if p["cost_per_weighted_head"] is not None
            ]
            values = {own: r["cost_per_weighted_head"]}
            if peer_heads:
                values[charts.PEERS] = fmean(peer_heads)
            if page.level != ENGLAND:
                values[charts.ENGLAND_SERIES] = england.get(pod)
            rows += [
                {"order": order, "label": label, "series": series, "amount": amount}
                for series, amount in values.items()
                if amount is not None
            ]
            table.append(
                {
                    "label": label,
                    "cost": _money(r["cost"]),
                    "per_head": _num(r["cost_per_weighted_head"], 2),
                    "peers": _num(values.get(charts.PEERS), 2),
                    "england": _num(england.get(pod), 2),
                }
            )
        weighted = max(((r["weighted_patients"] or 0.0) for r in mine), default=0.0)
        sheet = Sheet(
            "money",
            "Money: spend per weighted head",
            context={"rows": table, "total": _num(_ratio(_sum(mine, "cost"), weighted), 2)},
        )
        if rows:
            sheet.charts.append(
                page.chart(
                    "spend",
                    rows,
                    "Spend per age-sex weighted head by point of delivery, last 12 months",
                    f"Grouped bar chart of spend per weighted head for {page.name} by point of delivery"
                    + (", against its peers' mean and England." if page.level == SUB_ICB else "."),
                )
            )
        page.sheets.append(sheet)

    def _top_services(self, page: Page) -> None:
        level, code = (ENGLAND, ENGLAND_CODE) if page.level == ENGLAND else (page.level, page.code)
        top = self.top.get((level, code), [])
        rows, table = [], []
        for order, r in enumerate(top):
            label = _service_label(r)
            rows.append({"order": order, "label": label, "setting": r["setting"], "amount": r["cost"]})
            change = _ratio(r["cost"], r["previous_cost"])
            table.append(
                {
                    "rank": order + 1,
                    "label": label,
                    "setting": SETTING_LABELS.get(r["setting"], r["setting"]),
                    "activity": _num(r["activity"], 0),
                    "cost": _money(r["cost"]),
                    "previous": _money(r["previous_cost"]),
                    "change": "–" if change is None else f"{(change - 1) * 100:+.0f}%",
                }
            )
        sheet = Sheet("top_services", f"The {TOP_SERVICES} services with most spend", context={"rows": table})
        if rows:
            sheet.charts.append(
                page.chart(
                    "top_services",
                    rows,
                    f"Top {len(rows)} services by spend, {top[0]['financial_year']}",
                    f"Bar chart of the {len(rows)} services with the most spend for {page.name}, coloured "
                    "by setting.",
                )
            )
        page.sheets.append(sheet)

    # --- long-term condition programmes -----------------------------------------------------
    def _programme(self, page: Page, programme: str) -> None:
        title, need_measures, outcome_ids = PROGRAMMES[programme]
        england = self.ltc.get((programme, ENGLAND, ENGLAND_CODE), [])
        mine = england if page.level == ENGLAND else self.ltc.get((programme, page.level, page.code), [])
        peers = [
            self.ltc.get((programme, SUB_ICB, p), [])
            for p in (self._peer_codes(page.code) if page.level == SUB_ICB else [])
        ]
        peers = [p for p in peers if p]
        own = charts.ENGLAND_SERIES if page.level == ENGLAND else charts.AREA
        sheet = Sheet("programme", f"Long-term condition programme: {title}")
        for measure, label in (
            ("ea_per_1000", "Emergency admissions"),
            ("items_per_1000", "Prescription items"),
        ):
            rows = [{"month": r["month"], "series": own, "value": r[measure]} for r in mine]
            if peers:
                by_month = _index(
                    [r for p in peers for r in p if r[measure] is not None], lambda r: r["month"]
                )
                rows += [
                    {"month": m, "series": charts.PEERS, "value": fmean(x[measure] for x in v)}
                    for m, v in sorted(by_month.items())
                ]
            if page.level != ENGLAND:
                rows += [
                    {"month": r["month"], "series": charts.ENGLAND_SERIES, "value": r[measure]}
                    for r in england
                ]
            if any(row["value"] is not None for row in rows):
                sheet.charts.append(
                    page.chart(
                        "monthly",
                        rows,
                        f"{title}: {label.lower()} per 1,000 registered patients",
                        f"Line chart by month of {title.lower()} {label.lower()} per 1,000 registered "
                        "patients for "
                        f"{page.name}" + (", its peers' mean and England." if peers else "."),
                    )
                )
        needs = self.needs.get(page.code, []) if page.level == SUB_ICB else []
        need_rows = [
            {
                "measure": r["measure"],
                "period": r["period"],
                "value": _num(r["value"]),
                "england": _num(r["england_value"]),
                "compared": r["compared_to_england"] or "",
            }
            for r in needs
            if r["measure"] in need_measures
        ]
        outcome_rows = [
            {
                "title": r["indicator_title"],
                "period": r["period"],
                "value": _num(r["value"]),
                "england": _num(r["england_value"]),
                "compared": r["compared_to_england"] or "",
                "colour": charts.SIGNIFICANCE_COLOURS.get(r["compared_to_england"] or "", "#FFFFFF"),
                "note": _short(r["value_note"] or "", NOTE_CHARS),
            }
            for r in self._latest_indicators(page.level, page.code)
            if r["indicator_id"] in outcome_ids
        ]
        last12 = mine[-12:]
        patients = fmean(r["registered_patients"] for r in last12) if last12 else None
        total = _sum(last12, "total_cost")
        sheet.context = {
            "needs": need_rows,
            "outcomes": outcome_rows,
            "activity": {
                "months": len(last12),
                "admitted_spells": _num(_sum(last12, "admitted_spells"), 0),
                "emergency_admissions": _num(_sum(last12, "emergency_admissions"), 0),
                "bed_days": _num(_sum(last12, "bed_days"), 0),
                "prescription_items": _num(_sum(last12, "prescription_items"), 0),
                "admitted_cost": _money(_sum(last12, "admitted_cost")),
                "prescribing_cost": _money(_sum(last12, "prescribing_cost")),
                "total_cost": _money(total),
                "per_head": _num(_ratio(total, patients), 2),
            },
        }
        page.sheets.append(sheet)

    # --- prescribing ------------------------------------------------------------------------
    def _prescribing(self, page: Page) -> None:
        items = []
        for measure_id in sorted(self.deciles):
            deciles = self.deciles[measure_id]
            rows = [
                {"month": r["month"], "series": f"{c}th percentile", "value": r[f"centile_{c}"]}
                for r in deciles
                for c in range(10, 100, 10)
            ]
            if page.level == ENGLAND:
                rows += [
                    {"month": r["month"], "series": charts.AREA, "value": r["england_value"]} for r in deciles
                ]
                saving = _sum(deciles, "cost_savings_at_centile_10")
            else:
                area = self.prescribing.get((page.level, page.code, measure_id), [])
                rows += [{"month": r["month"], "series": charts.AREA, "value": r["calc_value"]} for r in area]
                saving = _sum(area, "cost_savings")
            name = self.measures.get(measure_id, measure_id)
            items.append((name, _money(saving) if saving else "none", rows))
        for start in range(0, len(items), MEASURES_PER_SHEET):
            sheet = Sheet("prescribing", "Prescribing measures", context={"savings": []})
            for name, saving, rows in items[start : start + MEASURES_PER_SHEET]:
                sheet.charts.append(
                    page.chart(
                        "deciles",
                        rows,
                        _short(name, 60),
                        f"Percentile chart of {name} by month: deciles of GP practices nationally (dashed, "
                        "the median "
                        f"solid) and {page.name} in red.",
                    )
                )
                sheet.context["savings"].append({"name": name, "saving": saving})
            page.sheets.append(sheet)

    # --- data gaps --------------------------------------------------------------------------
    def _gaps(self, level: str, code: str) -> dict[str, Any]:
        gaps = {
            ENGLAND: self.data["gaps"],
            ICB: self.gaps_by_icb.get(code, []),
            SUB_ICB: self.gaps_by_sub.get(code, []),
        }[level]
        counts: dict[str, int] = {}
        for r in gaps:
            counts[r["severity"]] = counts.get(r["severity"], 0) + 1
        rows = [
            {
                "severity": r["severity"],
                "month": r["month"].strftime("%Y-%m") if r["month"] else "",
                "feed": r["feed"],
                "kind": str(r["gap_kind"]).replace("_", " "),
                "org": r["org_code"] or "",
                "affects": r["affected_outputs"] or "",
                "message": r["message"] or "",
            }
            for r in gaps[:GAP_ROWS_SHOWN]
        ]
        link = self.gap_report_pages.get(code if level == SUB_ICB else ENGLAND)
        return {
            "rows": rows,
            "total": len(gaps),
            "counts": counts,
            "link": link,
            "feeds": sorted({r["feed"] for r in gaps if r["feed"]}),
        }


def _spine_positions(england, worst, q25, q75, best, value, high_good: bool) -> dict[str, float | None]:
    """Fingertips' spine scaling: England in the middle, the further of worst and best at an end;
    worst on the left (for no-judgement indicators, the lowest)."""
    keys = ("worst_pos", "q25_pos", "q75_pos", "best_pos", "england_pos", "area_pos")
    if any(v is None for v in (england, worst, best, q25, q75)):
        return dict.fromkeys(keys)
    half = max(abs(england - worst), abs(best - england)) or 1.0
    sign = 1 if high_good else -1

    def pos(x):
        return None if x is None else min(max(0.5 + sign * (x - england) / (2 * half), 0.0), 1.0)

    return dict(zip(keys, (pos(worst), pos(q25), pos(q75), pos(best), 0.5, pos(value)), strict=True))


def _trend_rows(rows: list[Row], series: str) -> list[dict]:
    return [
        {
            "period": r["period"],
            "period_start": r["period_start"],
            "series": series,
            "value": r["value"],
            "lower": r["lower_ci_95"],
            "upper": r["upper_ci_95"],
        }
        for r in rows
        if r["value"] is not None
    ]


def _strip_row(order, label, role, code, value, england) -> dict:
    return {
        "order": order,
        "label": label,
        "role": role,
        "area_code": code,
        "value": value,
        "index": value / england * 100,
    }


def _measure_names() -> dict[str, str]:
    with open(MEASURES_SEED, newline="") as handle:
        return {row["measure_id"]: row["name"] for row in csv.DictReader(handle)}
