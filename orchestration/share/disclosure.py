"""Disclosure control for shared extracts, driven by each model's yml, and the scan that proves it.

The rule is NHS Digital's for HES and ECDS from September 2018 (feeds_and_methods.md §9.1), with
its figures in `seeds/reference/disclosure_rules.csv` (one place, cited there):

- national counts are not controlled;
- a sub-national count of people or events stays 0 when 0, is suppressed when 1-7, and is
  otherwise rounded to the nearest 5;
- percentages and crude rates are recalculated from the rounded figures;
- standardised rates (DSR, ISR) and their limits are carried as published, but not on fewer than
  10 events;
- values that do not count people or events (codes, names, dates, money, counts of
  organisations) are untouched;
- secondary suppression: where one suppressed cell could be recovered by subtracting its shown
  siblings from a shown total, the next smallest sibling is suppressed too.

Every column of a shared model says how, in its yml: `config: {meta: {disclosure: ...}}`, a kind
or a mapping with `kind:` and the kind's parameters.

- `not_personal`: carried as is.
- `count`: the rule above, on rows that are not national.
- `rate_from_counts` (`numerator`, optional `denominator`, `multiplier` = 1): recomputed as
  numerator x multiplier / denominator from the shared (rounded, perhaps suppressed) figures;
  NULL when either is NULL or the denominator is 0. `multiplier` is a number or a SQL expression
  over the row's shared columns (the peer opportunity's `greatest(1 - best / value, 0)`).
  `wilson: {side: lower|upper, confidence: 0.95}` recomputes a proportion's Wilson limit
  (`stats.wilson_*`, the macros the models use) x multiplier instead. `when`: the rows it applies
  to (`method = 'proportion'`); the other rows are `standardised` on `events` (default: the
  numerator).
- `standardised` (`events`: a count column): carried as published; NULL where the row's events
  are 1-9 or are themselves suppressed (primary or secondary). A standardised ratio beside its
  expected count, or a DSR beside its Byar/Dobson limits, gives its event count back, so without
  the second condition a secondarily suppressed count could be read off its own rate.
- `withheld` (optional `when`, `events`): NULL on the rows of `when` (every row without it), for a
  figure made from unrounded counts that the table cannot recompute (a peer table's proportions,
  and its peers' ISRs, which give back a peer's suppressed count); the other rows are
  `standardised` on `events`, or carried as they are without it.
- `from_row` (`column`, `match`, optional `same`): the shared `column` of another row of the same
  table: `parent_value` is the parent row's shared `value` (`match: {area_code:
  parent_area_code}` reads "the row whose area_code is this row's parent_area_code"), so a
  parent's proportion is never shown from its unrounded counts.

Every kind takes an optional `reason`, for the reader. The model says what the builder and the
secondary suppression need, in `config: {meta: {share: ...}}`:

- `national_when`: SQL, true on national rows (`area_level = 'england'`; `false` when none).
- `scope_columns`: the area-code columns that place a row in a scope (an ICB, a sub-ICB
  location, a practice's sub-ICB location).
- `secondary`: groups `{children, group_by, columns, tiebreak, parent, parent_from}`. Child rows
  (`children`, SQL) with equal `group_by` values are siblings; `parent: {when, match}` finds
  their total (`match` maps the parent row's columns to the group's, as in from_row; the other
  group_by columns match by name). Without `parent` the total is published in another table of
  the package (a peer table's sub-ICB counts add up to mart_ois_indicator's ICB rows) and is taken
  as shown. `parent_from: {model: dim_sub_icb, code: area_code}` gives each child its ICB
  (`icb_code`, usable in group_by) from the sub-ICB dimension, for tables whose sub-ICB rows do
  not carry it. `tiebreak` orders equal siblings, so two tables holding the same cells hide the
  same one.
- `note` (optional): why the table's columns are classed as they are.

Choices, and why:

- A proportion's confidence limits are recomputed from the rounded counts, not carried or
  suppressed. A Wilson interval is a function of the count and the denominator only: from its two
  limits a reader solves for both exactly, which would undo the rounding on every row. Suppressed
  limits would leave a value without an interval; recomputed ones bracket the value shown, as the
  rule asks of percentages (NHS Digital exempts the intervals of complex calculations, not of
  simple proportions). Comparisons with England or the parent stay as the model made them from
  the unrounded data (a label gives no count back), so near its edge a recomputed interval can
  disagree with its label.
- Secondary suppression is decided on the whole table, before a scope's `where`. A cell is then
  shown or hidden alike in every package, and a reader holding an ICB's package and England's
  cannot combine them to undo either. A package may hide a sibling whose partner is outside it:
  that costs a cell and keeps the packages consistent.
- One pass: a group with exactly one suppressed child, among two or more children with a value,
  and a total shown, gets one more hidden: the smallest non-zero sibling (a zero one only when no
  other is left), ties broken by the true value and then `tiebreak`. It is not cascaded: a sibling
  hidden this way may itself be the total of children that are shown, but each of those is
  rounded to 5, which leaves its value uncertain by ±2.5 per child. The scan checks what this pass
  guarantees, so a table where a row is a child twice over would fail the scan, not pass quietly.
- A standardised value whose event count is unknown (NULL: Fingertips publishes some indicators
  without counts) is carried as its publisher shows it.
- `national_when`, `children`, `parent.when` and withheld `when` may name only not_personal
  columns, so they mean the same on the model and on the shared table; rate_from_counts' `when`
  and `multiplier` are evaluated on the shared values.

`shareable_sql` returns one set-based DuckDB select: the model's columns in its contract's order,
with the rules applied, then `suppressed_columns varchar[]` naming, per row, the columns that are
NULL here but not in the model (the CSV writer prints `*` for them). `scan` reads such a result
back and lists every figure that breaks the rules; an empty list is the proof.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_SEED = REPO_ROOT / "seeds" / "reference" / "disclosure_rules.csv"

SUPPRESSED_COLUMNS = "suppressed_columns"
RELATIVE_TOLERANCE = 1e-9
KINDS = ("not_personal", "count", "rate_from_counts", "standardised", "withheld", "from_row")
PARAMETERS = {
    "not_personal": set(),
    "count": set(),
    "rate_from_counts": {"numerator", "denominator", "multiplier", "wilson", "when", "events"},
    "standardised": {"events"},
    "withheld": {"when", "events"},
    "from_row": {"column", "match", "same"},
}
REQUIRED = {
    "rate_from_counts": {"numerator"},
    "standardised": {"events"},
    "from_row": {"column", "match"},
}
SHARE_KEYS = {"national_when", "scope_columns", "secondary", "note"}
GROUP_KEYS = {"children", "group_by", "columns", "tiebreak", "parent", "parent_from"}
# Dimensions a secondary group may read a child's parent code from: (key column, parent column).
PARENT_LOOKUPS = {"dim_sub_icb": ("commissioner_code", "icb_code")}
# The kinds whose shared value exists before rates are recomputed (what `multiplier` may name).
SHARED_FIRST = ("not_personal", "count", "standardised", "withheld")
EXAMPLE_COLUMNS = 5


class NotShareable(ValueError):
    """A model whose yml does not say, for every column, how it may leave the warehouse."""


@dataclass(frozen=True)
class Thresholds:
    """The rule's figures, from seeds/reference/disclosure_rules.csv."""

    suppress_up_to: int
    round_to: int
    standardised_min_events: int


