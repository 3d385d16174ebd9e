"""Hostile archives, files and landing names get a specific error naming them, nothing large is
written before a refusal, and nothing else in the warehouse is touched (issue #19)."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from datetime import date
from pathlib import Path

import pytest

from orchestration.defs.activity.feeds import HES_APC
from orchestration.defs.experience.fft import FFT_AE
from orchestration.defs.reference.feeds import GP_PRACTICE_MAP, GP_REGISTERED_PATIENTS
from orchestration.lib import archives, landing, settings
from orchestration.lib.load_errors import (
    ArchiveTooLarge,
    BadArchive,
    NotTextFile,
    UnknownSchemaVariant,
    UnsafeArchiveMember,
    UnsafeLandingPath,
)
from orchestration.lib.loader import load_period, readable_csv
from tests.conftest import REAL_FORMATS
from tests.helpers import SAMPLE, sample_text, write

MONTH = date(2021, 1, 1)
GP = GP_REGISTERED_PATIENTS
MIB = 1024**2


@pytest.fixture
def quin_age() -> str:
    """The first 5 practices (216 rows + header) of the sample's January 2021 file."""
    lines = sample_text("gp_registered_patients", "2021-01").split("\r\n")
    return "\r\n".join(lines[: 1 + 5 * 43]) + "\r\n"


@pytest.fixture(autouse=True)
def scratch(tmp_path, monkeypatch) -> Path:
    """A warehouse of the test's own, so its scratch folder (`<warehouse dir>/tmp`) is observable."""
    warehouse = tmp_path / "warehouse" / "commissioning.duckdb"
    monkeypatch.setenv(settings.WAREHOUSE_ENV, str(warehouse))
    for name in (settings.ARCHIVE_MAX_BYTES_ENV, settings.ARCHIVE_MAX_RATIO_ENV):
        monkeypatch.delenv(name, raising=False)
    return warehouse.parent / "tmp"


def _scratch_files(scratch: Path) -> list[Path]:
    return [p for p in scratch.rglob("*") if p.is_file() or p.is_symlink()] if scratch.exists() else []


@pytest.fixture
def never_extracted(monkeypatch):
    """Fail the test if any zip member is opened for reading (writing the archive is fine)."""
    opened = zipfile.ZipFile.open

    def refuse(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError(f"{name} was opened for extraction")
        return opened(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def _zip(path: Path, members: dict[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=method) as handle:
        for name, data in members.items():
            handle.writestr(name, data)
    return path


def _tables(conn) -> list[tuple]:
    return conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_type = 'BASE TABLE' order by all"
    ).fetchall()


def _count(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------------------------
# 1. Member names that climb out of the folder, are absolute, or are links
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../../x.csv", "climbs out of the folder"),
        ("data/../../x.csv", "climbs out of the folder"),
        ("..\\..\\x.csv", "climbs out of the folder"),
        ("/tmp/x.csv", "is an absolute path"),
        ("C:/Windows/x.csv", "names a drive"),
    ],
)
def test_a_member_name_out_of_the_folder_refuses_the_archive_before_extracting(
    conn, tmp_path, scratch, quin_age, never_extracted, member, reason
):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {member: quin_age})
    with pytest.raises(UnsafeArchiveMember) as error:
        load_period(conn, GP, MONTH, [archive])
    message = str(error.value)
    assert str(archive) in message and repr(member) in message and reason in message
    assert message.startswith(f"{GP.title}, 2021-01: ")
    assert _scratch_files(scratch) == []


def test_an_unsafe_name_refuses_the_archive_even_beside_a_good_member(conn, tmp_path, quin_age):
    archive = _zip(
        tmp_path / "gp-reg-pat-prac-quin-age.zip",
        {"gp-reg-pat-prac-quin-age.csv": quin_age, "../../../home/user/.bashrc": "echo owned"},
    )
    with pytest.raises(UnsafeArchiveMember, match=r"'\.\./\.\./\.\./home/user/\.bashrc', which climbs out"):
        load_period(conn, GP, MONTH, [archive])


