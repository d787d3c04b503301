"""A lead saving operational results one after another, as fast as the store takes them, for
the crash test: after each save returns it prints `ack N`, the acknowledgement a page would
show. Run as `python updates_writer.py DATABASE_URL DATA_DIR FIRST`."""

from __future__ import annotations

import sys
from pathlib import Path

from crimeprev.updates import workflow
from crimeprev.updates.content import Commentary, Metric
from crimeprev.updates.permissions import User
from crimeprev.updates.settings import UpdateSettings
from crimeprev.updates.store import open_store

STRAND = "knife-crime"
QUARTER = "2022-09"
LEAD = User("Crash Test Lead", claims={"email": "lead@police.example"})
SETTINGS = UpdateSettings(leads={STRAND: ("lead@police.example",)})


def metric(index: int) -> Metric:
    return Metric("Op Crash", "Jul-Sep 2022", QUARTER, f"write {index:05d}", index, "count")


def main() -> None:
    url, root, first = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    store = open_store(root, settings=SETTINGS, url=url)
    print("ready", flush=True)
    index = first
    while True:
        current = workflow.read_update(store, STRAND, QUARTER)
        workflow.save(
            store,
            LEAD,
            STRAND,
            QUARTER,
            current.row_version,
            put=[metric(index), Commentary(f"{index + 1} results written so far.")],
        )
        print(f"ack {index}", flush=True)
        index += 1


if __name__ == "__main__":
    main()
