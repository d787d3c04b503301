"""Time to generate the demo extract and to serve each page, cold and warm.

Each page is timed in a fresh process. Cold: its first render there, with empty caches (for the
overview this includes opening the database; the other pages are reached after one render of the
overview, so their cold figure is the page's own work with the database already open). Warm: the
same page rendered again. Times are Streamlit's full script run through `AppTest`, the
server-side work a browser waits for. Prints a table; exits 0.

    uv run python benchmarks/serve_pages.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "overview": {},
    "strand": {"strand": "knife-crime"},
    "delivery": {},
    "strand (Colchester, Mar 2021)": {
        "strand": "rape",
        "district": "colchester",
        "period": "2021-03",
    },
}
PAGE_FILES = {
    "overview": "pages/overview.py",
    "strand": "pages/strand.py",
    "delivery": "pages/delivery.py",
}

CHILD = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
page_file, params, repeat = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
timings = []
at = AppTest.from_file("app.py", default_timeout=120)
for key, value in params.items():
    at.query_params[key] = value
if page_file != "pages/overview.py":
    at.run()
    at.switch_page(page_file)
    for key, value in params.items():
        at.query_params[key] = value
started = time.perf_counter()
at.run()
timings.append(time.perf_counter() - started)
assert not at.exception, [e.value for e in at.exception]
for _ in range(repeat):
    started = time.perf_counter()
    at.run()
    timings.append(time.perf_counter() - started)
print(json.dumps(timings))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per page")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="crimeprev-bench-"))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "crimeprev.cli", "--data-dir", str(data), "demo"],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    generation = time.perf_counter() - started
    env = os.environ | {"CRIMEPREV_DATA_DIR": str(data)}

    results = {"demo_generation_seconds": round(generation, 2), "pages": {}}
    print(f"demo generation (crimeprev demo, incl. aggregates): {generation:.2f} s\n")
    print(f"{'page':34} {'cold (s)':>9} {'warm median (s)':>16} {'warm max (s)':>13}")
    for label, params in PAGES.items():
        page_file = PAGE_FILES[label.split(" ")[0]]
        output = subprocess.run(
            [sys.executable, "-c", CHILD, page_file, json.dumps(params), str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        ).stdout
        timings = json.loads(output.strip().splitlines()[-1])
        cold, warm = timings[0], timings[1:]
        results["pages"][label] = {
            "cold_seconds": round(cold, 3),
            "warm_seconds": [round(t, 3) for t in warm],
        }
        print(f"{label:34} {cold:9.2f} {statistics.median(warm):16.3f} {max(warm):13.3f}")
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