def test_a_symbolic_link_member_is_refused(conn, tmp_path, never_extracted):
    archive = tmp_path / "gp-reg-pat-prac-quin-age.zip"
    link = zipfile.ZipInfo("gp-reg-pat-prac-quin-age.csv")
    link.create_system = 3  # Unix: the mode is in the high bits of external_attr
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(link, "/etc/passwd")
    with pytest.raises(
        UnsafeArchiveMember, match=r"'gp-reg-pat-prac-quin-age\.csv', which is a symbolic link"
    ):
        load_period(conn, GP, MONTH, [archive])


# --------------------------------------------------------------------------------------------
# 2. Archives that inflate far beyond their size
# --------------------------------------------------------------------------------------------


def test_a_member_declared_over_the_size_limit_is_refused_before_extracting(
    conn, tmp_path, scratch, monkeypatch, never_extracted
):
    monkeypatch.setenv(settings.ARCHIVE_MAX_BYTES_ENV, "1MiB")
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": b"0" * (8 * MIB)})
    with pytest.raises(ArchiveTooLarge) as error:
        load_period(conn, GP, MONTH, [archive])
    message = str(error.value)
    assert f"{archive}: refused before extracting 'q.csv': it declares 8,388,608 bytes inflated" in message
    assert "over the limit of 1,048,576 bytes (ARCHIVE_MAX_INFLATED_BYTES)" in message
    assert _scratch_files(scratch) == []


def test_a_member_declared_more_compressed_than_any_feed_is_refused_before_extracting(
    conn, tmp_path, scratch, never_extracted
):
    """8 MiB of one repeated CSV line deflate ~1,000 to 1; publishers' CSVs compress 3-15 to 1."""
    line = b"GP_PRAC_PAT_LIST,01JAN2021,GP,B81001,E38000085,HU7 4DW,MALE,0_4,12\r\n"
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": line * (8 * MIB // len(line))})
    with pytest.raises(ArchiveTooLarge) as error:
        load_period(conn, GP, MONTH, [archive])
    message = str(error.value)
    assert "refused before extracting 'q.csv'" in message
    assert "over the limit of 100 to 1 (ARCHIVE_MAX_RATIO)" in message
    assert _scratch_files(scratch) == []


def _watch_scratch(monkeypatch, scratch: Path) -> list[int]:
    """The bytes in the scratch folder each time a chunk is inflated (so after every write)."""
    seen: list[int] = []
    read = zipfile.ZipExtFile.read

    def watching(self, n=-1):
        seen.append(sum(p.stat().st_size for p in _scratch_files(scratch)))
        return read(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", watching)
    return seen


def _lie(archive: Path, offset: int, claimed: int) -> None:
    """Rewrite a size in the central directory entry of the only member (20: compressed, 24:
    inflated): headers can lie."""
    data = bytearray(archive.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + offset : central + offset + 4] = claimed.to_bytes(4, "little")
    archive.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("offset", "claimed", "expected"),
    [
        # (a CPython with the "overlapped entries" check refuses the first as such on opening it)
        (20, 8 * MIB, r"is damaged \((EOFError: its data ends before the member does|BadZipFile: Overlap)"),
        (24, 64 * 1024, r"is damaged \(BadZipFile: Bad CRC-32"),
    ],
    ids=["compressed-size-hides-the-ratio", "inflated-size-hides-the-size"],
)
def test_headers_that_lie_about_sizes_are_refused_without_inflating_past_them(
    conn, tmp_path, scratch, monkeypatch, offset, claimed, expected
):
    """8 MiB of zeros whose header claims 8 MiB compressed (1 to 1, past the archive's end) or
    64 KiB inflated: the zip reader never goes past the declared sizes, so the lie shows as damage."""
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": bytes(8 * MIB)})
    _lie(archive, offset, claimed)
    seen = _watch_scratch(monkeypatch, scratch)
    with pytest.raises(BadArchive, match=expected):
        load_period(conn, GP, MONTH, [archive])
    assert max(seen, default=0) <= min(claimed, settings.ARCHIVE_RATIO_GRACE_BYTES)
    assert _scratch_files(scratch) == []


