"""W2, W6 and W1 on the file systems users run, beside this machine's disk.

``python -m benchmarks.filesystems`` (as root: it runs ``mkfs.*`` on image files
and mounts them with ``mount -o loop``) runs the suite once per file system,
each time beside sqlite_full and the floors measured on that same file system,
and writes ``docs/benchmarks-filesystems.md``: one table per file system, plus
the full report of each run beside it (``docs/benchmarks-fs/<fs>.md``). The
tables are also put into ``docs/benchmarks.md``, between two marker comments
(added at its end the first time), so the main report shows them.

File systems: ``disk`` (the folder given by ``--dir``, this machine's disk),
ext4 with its journal (``mkfs.ext4 -O has_journal``), xfs and btrfs. Options
after ``--`` go to each ``python -m benchmarks`` run (e.g. ``-- --quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["main"]

from tradestore.persistence._spares import NO_SPARES

ROOT = Path(__file__).resolve().parents[1]
MKFS = {
    "ext4": ["mkfs.ext4", "-q", "-F", "-O", "has_journal"],
    "xfs": ["mkfs.xfs", "-q", "-f"],
    "btrfs": ["mkfs.btrfs", "-q", "-f"],
}
SYSTEMS = ("tradestore_durable,tradestore_noreuse,tradestore_append,tradestore_fast,"
           "sqlite_full,sqlite_normal")
# (workload, metric, what it is)
ROWS = [
    ("W2", "mean_ms", "W2 sequential writer: ms per awaited update"),
    ("W6", "appends_per_s", "W6 durable log appends per second"),
    ("W1", "updates_per_s", "W1 concurrent churn: updates per second"),
    ("W1", "stall_ms", "W1 largest event-loop stall, ms"),
    ("W1", "gc_ms", "W1 longest garbage-collector pass, ms"),
]
PEER = "sqlite_full"
BEGIN, END = "<!-- file systems: begin -->", "<!-- file systems: end -->"


def _embed(report: Path, tables: list[str]) -> None:
    """Put ``tables`` into ``report`` between the markers (replacing what was there)."""
    if not report.exists():
        return
    text = report.read_text(encoding="utf-8")
    block = "\n".join([BEGIN, "## Per file system", "", *tables, END])
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    report.write_text(text, encoding="utf-8")


def _run(cmd: Sequence[str]) -> None:
    subprocess.run(list(cmd), check=True)


@contextmanager
def _mounted(fs: str, scratch: Path, size: str) -> Iterator[Path]:
    """A fresh ``fs`` on an image file, loop-mounted; unmounted and removed after."""
    image = scratch / f"{fs}.img"
    mount = scratch / fs
    mount.mkdir()
    with image.open("wb") as fh:
        fh.truncate(_bytes(size))
    _run([*MKFS[fs], str(image)])
    _run(["mount", "-o", "loop", str(image), str(mount)])
    try:
        yield mount
    finally:
        _run(["umount", str(mount)])
        image.unlink()


def _bytes(size: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


def _bench(folder: Path, out: Path, extra: Sequence[str]) -> dict[str, Any]:
    """One suite run in ``folder``; its JSON."""
    cmd = [sys.executable, "-m", "benchmarks", "--dir", str(folder), "--only", "W1,W2,W6",
           "--systems", SYSTEMS, "--out", str(out), *extra]
    _run(cmd)
    data: dict[str, Any] = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    return data


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _table(fs: str, data: dict[str, Any]) -> list[str]:
    by = {(s["workload"], s["system"]): s["metrics"] for s in data["summary"]}
    systems = [s for s in SYSTEMS.split(",") if any(k[1] == s for k in by)]
    floors = sorted({k[1] for k in by if k[1].startswith("floor_")})
    head = [*systems, *floors]
    lines = [f"### {fs}", "", "| | " + " | ".join(head) + " |",
             "|---|" + "---:|" * len(head)]
    for workload, metric, label in ROWS:
        peer = by.get((workload, PEER), {}).get(metric)
        cells = []
        for name in head:
            value = by.get((workload, name), {}).get(metric)
            if value is None:
                cells.append("")
                continue
            ratio = ""
            if peer and name != PEER:
                ratio = f" ({value / peer:.2f}x)"
            cells.append(f"{_fmt(value)}{ratio}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"Ratios are to {PEER} in the same run (for ms, below 1 is faster; for rates, "
              "above 1 is faster). Full report: "
              f"[benchmarks-fs/{fs}.md](benchmarks-fs/{fs}.md)."]
    if fs in NO_SPARES:
        lines.append("Spares are off by default here, so tradestore_durable and "
                     "tradestore_noreuse run the same code: their difference is this run's noise.")
    return [*lines, ""]


def _header(argv: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The report's title and the command that made it (a note named only if it is there)."""
    noted = [fs for fs in wanted if fs in NO_SPARES]
    see = f" (see the note under {', '.join(noted)})" if noted else ""
    return ["# Benchmarks per file system", "",
            f"`python -m benchmarks.filesystems {' '.join(argv)}`: W2, W6 and W1, each file "
            "system in its own run beside sqlite_full and the floors. Compare within a table "
            f"only; a run on a machine busy with other work is noisy{see}.", ""]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite per file system and write the combined report."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.filesystems", description=__doc__)
    p.add_argument("--dir", type=Path, default=ROOT / "benchmarks" / ".work",
                   help="this machine's disk: the folder of the 'disk' run")
    p.add_argument("--fs", default="disk,ext4,xfs,btrfs", help="file systems to run")
    p.add_argument("--size", default="4G", help="size of each image file")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-filesystems.md")
    p.add_argument("--rerender", action="store_true",
                   help="rebuild the tables from the last run's JSON files, running nothing")
    p.add_argument("extra", nargs="*", help="options for each benchmark run (after --)")
    args = p.parse_args(argv)
    wanted = args.fs.split(",")
    loop = [fs for fs in wanted if fs != "disk"]
    if loop and os.geteuid() != 0:
        p.error("loop mounts need root; run with --fs disk otherwise")
    missing = [MKFS[fs][0] for fs in loop if shutil.which(MKFS[fs][0]) is None]
    if missing:
        p.error(f"missing: {', '.join(missing)}")
    reports = args.out.parent / "benchmarks-fs"
    reports.mkdir(parents=True, exist_ok=True)
    lines = _header(argv or sys.argv[1:], wanted)
    if args.rerender:
        if args.out.exists():  # keep the header naming the command that ran
            lines = args.out.read_text(encoding="utf-8").splitlines()[:4]
        for fs in wanted:
            lines += _table(fs, json.loads((reports / f"{fs}.json").read_text(encoding="utf-8")))
        args.out.write_text("\n".join(lines), encoding="utf-8")
        _embed(args.out.parent / "benchmarks.md", lines[2:])
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir="/var/tmp", prefix="tradestore-fs-") as tmp:
        for fs in wanted:
            out = reports / f"{fs}.md"
            if fs == "disk":
                data = _bench(args.dir, out, args.extra)
            else:
                with _mounted(fs, Path(tmp), args.size) as mount:
                    data = _bench(mount, out, args.extra)
            lines += _table(fs, data)
            args.out.write_text("\n".join(lines), encoding="utf-8")
    _embed(args.out.parent / "benchmarks.md",
           lines[2:])
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