@cache
def thresholds(path: Path = RULES_SEED) -> Thresholds:
    """Read the seed once; a parameter missing from it is an error naming the file."""
    with path.open(newline="", encoding="utf-8") as handle:
        values = {row["parameter"]: int(row["value"]) for row in csv.DictReader(handle)}
    missing = {"suppress_up_to", "round_to", "standardised_min_events"} - set(values)
    if missing:
        raise ValueError(f"{path}: parameters {sorted(missing)} missing")
    return Thresholds(values["suppress_up_to"], values["round_to"], values["standardised_min_events"])


@dataclass(frozen=True)
class ColumnRule:
    """How one column is shared (the kinds are in the module docstring)."""

    name: str
    kind: str
    data_type: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    multiplier: float | str = 1
    wilson: tuple[str, float] | None = None
    when: str | None = None
    events: str | None = None
    column: str | None = None
    match: tuple[tuple[str, str], ...] = ()  # (the other row's column, this row's column)
    same: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class SecondaryGroup:
    """Siblings whose shown total would give back a lone suppressed sibling."""

    children: str
    group_by: tuple[str, ...]
    columns: tuple[str, ...]
    tiebreak: tuple[str, ...] = ()
    has_parent: bool = False
    parent_when: str | None = None
    parent_match: tuple[tuple[str, str], ...] = ()  # (the parent row's column, group column)
    parent_from: tuple[str, str] | None = None  # (dimension, the child's code column)

    @property
    def looked_up(self) -> str | None:
        """The group column the dimension provides (icb_code), if any."""
        return PARENT_LOOKUPS[self.parent_from[0]][1] if self.parent_from else None


@dataclass(frozen=True)
class TableRules:
    """A model's disclosure rules, as its yml states them."""

    model: str
    schema: str
    columns: tuple[ColumnRule, ...]
    national_when: str
    scope_columns: tuple[str, ...]
    secondary: tuple[SecondaryGroup, ...]
    thresholds: Thresholds
    note: str | None = None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.model}"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def count_columns(self) -> list[str]:
        return [c.name for c in self.of_kind("count")]

    def column(self, name: str) -> ColumnRule:
        return next(c for c in self.columns if c.name == name)

    def of_kind(self, *kinds: str) -> list[ColumnRule]:
        return [c for c in self.columns if c.kind in kinds]

    def controls(self, name: str) -> bool:
        """Whether the rules may blank the column (every kind but not_personal)."""
        return self.column(name).kind != "not_personal"

    @classmethod
    def from_manifest(cls, manifest: dict, model_name: str, rules: Thresholds | None = None) -> TableRules:
        """Read a model's column and model meta from a dbt manifest.

        Raises NotShareable listing every column without `meta.disclosure` and every bad kind,
        parameter or reference, so that one run shows all there is to fix."""
        return _parse(_model_node(manifest, model_name), rules or thresholds())


