"""How long `crimeprev import police-uk` takes on the twelve real Essex months (199,298 rows):
the whole import, into a fresh folder and again over the same months (nothing changes).

Run with `make bench`, or `uv run python benchmarks/import_police_uk.py [RAW_FOLDER]`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from crimeprev.imports.police_uk import import_police_uk
from crimeprev.store import REPOSITORY_ROOT

RAW = REPOSITORY_ROOT.parent / "shared" / "data" / "raw"
FOLDERS = ("policeuk_essex_detective", "policeuk_essex_geoinfo")
LOOKUP = Path("drkane_geo_lookups") / "derived" / "essex_lsoa_to_lad_lookup.csv"
RUNS = 3


def main() -> int:
    raw = Path(sys.argv[1]) if len(sys.argv) > 1 else RAW
    sources = [raw / folder for folder in FOLDERS]
    if not all(s.is_dir() for s in sources):
        print(f"The real data.police.uk files are not in {raw}; nothing to measure.")
        return 0
    print(f"{'run':<28} {'rows read':>10} {'seconds':>8} {'rows/s':>10}")
    for run in range(RUNS):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            for label in ("fresh folder", "same files again"):
                started = time.perf_counter()
                summary = import_police_uk(root, sources, lsoa_lookup=raw / LOOKUP)
                seconds = time.perf_counter() - started
                print(
                    f"{f'{label} #{run + 1}':<28} {summary.rows_read:>10,} {seconds:>8.2f} "
                    f"{summary.rows_read / seconds:>10,.0f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
