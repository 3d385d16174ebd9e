"""The pack reads only what its dbt exposure says it reads, and the models a package shares only
through their disclosure rules."""

from __future__ import annotations

import re

import yaml

from orchestration.pack import data
from tests.helpers import REPO_ROOT

EXPOSURES = REPO_ROOT / "dbt_project" / "models" / "exposures.yml"


def _read_models() -> set[str]:
    sql = "\n".join(data.QUERIES.values())
    return set(re.findall(r"\bmarts\.(\w+)", sql)) | set(re.findall(r"\bshared_(\w+)", sql))


def test_the_pack_exposure_names_every_model_the_pack_reads():
    exposures = yaml.safe_load(EXPOSURES.read_text())["exposures"]
    pack = next(e for e in exposures if e["name"] == "commissioning_pack")
    named = {re.fullmatch(r"ref\('(\w+)'\)", ref).group(1) for ref in pack["depends_on"]}
    assert named == _read_models()


def test_a_model_read_through_its_disclosure_rules_is_never_read_raw():
    sql = "\n".join(data.QUERIES.values())
    raw = set(re.findall(r"\bmarts\.(\w+)", sql))
    assert set(data.SHARED) <= set(re.findall(r"\bshared_(\w+)", sql))
    assert raw.isdisjoint(data.SHARED)