# ---- reading the yml ------------------------------------------------------------------------


def _model_node(manifest: dict, model_name: str) -> dict:
    nodes = [
        n
        for n in manifest.get("nodes", {}).values()
        if n.get("resource_type") == "model" and n.get("name") == model_name
    ]
    if not nodes:
        raise NotShareable(f"{model_name} is not a model of the manifest: it cannot be shared")
    latest = [n for n in nodes if n.get("version") is None or n.get("version") == n.get("latest_version")]
    return (latest or nodes)[0]


def _meta(entry: dict) -> dict:
    return {**(entry.get("meta") or {}), **((entry.get("config") or {}).get("meta") or {})}


_QUOTED = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_in(sql: str) -> set[str]:
    """Identifiers in a SQL snippet, string literals left out: enough to catch a predicate that
    names a count."""
    return set(_WORD.findall(_QUOTED.sub("", sql)))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Reader:
    """Collects every problem of one model's yml, so NotShareable lists them all at once."""

    def __init__(self, where: str, kinds: dict[str, str], data_types: dict[str, str | None]):
        self.where, self.kinds, self.data_types = where, kinds, data_types
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.where}{text}")

    def sql(self, value: object, label: str, allowed: Iterable[str]) -> str | None:
        """A SQL snippet naming only columns of the allowed kinds."""
        if isinstance(value, bool):
            value = str(value).lower()
        if not isinstance(value, str) or not value.strip():
            self.problem(f": {label} must be SQL, not {value!r}")
            return None
        wrong = sorted(n for n in _names_in(value) if n in self.kinds and self.kinds[n] not in allowed)
        if wrong:
            self.problem(f": {label} names {wrong}, which are not {' or '.join(allowed)}")
        return value

    def column(self, value: object, label: str, *allowed: str) -> str | None:
        if not isinstance(value, str) or value not in self.kinds:
            self.problem(f": {label} {value!r} is not a column of the model with a kind")
            return None
        if allowed and self.kinds[value] not in allowed:
            self.problem(
                f": {label} {value!r} is kind {self.kinds[value]}; it must be {' or '.join(allowed)}"
            )
        return value

    def columns(self, value: object, label: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
        """A list of not_personal columns (or names the lookups provide)."""
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f": {label} must be a list of column names")
            return ()
        for name in value:
            if name not in extra:
                self.column(name, label, "not_personal")
        return tuple(value)


def _parse(node: dict, rules: Thresholds) -> TableRules:
    model, schema = node["name"], node.get("schema") or "marts"
    where = f"{schema}.{model}"
    missing, raw, data_types = [], {}, {}
    for name, column in (node.get("columns") or {}).items():
        data_types[name] = column.get("data_type")
        spec = _meta(column).get("disclosure")
        if spec is None:
            missing.append(f"{where}.{name} has no meta.disclosure: it cannot be shared")
        else:
            raw[name] = {"kind": spec} if isinstance(spec, str) else spec
    bad = {n: s for n, s in raw.items() if not isinstance(s, dict) or s.get("kind") not in KINDS}
    kinds = {n: s["kind"] for n, s in raw.items() if n not in bad}
    reader = _Reader(where, kinds, data_types)
    reader.problems += missing
    for name, spec in bad.items():
        kind = spec.get("kind") if isinstance(spec, dict) else spec
        reader.problem(f".{name}: meta.disclosure kind {kind!r} is not one of {', '.join(KINDS)}")
    if not data_types:
        reader.problem(" documents no columns: it cannot be shared")
    if SUPPRESSED_COLUMNS in data_types:
        reader.problem(f".{SUPPRESSED_COLUMNS}: the name is the shared table's own column")
    columns = []
    for name, spec in raw.items():
        if name in kinds:
            column_reader = _Reader(f"{where}.{name}", kinds, data_types)
            rule = _column_rule(column_reader, name, spec, data_types[name])
            reader.problems += column_reader.problems
            if rule:
                columns.append(rule)
    share = _meta(node).get("share")
    if not isinstance(share, dict):
        reader.problem(" has no meta.share (national_when, scope_columns, secondary): it cannot be shared")
        share = None
    table = _table_meta(reader, share) if share is not None else {}
    if reader.problems:
        raise NotShareable("\n".join(reader.problems))
    return TableRules(model, schema, tuple(columns), thresholds=rules, **table)