def test_the_ratio_limit_holds_while_inflating_whatever_the_headers_say(conn, tmp_path, scratch, monkeypatch):
    """With the declared check out of the way (headers that lie, a reader that trusts them), the
    bytes actually inflated are counted against the archive's size on disk, and extraction stops at
    the first chunk past 100 to 1 (after the 1 MiB any file may inflate to)."""
    monkeypatch.setattr(archives, "check_declared", lambda *args: None)
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": bytes(8 * MIB)})
    seen = _watch_scratch(monkeypatch, scratch)
    with pytest.raises(ArchiveTooLarge) as error:
        load_period(conn, GP, MONTH, [archive])
    message = str(error.value)
    assert f"stopped after 2,097,152 bytes inflated from a {archive.stat().st_size:,}-byte archive" in message
    assert "over the limit of 100 to 1 (ARCHIVE_MAX_RATIO)" in message
    assert "its headers declared 8,388,608 bytes from" in message
    assert max(seen) <= settings.ARCHIVE_RATIO_GRACE_BYTES
    assert _scratch_files(scratch) == []


def test_the_size_limit_holds_while_inflating_whatever_the_headers_say(conn, tmp_path, scratch, monkeypatch):
    """With the declared check out of the way (a header that lies, a library that trusts it), the
    bytes actually inflated still stop at the limit, and no more than the limit is ever written."""
    monkeypatch.setenv(settings.ARCHIVE_MAX_BYTES_ENV, str(3 * MIB // 2))
    monkeypatch.setenv(settings.ARCHIVE_MAX_RATIO_ENV, "1e9")
    monkeypatch.setattr(archives, "check_declared", lambda *args: None)
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": bytes(8 * MIB)})
    seen = _watch_scratch(monkeypatch, scratch)
    with pytest.raises(
        ArchiveTooLarge, match=r"stopped after 2,097,152 bytes inflated, over the limit of 1,572,864"
    ):
        load_period(conn, GP, MONTH, [archive])
    assert 0 < max(seen) <= 3 * MIB // 2
    assert _scratch_files(scratch) == []


def test_the_limits_are_settings_with_units_and_clear_errors(monkeypatch):
    assert settings.archive_max_inflated_bytes() == 32 * 1024**3
    assert settings.archive_max_ratio() == 100
    monkeypatch.setenv(settings.ARCHIVE_MAX_BYTES_ENV, "64GiB")
    monkeypatch.setenv(settings.ARCHIVE_MAX_RATIO_ENV, "250")
    assert (settings.archive_max_inflated_bytes(), settings.archive_max_ratio()) == (64 * 1024**3, 250)
    monkeypatch.setenv(settings.ARCHIVE_MAX_BYTES_ENV, "lots")
    with pytest.raises(ValueError, match="ARCHIVE_MAX_INFLATED_BYTES='lots': expected a positive size"):
        settings.archive_max_inflated_bytes()
    monkeypatch.setenv(settings.ARCHIVE_MAX_RATIO_ENV, "0.5")
    with pytest.raises(ValueError, match=r"ARCHIVE_MAX_RATIO='0\.5'"):
        settings.archive_max_ratio()


def test_a_real_sample_archive_is_well_inside_the_limits(conn, scratch):
    (archive,) = (SAMPLE / "epd" / "2022-03").glob("*.zip")
    with zipfile.ZipFile(archive) as handle:
        (info,) = handle.infolist()
    assert info.file_size / info.compress_size < settings.DEFAULT_ARCHIVE_MAX_RATIO / 5
    with readable_csv(archive) as member:
        assert member.stat().st_size == info.file_size


# --------------------------------------------------------------------------------------------
# 3. Encrypted and corrupt archives
# --------------------------------------------------------------------------------------------


def _encrypt_flag(archive: Path) -> None:
    """Set the 'encrypted' flag bit in the local and central headers of the only member."""
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + offset
        data[at] |= 0x1
    archive.write_bytes(bytes(data))


def test_an_encrypted_member_names_the_archive_member_feed_and_month(
    conn, tmp_path, scratch, quin_age, never_extracted
):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"gp-reg-pat-prac-quin-age.csv": quin_age})
    _encrypt_flag(archive)
    with pytest.raises(BadArchive) as error:
        load_period(conn, GP, MONTH, [archive])
    assert str(error.value) == (
        f"{GP.title}, 2021-01: {archive}: the zip member 'gp-reg-pat-prac-quin-age.csv' is encrypted "
        "(password-protected); the loader takes no passwords: unzip it with the password and land "
        "the .csv itself"
    )
    assert _scratch_files(scratch) == []


