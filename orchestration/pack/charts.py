"""The pack's charts as Vega-Lite specifications, declared with Altair.

Each kind of chart is declared once, over a named dataset (`rows`), and compiled to Vega once;
a page's chart is that Vega specification with the area's rows bound to `rows` and its own
title and description. Building
the declaration once keeps a national pack fast (Altair validates a chart in milliseconds, a
national pack has thousands) and makes every chart of a kind look the same. The pages render
the specifications with the Vega bundle shipped in the pack folder: no network.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import altair as alt

ROWS = alt.NamedData(name="rows")

# Fingertips' colours for a comparison with England (the spine and the tables).
SIGNIFICANCE_COLOURS = {
    "Best": "#00703C",
    "Better": "#92D050",
    "Similar": "#FFC000",
    "Worse": "#C00000",
    "Worst": "#7A0000",
    "Lower": "#BED2FF",
    "Higher": "#3260C6",
    "Not compared": "#FFFFFF",
}
AREA, ICB_SERIES, ENGLAND_SERIES, PEERS = "This area", "ICB", "England", "Peers (mean)"
SERIES_COLOURS = {AREA: "#005EB8", ICB_SERIES: "#7C2855", ENGLAND_SERIES: "#231F20", PEERS: "#ED8B00"}
SETTING_COLOURS = {
    "admitted_care": "#005EB8",
    "outpatients": "#41B6E6",
    "urgent_and_emergency_care": "#DA291C",
    "primary_care_prescribing": "#009639",
}
FONT = "Arial, Helvetica, sans-serif"
CONFIG = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 10, "titleFontSize": 11, "labelLimit": 260},
    "legend": {"labelFontSize": 10, "titleFontSize": 10, "orient": "bottom"},
    "title": {"fontSize": 12, "anchor": "start"},
}


def _scale(mapping: Mapping[str, str]) -> alt.Scale:
    return alt.Scale(domain=list(mapping), range=list(mapping.values()))


def _spine() -> alt.LayerChart:
    """One row per indicator: England's range scaled around England (Fingertips' spine)."""
    base = alt.Chart(ROWS).encode(
        y=alt.Y("label:N", sort=alt.EncodingSortField("order"), title=None, axis=alt.Axis(labelLimit=330)),
    )
    x = alt.Scale(domain=[0, 1])
    whole = base.mark_bar(color="#D9D9D9", height=12).encode(
        x=alt.X("worst_pos:Q", scale=x, axis=None), x2="best_pos:Q"
    )
    middle = base.mark_bar(color="#8C8C8C", height=12).encode(x="q25_pos:Q", x2="q75_pos:Q")
    england = base.mark_tick(color="#C00000", thickness=2, size=16).encode(x="england_pos:Q")
    area = base.mark_point(filled=True, size=110, stroke="#231F20", strokeWidth=1, opacity=1).encode(
        x="area_pos:Q",
        color=alt.Color(
            "compared:N", scale=_scale(SIGNIFICANCE_COLOURS), title="Compared with England", legend=None
        ),
        tooltip=["label:N", "compared:N", "value_text:N", "england_text:N"],
    )
    return alt.layer(whole, middle, england, area).properties(width=360, height=alt.Step(20))


def _funnel() -> alt.LayerChart:
    """Every sub-ICB location's value against its denominator, with England and the funnel's
    95% and 99.8% limits; the area and its peers marked."""
    base = alt.Chart(ROWS)
    x = alt.X("plot_denominator:Q", title="Denominator (population or cases)", scale=alt.Scale(zero=False))
    lines = [
        base.mark_line(color=colour, strokeDash=dash, strokeWidth=1).encode(
            x=x,
            y=alt.Y(f"{column}:Q", title="Value", scale=alt.Scale(zero=False)),
            order="plot_denominator:Q",
        )
        for column, colour, dash in (
            ("lower_limit_998", "#425563", [4, 3]),
            ("upper_limit_998", "#425563", [4, 3]),
            ("lower_limit_95", "#768692", [1, 0]),
            ("upper_limit_95", "#768692", [1, 0]),
        )
    ]
    england = base.mark_line(color="#C00000", strokeWidth=1.5).encode(x=x, y="england_value:Q")
    points = base.mark_point(filled=True).encode(
        x=x,
        y="value:Q",
        color=alt.Color(
            "role:N",
            scale=alt.Scale(domain=["This area", "Peer", "Other"], range=["#005EB8", "#ED8B00", "#AEB7BD"]),
            title=None,
        ),
        size=alt.Size(
            "role:N", scale=alt.Scale(domain=["This area", "Peer", "Other"], range=[120, 50, 30]), legend=None
        ),
        tooltip=["area_code:N", "value:Q", "count:Q", "plot_denominator:Q", "funnel_significance:N"],
    )
    return alt.layer(*lines, england, points).properties(width=250, height=170)


def _trend() -> alt.LayerChart:
    """The area, its ICB and England over time, each with its 95% confidence limits."""
    base = alt.Chart(ROWS)
    x = alt.X("period:O", title=None, sort=alt.EncodingSortField("period_start"))
    colour = alt.Color(
        "series:N",
        scale=_scale({k: SERIES_COLOURS[k] for k in (AREA, ICB_SERIES, ENGLAND_SERIES)}),
        title=None,
    )
    limits = base.mark_errorbar(ticks=True).encode(
        x=x, y=alt.Y("lower:Q", title="Value", scale=alt.Scale(zero=False)), y2="upper:Q", color=colour
    )
    lines = base.mark_line(point=True).encode(
        x=x, y="value:Q", color=colour, tooltip=["series:N", "period:N", "value:Q", "lower:Q", "upper:Q"]
    )
    return alt.layer(limits, lines).properties(width=250, height=170)


def _peer_strip() -> alt.LayerChart:
    """The area and its 10 most similar peers per indicator, each as a share of England's value."""
    base = alt.Chart(ROWS).encode(y=alt.Y("label:N", title=None, sort=alt.EncodingSortField("order")))
    # Ratios far from England (a rare event in a small area) are drawn at the edge.
    x = alt.X(
        "index:Q",
        title="Value, England = 100 (drawn within 0–300)",
        scale=alt.Scale(domain=[0, 300], clamp=True),
    )
    england = alt.Chart(alt.Data(values=[{"index": 100}])).mark_rule(color="#C00000").encode(x="index:Q")
    dots = base.mark_point(filled=True).encode(
        x=x,
        color=alt.Color(
            "role:N",
            scale=alt.Scale(
                domain=["This area", "Peer", "Best five peers (mean)"],
                range=["#005EB8", "#AEB7BD", "#009639"],
            ),
            title=None,
        ),
        shape=alt.Shape(
            "role:N",
            scale=alt.Scale(
                domain=["This area", "Peer", "Best five peers (mean)"], range=["circle", "circle", "diamond"]
            ),
            legend=None,
        ),
        size=alt.Size(
            "role:N",
            scale=alt.Scale(domain=["This area", "Peer", "Best five peers (mean)"], range=[120, 40, 90]),
            legend=None,
        ),
        tooltip=["label:N", "role:N", "area_code:N", "value:Q", "index:Q"],
    )
    return alt.layer(england, dots).properties(width=330, height=alt.Step(20))