def _column_rule(reader: _Reader, name: str, spec: dict, data_type: str | None) -> ColumnRule | None:
    kind = spec["kind"]
    allowed = PARAMETERS[kind] | {"kind", "reason"}
    before = len(reader.problems)
    if unknown := sorted(set(spec) - allowed):
        reader.problem(f": meta.disclosure has {unknown}, not parameters of {kind} ({sorted(allowed)})")
    if needed := sorted(REQUIRED.get(kind, set()) - set(spec)):
        reader.problem(f": meta.disclosure kind {kind} needs {needed}")
    if len(reader.problems) > before:
        return None
    rule = ColumnRule(name, kind, data_type, reason=spec.get("reason"))

    def column(param: str, *allowed_kinds: str) -> str | None:
        value = spec.get(param)
        return None if value is None else reader.column(value, f"meta.disclosure {param}", *allowed_kinds)

    def sql(param: str, *allowed_kinds: str) -> str | None:
        value = spec.get(param)
        return None if value is None else reader.sql(value, f"meta.disclosure {param}", allowed_kinds)

    if kind == "standardised":
        return replace(rule, events=column("events", "count"))
    if kind == "withheld":
        return replace(rule, when=sql("when", "not_personal"), events=column("events", "count"))
    if kind == "from_row":
        target = column("column")
        if target and reader.kinds[target] == "from_row":
            reader.problem(f": meta.disclosure column {target!r} is from_row itself")
        match = spec["match"]
        if not isinstance(match, dict) or not match:
            reader.problem(": meta.disclosure match must map the other row's columns to this row's")
            match = {}
        same = reader.columns(spec.get("same", []), "meta.disclosure same")
        reader.columns([*match, *match.values()], "meta.disclosure matches rows on")
        return replace(rule, column=target, match=tuple(match.items()), same=same)
    if kind == "rate_from_counts":
        numerator = column("numerator", "count", "not_personal")
        denominator = column("denominator", "count", "not_personal")
        multiplier = spec.get("multiplier", 1)
        if not _is_number(multiplier):
            multiplier = sql("multiplier", *SHARED_FIRST) or 1
        wilson = spec.get("wilson")
        if wilson is not None:
            side, confidence = (
                (wilson.get("side"), wilson.get("confidence")) if isinstance(wilson, dict) else ("", 0)
            )
            if side not in ("lower", "upper") or not _is_number(confidence) or not 0 < confidence < 1:
                reader.problem(": meta.disclosure wilson must be {side: lower|upper, confidence: 0-1}")
            elif denominator is None:
                reader.problem(": meta.disclosure wilson needs a denominator")
            wilson = (side, confidence)
        when = sql("when", *SHARED_FIRST)
        events = column("events", "count")
        if when and events is None:
            if numerator and reader.kinds.get(numerator) == "count":
                events = numerator
            else:
                reader.problem(": meta.disclosure when needs events (a count) for the other rows")
        return replace(
            rule,
            numerator=numerator,
            denominator=denominator,
            multiplier=multiplier,
            wilson=wilson,
            when=when,
            events=events,
        )
    return rule


def _table_meta(reader: _Reader, share: dict) -> dict:
    if unknown := sorted(set(share) - SHARE_KEYS):
        reader.problem(f": meta.share has {unknown}, not among {sorted(SHARE_KEYS)}")
    national = reader.sql(share.get("national_when"), "meta.share national_when", ["not_personal"])
    scope = reader.columns(share.get("scope_columns"), "meta.share scope_columns")
    if not scope:
        reader.problem(": meta.share scope_columns names no column")
    groups = []
    for i, group in enumerate(share.get("secondary") or []):
        if isinstance(group, dict):
            groups.append(_group(reader, f"meta.share secondary[{i}]", group))
        else:
            reader.problem(f": meta.share secondary[{i}] must be a mapping")
    note = share.get("note")
    return {
        "national_when": national or "false",
        "scope_columns": scope,
        "secondary": tuple(groups),
        "note": note if isinstance(note, str) else None,
    }


def _group(reader: _Reader, label: str, group: dict) -> SecondaryGroup:
    if unknown := sorted(set(group) - GROUP_KEYS):
        reader.problem(f": {label} has {unknown}, not among {sorted(GROUP_KEYS)}")
    lookup, looked_up = group.get("parent_from"), ()
    if lookup is not None:
        model, code = (lookup.get("model"), lookup.get("code")) if isinstance(lookup, dict) else ("", "")
        if model not in PARENT_LOOKUPS or code not in reader.data_types:
            reader.problem(
                f": {label}.parent_from must be {{model: one of {sorted(PARENT_LOOKUPS)}, "
                f"code: <a column>}}, not {lookup!r}"
            )
            lookup = None
        else:
            lookup, looked_up = (model, code), (PARENT_LOOKUPS[model][1],)
            if looked_up[0] in reader.data_types:
                reader.problem(f": {label}.parent_from provides {looked_up[0]}, which is a column already")
    group_by = reader.columns(group.get("group_by"), f"{label}.group_by", looked_up)
    tiebreak = reader.columns(group.get("tiebreak", []), f"{label}.tiebreak")
    columns = group.get("columns")
    if not isinstance(columns, list) or not columns:
        reader.problem(f": {label}.columns must list count columns")
        columns = []
    for name in columns:
        reader.column(name, f"{label}.columns", "count")
    parent = group.get("parent")
    parent_when, parent_match = None, ()
    if parent is not None:
        if not isinstance(parent, dict):
            reader.problem(f": {label}.parent must be {{when, match}}")
            parent = {}
        parent_when = reader.sql(parent.get("when", "true"), f"{label}.parent.when", ["not_personal"])
        match = parent.get("match") or {}
        if not isinstance(match, dict):
            reader.problem(f": {label}.parent.match must map parent columns to group columns")
            match = {}
        reader.columns(list(match), f"{label}.parent.match")
        if off := sorted(g for g in match.values() if g not in group_by):
            reader.problem(f": {label}.parent.match names {off}, which are not in group_by")
        if unmatched := [g for g in looked_up if g not in match.values()]:
            reader.problem(f": {label}.parent.match must say which parent column is {unmatched}")
        by_group = {g: p for p, g in match.items()}
        parent_match = tuple((by_group.get(g, g), g) for g in group_by)
    return SecondaryGroup(
        children=reader.sql(group.get("children"), f"{label}.children", ["not_personal"]) or "false",
        group_by=group_by,
        columns=tuple(columns),
        tiebreak=tiebreak,
        has_parent=parent is not None,
        parent_when=parent_when,
        parent_match=parent_match,
        parent_from=lookup,
    )


