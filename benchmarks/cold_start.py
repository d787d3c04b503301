"""The first chart from a cold server: plain `streamlit run app.py` against the warm start of
`python -m ui.serve` (what `make run` and `make serve` use), side by side in one run.

Each round starts the server afresh (alternating plain and warm, so a change in the machine's
load falls on both), waits for `/_stcore/health`, then opens a strand page in Chromium and
waits for its first chart. For each start it prints: seconds to healthy, seconds from the
browser's request to the chart, seconds from the process start to the chart, the server's CPU
seconds by then (and how many of them came after the health check, which the load
average does not stretch), and the load average. Figures, not tests; exits 0.

    uv run python benchmarks/cold_start.py [--rounds 3] [--data-dir /tmp/...] [--strand rape]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import (  # noqa: E402
    CHART,
    CHROMIUM,
    CHROMIUM_FLAGS,
    cpu_seconds,
    dashboard,
    load,
    load_text,
)
from crimeprev.demo.generator import generate_demo  # noqa: E402
from crimeprev.store import data_dir, has_records  # noqa: E402


def one_start(browser: Any, root: Path, warm: bool, strand: str, log: Path) -> dict[str, Any]:
    before = load()
    with dashboard(root, log, warm=warm) as server:
        cpu_ready = cpu_seconds(server.process.pid)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(300_000)
        asked = time.perf_counter()
        page.goto(f"{server.base}/strand?strand={strand}")
        page.locator(CHART).first.wait_for(state="visible")
        drawn = time.perf_counter()
        cpu = cpu_seconds(server.process.pid)
        context.close()
    return {
        "healthy_s": round(server.healthy_after, 2),
        "request_to_chart_s": round(drawn - asked, 2),
        "start_to_chart_s": round(drawn - server.started, 2),
        "server_cpu_s": round(cpu, 1),
        "session_cpu_s": round(cpu - cpu_ready, 2),
        "load_before": before,
        "load_after": load(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--strand", default="knife-crime")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        print(f"Chromium is not installed ({CHROMIUM}): nothing measured.")
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="crimeprev-cold-"))
    root = args.data_dir or data_dir()
    if not has_records(root):
        print(f"No records in {root}: writing the demo extract to {scratch / 'data'} first.")
        root = scratch / "data"
        generate_demo(root)
    print(f"Data: {root}; {load_text()}")
    results: dict[str, list[dict[str, Any]]] = {"streamlit run": [], "ui.serve (warm)": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        for round_number in range(args.rounds):
            for label, warm in (("streamlit run", False), ("ui.serve (warm)", True)):
                log = scratch / f"{'warm' if warm else 'plain'}-{round_number}.log"
                result = one_start(browser, root, warm, args.strand, log)
                results[label].append(result)
                print(f"round {round_number + 1} {label:<16} {result}", flush=True)
        browser.close()
    print(f"\nFirst chart from a cold server, {args.rounds} starts each (medians):")
    print(
        f"{'server':<18}{'healthy s':>10}{'request→chart s':>17}{'start→chart s':>15}"
        f"{'server CPU s':>14}{'of it after healthy':>21}"
    )
    for label, runs in results.items():
        print(
            f"{label:<18}"
            f"{statistics.median(r['healthy_s'] for r in runs):>10.2f}"
            f"{statistics.median(r['request_to_chart_s'] for r in runs):>17.2f}"
            f"{statistics.median(r['start_to_chart_s'] for r in runs):>15.2f}"
            f"{statistics.median(r['server_cpu_s'] for r in runs):>14.1f}"
            f"{statistics.median(r['session_cpu_s'] for r in runs):>21.2f}"
        )
    print(f"At the end: {load_text()}. Server logs in {scratch}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