def _stored_with_a_flipped_byte(path: Path, text: str) -> Path:
    _zip(path, {"q.csv": text}, method=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    data[data.find(b"PK\x03\x04") + 30 + len("q.csv") + 500] ^= 0xFF  # inside the member's data
    path.write_bytes(bytes(data))
    return path


def _deflated_and_damaged(path: Path, text: str) -> Path:
    _zip(path, {"q.csv": text})
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x03\x04") + 30 + len("q.csv")
    data[start + 100 : start + 140] = bytes(range(40))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p, t: write(p, "this is not a zip archive\r\n" * 40), "not a readable zip archive"),
        (lambda p, t: p.write_bytes(_zip(p, {"q.csv": t}).read_bytes()[:1500]) and p, "not a readable zip"),
        (_stored_with_a_flipped_byte, "the zip member 'q.csv' is damaged (BadZipFile: Bad CRC-32"),
        (_deflated_and_damaged, "the zip member 'q.csv' is damaged"),
    ],
    ids=["garbage", "truncated", "bad-crc", "damaged-deflate"],
)
def test_a_corrupt_archive_names_the_file_feed_and_month(conn, tmp_path, scratch, quin_age, damage, expected):
    archive = tmp_path / "gp-reg-pat-prac-quin-age.zip"
    damage(archive, quin_age)
    with pytest.raises(BadArchive) as error:
        load_period(conn, GP, MONTH, [archive])
    message = str(error.value)
    assert message.startswith(f"{GP.title}, 2021-01: {archive}: ")
    assert expected in message
    assert "download it again" in message
    assert _scratch_files(scratch) == []


def test_a_compression_method_python_cannot_read_is_named(conn, tmp_path, quin_age, never_extracted):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": quin_age})
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature) + offset
        data[at : at + 2] = (9).to_bytes(2, "little")  # Deflate64, as Windows writes large zips
    archive.write_bytes(bytes(data))
    with pytest.raises(BadArchive, match=r"compressed with method 9 \(Deflate64\), which Python's zipfile"):
        load_period(conn, GP, MONTH, [archive])


# --------------------------------------------------------------------------------------------
# 4. Scratch files stay beside the warehouse and are always removed
# --------------------------------------------------------------------------------------------


def test_an_archive_is_extracted_beside_the_warehouse_and_removed_after(tmp_path, scratch, quin_age):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"gp-reg-pat-prac-quin-age.csv": quin_age})
    with readable_csv(archive, GP) as member:
        assert member.is_relative_to(scratch)
        assert member.read_bytes() == quin_age.encode("latin-1")
    assert not member.exists()
    assert list(scratch.iterdir()) == []


def test_the_scratch_folder_is_removed_when_the_read_fails(conn, tmp_path, scratch, quin_age):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": quin_age})
    with pytest.raises(RuntimeError), readable_csv(archive, GP) as member:
        assert member.exists()
        raise RuntimeError("DuckDB failed")
    assert list(scratch.iterdir()) == []
    renamed = _zip(tmp_path / "renamed.zip", {"q.csv": quin_age.replace("AGE_GROUP_5", "AGE_BAND", 1)})
    with pytest.raises(UnknownSchemaVariant, match=r"renamed\.zip: the header"):  # after extraction
        load_period(conn, GP, MONTH, [renamed])
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(not (REAL_FORMATS / "fft").is_dir(), reason="real-format files not present")
def test_a_workbook_sheet_is_written_beside_the_warehouse_and_removed_after(scratch):
    with readable_csv(REAL_FORMATS / "fft" / "FFT_AE_template.xlsm", FFT_AE) as sheet:
        assert sheet.is_relative_to(scratch)
        assert sheet.read_text(encoding="utf-8").startswith("ICB Code,Trust Code")
    assert list(scratch.iterdir()) == []