def _bars(x_title: str, colour_field: str, colours: Mapping[str, str], colour_title: str | None) -> alt.Chart:
    return (
        alt.Chart(ROWS)
        .mark_bar()
        .encode(
            x=alt.X("amount:Q", title=x_title),
            y=alt.Y(
                "label:N", title=None, sort=alt.EncodingSortField("order"), axis=alt.Axis(labelLimit=190)
            ),
            color=alt.Color(f"{colour_field}:N", scale=_scale(colours), title=colour_title),
            tooltip=["label:N", f"{colour_field}:N", alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(width=240, height=alt.Step(14))
    )


def _grouped_spend() -> alt.Chart:
    """Spend per weighted head by point of delivery: the area, its peers' mean and England."""
    series = {AREA: SERIES_COLOURS[AREA], PEERS: SERIES_COLOURS[PEERS], ENGLAND_SERIES: "#768692"}
    return (
        alt.Chart(ROWS)
        .mark_bar()
        .encode(
            x=alt.X("amount:Q", title="£ per age-sex weighted head, last 12 months"),
            y=alt.Y("label:N", title=None, sort=alt.EncodingSortField("order")),
            yOffset=alt.YOffset("series:N", sort=list(series)),
            color=alt.Color("series:N", scale=_scale(series), title=None),
            tooltip=["label:N", "series:N", alt.Tooltip("amount:Q", format=",.2f")],
        )
        .properties(width=300, height=alt.Step(7))
    )


def _monthly() -> alt.Chart:
    """A monthly measure for the area, its peers' mean and England (the LTC programme pages)."""
    series = {
        AREA: SERIES_COLOURS[AREA],
        PEERS: SERIES_COLOURS[PEERS],
        ENGLAND_SERIES: SERIES_COLOURS[ENGLAND_SERIES],
    }
    return (
        alt.Chart(ROWS)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")),
            y=alt.Y("value:Q", title="per 1,000 registered patients"),
            color=alt.Color("series:N", scale=_scale(series), title=None),
            tooltip=[
                "series:N",
                alt.Tooltip("month:T", format="%b %Y"),
                alt.Tooltip("value:Q", format=".2f"),
            ],
        )
        .properties(width=380, height=150)
    )


def _deciles() -> alt.LayerChart:
    """OpenPrescribing's percentile chart: deciles of practices nationally (dashed, the median
    solid) and the area's line."""
    base = alt.Chart(ROWS).encode(x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y")))
    deciles = (
        base.transform_filter(alt.datum.series != AREA)
        .mark_line(color="#1F77B4")
        .encode(
            y=alt.Y("value:Q", title="Measure value"),
            detail="series:N",
            strokeDash=alt.condition(
                alt.datum.series == "50th percentile", alt.value([1, 0]), alt.value([4, 3])
            ),
            strokeWidth=alt.condition(alt.datum.series == "50th percentile", alt.value(2), alt.value(1)),
        )
    )
    area = (
        base.transform_filter(alt.datum.series == AREA)
        .mark_line(color="#C00000", strokeWidth=2.5)
        .encode(
            y="value:Q",
            tooltip=[alt.Tooltip("month:T", format="%b %Y"), alt.Tooltip("value:Q", format=".3f")],
        )
    )
    return alt.layer(deciles, area).properties(width=380, height=150)


KINDS = {
    "spine": _spine,
    "funnel": _funnel,
    "trend": _trend,
    "peer_strip": _peer_strip,
    "opportunity": lambda: _bars("£ avoidable at the best-five-peer mean", "setting", SETTING_COLOURS, None),
    "top_services": lambda: _bars("£ spend, latest financial year", "setting", SETTING_COLOURS, None),
    "spend": _grouped_spend,
    "monthly": _monthly,
    "deciles": _deciles,
}


@cache
def template(kind: str) -> dict[str, Any]:
    """The chart kind's Vega-Lite specification (validated by Altair once), without data."""
    spec = KINDS[kind]().configure(**CONFIG).to_dict()
    spec.pop("datasets", None)
    return spec


@cache
def vega_template(kind: str) -> dict[str, Any]:
    """The chart kind compiled to Vega once (vl-convert), so a browser does not compile the same
    Vega-Lite again for every chart: it only binds the rows."""
    import vl_convert

    return vl_convert.vegalite_to_vega(template(kind))


def spec(kind: str, rows: Iterable[Mapping[str, Any]], title: str, description: str) -> dict[str, Any]:
    """A chart of `kind` over `rows` (a Vega specification), its title shown and its
    description read to screen readers."""
    chart = copy.copy(vega_template(kind))
    chart["data"] = [
        {**entry, "values": [_clean(row) for row in rows]} if entry["name"] == ROWS.name else entry
        for entry in chart["data"]
    ]
    chart["title"] = {"text": title}
    chart["description"] = description
    return chart


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON values: dates as ISO text, decimals as numbers, NaN and infinities as null."""
    clean = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            value = float(value)
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif isinstance(value, date):
            value = value.isoformat()
        clean[key] = value
    return clean


def to_script_json(specs: list[dict[str, Any]]) -> str:
    """The page's specifications as JSON safe inside a <script> element."""
    return json.dumps(specs, separators=(",", ":")).replace("</", "<\\/")
