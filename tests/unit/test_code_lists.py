"""Clinical code-list seeds: every code is well formed for its code system, keys are unique, every row says
where it came from and how sure we are, the YAML documents every seed and column and keeps codes as text,
known facts hold (diabetes E10–E14, stroke I61/I63/I64, hip fracture S72.0–S72.2, K70 alcoholic liver
disease), and the prefix/role conventions give the hand-worked answer on a few invented episodes."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from orchestration.synth.hrg import TREATMENT_FUNCTIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_LISTS = REPO_ROOT / "seeds" / "reference" / "code_lists"

ICD10 = re.compile(r"^[A-Z][0-9]{2}[0-9X]?$")
# OPCS-4 prefixes: a chapter letter (OPCS-4 has no chapters I or O) or 2–4 characters of a code.
OPCS4 = re.compile(r"^[A-HJ-NP-Z][0-9]{0,3}$")
# BNF: chapters 01–23, then the BNF alphabet (digits, and capitals from the chemical code on).
BNF = re.compile(r"^(0[1-9]|1[0-9]|2[0-3])[0-9A-Z]{0,13}$")
ADMIMETH = re.compile(r"^[0-9][0-9A-Z]$")
CERTAINTIES = {"verified", "secondary_source", "unverified"}

KEYS = {
    "ltc_programme_icd10.csv": ("programme", "icd10_code"),
    "ltc_programme_bnf.csv": ("programme", "bnf_code_prefix"),
    "ois_code_lists.csv": ("indicator_code", "list_name", "condition", "role", "code_system", "code"),
    "treatment_functions.csv": ("treatment_function_code",),
    "admission_methods.csv": ("admission_method_code",),
}


def _read(name: str) -> list[dict[str, str]]:
    with (CODE_LISTS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _header(name: str) -> list[str]:
    with (CODE_LISTS / name).open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def _ois(indicator: str, role: str | None = None) -> set[str]:
    return {
        row["code"]
        for row in _read("ois_code_lists.csv")
        if row["indicator_code"] == indicator and (role is None or row["role"] == role)
    }


def _yaml_seeds() -> dict[str, dict]:
    document = yaml.safe_load((CODE_LISTS / "_code_lists.yml").read_text(encoding="utf-8"))
    return {seed["name"]: seed for seed in document["seeds"]}


def test_the_folder_holds_exactly_the_documented_seeds():
    assert {path.name for path in CODE_LISTS.glob("*.csv")} == set(KEYS)
    assert set(_yaml_seeds()) == {name.removesuffix(".csv") for name in KEYS}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_yaml_describes_every_column_and_types_every_column(name):
    seed = _yaml_seeds()[name.removesuffix(".csv")]
    header = _header(name)
    assert "provenance" in seed["description"].lower()
    assert [column["name"] for column in seed["columns"]] == header
    assert all(column.get("description") for column in seed["columns"])
    types = seed["config"]["column_types"]
    assert list(types) == header
    # Codes must stay text: '0601' or '011' would lose their leading zero as integers.
    for column in header:
        if column.endswith(("code", "code_prefix")):
            assert types[column] == "varchar", column


@pytest.mark.parametrize("name", sorted(KEYS))
def test_natural_keys_are_unique(name):
    rows = _read(name)
    counts = Counter(tuple(row[column] for column in KEYS[name]) for row in rows)
    duplicates = [key for key, count in counts.items() if count > 1]
    assert rows and duplicates == []


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_row_names_a_source_and_a_certainty(name):
    for line, row in enumerate(_read(name), start=2):
        assert row["source"].strip(), f"{name} line {line}: empty source"
        assert row["certainty"] in CERTAINTIES, f"{name} line {line}: certainty {row['certainty']!r}"
        assert all(value == value.strip() for value in row.values()), f"{name} line {line}: padded value"


def test_icd10_codes_are_three_or_four_characters_without_dots():
    codes = [row["icd10_code"] for row in _read("ltc_programme_icd10.csv")]
    codes += [row["code"] for row in _read("ois_code_lists.csv") if row["code_system"] == "icd10"]
    bad = [code for code in codes if not ICD10.match(code)]
    assert len(codes) > 250 and bad == []


def test_opcs4_codes_are_prefixes_of_real_chapters():
    codes = [row["code"] for row in _read("ois_code_lists.csv") if row["code_system"] == "opcs4"]
    bad = [code for code in codes if not OPCS4.match(code)]
    assert codes and bad == []


def test_admission_codes_are_two_characters():
    rows = _read("ois_code_lists.csv")
    codes = [row["code"] for row in rows if row["code_system"] in ("admimeth", "admisorc")]
    codes += [row["admission_method_code"] for row in _read("admission_methods.csv")]
    assert codes and [code for code in codes if not ADMIMETH.match(code)] == []


def test_match_rule_is_prefix_for_clinical_codes_and_exact_for_hes_fields():
    for row in _read("ois_code_lists.csv"):
        expected = "prefix" if row["code_system"] in ("icd10", "opcs4") else "exact"
        assert row["match_rule"] == expected, row


def test_bnf_prefixes_are_2_to_15_characters_of_the_bnf_alphabet_at_the_stated_level():
    levels = {2: "chapter", 4: "section", 6: "paragraph", 7: "sub_paragraph", 9: "chemical"}
    for row in _read("ltc_programme_bnf.csv"):
        prefix = row["bnf_code_prefix"]
        assert 2 <= len(prefix) <= 15 and BNF.match(prefix), prefix
        assert levels[len(prefix)] == row["bnf_level"], prefix


def test_bnf_prefixes_are_a_section_or_finer_as_the_programme_join_needs():
    # int_ltc_programme_prescribing hash-joins on the 4-character BNF section first
    short = [
        row["bnf_code_prefix"] for row in _read("ltc_programme_bnf.csv") if len(row["bnf_code_prefix"]) < 4
    ]
    assert short == []


def test_bnf_prefixes_do_not_nest_within_a_programme_so_sums_do_not_double_count():
    by_programme: dict[str, list[str]] = {}
    for row in _read("ltc_programme_bnf.csv"):
        by_programme.setdefault(row["programme"], []).append(row["bnf_code_prefix"])
    for programme, prefixes in by_programme.items():
        nested = [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)]
        assert nested == [], programme


def test_known_programme_codes():
    rows = _read("ltc_programme_icd10.csv")
    by_programme: dict[str, set[str]] = {}
    for row in rows:
        by_programme.setdefault(row["programme"], set()).add(row["icd10_code"])
    assert {"E10", "E11", "E12", "E13", "E14"} <= by_programme["diabetes"]
    assert {"I61", "I63", "I64"} <= by_programme["stroke"]
    assert {"F00", "F01", "F02", "F03"} <= by_programme["dementia"]
    assert {"J45", "J46", "J44"} <= by_programme["respiratory"]
    assert "I60" not in by_programme["stroke"]  # subarachnoid haemorrhage is not in the stroke definition
    bnf = {(row["programme"], row["bnf_code_prefix"]) for row in _read("ltc_programme_bnf.csv")}
    assert {("diabetes", "0601"), ("dementia", "0411")} <= bnf


def test_known_indicator_codes():
    assert _ois("1.22", "numerator_primary_diagnosis") == {"S720", "S721", "S722"}
    assert "K70" in _ois("1.8", "numerator_primary_diagnosis")
    alcohol_specific = _ois("3.14", "numerator_any_diagnosis")
    assert {"K70", "F10", "E244", "K852", "X45", "X65", "Y15"} <= alcohol_specific
    assert {"Y90", "Y91"}.isdisjoint(alcohol_specific)  # supplementary codes: candidates only
    assert {"Y90", "Y91"} == _ois("3.14", "candidate")
    chronic = _ois("2.6", "numerator_primary_diagnosis")
    assert {"E10", "E14", "F00", "G40", "J45", "I48", "I50", "B180"} <= chronic
    assert _ois("2.6", "numerator_primary_if_secondary") == {"J20"}
    assert {"J45", "J46", "E10", "G40", "G41"} <= _ois("2.7", "numerator_primary_diagnosis")
    assert "J21" in _ois("3.4", "numerator_primary_diagnosis")


def test_hip_fracture_and_alcohol_lists_say_how_sure_they_are():
    rows = _read("ois_code_lists.csv")
    hip = {row["certainty"] for row in rows if row["indicator_code"] == "1.22"}
    assert hip == {"secondary_source"}
    # The 3.1 list was not reached in any official form: no row may claim more than unverified.
    assert {row["certainty"] for row in rows if row["indicator_code"] == "3.1"} == {"unverified"}
    assert all(row["certainty"] == "unverified" for row in rows if row["role"] == "candidate")


def test_exclusions_and_conditional_rules_refer_to_a_numerator_condition():
    rows = _read("ois_code_lists.csv")
    numerators = {
        (row["indicator_code"], row["list_name"], row["condition"])
        for row in rows
        if row["role"].startswith("numerator")
    }
    for row in rows:
        if row["role"] in (
            "procedure_exclusion",
            "exclusion_secondary_diagnosis",
            "required_secondary_diagnosis",
        ):
            assert (row["indicator_code"], row["list_name"], row["condition"]) in numerators, row


def test_emergency_admission_methods_agree_between_the_two_seeds():
    methods = _read("admission_methods.csv")
    emergency = {row["admission_method_code"] for row in methods if row["pod_group"] == "emergency"}
    assert emergency == {"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"}
    assert all(
        (row["is_emergency"] == "true") == row["admission_method_code"].startswith("2") for row in methods
    )
    assert _ois("common", "admission_method") == emergency


def test_treatment_functions_cover_the_generator_catalogue():
    rows = {row["treatment_function_code"]: row for row in _read("treatment_functions.csv")}
    assert set(TREATMENT_FUNCTIONS) <= set(rows)
    assert len(rows) >= 60
    assert all(re.fullmatch(r"[0-9]{3}", code) for code in rows)
    assert rows["420"]["specialty_group"] == "paediatrics"
    assert rows["501"]["specialty_group"] == "maternity"
    assert rows["710"]["specialty_group"] == "mental health"
    assert rows["650"]["specialty_group"] == "therapies"
    assert rows["100"]["specialty_group"] == "surgical"
    assert rows["300"]["specialty_group"] == "medical"


def test_prefix_and_role_conventions_give_the_hand_worked_count(conn):
    """Six invented emergency episodes, counted against the 2.6 list by hand:
    e1 I10X (HES-padded hypertension, no operation)      -> counts (I10 prefix)
    e2 E119 (type 2 diabetes)                             -> counts (E11 prefix)
    e3 J209 primary with J449 secondary                   -> counts (J20 needs a J41–J44/J47 secondary)
    e4 J209 primary, no COPD secondary                    -> does not count
    e5 I209 angina with operation K401 (CABG)             -> excluded (OPCS chapter K)
    e6 I10X hypertension with operation X401 (dialysis)   -> counts (X40 is not a heart operation)
    Expected: e1, e2, e3, e6."""
    codes_csv = CODE_LISTS / "ois_code_lists.csv"
    conn.execute(f"create table codes as select * from read_csv('{codes_csv}', all_varchar=true)")
    conn.execute(
        """
        create table episodes as select * from (values
            ('e1', 'I10X', null, null), ('e2', 'E119', null, null), ('e3', 'J209', 'J449', null),
            ('e4', 'J209', null, null), ('e5', 'I209', null, 'K401'), ('e6', 'I10X', null, 'X401')
        ) as t(episode, diag_01, diag_02, opertn_01)
        """
    )
    counted = conn.sql(
        """
        with list as (select * from codes where indicator_code = '2.6'),
        matched as (
            select e.episode, l.condition, l.role
            from episodes as e
            join list as l
                on l.role in ('numerator_primary_diagnosis', 'numerator_primary_if_secondary')
                and starts_with(e.diag_01, l.code)
        ),
        with_secondary as (
            select m.* from matched as m
            where m.role = 'numerator_primary_diagnosis'
                or exists (
                    select 1 from list as l join episodes as e on e.episode = m.episode
                    where l.condition = m.condition and l.role = 'required_secondary_diagnosis'
                        and starts_with(e.diag_02, l.code)
                )
        )
        select episode from with_secondary as w
        where not exists (
            select 1 from list as l join episodes as e on e.episode = w.episode
            where l.condition = w.condition and l.role = 'procedure_exclusion'
                and starts_with(e.opertn_01, l.code)
        )
        order by episode
        """
    ).fetchall()
    assert [row[0] for row in counted] == ["e1", "e2", "e3", "e6"]