# --------------------------------------------------------------------------------------------
# 5. Binary, NUL-filled and UTF-16 files; long headers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(70_000), "looks like a binary file, not text: 65,536 NUL bytes in its first 65,536 bytes"),
        (bytes(range(256)) * 300, "looks like a binary file, not text"),
        (b"PK\x03\x04" + bytes(2000), "starts as a zip archive or an Excel workbook (.xlsx) does"),
        ("utf-16", "is UTF-16LE text (it starts with a UTF-16 byte-order mark)"),
        ("utf-16-le", "looks like UTF-16LE text without a byte-order mark"),
        ("utf-16-be", "looks like UTF-16BE text without a byte-order mark"),
    ],
    ids=["nul-filled", "binary", "workbook-renamed", "utf16-bom", "utf16le-no-bom", "utf16be-no-bom"],
)
def test_a_file_that_is_not_text_says_so_with_a_short_excerpt(conn, tmp_path, quin_age, content, expected):
    data = quin_age.encode(content) if isinstance(content, str) else content
    path = tmp_path / "gp-reg-pat-prac-quin-age.csv"
    path.write_bytes(data)
    with pytest.raises(NotTextFile) as error:
        load_period(conn, GP, MONTH, [path])
    message = str(error.value)
    assert message.startswith(f"{GP.title}, 2021-01: {path}: ")
    assert expected in message
    excerpt = message.split("; it begins ", 1)[1]
    assert len(excerpt) <= 80 and excerpt.isprintable()
    assert "\x00" not in message and len(message) < 600


def test_a_nul_filled_member_of_an_archive_names_the_archive(conn, tmp_path, scratch):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {"q.csv": bytes(200_000)})
    with pytest.raises(NotTextFile, match=re.escape(f"{GP.title}, 2021-01: {archive}: looks like a binary")):
        load_period(conn, GP, MONTH, [archive])
    assert list(scratch.iterdir()) == []


def test_the_header_echo_is_capped_per_name_and_in_number(conn, tmp_path, quin_age):
    long_name = write(tmp_path / "long.csv", "X" * 70_000 + quin_age[quin_age.index(",") :])
    with pytest.raises(UnknownSchemaVariant) as error:
        load_period(conn, GP, MONTH, [long_name])
    assert "X" * 59 + "…" in str(error.value) and "X" * 61 not in str(error.value)
    assert len(str(error.value)) < 2_000
    wide = write(tmp_path / "wide.csv", ",".join(f"COLUMN_{i}" for i in range(5_000)) + "\r\n1\r\n")
    with pytest.raises(UnknownSchemaVariant) as error:
        load_period(conn, GP, MONTH, [wide])
    assert "… (4960 more)" in str(error.value)
    assert len(str(error.value)) < 4_000


# --------------------------------------------------------------------------------------------
# 6. Symbolic links in the landing folder
# --------------------------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path, quin_age) -> Path:
    """A folder beside the landing folder holding a file that looks like a delivery."""
    write(tmp_path / "outside" / "gp-reg-pat-prac-quin-age.csv", quin_age)
    return tmp_path / "outside"


def _refused_everywhere(root: Path, link: Path, target: Path) -> None:
    for call in (
        lambda: landing.files_for_period(GP, date(2022, 3, 1), root),
        lambda: landing.available_periods(GP, root),
        lambda: landing.landing_state(GP, root),
    ):
        with pytest.raises(UnsafeLandingPath) as error:
            call()
        assert str(error.value).startswith(
            f"{link}: a symbolic link to {target.resolve()}, outside the landing folder {root.resolve()}; "
            "refused"
        )


