"""Disclosure control of shared extracts: the HES/ECDS rule applied from each model's yml, and the
scan that proves nothing escapes. Every table is built here; the real manifest is read only to
prove the standard package's models say how each column may be shared."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.share import disclosure
from orchestration.share.disclosure import NotShareable, TableRules, scan, scope_where, shareable_sql
from orchestration.share.package import STANDARD_TABLES
from orchestration.stats.install import install

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = REPO_ROOT / "dbt_project" / "target" / "manifest.json"
STANDARD_PACKAGE = list(STANDARD_TABLES)

AREA = {
    "area_level": ("varchar", "not_personal"),
    "area_code": ("varchar", "not_personal"),
}
SUB_NATIONAL = {"national_when": "area_level = 'england'", "scope_columns": ["area_code"]}
ICB_GROUP = {
    "children": "area_level = 'sub_icb_location'",
    "parent_from": {"model": "dim_sub_icb", "code": "area_code"},
    "group_by": ["icb_code"],
    "parent": {"when": "area_level = 'icb'", "match": {"area_code": "icb_code"}},
    "tiebreak": ["area_code"],
    "columns": ["n"],
}


def manifest(columns: dict[str, tuple[str, object]], share: dict | None, name: str = "t") -> dict:
    """A manifest holding one model `marts.<name>`: column -> (data type, meta.disclosure or None)."""
    return {
        "nodes": {
            f"model.commissioning.{name}": {
                "resource_type": "model",
                "name": name,
                "schema": "marts",
                "columns": {
                    column: {
                        "name": column,
                        "data_type": data_type,
                        "config": {"meta": {} if spec is None else {"disclosure": spec}},
                    }
                    for column, (data_type, spec) in columns.items()
                },
                "config": {"meta": {} if share is None else {"share": share}},
            }
        }
    }


def rules_for(
    columns: dict[str, tuple[str, object]], share: dict | None = None, name: str = "t"
) -> TableRules:
    return TableRules.from_manifest(manifest(columns, SUB_NATIONAL if share is None else share, name), name)


@pytest.fixture
def conn():
    connection = duckdb.connect()
    install(connection)
    connection.execute("create schema marts")
    yield connection
    connection.close()


def table(conn, columns: dict[str, tuple[str, object]], rows: list[tuple], name: str = "t") -> None:
    definition = ", ".join(f"{c} {t}" for c, (t, _) in columns.items())
    conn.execute(f"create or replace table marts.{name} ({definition})")
    if rows:
        conn.executemany(f"insert into marts.{name} values ({', '.join('?' * len(columns))})", rows)


def shared(conn, rules: TableRules, where: str | None = None, **options) -> list[dict]:
    cursor = conn.sql(shareable_sql(rules, where=where, **options) + " order by all")
    return [dict(zip(cursor.columns, row, strict=True)) for row in cursor.fetchall()]


def sub_icbs(conn, pairs: dict[str, str]) -> None:
    conn.execute("create or replace table marts.dim_sub_icb (commissioner_code varchar, icb_code varchar)")
    conn.executemany("insert into marts.dim_sub_icb values (?, ?)", list(pairs.items()))


# ---- counts -----------------------------------------------------------------------------------

COUNTS = {**AREA, "n": ("bigint", "count")}


def test_sub_national_counts_stay_0_are_suppressed_from_1_to_7_and_are_rounded_to_5_otherwise(conn):
    rows = [("sub_icb_location", code, n) for code, n in zip("ABCDEF", (0, 1, 7, 8, 12, 13), strict=True)]
    table(conn, COUNTS, rows)
    out = {r["area_code"]: (r["n"], r["suppressed_columns"]) for r in shared(conn, rules_for(COUNTS))}
    assert out == {
        "A": (0, []),
        "B": (None, ["n"]),
        "C": (None, ["n"]),
        "D": (10, []),
        "E": (10, []),
        "F": (15, []),
    }


def test_national_counts_are_not_rounded(conn):
    table(conn, COUNTS, [("england", "E92000001", 3), ("england", "E92000002", 12), ("icb", "Q1", 12)])
    out = {r["area_code"]: r["n"] for r in shared(conn, rules_for(COUNTS))}
    assert out == {"E92000001": 3, "E92000002": 12, "Q1": 10}


def test_the_shared_table_keeps_the_contracts_columns_in_order_and_their_types(conn):
    table(conn, COUNTS, [("icb", "Q1", 12)])
    described = conn.sql(f"describe {shareable_sql(rules_for(COUNTS))}").fetchall()
    assert [(c[0], c[1]) for c in described] == [
        ("area_level", "VARCHAR"),
        ("area_code", "VARCHAR"),
        ("n", "BIGINT"),
        ("suppressed_columns", "VARCHAR[]"),
    ]


def test_the_figures_come_from_the_seed():
    assert disclosure.thresholds() == disclosure.Thresholds(
        suppress_up_to=7, round_to=5, standardised_min_events=10
    )


# ---- rates ------------------------------------------------------------------------------------

RATES = {
    **AREA,
    "events": ("bigint", "count"),
    "patients": ("bigint", "count"),
    "per_1000": (
        "double",
        {"kind": "rate_from_counts", "numerator": "events", "denominator": "patients", "multiplier": 1000},
    ),
}


def test_a_rate_is_recomputed_from_the_rounded_counts_and_is_suppressed_with_them(conn):
    table(
        conn,
        RATES,
        [
            ("icb", "Q1", 12, 98, 12 * 1000 / 98),
            ("icb", "Q2", 3, 98, 3 * 1000 / 98),
            ("icb", "Q3", 40, 0, None),
            ("england", "E92000001", 12, 98, 12 * 1000 / 98),
        ],
    )
    out = {r["area_code"]: r for r in shared(conn, rules_for(RATES))}
    assert (out["Q1"]["events"], out["Q1"]["patients"], out["Q1"]["per_1000"]) == (10, 100, 100.0)
    assert out["Q2"]["per_1000"] is None
    assert out["Q2"]["suppressed_columns"] == ["events", "per_1000"]
    assert out["Q3"]["per_1000"] is None
    assert out["Q3"]["suppressed_columns"] == []  # NULL in the model already: not a suppression
    assert out["E92000001"]["per_1000"] == pytest.approx(12 * 1000 / 98)


PROPORTION = {
    **AREA,
    "method": ("varchar", "not_personal"),
    "k": ("double", "count"),
    "d": ("double", "count"),
    "value": (
        "double",
        {
            "kind": "rate_from_counts",
            "numerator": "k",
            "denominator": "d",
            "multiplier": 100,
            "when": "method = 'p'",
        },
    ),
    "lower_ci_95": (
        "double",
        {
            "kind": "rate_from_counts",
            "numerator": "k",
            "denominator": "d",
            "multiplier": 100,
            "wilson": {"side": "lower", "confidence": 0.95},
            "when": "method = 'p'",
        },
    ),
}


def test_a_proportions_wilson_limits_are_recomputed_from_the_rounded_counts_and_a_dsr_is_carried(conn):
    (lower,) = conn.sql("select stats.wilson_lower(12, 98, 0.95) * 100").fetchall()[0]
    table(
        conn,
        PROPORTION,
        [
            ("icb", "Q1", "p", 12, 98, 12 / 98 * 100, lower),
            ("icb", "Q2", "dsr", 12, 98_000, 7.7, 3.3),
            ("icb", "Q3", "dsr", 9, 98_000, 7.7, 3.3),
        ],
    )
    out = {r["area_code"]: r for r in shared(conn, rules_for(PROPORTION))}
    ((expected,),) = conn.sql("select stats.wilson_lower(10, 100, 0.95) * 100").fetchall()
    assert out["Q1"]["value"] == 10.0
    assert out["Q1"]["lower_ci_95"] == expected
    assert (out["Q2"]["value"], out["Q2"]["lower_ci_95"]) == (7.7, 3.3)
    assert (out["Q3"]["k"], out["Q3"]["value"], out["Q3"]["lower_ci_95"]) == (10, None, None)


STANDARDISED = {
    **AREA,
    "events": ("bigint", "count"),
    "dsr": ("double", {"kind": "standardised", "events": "events"}),
}


def test_a_standardised_value_on_9_events_is_suppressed_and_on_10_is_kept(conn):
    table(conn, STANDARDISED, [("icb", "Q1", 9, 41.5), ("icb", "Q2", 10, 46.1), ("icb", "Q3", 0, 0.0)])
    out = {
        r["area_code"]: (r["events"], r["dsr"], r["suppressed_columns"])
        for r in shared(conn, rules_for(STANDARDISED))
    }
    assert out == {"Q1": (10, None, ["dsr"]), "Q2": (10, 46.1, []), "Q3": (0, 0.0, [])}


# ---- secondary suppression --------------------------------------------------------------------

SIBLINGS = [
    ("sub_icb_location", "A", 3),
    ("sub_icb_location", "B", 12),
    ("sub_icb_location", "C", 20),
    ("sub_icb_location", "D", 40),
    ("icb", "Q1", 75),
]


@pytest.fixture
def planted(conn):
    """One sub-ICB location's 3 suppressed beside its ICB's total of 75: 75 - 12 - 20 - 40 gives it back."""
    sub_icbs(conn, {"A": "Q1", "B": "Q1", "C": "Q1", "D": "Q1"})
    table(conn, COUNTS, SIBLINGS)
    return rules_for(COUNTS, {**SUB_NATIONAL, "secondary": [ICB_GROUP]})


def test_secondary_suppression_hides_the_next_smallest_sibling_of_a_lone_suppressed_cell(conn, planted):
    out = {r["area_code"]: r["n"] for r in shared(conn, planted)}
    assert out == {"A": None, "B": None, "C": 20, "D": 40, "Q1": 75}
    assert scan(conn, shareable_sql(planted), planted) == []


def test_the_scan_finds_the_recoverable_cell_when_secondary_suppression_is_off(conn, planted):
    problems = scan(conn, shareable_sql(planted, secondary=False), planted)
    assert len(problems) == 1
    assert "marts.t.n: 1 groups of secondary[0] with one suppressed child" in problems[0]


def test_secondary_suppression_is_decided_before_a_scope_so_every_package_hides_the_same_cells(conn, planted):
    conn.execute("insert into marts.t values ('england', 'E92000001', 75)")
    where = scope_where(planted, ["B"])  # B's package: B, and England's rows to compare with
    assert [(r["area_code"], r["n"], r["suppressed_columns"]) for r in shared(conn, planted, where)] == [
        ("E92000001", 75, []),
        ("B", None, ["n"]),
    ]


def test_secondary_suppression_prefers_a_non_zero_sibling_and_needs_a_shown_total(conn):
    sub_icbs(conn, {"A": "Q1", "B": "Q1", "C": "Q1", "X": "Q2", "Y": "Q2"})
    rows = [
        ("sub_icb_location", "A", 3),
        ("sub_icb_location", "B", 0),
        ("sub_icb_location", "C", 20),
        ("icb", "Q1", 23),
        ("sub_icb_location", "X", 2),  # Q2's total is 7: suppressed too, nothing to subtract from
        ("sub_icb_location", "Y", 5),
        ("icb", "Q2", 7),
    ]
    table(conn, COUNTS, rows)
    rules = rules_for(COUNTS, {**SUB_NATIONAL, "secondary": [ICB_GROUP]})
    out = {r["area_code"]: r["n"] for r in shared(conn, rules)}
    assert out == {"A": None, "B": 0, "C": None, "Q1": 25, "X": None, "Y": None, "Q2": None}
    assert scan(conn, shareable_sql(rules), rules) == []


def test_a_group_whose_total_is_published_elsewhere_is_protected_as_if_shown(conn):
    sub_icbs(conn, {"A": "Q1", "B": "Q1", "C": "Q1"})
    table(
        conn,
        COUNTS,
        [("sub_icb_location", "A", 3), ("sub_icb_location", "B", 30), ("sub_icb_location", "C", 12)],
    )
    group = {k: v for k, v in ICB_GROUP.items() if k != "parent"}
    rules = rules_for(COUNTS, {**SUB_NATIONAL, "secondary": [group]})
    assert {r["area_code"]: r["n"] for r in shared(conn, rules)} == {"A": None, "B": 30, "C": None}
    assert scan(conn, shareable_sql(rules, secondary=False), rules) != []


# ---- values from other rows, withheld values --------------------------------------------------

PARENTS = {
    **AREA,
    "parent_area_code": ("varchar", "not_personal"),
    "k": ("double", "count"),
    "d": ("double", "count"),
    "value": (
        "double",
        {"kind": "rate_from_counts", "numerator": "k", "denominator": "d", "multiplier": 100},
    ),
    "parent_value": (
        "double",
        {"kind": "from_row", "column": "value", "match": {"area_code": "parent_area_code"}},
    ),
    "peer_mean": ("double", {"kind": "withheld", "when": "area_level = 'icb'"}),
}


def test_a_parents_value_is_the_parents_shared_value_and_a_withheld_value_is_blank(conn):
    table(
        conn,
        PARENTS,
        [
            ("icb", "Q1", "Y1", 12, 98, 12 / 98 * 100, None, 1.5),
            ("region", "Y1", None, 23, 196, 23 / 196 * 100, None, 1.5),
        ],
    )
    out = {r["area_code"]: r for r in shared(conn, rules_for(PARENTS))}
    assert out["Y1"]["value"] == pytest.approx(25 / 195 * 100)
    assert out["Q1"]["parent_value"] is None  # the model had none: nothing is added
    conn.execute("update marts.t set parent_value = 11.73 where area_code = 'Q1'")
    out = {r["area_code"]: r for r in shared(conn, rules_for(PARENTS))}
    assert out["Q1"]["parent_value"] == out["Y1"]["value"]
    assert (out["Q1"]["peer_mean"], out["Y1"]["peer_mean"]) == (None, 1.5)
    assert out["Q1"]["suppressed_columns"] == ["peer_mean"]
    assert scan(conn, shareable_sql(rules_for(PARENTS)), rules_for(PARENTS)) == []


# ---- the yml ----------------------------------------------------------------------------------


def test_a_column_without_meta_disclosure_is_not_shareable_and_is_named():
    columns = {**COUNTS, "note": ("varchar", None), "cost": ("double", None)}
    with pytest.raises(NotShareable) as raised:
        rules_for(columns)
    assert str(raised.value).splitlines() == [
        "marts.t.note has no meta.disclosure: it cannot be shared",
        "marts.t.cost has no meta.disclosure: it cannot be shared",
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rounded", "marts.t.x: meta.disclosure kind 'rounded' is not one of"),
        ({"kind": "standardised"}, "marts.t.x: meta.disclosure kind standardised needs ['events']"),
        (
            {"kind": "standardised", "events": "area_code"},
            "events 'area_code' is kind not_personal; it must be count",
        ),
        (
            {"kind": "rate_from_counts", "numerator": "n", "per": 1000},
            "marts.t.x: meta.disclosure has ['per']",
        ),
        ({"kind": "rate_from_counts", "numerator": "nn"}, "numerator 'nn' is not a column of the model"),
        (
            {"kind": "rate_from_counts", "numerator": "n", "denominator": "n", "wilson": {"side": "mid"}},
            "wilson must be {side: lower|upper, confidence: 0-1}",
        ),
        ({"kind": "from_row", "column": "n", "match": {"area_code": "n"}}, "matches rows on 'n'"),
    ],
)
def test_a_bad_kind_or_parameter_is_an_error_naming_the_model_and_column(spec, message):
    with pytest.raises(NotShareable, match=r"marts\.t\.x") as raised:
        rules_for({**COUNTS, "x": ("double", spec)})
    assert message in str(raised.value)


def test_model_meta_is_required_and_its_predicates_may_not_name_counts():
    with pytest.raises(NotShareable, match=r"marts\.t has no meta\.share"):
        TableRules.from_manifest(manifest(COUNTS, None), "t")
    with pytest.raises(NotShareable, match=r"national_when names \['n'\]"):
        rules_for(COUNTS, {"national_when": "n > 100", "scope_columns": ["area_code"]})
    with pytest.raises(NotShareable, match="scope_columns 'n' is kind count; it must be not_personal"):
        rules_for(COUNTS, {"national_when": "false", "scope_columns": ["n"]})


def test_plain_kinds_and_mappings_with_a_reason_are_both_read():
    rules = rules_for({**AREA, "n": ("bigint", {"kind": "count", "reason": "spells"})})
    assert [(c.name, c.kind) for c in rules.columns] == [
        ("area_level", "not_personal"),
        ("area_code", "not_personal"),
        ("n", "count"),
    ]
    assert rules.count_columns == ["n"]
    assert rules.controls("n") and not rules.controls("area_code")


# ---- the scan ---------------------------------------------------------------------------------

SCANNED = {
    **AREA,
    "n": ("bigint", "count"),
    "d": ("bigint", "count"),
    "rate": ("double", {"kind": "rate_from_counts", "numerator": "n", "denominator": "d"}),
    "dsr": ("double", {"kind": "standardised", "events": "n"}),
}


def test_the_scan_flags_each_kind_of_violation(conn):
    sub_icbs(conn, {"A": "Q1", "B": "Q1", "C": "Q1"})
    rules = rules_for(SCANNED, {**SUB_NATIONAL, "secondary": [{**ICB_GROUP, "columns": ["n"]}]})
    conn.execute(
        """create table marts.leaky as select * from (values
            ('sub_icb_location', 'A', 3::bigint, 100::bigint, 0.05, null::double, []::varchar[]),
            ('sub_icb_location', 'B', 12, 100, 0.12, 5.0, []),
            ('sub_icb_location', 'C', null, 100, null, 4.0, ['n']),
            ('sub_icb_location', 'D', 20, 100, 0.25, 6.0, []),
            ('icb', 'Q1', 60, 300, 0.2, 6.0, [])
        ) as v(area_level, area_code, n, d, rate, dsr, suppressed_columns)"""
    )
    problems = scan(conn, "marts.leaky", rules)
    assert len(problems) == 5, problems
    joined = "\n".join(problems)
    assert (
        "marts.t.n: 1 sub-national values between 1 and 7 (first: area_level=sub_icb_location, area_code=A"
        in joined
    )
    assert "marts.t.n: 2 sub-national values not a multiple of 5" in joined  # 3 and 12
    assert "marts.t.rate: 2 values the shared figures do not give" in joined  # A and D
    assert "marts.t.dsr: 1 values shown on suppressed or fewer than 10 events" in joined  # C
    assert "marts.t.n: 1 groups of secondary[0] with one suppressed child" in joined


def test_the_scan_checks_the_columns_are_the_models(conn):
    table(conn, {"area_code": ("varchar", None), "n": ("bigint", None)}, [("A", 10)], name="other")
    problems = scan(conn, "marts.other", rules_for(COUNTS))
    assert problems == [
        "marts.t: columns ['area_code', 'n'] are not the model's ['area_level', 'area_code', 'n']"
    ]


# ---- the standard package's yml ---------------------------------------------------------------


@pytest.mark.parametrize("model", STANDARD_PACKAGE)
def test_every_model_of_the_standard_package_says_how_each_column_is_shared(model, conn):
    """From the real manifest; over an empty table of the contract's types the select runs and
    the scan finds nothing."""
    document = json.loads(MANIFEST.read_text())
    rules = TableRules.from_manifest(document, model)
    node = next(
        n for n in document["nodes"].values() if n.get("name") == model and n["resource_type"] == "model"
    )
    assert rules.names == list(node["columns"])
    conn.execute(
        f"create table marts.{model} ({', '.join(f'{c.name} {c.data_type}' for c in rules.columns)})"
    )
    conn.execute("create table marts.dim_sub_icb (commissioner_code varchar, icb_code varchar)")
    assert conn.sql(shareable_sql(rules)).fetchall() == []
    assert scan(conn, shareable_sql(rules), rules) == []


def test_the_scan_flags_withheld_values_and_values_not_their_rows(conn):
    rules = rules_for(PARENTS)
    conn.execute(
        """create table marts.leaky as select * from (values
            ('icb', 'Q1', 'Y1', 10.0, 100.0, 10.0, 12.5, 1.5, []::varchar[]),
            ('region', 'Y1', null, 25.0, 200.0, 12.5, null, 1.5, [])
        ) as v(area_level, area_code, parent_area_code, k, d, value, parent_value, peer_mean,
               suppressed_columns)"""
    )
    assert scan(conn, "marts.leaky", rules) == [
        "marts.t.peer_mean: 1 values shown that are withheld "
        "(first: area_level=icb, area_code=Q1, parent_area_code=Y1)"
    ]
    conn.execute("update marts.leaky set parent_value = 11.0, peer_mean = null where area_code = 'Q1'")
    assert scan(conn, "marts.leaky", rules) == [
        "marts.t.parent_value: 1 values that are not their row's shared value "
        "(first: area_level=icb, area_code=Q1, parent_area_code=Y1)"
    ]
