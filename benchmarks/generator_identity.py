"""Does a change to the generator keep its output? Generate before and after, then compare.

    .venv/bin/python benchmarks/generator_identity.py generate --out /tmp/synth_before [--cases ...]
    # … change the generator …
    .venv/bin/python benchmarks/generator_identity.py generate --out /tmp/synth_after
    .venv/bin/python benchmarks/generator_identity.py compare /tmp/synth_before /tmp/synth_after

Cases (each a landing folder under --out, with its wall time in `timings.json`):
- `sample`: exactly what `make sample` runs (`cw-synth sample`);
- `national_month`: `cw-synth national --start 2024-04 --end 2024-04`, the smallest national run the
  CLI offers (~8 GB, ~4 min: check `df` first); every record-level writer at national volume;
- `national_small`: the national code paths over 39 months (2022-01 … 2025-03) for 4 sub-ICB
  locations of 6 practices each (~1.2 GB), through the Python API: the reference, survey and QOF
  writers at national scale, the July 2022 sub-ICB switch, the 2025 practice-map and EPD layouts,
  and QOF's regional achievement files.

`compare` requires every file byte-identical, except a zip archive whose bytes differ while its
members (names and contents) are equal, which it reports. A tree may differ in one way only: the
QOF consolidation (issue #16), where `_manifest_qof.json` and the QOF feed folders' own
`_receipts.csv` of the tree before are folded into the shared `_manifest.json` and `_receipts.csv`
after. It then checks that they carry the same facts: the manifest after, less its QOF gaps, is the
manifest before; its QOF gaps are the QOF manifest's; the receipt log after is the log before plus
the QOF folders' rows, sorted. Exit status 1 on any other difference.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import io
import json
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

CASES = ("sample", "national_month", "national_small")
QOF_FEEDS = ("qof_prevalence", "qof_achievement")


def _generate_case(case: str, out: Path) -> None:
    from orchestration.synth.cli import main as cli

    if case == "sample":
        cli(["sample", "--out", str(out), "--quiet"])
    elif case == "national_month":
        cli(["national", "--start", "2024-04", "--end", "2024-04", "--out", str(out), "--quiet"])
    else:
        from orchestration.synth import geography
        from orchestration.synth.generate import generate

        try:
            from orchestration.synth.plan import Plan
        except ImportError:  # the generator before issue #16 kept Plan in generate.py
            from orchestration.synth.generate import Plan
        plan = Plan(
            "national", date(2022, 1, 1), date(2025, 3, 1), 20130401, geography.SAMPLE_SUB_ICBS[:4], 6
        )
        generate(plan, out, progress=False)


def generate(out: Path, cases: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    timings_path = out / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    for case in cases:
        target = out / case
        if target.exists():
            raise SystemExit(f"{target} exists: remove it first (the comparison needs a fresh tree)")
        started = time.perf_counter()
        _generate_case(case, target)
        timings[case] = round(time.perf_counter() - started, 1)
        print(f"{case}: {timings[case]} s → {target}", file=sys.stderr)
        timings_path.write_text(json.dumps(timings, indent=1) + "\n")


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _zip_members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _receipt_rows(text: str) -> tuple[list[str], list[tuple[str, ...]]]:
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, [tuple(r) for r in rows]


def _qof_consolidation(before: Path, after: Path, problems: list[str]) -> list[str]:
    """Check the one allowed difference; return the paths it accounts for."""
    qof_manifest = before / "_manifest_qof.json"
    folder_logs = [
        f"{feed}/_receipts.csv" for feed in QOF_FEEDS if (before / feed / "_receipts.csv").is_file()
    ]
    apart = [name for name in ("_manifest_qof.json", *folder_logs) if (before / name).is_file()]
    if not apart or any((after / name).exists() for name in apart):
        return []  # nothing to consolidate, or both trees keep QOF apart: compared file by file
    accounted = ["_manifest.json", "_receipts.csv", *folder_logs]
    if qof_manifest.is_file():
        accounted.append("_manifest_qof.json")
        old, old_qof = (json.loads(p.read_text()) for p in (before / "_manifest.json", qof_manifest))
        new = json.loads((after / "_manifest.json").read_text())
        qof_gaps = [g for g in new["gaps"] if g["feed"] in QOF_FEEDS]
        rest = {**new, "gaps": [g for g in new["gaps"] if g["feed"] not in QOF_FEEDS]}
        if rest != old:
            problems.append("_manifest.json: differs from before in more than its QOF gaps")
        if qof_gaps != old_qof["gaps"]:
            problems.append("_manifest.json: its QOF gaps are not _manifest_qof.json's")
        for key in ("generator_version", "scale", "seed"):
            if old_qof[key] != new[key]:
                problems.append(
                    f"_manifest.json: {key} {new[key]!r}, _manifest_qof.json said {old_qof[key]!r}"
                )
        print(
            f"  _manifest.json: the manifest before plus the {len(qof_gaps)} QOF gaps of _manifest_qof.json"
        )
    header, rows = _receipt_rows((before / "_receipts.csv").read_text())
    qof_rows = []
    for name in folder_logs:
        folder_header, folder_rows = _receipt_rows((before / name).read_text())
        if folder_header != header:
            problems.append(f"{name}: header {folder_header}, the landing log's is {header}")
        qof_rows += folder_rows
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sorted(rows + qof_rows))
    if (after / "_receipts.csv").read_text() != expected.getvalue():
        problems.append("_receipts.csv: not the log before plus the QOF folders' rows, sorted")
    print(f"  _receipts.csv: the log before ({len(rows)} rows) plus the QOF folders' {len(qof_rows)} rows")
    return accounted


def compare(before: Path, after: Path) -> bool:
    """Compare every case present in `before`; print what differs; True when only allowed."""
    ok = True
    for case in sorted(p.name for p in before.iterdir() if p.is_dir()):
        old, new = before / case, after / case
        print(f"{case}:")
        if not new.is_dir():
            print(f"  missing from {after}")
            ok = False
            continue
        problems: list[str] = []
        accounted = set(_qof_consolidation(old, new, problems))
        old_files, new_files = _files(old), _files(new)
        problems += [f"{p}: only before" for p in sorted(old_files - new_files - accounted)]
        problems += [f"{p}: only after" for p in sorted(new_files - old_files - accounted)]
        identical = zip_equal = 0
        for name in sorted((old_files & new_files) - accounted):
            if filecmp.cmp(old / name, new / name, shallow=False):
                identical += 1
            elif name.endswith(".zip") and _zip_members(old / name) == _zip_members(new / name):
                zip_equal += 1
                print(f"  {name}: archive bytes differ, members identical")
            else:
                problems.append(f"{name}: content differs")
        print(
            f"  {identical} files byte-identical, {zip_equal} zip archives equal by member, "
            f"{len(accounted)} accounted for by the QOF consolidation"
        )
        for problem in problems:
            print(f"  DIFFERENT {problem}")
        ok = ok and not problems
    timings = [
        json.loads(p.read_text()) if p.exists() else {}
        for p in (before / "timings.json", after / "timings.json")
    ]
    for case in sorted(set(timings[0]) & set(timings[1])):
        print(f"time {case}: {timings[0][case]} s before, {timings[1][case]} s after")
    print("IDENTICAL (but for the QOF consolidation)" if ok else "DIFFERENT")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the cases into OUT/<case>")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    cmp_ = sub.add_parser("compare", help="compare BEFORE/<case> with AFTER/<case>")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "generate":
        generate(args.out, args.cases)
        return 0
    return 0 if compare(args.before, args.after) else 1


if __name__ == "__main__":
    raise SystemExit(main())
