import os
from datetime import date

import pytest

from orchestration.defs.reference.feeds import GP_REGISTERED_PATIENTS
from orchestration.lib import landing
from orchestration.lib.landing_sensor import changed_files
from orchestration.lib.loader import MissingSubmission
from tests.helpers import write


def test_period_folders_are_year_dash_month():
    assert landing.period_of_folder("2022-03") == date(2022, 3, 1)
    assert landing.period_of_folder("2022-13") is None
    assert landing.period_of_folder("202203") is None


def test_the_newest_redelivery_wins_and_the_others_are_reported(tmp_path):
    folder = tmp_path / GP_REGISTERED_PATIENTS.name / "2022-03"
    old = write(folder / "gp-reg-pat-prac-quin-age.csv", "a")
    new = write(folder / "gp-reg-pat-prac-quin-age-v2.csv", "b")
    os.utime(old, (1_000_000, 1_000_000))
    os.utime(new, (2_000_000, 2_000_000))
    found = landing.files_for_period(GP_REGISTERED_PATIENTS, date(2022, 3, 1), tmp_path)
    assert found.files == (new,)
    assert found.superseded == (old,)


def test_the_quinary_file_is_preferred_over_the_all_ages_file(tmp_path):
    folder = tmp_path / GP_REGISTERED_PATIENTS.name / "2022-03"
    quin = write(folder / "gp-reg-pat-prac-quin-age.zip", "a")
    write(folder / "gp-reg-pat-prac-all.csv", "b")
    assert landing.files_for_period(GP_REGISTERED_PATIENTS, date(2022, 3, 1), tmp_path).files == (quin,)


def test_a_month_without_a_matching_file_says_what_was_found(tmp_path):
    write(tmp_path / GP_REGISTERED_PATIENTS.name / "2022-03" / "notes.txt", "x")
    with pytest.raises(MissingSubmission, match=r"no file for 2022-03 .*found notes.txt"):
        landing.files_for_period(GP_REGISTERED_PATIENTS, date(2022, 3, 1), tmp_path)


def test_available_periods_ignore_stray_folders(tmp_path):
    write(tmp_path / GP_REGISTERED_PATIENTS.name / "2022-03" / "gp-reg-pat-prac-quin-age.csv", "a")
    write(tmp_path / GP_REGISTERED_PATIENTS.name / "archive" / "gp-reg-pat-prac-quin-age.csv", "a")
    write(tmp_path / GP_REGISTERED_PATIENTS.name / "2022-04" / "readme.txt", "a")
    assert landing.available_periods(GP_REGISTERED_PATIENTS, tmp_path) == [date(2022, 3, 1)]


def test_the_sensor_sees_new_and_redelivered_files_only():
    previous = {"2022-03/a.csv": "1:10", "2022-04/a.csv": "2:10"}
    current = {"2022-03/a.csv": "1:10", "2022-04/a.csv": "3:12", "2022-05/a.csv": "4:9"}
    assert changed_files(previous, current) == ["2022-04/a.csv", "2022-05/a.csv"]
    assert changed_files(current, current) == []