def test_a_file_linked_from_outside_the_landing_folder_is_refused(tmp_path, outside):
    root = tmp_path / "landing"
    link = root / GP.name / "2022-03" / "gp-reg-pat-prac-quin-age.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside / "gp-reg-pat-prac-quin-age.csv")
    _refused_everywhere(root, link, outside / "gp-reg-pat-prac-quin-age.csv")


def test_a_month_folder_linked_from_outside_is_refused(tmp_path, outside):
    root = tmp_path / "landing"
    link = root / GP.name / "2022-03"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside, target_is_directory=True)
    _refused_everywhere(root, link, outside)


def test_a_feed_folder_linked_from_outside_is_refused(tmp_path, quin_age):
    write(tmp_path / "elsewhere" / "2022-03" / "gp-reg-pat-prac-quin-age.csv", quin_age)
    root = tmp_path / "landing"
    root.mkdir()
    (root / GP.name).symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    _refused_everywhere(root, root / GP.name, tmp_path / "elsewhere")


def test_a_loop_of_links_is_refused(tmp_path):
    folder = tmp_path / "landing" / GP.name / "2022-03"
    folder.mkdir(parents=True)
    (folder / "gp-reg-pat-prac-quin-age.csv").symlink_to(folder / "gp-reg-pat-prac-quin-age-v2.csv")
    (folder / "gp-reg-pat-prac-quin-age-v2.csv").symlink_to(folder / "gp-reg-pat-prac-quin-age.csv")
    with pytest.raises(UnsafeLandingPath, match="a symbolic link that cannot be followed"):
        landing.files_for_period(GP, date(2022, 3, 1), tmp_path / "landing")


def test_links_inside_the_landing_folder_are_followed_and_others_not_read_are_ignored(tmp_path, quin_age):
    real_root = tmp_path / "srv" / "landing"
    march = write(real_root / GP.name / "2022-03" / "gp-reg-pat-prac-quin-age.csv", quin_age)
    april = real_root / GP.name / "2022-04"
    april.mkdir()
    (april / "gp-reg-pat-prac-quin-age.csv").symlink_to(march)  # one file filed under two months
    (real_root / GP.name / "2022-05").symlink_to(april, target_is_directory=True)
    (april / "notes.txt").symlink_to("/etc/passwd")  # not a name the feed reads: never followed
    root = tmp_path / "landing"
    root.symlink_to(real_root, target_is_directory=True)  # LANDING_DIR itself may be a link
    assert landing.available_periods(GP, root) == [date(2022, 3, 1), date(2022, 4, 1), date(2022, 5, 1)]
    assert landing.files_for_period(GP, date(2022, 4, 1), root).files == (
        root / GP.name / "2022-04" / "gp-reg-pat-prac-quin-age.csv",
    )
    assert sorted(landing.landing_state(GP, root)) == [
        "2022-03/gp-reg-pat-prac-quin-age.csv",
        "2022-04/gp-reg-pat-prac-quin-age.csv",
        "2022-05/gp-reg-pat-prac-quin-age.csv",
    ]


# --------------------------------------------------------------------------------------------
# 7. Quotes and SQL in file names and header names
# --------------------------------------------------------------------------------------------


@pytest.fixture
def warehouse_with_other_data(conn, tmp_path, quin_age):
    """A warehouse already holding another feed and another month of this one."""
    (practice_map,) = (SAMPLE / GP_PRACTICE_MAP.name / "2022-05").iterdir()
    load_period(conn, GP_PRACTICE_MAP, date(2022, 5, 1), [practice_map])
    load_period(
        conn, GP, date(2021, 2, 1), [write(tmp_path / "feb" / "gp-reg-pat-prac-quin-age.csv", quin_age)]
    )
    counts = {
        table: _count(conn, f"select count(*) from {table}")
        for table in ("raw.gp_practice_map", "raw.gp_registered_patients", "meta.load_log")
    }
    return _tables(conn), counts


