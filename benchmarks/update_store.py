"""The quarterly update store under load: importing the demo's four CSV files, one lead's save
(median and 95th percentile), and fourteen leads saving their own strands at once from as many
threads, each save a full read-compare-write. On SQLite in a temporary folder, and on
PostgreSQL too when CRIMEPREV_DATABASE_URL names an empty database. Prints a table; exits 0.

    uv run python benchmarks/update_store.py [--saves 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from crimeprev.config import load_config
from crimeprev.demo.generator import (
    _Calibration,
    _write_activity,
    _write_commentary,
    _write_delivery,
)
from crimeprev.updates import workflow
from crimeprev.updates.content import Commentary, Metric
from crimeprev.updates.csvfiles import export_csv, import_csv
from crimeprev.updates.permissions import User
from crimeprev.updates.settings import DATABASE_URL_VARIABLE, UpdateSettings
from crimeprev.updates.store import UpdateStore, open_store

QUARTER = "2022-12"


def _leads_files(folder: Path) -> Path:
    calibration = _Calibration.load(load_config())
    _write_delivery(folder, calibration, 2022)
    _write_activity(folder, calibration)
    _write_commentary(folder, calibration)
    return folder


def _one_lead(store: UpdateStore, lead: User, strand_id: str, saves: int) -> list[float]:
    timings = []
    for index in range(saves):
        started = time.perf_counter()
        current = workflow.read_update(store, strand_id, QUARTER)
        workflow.save(
            store,
            lead,
            strand_id,
            QUARTER,
            current.row_version,
            put=[
                Commentary(f"Draft {index}."),
                Metric("Op Bench", "Oct-Dec 2022", QUARTER, f"metric {index % 20}", index, "count"),
            ],
        )
        timings.append(time.perf_counter() - started)
    return timings


def _measure(url: str, files: Path, scratch: Path, saves: int) -> dict[str, str]:
    config = load_config()
    strands = [s.id for s in config.strands]
    settings = UpdateSettings(leads={s: (f"{s}@police.example",) for s in strands})
    store = open_store(scratch, settings=settings, url=url)
    try:
        started = time.perf_counter()
        import_csv(store, files, "benchmark")
        imported = time.perf_counter() - started
        started = time.perf_counter()
        export_csv(store, scratch / "exported")
        exported = time.perf_counter() - started
        lead = User("Lead", claims={"email": f"{strands[0]}@police.example"})
        single = _one_lead(store, lead, strands[0], saves)
        per_thread = max(1, saves // len(strands))
        started = time.perf_counter()
        threads = [
            threading.Thread(
                target=_one_lead,
                args=(store, User(s, claims={"email": f"{s}@police.example"}), s, per_thread),
            )
            for s in strands[1:] + strands[:1]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        together = time.perf_counter() - started
    finally:
        store.dispose()
    single_sorted = sorted(single)
    return {
        "import CSV": f"{imported:.2f} s",
        "export CSV": f"{exported:.2f} s",
        "save, median": f"{statistics.median(single) * 1000:.1f} ms",
        "save, 95th pct": f"{single_sorted[int(0.95 * (len(single) - 1))] * 1000:.1f} ms",
        f"{len(strands)} leads x {per_thread} saves": (
            f"{together:.2f} s ({len(strands) * per_thread / together:.0f} saves/s)"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        files = _leads_files(scratch / "files")
        backends = {"SQLite": f"sqlite:///{scratch / 'updates.db'}"}
        if os.environ.get(DATABASE_URL_VARIABLE):
            backends["PostgreSQL"] = os.environ[DATABASE_URL_VARIABLE]
        results = {
            name: _measure(url, files, scratch / name, args.saves) for name, url in backends.items()
        }
    rows = list(next(iter(results.values())))
    print(f"{'':<24}" + "".join(f"{name:>28}" for name in results))
    for row in rows:
        print(f"{row:<24}" + "".join(f"{results[name][row]:>28}" for name in results))


if __name__ == "__main__":
    main()
