"""Many officers at once: concurrent browser sessions against one dashboard process and against
several processes behind nginx (`make serve`), one after the other in one run.

Each simulated officer is a Chromium page of its own (one browser, one context each) that, for
the duration, opens a strand page with a period and strand drawn at random and waits for its
first chart, then the next. Every view is a new Streamlit session. For each setup it prints the
views done, seconds to chart (p50, p95, max), errors (a view that showed a Python exception or
drew no chart within the time limit), the server's memory (peak resident, summed over workers)
and CPU seconds, and the load average. Chromium runs on the same machine and takes its share
of the cores, so the times are pessimistic. Everything listens on 127.0.0.1.

    uv run python benchmarks/sessions.py [--sessions 30] [--seconds 120] [--workers 4]

Figures, not tests; exits 0. The number of sessions is capped at 40 and each view at
--view-timeout seconds, so a run ends within --seconds plus one view.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import (  # noqa: E402
    CHART,
    CHROMIUM,
    CHROMIUM_FLAGS,
    ROOT,
    cpu_seconds,
    dashboard,
    free_port,
    load,
    load_text,
    rss_mb,
    wait_healthy,
)
from crimeprev.aggregate import open_database  # noqa: E402
from crimeprev.demo.generator import generate_demo  # noqa: E402
from crimeprev.figures.insight import covered_months  # noqa: E402
from crimeprev.periods import format_month  # noqa: E402
from crimeprev.store import data_dir, has_records  # noqa: E402

MAX_SESSIONS = 40


def _children(pid: int) -> list[int]:
    """Every descendant of the process (the workers and nginx under `deploy.serve`)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


class Target:
    """A running setup: its address and the processes whose memory and CPU count."""

    def __init__(self, base: str, pids: list[int]) -> None:
        self.base, self.pids = base, pids

    def memory_mb(self) -> dict[str, float]:
        alive = [pid for pid in self.pids if Path(f"/proc/{pid}").exists()]
        return {
            "peak_rss_mb_summed": round(sum(rss_mb(pid, "VmHWM") for pid in alive)),
            "rss_mb_summed": round(sum(rss_mb(pid) for pid in alive)),
        }

    def cpu_s(self) -> float:
        alive = [pid for pid in self.pids if Path(f"/proc/{pid}").exists()]
        return sum(cpu_seconds(pid) for pid in alive)


@contextmanager
def one_process(root: Path, logs: Path) -> Iterator[Target]:
    with dashboard(root, logs / "one-process.log", warm=True) as server:
        yield Target(server.base, [server.process.pid])


@contextmanager
def proxied(root: Path, logs: Path, workers: int) -> Iterator[Target]:
    port = free_port()
    with (logs / "serve.log").open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "deploy.serve", "--workers", str(workers), "--port", str(port)]
            + ["--run-dir", str(logs / "nginx")],
            cwd=ROOT,
            env=os.environ | {"CRIMEPREV_DATA_DIR": str(root)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, process, timeout=600)
            workers_and_nginx = _children(process.pid)
            yield Target(base, workers_and_nginx)
        finally:
            process.terminate()
            process.wait(timeout=60)


async def officer(
    browser: Any,
    urls: list[str],
    until: float,
    view_timeout_ms: int,
    seed: int,
    times: list[float],
    errors: list[str],
) -> None:
    """One simulated officer: views one after another until the time is up."""
    chooser = random.Random(seed)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(view_timeout_ms)
    try:
        while time.monotonic() < until:
            url = chooser.choice(urls)
            started = time.perf_counter()
            try:
                await page.goto(url)
                main = page.get_by_test_id("stMain")
                await main.locator(CHART).first.wait_for(state="visible")
                seconds = time.perf_counter() - started
                if await page.get_by_test_id("stException").count():
                    errors.append(f"exception shown on {url}")
                else:
                    times.append(seconds)
            except Exception as error:  # a timeout or a dropped connection: one error
                errors.append(f"{type(error).__name__} on {url}")
    finally:
        await context.close()


async def drive(base: str, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    times: list[float] = []
    errors: list[str] = []
    urls = [base + path for path in paths]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        until = time.monotonic() + args.seconds
        await asyncio.gather(
            *(
                officer(browser, urls, until, args.view_timeout * 1000, n, times, errors)
                for n in range(args.sessions)
            )
        )
        await browser.close()
    result: dict[str, Any] = {"views": len(times), "errors": len(errors)}
    if times:
        values = np.array(times)
        result |= {
            "p50_s": round(float(np.percentile(values, 50)), 2),
            "p95_s": round(float(np.percentile(values, 95)), 2),
            "max_s": round(float(values.max()), 2),
        }
    if errors:
        result["first_errors"] = errors[:3]
    return result


def measure(label: str, target: Target, paths: list[str], args: argparse.Namespace) -> Any:
    before, cpu = load(), target.cpu_s()
    result = asyncio.run(drive(target.base, paths, args))
    result |= target.memory_mb()
    result |= {"server_cpu_s": round(target.cpu_s() - cpu, 1), "load_before": before}
    result["load_after"] = load()
    print(f"{label}: {result}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--view-timeout", type=int, default=120, help="seconds for one view")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--only", choices=["one", "proxied"])
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        print(f"Chromium is not installed ({CHROMIUM}): nothing measured.")
        return 0
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be between 1 and {MAX_SESSIONS}")
    logs = Path(tempfile.mkdtemp(prefix="crimeprev-sessions-"))
    root = args.data_dir or data_dir()
    if not has_records(root):
        root = logs / "data"
        print(f"No records in the data folder: writing the demo extract to {root} first.")
        generate_demo(root)
    db = open_database(root)  # brings the monthly tables up to date before any server starts
    periods = [format_month(m) for m in covered_months(db)[-24:]]
    strands = [s.id for s in db.config.strands if s.measures]
    chooser = random.Random(14)
    paths = [
        f"/strand?strand={chooser.choice(strands)}&period={chooser.choice(periods)}"
        for _ in range(40)
    ]
    print(
        f"{args.sessions} sessions for {args.seconds:g} s on {root}; {load_text()}; logs in {logs}",
        flush=True,
    )
    results = {}
    if args.only in (None, "one"):
        with one_process(root, logs) as target:
            results["one process"] = measure("one process", target, paths, args)
    if args.only in (None, "proxied"):
        with proxied(root, logs, args.workers) as target:
            label = f"{args.workers} workers behind nginx"
            results[label] = measure(label, target, paths, args)
    print(f"\n{'setup':<26}{'views':>6}{'p50 s':>7}{'p95 s':>7}{'errors':>7}{'MB':>7}{'CPU s':>7}")
    for label, result in results.items():
        print(
            f"{label:<26}{result['views']:>6}{result.get('p50_s', '-'):>7}"
            f"{result.get('p95_s', '-'):>7}{result['errors']:>7}"
            f"{result['peak_rss_mb_summed']:>7}{result['server_cpu_s']:>7}"
        )
    print(f"At the end: {load_text()}. MB is the peak resident memory, summed over processes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