def _intact(conn, before, added_rows: int = 0) -> None:
    tables, counts = before
    assert _tables(conn) == tables
    assert _count(conn, "select count(*) from raw.gp_practice_map") == counts["raw.gp_practice_map"]
    feb = "select count(*) from raw.gp_registered_patients where _period = '2021-02-01'"
    assert _count(conn, feb) == counts["raw.gp_registered_patients"]
    jan = "select count(*) from raw.gp_registered_patients where _period = '2021-01-01'"
    assert _count(conn, jan) == added_rows


HOSTILE_NAME = "gp-reg-pat-prac-quin-age x'); drop table raw.gp_registered_patients; --.csv"


def test_a_file_named_with_sql_loads_as_itself(conn, tmp_path, quin_age, warehouse_with_other_data):
    path = write(tmp_path / "landing" / GP.name / "2021-01" / HOSTILE_NAME, quin_age)
    (found,) = landing.files_for_period(GP, MONTH, tmp_path / "landing").files
    assert found == path
    result = load_period(conn, GP, MONTH, [found])
    assert result.rows_loaded == 215
    _intact(conn, warehouse_with_other_data, added_rows=215)
    assert conn.execute("select source_file from meta.load_log where _period = ?", [MONTH]).fetchall() == [
        (str(path),)
    ]
    assert conn.execute(
        "select distinct _source_file from raw.gp_registered_patients where _period = ?", [MONTH]
    ).fetchall() == [(HOSTILE_NAME,)]


def test_an_archive_member_named_with_sql_loads(conn, tmp_path, quin_age, warehouse_with_other_data):
    archive = _zip(tmp_path / "gp-reg-pat-prac-quin-age.zip", {HOSTILE_NAME: quin_age})
    assert load_period(conn, GP, MONTH, [archive]).rows_loaded == 215
    _intact(conn, warehouse_with_other_data, added_rows=215)


@pytest.mark.parametrize("name", ["gp-reg-pat-prac-quin-age[1].csv", "gp-reg-pat-prac-quin-age*.csv"])
def test_a_file_whose_name_is_a_glob_pattern_is_read_as_itself(conn, tmp_path, quin_age, name):
    """DuckDB reads its path as a glob: `[1]` would read the sibling `…age1.csv`, `*` both files."""
    folder = tmp_path / "landing" / GP.name / "2021-01"
    path = write(folder / name, quin_age)
    one_practice = "\r\n".join(quin_age.split("\r\n")[:44]) + "\r\n"
    write(folder / "gp-reg-pat-prac-quin-age1.csv", one_practice)
    result = load_period(conn, GP, MONTH, [path])
    assert (result.rows_loaded, result.rows_quarantined) == (215, 0)
    assert conn.execute("select distinct _source_file from raw.gp_registered_patients").fetchall() == [
        (name,)
    ]


def test_header_names_with_quotes_and_sql_load_in_an_extract(conn, tmp_path, warehouse_with_other_data):
    """A HES extract may carry columns the feed does not use: their names reach the reader's SQL."""
    text = sample_text(HES_APC.name, "2022-01")
    lines = text.splitlines()
    lines[0] += '|"a""b"|\'; select 1; --|x"); drop table raw.gp_practice_map; --'
    lines[1:] = [line + "|||" for line in lines[1:] if line]
    path = write(tmp_path / "HES_APC_202201.txt", "\r\n".join(lines) + "\r\n")
    plain = load_period(
        conn, HES_APC, date(2022, 1, 1), [write(tmp_path / "plain" / "HES_APC_202201.txt", text)]
    )
    result = load_period(conn, HES_APC, date(2022, 1, 1), [path])
    assert (result.rows_loaded, result.rows_quarantined) == (plain.rows_loaded, plain.rows_quarantined)
    assert result.rows_loaded > 0
    tables, counts = warehouse_with_other_data
    assert _tables(conn) == sorted([*tables, ("raw", "hes_apc")])
    assert _count(conn, "select count(*) from raw.gp_practice_map") == counts["raw.gp_practice_map"]


