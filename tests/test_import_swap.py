"""An import killed at any point of its swap leaves readers a whole set of months: all of them
as they were, or all of them as imported, never some of each.

Twelve months are imported, then replaced by twelve others, again and again; each import is
killed (SIGKILL) at a random step of `crimeprev.store.replace_months` (every call it makes,
counted by a profiler), while a reader process opens the data folder over and over. After each
kill the reader checks once more, and the next import enters the killed one in the log.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_import_corpus import lines as street_lines
from test_import_corpus import row as street_row

from crimeprev.imports.common import import_log
from crimeprev.imports.police_uk import import_police_uk
from crimeprev.store import REPOSITORY_ROOT

MONTHS = [f"2019-{m:02d}" for m in range(1, 13)]
TRIALS = 20
SEED = 13

# Runs an import, killing itself at the TARGET-th step of the swap (0: count the steps).
IMPORTER = """
import os, signal, sys
from pathlib import Path
import crimeprev.store as store
from crimeprev.imports.police_uk import import_police_uk

target = int(sys.argv[3])
swap = store.replace_months.__code__
steps = 0
active = False

def profile(frame, event, arg):
    global steps, active
    if frame.f_code is swap and event == "call":
        active = True
    if not active or frame.f_code.co_filename != store.__file__:
        return
    steps += 1
    if steps == target:
        os.kill(os.getpid(), signal.SIGKILL)
    if frame.f_code is swap and event == "return":
        active = False

sys.setprofile(profile)
import_police_uk(Path(sys.argv[1]), [Path(sys.argv[2])])
sys.setprofile(None)
print(steps)
"""

# Opens the data folder as the dashboard does, again and again until told to stop, and says
# which set of months each opening saw. Writes nothing.
READER = """
import json, sys, time
from pathlib import Path
from crimeprev.db import Database

root, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
seen = []
while True:
    last = stop.exists()
    db = Database(root)
    rows = db.connection.execute(
        "select month, split_part(record_id, '-', 1) as version, count(*) from records "
        "group by all order by all"
    ).fetchall()
    tables = db.connection.execute(
        "select strftime(month_start, '%Y-%m'), sum(count_records) from crime_type_monthly "
        "group by all order by all"
    ).fetchall()
    seen.append({"rows": rows, "tables": tables})
    if last:
        break
    time.sleep(0.01)
out.write_text(json.dumps(seen))
"""


def month_files(folder: Path, version: str) -> Path:
    """Twelve street-level files, one a month, their Crime IDs starting with `version`."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, month in enumerate(MONTHS):
        count = 3 + index % 4 + (1 if version == "new" else 0)
        rows = [street_row(f"{version}-{month}-{i}", month=month) for i in range(count)]
        (folder / f"{month}-essex-street.csv").write_text(street_lines(*rows))
    return folder


def expected(version: str) -> list[list[object]]:
    return [[m, version, 3 + i % 4 + (1 if version == "new" else 0)] for i, m in enumerate(MONTHS)]


def consistent(seen: dict[str, list[list[object]]]) -> str | None:
    """The version a reader saw, if it saw one whole set of months in records and monthly
    tables alike; None otherwise."""
    for version in ("old", "new"):
        rows = expected(version)
        if seen["rows"] == rows and seen["tables"] == [[m, n] for m, _, n in rows]:
            return version
    return None


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", *args],
        cwd=REPOSITORY_ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        **kwargs,
    )


def test_a_kill_at_any_step_of_the_swap_leaves_readers_one_whole_set(tmp_path: Path):
    root = tmp_path / "data"
    sets = {
        "old": month_files(tmp_path / "old", "old"),
        "new": month_files(tmp_path / "new", "new"),
    }
    import_police_uk(root, [sets["old"]])
    # The steps are counted on a second folder whose swap has the same shape.
    import_police_uk(tmp_path / "count", [sets["old"]])
    counted = run([IMPORTER, str(tmp_path / "count"), str(sets["new"]), "0"])
    assert counted.returncode == 0, counted.stderr
    steps = int(counted.stdout.split()[-1])
    assert steps > 50
    chooser = random.Random(SEED)
    current, switched, polls, outcomes = "old", 0, 0, []
    for trial in range(TRIALS):
        target = chooser.randint(1, steps)
        wanted = "new" if current == "old" else "old"
        stop, out = tmp_path / f"stop-{trial}", tmp_path / f"seen-{trial}.json"
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(root), str(stop), str(out)],
            cwd=REPOSITORY_ROOT,
            env=os.environ,
        )
        time.sleep(0.5)
        killed = run([IMPORTER, str(root), str(sets[wanted]), str(target)], timeout=300)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        stop.touch()
        assert reader.wait(timeout=120) == 0
        seen = json.loads(out.read_text())
        versions = [consistent(s) for s in seen]
        assert None not in versions, f"trial {trial} (step {target}): a reader saw a mix"
        after = versions[-1]
        assert after in (current, wanted)
        # Once the new set is seen, no reader goes back to the old one.
        assert versions == sorted(versions, key=lambda v: v == wanted)
        polls += len(seen)
        switched += after == wanted
        outcomes.append((target, after))
        current = after
    final = import_police_uk(root, [sets["new" if current == "old" else "old"]])
    assert final.status == "finished"
    # Every killed import is in the log, saying whether its months had been switched in.
    killed_entries = import_log(root)[1:-1]
    assert [e["status"] for e in killed_entries] == ["interrupted"] * TRIALS
    said = ["after" if "after it switched" in e["notes"][0] else "before" for e in killed_entries]
    assert said == [
        "after" if after != before else "before"
        for (_, after), before in zip(
            outcomes, ["old", *[a for _, a in outcomes[:-1]]], strict=True
        )
    ]
    assert not (root / ".tmp").exists() or not any((root / ".tmp").iterdir())
    assert not list((root / ".snapshots").glob("staging-*"))
    assert len(list((root / ".snapshots").iterdir())) <= 2
    print(
        f"\n{TRIALS} kills over {steps} swap steps: {switched} after the switch, "
        f"{TRIALS - switched} before; {polls} reader openings, all one whole set of months."
    )
