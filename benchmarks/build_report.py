"""Time to build the full slide deck, workbook and HTML report: September 2022, all districts,
all strands, on the demo extract (written to a temporary folder when the data folder has no
records). Each build is `build_report` end to end, figures collected afresh and every chart
drawn anew (the image cache is emptied between runs). Prints a table; exits 0.

    uv run python benchmarks/build_report.py [--repeat 3] [--period 2022-09]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

from pptx import Presentation

from crimeprev.aggregate import open_database
from crimeprev.demo.generator import generate_demo
from crimeprev.periods import parse_month
from crimeprev.report import render
from crimeprev.report.content import collect
from crimeprev.report.exports import FORMATS, build_report
from crimeprev.store import data_dir, has_records
from crimeprev.view import Filters


def _data_root(scratch: Path) -> Path:
    root = data_dir()
    if has_records(root):
        return root
    print(f"No records in {root}: writing the demo extract to a temporary folder first.")
    generate_demo(scratch)
    return scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--period", default="2022-09")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = _data_root(Path(scratch))
        started = time.perf_counter()
        db = open_database(root)
        print(f"Data: {root} (opened in {time.perf_counter() - started:.1f} s)")
        print(f"Cores available: {os.cpu_count()}")
        filters = Filters(parse_month(args.period))
        timings: dict[str, list[float]] = {"collect figures only": []}
        sizes: dict[str, int] = {}
        for _ in range(args.repeat):
            started = time.perf_counter()
            collect(db, filters)
            timings["collect figures only"].append(time.perf_counter() - started)
            for suffix, export in FORMATS.items():
                render.clear_cache()
                started = time.perf_counter()
                data = build_report(db, filters, suffix)
                timings.setdefault(f"{export.label} ({suffix})", []).append(
                    time.perf_counter() - started
                )
                sizes[f"{export.label} ({suffix})"] = len(data)
                if suffix == ".pptx":
                    slides = len(Presentation(io.BytesIO(data)).slides)
        print(f"\nPeriod {args.period}, all districts, all strands; {args.repeat} runs each.")
        print(f"{'build':<28}{'median s':>10}{'min s':>8}{'size KB':>10}")
        for name, values in timings.items():
            size = f"{sizes[name] / 1024:,.0f}" if name in sizes else ""
            print(f"{name:<28}{statistics.median(values):>10.2f}{min(values):>8.2f}{size:>10}")
        print(f"The deck holds {slides} slides.")


if __name__ == "__main__":
    main()
