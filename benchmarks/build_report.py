"""Time to build the full slide deck, workbook and HTML report: September 2022, all districts,
all strands, on the demo extract (written to a temporary folder when the data folder has no
records). Each build is `build_report` end to end, figures collected afresh and every chart
drawn anew (the image cache is emptied between runs).

The deck is built three ways in each round, side by side: its charts drawn one after another in
this process (as before painters), drawn by painter processes started for it (cold), and by
painters already running (warm, a second deck within two minutes). Each line carries the CPU
seconds of this process and of the painters, and the load average. Prints a table; exits 0.

    uv run python benchmarks/build_report.py [--repeat 3] [--period 2022-09]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pptx import Presentation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import cpu_seconds, load, load_text  # noqa: E402
from crimeprev.aggregate import open_database  # noqa: E402
from crimeprev.demo.generator import generate_demo  # noqa: E402
from crimeprev.periods import parse_month  # noqa: E402
from crimeprev.report import render  # noqa: E402
from crimeprev.report.content import collect  # noqa: E402
from crimeprev.report.exports import FORMATS, build_report  # noqa: E402
from crimeprev.store import data_dir, has_records  # noqa: E402
from crimeprev.view import View  # noqa: E402


def _data_root(scratch: Path) -> Path:
    root = data_dir()
    if has_records(root):
        return root
    print(f"No records in {root}: writing the demo extract to a temporary folder first.")
    generate_demo(scratch)
    return scratch


def _painters_cpu() -> float:
    return sum(cpu_seconds(p.process.pid) for p in render.PAINTERS._idle)


def _timed(build: Callable[[], bytes]) -> tuple[float, float, float, bytes]:
    """Seconds, this process's CPU seconds, the painters' CPU seconds, and the file."""
    painters_before = _painters_cpu()
    cpu_before = time.process_time()
    started = time.perf_counter()
    data = build()
    seconds = time.perf_counter() - started
    return seconds, time.process_time() - cpu_before, _painters_cpu() - painters_before, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--period", default="2022-09")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = _data_root(Path(scratch))
        started = time.perf_counter()
        db = open_database(root)
        print(f"Data: {root} (opened in {time.perf_counter() - started:.1f} s); {load_text()}")
        filters = View(parse_month(args.period))
        timings: dict[str, list[tuple[float, float, float]]] = {}
        sizes: dict[str, int] = {}
        slides = 0
        parallel_from = render.PARALLEL_FROM

        def record(name: str, build: Callable[[], bytes]) -> bytes:
            render.clear_cache()
            seconds, cpu, painters, data = _timed(build)
            timings.setdefault(name, []).append((seconds, cpu, painters))
            sizes[name] = len(data)
            print(
                f"  {name:<34} {seconds:6.2f} s  CPU {cpu:5.2f} s here + {painters:5.2f} s "
                f"in painters  load {load()}",
                flush=True,
            )
            return data

        for round_number in range(args.repeat):
            print(f"round {round_number + 1}")
            record("collect figures only", lambda: (collect(db, filters), b"")[1])
            render.PARALLEL_FROM = 10**9
            record("deck, charts one by one", lambda: build_report(db, filters, ".pptx"))
            render.PARALLEL_FROM = parallel_from
            render.PAINTERS.close()
            record("deck, painters started for it", lambda: build_report(db, filters, ".pptx"))
            data = record("deck, painters running", lambda: build_report(db, filters, ".pptx"))
            slides = len(Presentation(io.BytesIO(data)).slides)
            for suffix, export in FORMATS.items():
                if suffix != ".pptx":
                    record(
                        f"{export.label} ({suffix})",
                        lambda suffix=suffix: build_report(db, filters, suffix),
                    )
        render.PAINTERS.close()
        print(f"\nPeriod {args.period}, all districts, all strands; {args.repeat} runs each.")
        print(f"{'build':<34}{'median s':>10}{'min s':>8}{'CPU s':>7}{'painters':>10}{'KB':>8}")
        for name, values in timings.items():
            size = f"{sizes[name] / 1024:,.0f}" if name.startswith(("deck", "Work", "HTML")) else ""
            print(
                f"{name:<34}{statistics.median(v[0] for v in values):>10.2f}"
                f"{min(v[0] for v in values):>8.2f}"
                f"{statistics.median(v[1] for v in values):>7.2f}"
                f"{statistics.median(v[2] for v in values):>10.2f}{size:>8}"
            )
        print(f"The deck holds {slides} slides. At the end: {load_text()}.")


if __name__ == "__main__":
    main()
