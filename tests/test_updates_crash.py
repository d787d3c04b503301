"""A writer killed with SIGKILL at random points while it saves loses nothing it had
acknowledged, and leaves no half-written save, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from crimeprev.updates import workflow
from crimeprev.updates.schema import field_revision, update_audit
from crimeprev.updates.store import open_store

WRITER = Path(__file__).with_name("updates_writer.py")
ROUNDS = 6


def _acks(lines: list[str]) -> list[int]:
    return [int(line.split()[1]) for line in lines if line.startswith("ack ")]


def test_a_kill_during_saves_loses_nothing_acknowledged(tmp_path: Path, store_url: str):
    sys.path.insert(0, str(WRITER.parent))
    try:
        from updates_writer import QUARTER, SETTINGS, STRAND, metric
    finally:
        sys.path.remove(str(WRITER.parent))
    rng = random.Random(16)
    acknowledged: list[int] = []
    first = 0
    for _ in range(ROUNDS):
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), store_url, str(tmp_path), str(first)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready", (
            writer.stderr.read() if writer.stderr else ""
        )
        wanted = rng.randint(1, 15)
        seen = []
        while len(_acks(seen)) < wanted:
            line = writer.stdout.readline()
            assert line, f"the writer stopped: {writer.stderr.read() if writer.stderr else ''}"
            seen.append(line.strip())
        time.sleep(rng.uniform(0, 0.03))  # somewhere inside the next save
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        # Whatever the writer printed before it died was acknowledged.
        seen += [line.strip() for line in writer.stdout.read().splitlines()]
        writer.stdout.close()
        if writer.stderr is not None:
            writer.stderr.close()
        round_acks = _acks(seen)
        assert round_acks == list(range(first, first + len(round_acks)))
        acknowledged += round_acks
        first = acknowledged[-1] + 2  # past a save that may have committed unacknowledged

    store = open_store(tmp_path, settings=SETTINGS, url=store_url)
    try:
        update = workflow.read_update(store, STRAND, QUARTER)
        present = {m.metric for m in update.metrics}
        missing = [i for i in acknowledged if metric(i).metric not in present]
        assert missing == [], f"acknowledged saves lost: {missing}"
        # At most one save per kill committed without its acknowledgement reaching us.
        assert len(present) - len(acknowledged) <= ROUNDS
        with store.engine.connect() as connection:
            # Each save is whole: its metric, its commentary and its audit entry, or none.
            metric_revisions = connection.execute(
                sa.select(sa.func.count())
                .select_from(field_revision)
                .where(field_revision.c.field.like("metric/%"))
            ).scalar()
            commentary_revisions = connection.execute(
                sa.select(sa.func.count())
                .select_from(field_revision)
                .where(field_revision.c.field == "commentary")
            ).scalar()
            saves = connection.execute(
                sa.select(sa.func.count())
                .select_from(update_audit)
                .where(update_audit.c.action == "saved")
            ).scalar()
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("pragma integrity_check").scalar() == "ok"
        assert metric_revisions == commentary_revisions == saves == len(present)
        assert update.row_version == saves
    finally:
        store.dispose()