# ---- SQL pieces shared by shareable_sql and scan ---------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _true(predicate: str) -> str:
    return f"coalesce(({predicate}), false)"


def _rate(rule: ColumnRule, numerator: str, denominator: str | None) -> str:
    """The recomputation, written once so that shareable_sql and scan get the same bits."""
    multiplier = f"({rule.multiplier})" if isinstance(rule.multiplier, str) else repr(float(rule.multiplier))
    if rule.wilson:
        side, confidence = rule.wilson
        return (
            f"case when {numerator} is null or {denominator} is null or {denominator} <= 0 "
            f"or {numerator} < 0 or {numerator} > {denominator} then null "
            f"else stats.wilson_{side}({numerator}, {denominator}, {confidence!r}) * {multiplier} end"
        )
    if denominator is None:
        return f"case when {numerator} is null then null else {numerator} * {multiplier} end"
    return (
        f"case when {numerator} is null or {denominator} is null or {denominator} = 0 then null "
        f"else {numerator} * {multiplier} / {denominator} end"
    )


def _with_lookups(rules: TableRules, source: str, lookups: Mapping[str, str] | None) -> str:
    """`source`'s rows with each secondary group's looked-up parent code as __dc_lk<i>."""
    items, joins = [], []
    for i, group in enumerate(rules.secondary):
        if group.parent_from:
            model, code = group.parent_from
            key, value = PARENT_LOOKUPS[model]
            relation = (lookups or {}).get(model, f"{rules.schema}.{model}")
            items.append(f", __dc_lk{i}.__dc_v as __dc_lk{i}")
            joins.append(
                f" left join (select {_q(key)} as __dc_k, case when count(distinct {_q(value)}) = 1 "
                f"then any_value({_q(value)}) end as __dc_v from {relation} group by 1) as __dc_lk{i} "
                f"on __dc_lk{i}.__dc_k = __dc_t.{_q(code)}"
            )
    return f"(select __dc_t.*{''.join(items)} from {source} as __dc_t{''.join(joins)})"


def _group_keys(group: SecondaryGroup, i: int) -> list[str]:
    return [f"__dc_lk{i}" if g == group.looked_up else _q(g) for g in group.group_by]


# ---- the shared select ----------------------------------------------------------------------


