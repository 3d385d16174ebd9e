"""Where things live. One place resolves every path so Python, dbt and the tests agree.

`WAREHOUSE_PATH` names the DuckDB file for both Dagster's resource and dbt's `profiles.yml`;
`LANDING_DIR` is where publisher files arrive (`<feed>/<YYYY-MM>/<file as published>`).
Relative values are taken from the repository root, so `make`, `dagster dev` and pytest
(run from anywhere) point at the same files.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SEEDS_DIR = REPO_ROOT / "seeds"
SAMPLE_LANDING_DIR = SEEDS_DIR / "landing"  # the shipped sample, in the publishers' formats

WAREHOUSE_ENV = "WAREHOUSE_PATH"
LANDING_ENV = "LANDING_DIR"
REPORTS_ENV = "REPORTS_DIR"
PUBLISH_ENV = "PUBLISH_DIR"
RESTRICTED_PUBLISH_ENV = "RESTRICTED_PUBLISH_DIR"
RELEASES_KEPT_ENV = "RELEASES_KEPT"
SHARE_ENV = "SHARE_DIR"
SHARE_SCOPES_ENV = "SHARE_SCOPES"
DEFAULT_SHARE_SCOPES = "england,icb"
AGREEMENT_ENV = "SHARE_DATA_SHARING_AGREEMENT"
PACK_DIR_ENV = "PACK_DIR"
PACK_PDF_ENV = "PACK_PDF"
PACK_PDF_CHOICES = ("all", "none")
DEFAULT_WAREHOUSE = "warehouse/commissioning.duckdb"
DEFAULT_LANDING = "seeds/landing"
DEFAULT_REPORTS = "reports"
DEFAULT_RELEASES_KEPT = 3

# The first month of the monthly partitions. Earlier publisher files are still loadable by
# widening this; the shipped sample starts here.
PARTITIONS_START = os.environ.get("PARTITIONS_START", "2021-01-01")


def _resolve(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


# DuckDB takes 80% of RAM by default; a national month of EPD (17M rows) staged in memory then
# peaks near 19 GB. Capped, DuckDB spills to `<warehouse>.tmp` instead. Insertion order is not
# kept for large inserts (every raw row carries its file and line).
MEMORY_LIMIT_ENV = "DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "6GB"


def duckdb_config() -> dict[str, object]:
    """Settings for every warehouse connection (loaders, checks, the Dagster resource; dbt's
    profile sets the same from the same variable)."""
    return {
        "memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
        "preserve_insertion_order": False,
    }


def warehouse_path() -> Path:
    """The DuckDB warehouse file, read from the environment at call time (tests override it)."""
    return _resolve(os.environ.get(WAREHOUSE_ENV, DEFAULT_WAREHOUSE))


def scratch_dir() -> Path:
    """Where zip members and workbook sheets are written for DuckDB to read: `tmp/` beside the
    warehouse file. The warehouse's folder is where the disk space (an EPD month is ~7 GB of
    CSV) and the access control for patient-level data were provisioned; the system /tmp is
    often a small RAM disk that other users can list."""
    return warehouse_path().parent / "tmp"


def dbt_target_dir() -> Path:
    """dbt's target folder for this warehouse's builds: its partial parse, manifest and run
    results, kept beside the warehouse so the next run re-parses only what changed."""
    warehouse = warehouse_path()
    return warehouse.parent / f"{warehouse.stem}.dbt_target"


# Limits on what a zip archive may inflate to (orchestration/lib/archives.py). Real feeds stay far
# below both: a national EPD month is ~6-8 GB of CSV, and publisher CSVs compress 3-15 to 1 (the
# real-format samples: 3.1 for HES, up to 11.9 for the GP practice map). A deflate bomb reaches
# ~1,000 to 1. The ratio is judged once more than ARCHIVE_RATIO_GRACE_BYTES are inflated: a
# small file's ratio says nothing.
ARCHIVE_MAX_BYTES_ENV = "ARCHIVE_MAX_INFLATED_BYTES"
DEFAULT_ARCHIVE_MAX_BYTES = 32 * 1024**3  # 32 GiB: four times a national EPD month
ARCHIVE_MAX_RATIO_ENV = "ARCHIVE_MAX_RATIO"
DEFAULT_ARCHIVE_MAX_RATIO = 100.0
ARCHIVE_RATIO_GRACE_BYTES = 1024**2

_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def _byte_count(name: str, value: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", value.lower())
    if not match or match[2] not in _UNITS or float(match[1]) <= 0:
        raise ValueError(f"{name}={value!r}: expected a positive size in bytes, e.g. 34359738368 or 32GiB")
    return int(float(match[1]) * _UNITS[match[2]])


def archive_max_inflated_bytes() -> int:
    """The most one zip member may inflate to, declared or actually read."""
    value = os.environ.get(ARCHIVE_MAX_BYTES_ENV, "").strip()
    return _byte_count(ARCHIVE_MAX_BYTES_ENV, value) if value else DEFAULT_ARCHIVE_MAX_BYTES


def _number(name: str, default: float, *, at_least: float, expected: str) -> float:
    """A numeric setting from the environment, or a clear error naming the variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number >= at_least:  # also refuses nan
        raise ValueError(f"{name}={value!r}: expected {expected}")
    return number


