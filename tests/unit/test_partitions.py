"""The monthly partition calendar the UI shows: the sample's months, or every month to today."""

from datetime import date

from orchestration.lib import partitions


def _keys(monkeypatch, **env):
    for name in ("PARTITIONS_END", "LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return partitions.monthly_partitions().get_partition_keys()


def test_on_the_shipped_sample_the_calendar_is_its_24_months(monkeypatch):
    keys = _keys(monkeypatch)
    assert (len(keys), keys[0], keys[-1]) == (24, "2021-01-01", "2022-12-01")


def test_on_a_live_landing_folder_the_calendar_runs_to_the_current_month(monkeypatch, tmp_path):
    keys = _keys(monkeypatch, LANDING_DIR=str(tmp_path))
    assert keys[0] == "2021-01-01"
    assert keys[-1] == date.today().replace(day=1).isoformat()  # a month with no file is a gap


def test_partitions_end_names_the_last_month(monkeypatch, tmp_path):
    keys = _keys(monkeypatch, LANDING_DIR=str(tmp_path), PARTITIONS_END="2023-06-01")
    assert (len(keys), keys[-1]) == (30, "2023-06-01")