def shareable_sql(
    rules: TableRules,
    relation: str | None = None,
    where: str | None = None,
    *,
    lookups: Mapping[str, str] | None = None,
    secondary: bool = True,
) -> str:
    """One DuckDB select over `relation` (default `<schema>.<model>`): the model's columns, in
    order, with the rules applied, then `suppressed_columns`. Secondary suppression is decided
    over the whole relation; `where` (a scope: see scope_where) then keeps its rows. `lookups`
    names the relations of parent_from dimensions (default `<schema>.dim_sub_icb`);
    `secondary=False` leaves secondary suppression out (to show what the scan finds without it)."""
    t = rules.thresholds
    counts = {c.name: j for j, c in enumerate(rules.of_kind("count"))}
    small = f"{t.suppress_up_to} + 0.5"

    # 1. national rows; each count's source (__dc_o), primary suppression (__dc_p), rounding (__dc_r)
    primary = []
    for name, j in counts.items():
        c, data_type = _q(name), rules.column(name).data_type
        rounded = f"round({c} / {t.round_to}) * {t.round_to}"
        rounded = f"cast({rounded} as {data_type})" if data_type else rounded
        primary.append(
            f", {c} as __dc_o{j}"
            f", (not __dc_national and {c} is not null and {c} <> 0 and abs({c}) < {small}) as __dc_p{j}"
            f", case when __dc_national or {c} is null or {c} = 0 then {c} "
            f"when abs({c}) < {small} then null else {rounded} end as __dc_r{j}"
        )
    ctes = [
        f"__dc_src as (select *, {_true(rules.national_when)} as __dc_national "
        f"from {_with_lookups(rules, relation or rules.relation, lookups)})",
        f"__dc_primary as (select *{''.join(primary)} from __dc_src)",
    ]

    # 2. secondary suppression (__dc_s<group>_<count>)
    previous, hidden_by = "__dc_primary", {j: [f"__dc_p{j}"] for j in counts.values()}
    for i, group in enumerate(rules.secondary if secondary else ()):
        ctes += _secondary_ctes(group, i, counts, previous)
        previous = f"__dc_second{i}"
        for name in group.columns:
            hidden_by[counts[name]].append(f"__dc_s{i}_{counts[name]}")
    suppressed = [f", {' or '.join(h)} as __dc_sup{j}" for j, h in hidden_by.items()]
    ctes.append(f"__dc_flags as (select *{''.join(suppressed)} from {previous})")

    # 3. shared values. First counts, standardised and withheld; then rates, on those; then from_row
    def standardised(value: str, events: str | None) -> str:
        if events is None:
            return value
        j = counts[events]
        return (
            f"case when __dc_sup{j} or (__dc_o{j} is not null and __dc_o{j} <> 0 "
            f"and abs(__dc_o{j}) < {t.standardised_min_events}) then null else {value} end"
        )

    nullable = [c for c in rules.columns if c.kind != "not_personal"]
    carried = [*(f"__dc_sup{j}" for j in counts.values()), *(f"__dc_o{j}" for j in counts.values())]
    had = [f"__dc_had{k}" for k in range(len(nullable))]
    first, second, third, joins, row_ctes = [], [], [], [], []
    for c in rules.columns:
        name = _q(c.name)
        if c.kind == "count":
            first.append(
                f"case when __dc_sup{counts[c.name]} then null else __dc_r{counts[c.name]} end as {name}"
            )
        elif c.kind == "standardised":
            first.append(f"{standardised(name, c.events)} as {name}")
        elif c.kind == "withheld":
            first.append(
                f"case when {_true(c.when or 'true')} then null "
                f"else {standardised(name, c.events)} end as {name}"
            )
        else:
            first.append(name)
        if c.kind == "rate_from_counts":
            recomputed = _rate(c, _q(c.numerator), _q(c.denominator) if c.denominator else None)
            recomputed = f"cast({recomputed} as {c.data_type})" if c.data_type else recomputed
            chosen = (
                f"when {_true(c.when)} then {recomputed} else {standardised(name, c.events)}"
                if c.when
                else f"else {recomputed}"
            )
            second.append(f"case when {name} is null then null {chosen} end as {name}")
        else:
            second.append(name)
        if c.kind == "from_row":
            k = len(joins)
            theirs = [*(other for other, _ in c.match), *c.same]
            mine = [*(this for _, this in c.match), *c.same]
            row_ctes.append(
                f"__dc_row{k} as (select {', '.join(f'{_q(x)} as __dc_m{n}' for n, x in enumerate(theirs))}, "
                f"case when count(*) = 1 then any_value({_q(c.column)}) end as __dc_v "
                "from __dc_shared2 group by all)"
            )
            on = " and ".join(f"__dc_row{k}.__dc_m{n} = __dc_s.{_q(x)}" for n, x in enumerate(mine))
            joins.append(f" left join __dc_row{k} on {on}")
            third.append(f"case when __dc_s.{name} is null then null else __dc_row{k}.__dc_v end as {name}")
        else:
            third.append(f"__dc_s.{name}")
    source_had = [f"{_q(c.name)} is not null as __dc_had{k}" for k, c in enumerate(nullable)]
    ctes += [
        f"__dc_shared1 as (select {', '.join(first + carried + source_had)} from __dc_flags)",
        f"__dc_shared2 as (select {', '.join(second + carried + had)} from __dc_shared1)",
        *row_ctes,
    ]
    ctes.append(
        f"__dc_shared3 as (select {', '.join(third + [f'__dc_s.{h}' for h in had])} "
        f"from __dc_shared2 as __dc_s{''.join(joins)})"
    )
    flags = [
        f"case when __dc_had{k} and {_q(c.name)} is null then [{_literal(c.name)}] else []::varchar[] end"
        for k, c in enumerate(nullable)
    ]
    listed = f"flatten([{', '.join(flags)}])" if flags else "[]::varchar[]"
    final = (
        f"select {', '.join(_q(n) for n in rules.names)}, {listed} as {SUPPRESSED_COLUMNS} from __dc_shared3"
    )
    return "with\n" + ",\n".join(ctes) + "\n" + final + (f"\nwhere {where}" if where else "")