def archive_max_ratio() -> float:
    """The most a zip member may inflate per byte of archive (declared or actually read)."""
    return _number(
        ARCHIVE_MAX_RATIO_ENV,
        DEFAULT_ARCHIVE_MAX_RATIO,
        at_least=1,
        expected="a ratio of at least 1 (e.g. 100)",
    )


LOCK_WAIT_ENV = "WAREHOUSE_LOCK_WAIT_SECONDS"
DEFAULT_LOCK_WAIT_SECONDS = 60.0


def lock_wait_seconds() -> float:
    """How long a connection waits for another process to release the warehouse."""
    return _number(
        LOCK_WAIT_ENV, DEFAULT_LOCK_WAIT_SECONDS, at_least=0, expected="a number of seconds, 0 or more"
    )


ACCEPT_SMALLER_ENV = "ACCEPT_SMALLER_DELIVERY"


def accepted_smaller_deliveries() -> set[str]:
    """`<feed>/<YYYY-MM>` re-deliveries allowed to be much smaller than the load they replace."""
    return {item.strip() for item in os.environ.get(ACCEPT_SMALLER_ENV, "").split(",") if item.strip()}


def landing_dir() -> Path:
    """The landing folder that loaders and the sensor read from."""
    return _resolve(os.environ.get(LANDING_ENV, DEFAULT_LANDING))


def reports_dir() -> Path:
    """Where the gap report and the GX Data Docs are written (static HTML, opens without a server)."""
    return _resolve(os.environ.get(REPORTS_ENV, DEFAULT_REPORTS))


def publish_dir() -> Path:
    """Where the published releases for BI tools live (the open release: no patient-level rows);
    by default `published/` beside the warehouse file."""
    value = os.environ.get(PUBLISH_ENV, "").strip()
    return _resolve(value) if value else warehouse_path().parent / "published"


def restricted_publish_dir() -> Path | None:
    """Where the access-controlled release goes (record-level facts included); None: not built."""
    value = os.environ.get(RESTRICTED_PUBLISH_ENV, "").strip()
    return _resolve(value) if value else None


def share_dir() -> Path:
    """Where shared packages are written; by default `packages/` beside the warehouse file."""
    value = os.environ.get(SHARE_ENV, "").strip()
    return _resolve(value) if value else warehouse_path().parent / "packages"


def share_scopes() -> list[str]:
    """Which packages every run builds: `england`, `icb` (each ICB of the release), `sub_icb`
    (each sub-ICB location), `all`, or scopes such as `icb:QWO`, comma-separated."""
    value = os.environ.get(SHARE_SCOPES_ENV, DEFAULT_SHARE_SCOPES)
    scopes = [part.strip() for part in value.split(",") if part.strip()]
    return ["england", "icb", "sub_icb"] if scopes == ["all"] else scopes


def data_sharing_agreement() -> str:
    """The agreement record-level extracts (HES, SUS, ECDS) were supplied under, named in every
    package holding figures derived from them."""
    return os.environ.get(AGREEMENT_ENV, "").strip() or (
        "the data-sharing agreement under which the HES/SUS/ECDS extracts were supplied "
        f"(name it in {AGREEMENT_ENV})"
    )


def pack_dir() -> Path:
    """Where the commissioning pack is written; by default `reports/pack`."""
    value = os.environ.get(PACK_DIR_ENV, "").strip()
    return _resolve(value) if value else reports_dir() / "pack"


def pack_pdf() -> str:
    """Whether the pack prints a PDF of every page (`all`, the default) or only writes the HTML
    (`none`: the PDFs take most of a national pack's time)."""
    value = os.environ.get(PACK_PDF_ENV, "all").strip().lower() or "all"
    if value not in PACK_PDF_CHOICES:
        raise ValueError(f"{PACK_PDF_ENV}={value!r}: expected one of {', '.join(PACK_PDF_CHOICES)}")
    return value


def releases_kept() -> int:
    """How many releases stay on disk for readers mid-query (the current one included)."""
    value = os.environ.get(RELEASES_KEPT_ENV, str(DEFAULT_RELEASES_KEPT))
    try:
        kept = int(value)
    except ValueError:
        raise ValueError(
            f"{RELEASES_KEPT_ENV}={value!r}: expected a whole number of releases (at least 1)"
        ) from None
    if kept < 1:
        raise ValueError(f"{RELEASES_KEPT_ENV}={value!r}: at least 1 release must be kept (the current one)")
    return kept


def export_environment() -> None:
    """Pin absolute paths and telemetry switches into the environment dbt subprocesses inherit.

    dbt reads `WAREHOUSE_PATH` through `env_var()`; it runs with the dbt project as its working
    directory, so a relative path would land in the wrong place.
    """
    warehouse = warehouse_path()
    # DuckDB creates the file but not its folder; Dagster's resource would retry for minutes.
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ[WAREHOUSE_ENV] = str(warehouse)
    os.environ[LANDING_ENV] = str(landing_dir())
    os.environ[REPORTS_ENV] = str(reports_dir())
    os.environ[PUBLISH_ENV] = str(publish_dir())
    # dagster-dbt calls `dbt` by name (e.g. `prepare_if_dev` under `dagster dev`): make the dbt
    # installed beside this interpreter findable even when the venv is not activated.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    # Dagster splits the unpartitioned dbt asset into several steps around the monthly models. dbt's
    # default "eager" selection would then run a relationships test in the step that builds only
    # one of its two parents; "buildable" waits until both exist.
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