def test_a_header_name_with_sql_in_a_fixed_layout_is_the_usual_error(
    conn, tmp_path, quin_age, warehouse_with_other_data
):
    hostile = quin_age.replace("AGE_GROUP_5", "'; select 1; --", 1).replace("SEX", '"a""b"', 1)
    with pytest.raises(UnknownSchemaVariant) as error:
        load_period(conn, GP, MONTH, [write(tmp_path / "q.csv", hostile)])
    assert "unexpected ['a\"b', \"'; select 1; --\"]" in str(error.value)
    _intact(conn, warehouse_with_other_data)


# --------------------------------------------------------------------------------------------
# 8. Which re-delivery wins, and the rule that decided
# --------------------------------------------------------------------------------------------


def _redelivered(root: Path, log: str | None) -> tuple[Path, Path]:
    """v1 arrived first by the log but was touched last; v2 arrived later but keeps an old mtime
    (copied with its original timestamp)."""
    folder = root / GP.name / "2022-03"
    v1 = write(folder / "gp-reg-pat-prac-quin-age.csv", "a")
    v2 = write(folder / "gp-reg-pat-prac-quin-age-v2.csv", "b")
    os.utime(v1, (2_000_000_000, 2_000_000_000))
    os.utime(v2, (1_000_000_000, 1_000_000_000))
    if log is not None:
        write(root / "_receipts.csv", "feed,period,file,received_at\n" + log)
    return v1, v2


def test_the_receipt_log_decides_a_redelivery_over_modification_times(tmp_path):
    v1, v2 = _redelivered(
        tmp_path,
        f"{GP.name},2022-03,gp-reg-pat-prac-quin-age.csv,2022-04-20T09:00:00\n"
        f"{GP.name},2022-03,gp-reg-pat-prac-quin-age-v2.csv,2022-05-02T10:30:00\n",
    )
    found = landing.files_for_period(GP, date(2022, 3, 1), tmp_path)
    assert (found.files, found.superseded) == ((v2,), (v1,))
    assert found.rule == "newest by the receipt log (_receipts.csv)"
    assert found.choice == (
        "superseded ['gp-reg-pat-prac-quin-age.csv'] (newest by the receipt log (_receipts.csv))"
    )


def test_files_the_log_does_not_list_fall_back_to_modification_time_and_say_so(tmp_path):
    v1, v2 = _redelivered(
        tmp_path, f"{GP_PRACTICE_MAP.name},2022-03,gp-reg-pat-prac-map.csv,2022-04-20T09:00:00\n"
    )
    found = landing.files_for_period(GP, date(2022, 3, 1), tmp_path)
    assert (found.files, found.superseded) == ((v1,), (v2,))
    assert found.rule == "newest by modification time (not in the receipt log)"


def test_a_log_listing_one_of_them_compares_its_time_with_the_other_files_mtime(tmp_path):
    v1, _ = _redelivered(tmp_path, f"{GP.name},2022-03,gp-reg-pat-prac-quin-age-v2.csv,2022-05-02T10:30:00\n")
    found = landing.files_for_period(GP, date(2022, 3, 1), tmp_path)
    assert found.files == (v1,)  # its mtime (2033) is later than v2's logged arrival (2022)
    assert found.rule == (
        "newest by the receipt log (_receipts.csv) where it lists the file, else by modification time "
        "(not in the log: gp-reg-pat-prac-quin-age.csv)"
    )


def test_the_same_arrival_time_is_decided_by_the_later_name_and_says_so(tmp_path):
    v1, _ = _redelivered(
        tmp_path,
        f"{GP.name},2022-03,gp-reg-pat-prac-quin-age.csv,2022-05-02T10:30:00\n"
        f"{GP.name},2022-03,gp-reg-pat-prac-quin-age-v2.csv,2022-05-02T10:30:00\n",
    )
    found = landing.files_for_period(GP, date(2022, 3, 1), tmp_path)
    assert found.files == (v1,)  # "…-age.csv" sorts after "…-age-v2.csv" ("." > "-")
    assert found.rule == "same time: later name (newest by the receipt log (_receipts.csv))"