def _secondary_ctes(group: SecondaryGroup, i: int, counts: dict[str, int], previous: str) -> list[str]:
    """Children flagged (__dc_c<i>), their total's primary state joined (__dc_ps<i>_<j>), and the
    sibling hidden where exactly one child is (__dc_s<i>_<j>)."""
    keys = _group_keys(group, i)
    is_child = _true(group.children) + "".join(f" and {k} is not null" for k in keys)
    ctes = [f"__dc_child{i} as (select *, {is_child} as __dc_c{i} from {previous})"]
    source = f"__dc_child{i}"
    if group.has_parent:
        parent_keys = [_q(p) for p, _ in group.parent_match]
        shown = "".join(
            f", bool_or({_q(n)} is not null and not __dc_p{counts[n]}) as __dc_ps{i}_{counts[n]}"
            for n in group.columns
        )
        ctes.append(
            f"__dc_parent{i} as (select "
            f"{', '.join(f'{k} as __dc_pk{x}' for x, k in enumerate(parent_keys))}{shown} "
            f"from __dc_primary where {_true(group.parent_when or 'true')}"
            + "".join(f" and {k} is not null" for k in parent_keys)
            + " group by all)"
        )
        on = " and ".join(f"__dc_parent{i}.__dc_pk{x} = __dc_g.{k}" for x, k in enumerate(keys))
        ctes.append(
            f"__dc_joined{i} as (select __dc_g.*"
            + "".join(f", __dc_parent{i}.__dc_ps{i}_{counts[n]}" for n in group.columns)
            + f" from __dc_child{i} as __dc_g left join __dc_parent{i} on __dc_g.__dc_c{i} and {on})"
        )
        source = f"__dc_joined{i}"
    partition = ", ".join([f"__dc_c{i}", *keys])
    hidden = []
    for name in group.columns:
        j, c = counts[name], _q(name)
        candidate = f"(not __dc_p{j} and {c} is not null)"
        order = ", ".join([f"__dc_r{j} = 0", f"__dc_r{j}", f"__dc_o{j}", *map(_q, group.tiebreak)])
        shown = f"coalesce(__dc_ps{i}_{j}, false)" if group.has_parent else "true"
        hidden.append(
            f"coalesce(__dc_c{i} and {candidate} and {shown} "
            f"and count(*) filter (where __dc_p{j}) over (partition by {partition}) = 1 "
            f"and row_number() over (partition by {partition}, {candidate} order by {order}) = 1, false) "
            f"as __dc_s{i}_{j}"
        )
    ctes.append(f"__dc_second{i} as (select *, {', '.join(hidden)} from {source})")
    return ctes


def scope_where(rules: TableRules, codes: Iterable[str] | None) -> str | None:
    """The `where` keeping one scope's rows: those whose scope columns hold one of the scope's
    area codes (an ICB's and its sub-ICB locations', say), and the national rows every scope
    compares with. None (every row) for England (`codes` None)."""
    if codes is None:
        return None
    listed = ", ".join(_literal(code) for code in sorted(set(codes)))
    clauses = [f"{_q(c)} in ({listed})" for c in rules.scope_columns] if listed else []
    return "(" + " or ".join([_true(rules.national_when), *clauses]) + ")"


# ---- the proof ------------------------------------------------------------------------------


def _from(relation_or_sql: str) -> str:
    text = relation_or_sql.strip()
    return f"({text})" if re.search(r"\s|\(", text) else text


def scan(
    conn: duckdb.DuckDBPyConnection,
    relation_or_sql: str,
    rules: TableRules,
    *,
    lookups: Mapping[str, str] | None = None,
) -> list[str]:
    """Every figure of a shared table (a relation, or a select such as shareable_sql's) that
    breaks the rules; empty when none does. On the shared values alone it checks that:

    - the columns are the model's, in order (then `suppressed_columns`, if there);
    - no count on a row that is not national is 1-7, and each is a multiple of 5;
    - every rate_from_counts value is its recomputation from the shared figures (within 1e-9,
      relative);
    - no standardised value is shown on suppressed events or on 1-9, nor a withheld one where its
      `when` holds;
    - every from_row value is its row's shared value, where that row is in the table;
    - no secondary group has exactly one suppressed child among two or more with a value while
      its total is shown (or published elsewhere: a group without `parent`).

    A cell is suppressed when `suppressed_columns` lists it or, in a table without that column,
    when it is NULL. Wilson limits need the stats macros on `conn`."""
    t = rules.thresholds
    source = _from(relation_or_sql)
    names = conn.sql(f"select * from {source} limit 0").columns
    listed = SUPPRESSED_COLUMNS in names
    if names != rules.names + ([SUPPRESSED_COLUMNS] if listed else []):
        problem = f"{rules.relation}: columns {names} are not the model's {rules.names}"
        if set(rules.names) - set(names):
            return [problem]
    else:
        problem = None
    problems = [problem] if problem else []

    def hidden(name: str) -> str:
        if listed:
            return f"coalesce(list_contains({SUPPRESSED_COLUMNS}, {_literal(name)}), false)"
        return f"{_q(name)} is null"

    shown_by = [c.name for c in rules.columns if c.kind == "not_personal"][:EXAMPLE_COLUMNS]
    example = (
        "concat_ws(', ', "
        + ", ".join(f"'{n}=' || coalesce({_q(n)}::varchar, 'NULL')" for n in shown_by)
        + ")"
    )

    def report(column: str, what: str, condition: str, relation: str = source, first: str = example) -> None:
        ((n, row),) = conn.sql(
            f"select count(*), min({first}) from {relation} as __dc_x where {condition}"
        ).fetchall()
        if n:
            problems.append(f"{rules.relation}.{column}: {n} {what} (first: {row})")

    def unstandardised(value: str, events: str | None) -> str:
        if events is None:
            return "false"
        e = _q(events)
        few = f"({e} is not null and {e} <> 0 and abs({e}) < {t.standardised_min_events})"
        return f"{value} is not null and ({hidden(events)} or {few})"

    national = _true(rules.national_when)
    few_events = f"on suppressed or fewer than {t.standardised_min_events} events"
    for c in rules.columns:
        v = _q(c.name)
        when = _true(c.when) if c.when else "true"
        if c.kind == "count":
            small = f"abs({v}) < {t.suppress_up_to} + 0.5"
            report(
                c.name,
                f"sub-national values between 1 and {t.suppress_up_to}",
                f"not {national} and {v} <> 0 and {small}",
            )
            report(
                c.name,
                f"sub-national values not a multiple of {t.round_to}",
                f"not {national} and {v} / {t.round_to} <> round({v} / {t.round_to})",
            )
        elif c.kind == "rate_from_counts":
            recomputed = _rate(c, _q(c.numerator), _q(c.denominator) if c.denominator else None)
            far = f"abs({v} - ({recomputed})) > {RELATIVE_TOLERANCE} * abs({recomputed})"
            report(
                c.name,
                "values the shared figures do not give",
                f"{when} and {v} is not null and ({recomputed} is null or {far})",
            )
            if c.when:
                report(
                    c.name,
                    f"standardised values shown {few_events}",
                    f"not {when} and {unstandardised(v, c.events)}",
                )
        elif c.kind == "standardised":
            report(c.name, f"values shown {few_events}", unstandardised(v, c.events))
        elif c.kind == "withheld":
            report(c.name, "values shown that are withheld", f"{when} and {v} is not null")
            report(c.name, f"values shown {few_events}", f"not {when} and {unstandardised(v, c.events)}")
        elif c.kind == "from_row":
            theirs = [*(other for other, _ in c.match), *c.same]
            mine = [*(this for _, this in c.match), *c.same]
            keys = ", ".join(f"{_q(x)} as __dc_m{n}" for n, x in enumerate(theirs))
            on = " and ".join(f"__dc_r.__dc_m{n} = __dc_l.{_q(x)}" for n, x in enumerate(mine))
            joined = (
                f"(select __dc_l.*, __dc_r.__dc_v from {source} as __dc_l inner join (select {keys}, "
                f"any_value({_q(c.column)}) as __dc_v from {source} group by all having count(*) = 1) "
                f"as __dc_r on {on})"
            )
            far = f"abs({v} - __dc_v) > {RELATIVE_TOLERANCE} * abs(__dc_v)"
            report(
                c.name,
                f"values that are not their row's shared {c.column}",
                f"{v} is not null and (__dc_v is null or {far})",
                joined,
            )
    for i, group in enumerate(rules.secondary):
        problems += _recoverable(conn, rules, group, i, source, hidden, example, lookups)
    return problems


def _recoverable(conn, rules, group, i, source, hidden, example, lookups) -> list[str]:
    """Groups of a secondary rule with one suppressed child, among two or more, and a shown total."""
    keys = _group_keys(group, i)
    key_items = ", ".join(f"{k} as __dc_k{x}" for x, k in enumerate(keys))
    not_null = "".join(f" and {k} is not null" for k in keys)
    problems = []
    for name in group.columns:
        cells = f"count(*) filter (where {_q(name)} is not null or {hidden(name)})"
        children = (
            f"(select {key_items}, {cells} as __dc_n, count(*) filter (where {hidden(name)}) as __dc_hidden, "
            f"min({example}) as __dc_first from {_with_lookups(rules, source, lookups)} "
            f"where {_true(group.children)}{not_null} group by all)"
        )
        if group.has_parent:
            parent_keys = ", ".join(f"{_q(p)} as __dc_k{x}" for x, (p, _) in enumerate(group.parent_match))
            parents = (
                f"(select {parent_keys}, "
                f"bool_or({_q(name)} is not null and not ({hidden(name)})) as __dc_shown "
                f"from {source} where {_true(group.parent_when or 'true')} group by all)"
            )
            using = ", ".join(f"__dc_k{x}" for x in range(len(keys)))
            relation, shown = f"(select * from {children} left join {parents} using ({using}))", "__dc_shown"
        else:
            relation, shown = children, "true"
        ((n, first),) = conn.sql(
            f"select count(*), min(__dc_first) from {relation} "
            f"where __dc_hidden = 1 and __dc_n >= 2 and coalesce({shown}, false)"
        ).fetchall()
        if n:
            problems.append(
                f"{rules.relation}.{name}: {n} groups of secondary[{i}] with one suppressed child and their "
                f"total shown, so it can be recovered (first: {first})"
            )
    return problems
