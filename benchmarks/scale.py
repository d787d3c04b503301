"""Speed at national scale, against the usual way, on the demo extract and on N million records.

For each data folder (the demo extract, and `crimeprev demo --scale N` written once into a
folder outside the repository):

- generation: seconds and peak memory of writing the folder (when this run writes it);
- page data: the server-side work each page's `ui.fetch` calls do, for random filter
  combinations (force, period, districts, strand), p50 and p95: cold (a fresh database
  connection for every combination), warm (one open connection, the combination not cached)
  and cached (the `st.cache_data` hit a repeated view gets);
- the usual way: in a separate process, `pd.read_parquet` of every record (the columns the
  pages need), then per combination filter and group in pandas to the same figures (checked
  equal to ours), its load time, per-view time and peak memory, and the ratios;
- the browser: `streamlit run` on the folder, Chromium (Playwright) timing navigation to the
  first chart drawn on a strand page, cold (first view after start), warm (the same view
  again) and on new filters; the Streamlit process's peak memory (VmHWM) after all of it;
- import: a force's own 12 months written out as CSV and imported again (ids changed, so every
  month is rewritten and its monthly tables rebuilt), rows a second.

Writes benchmarks/results.json and prints a table. Figures, not tests: nothing here fails on
time. `uv run python benchmarks/scale.py [--millions 50] [--folder /tmp/...] [--regenerate]`
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.cold_start import one_start  # noqa: E402
from benchmarks.support import CHART, CHROMIUM, CHROMIUM_FLAGS, cpu_seconds, dashboard  # noqa: E402
from crimeprev.aggregate import open_database  # noqa: E402
from crimeprev.config import config_for  # noqa: E402
from crimeprev.db import Database  # noqa: E402
from crimeprev.figures import activity, delivery  # noqa: E402
from crimeprev.figures.insight import (  # noqa: E402
    covered_months,
    data_forces,
    district_breakdown,
    insight_table,
    monthly_series,
)
from crimeprev.figures.overview import CHART_MONTHS, overview_table  # noqa: E402
from crimeprev.imports.records import import_records  # noqa: E402
from crimeprev.periods import add_months, format_month  # noqa: E402
from crimeprev.present.narrative import overview_narrative  # noqa: E402
from crimeprev.store import records_dir  # noqa: E402
from crimeprev.view import View  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results.json"
DEFAULT_FOLDER = Path(os.environ.get("CRIMEPREV_BENCH_DIR", "/tmp/crimeprev-bench-50m"))
DEMO_FOLDER = Path("/tmp/crimeprev-bench-demo")
TARGETS = {
    "page_data_p95_warm_ms": 150,
    "page_data_p95_cold_ms": 1000,
    "first_chart_cold_s": 3.0,
    "first_chart_warm_s": 1.0,
    "streamlit_peak_mb": 1536,
    "times_faster_than_pandas": 30,
}
PANDAS_COLUMNS = [
    "force",
    "month_start",
    "record_kind",
    "district_code",
    "crime_type",
    "is_knife_enabled",
    "is_domestic_abuse",
    "is_hate_crime",
    "is_night_time_economy",
    "is_online",
    "is_child_sexual_abuse",
    "outcome",
]


def _ms(seconds: list[float]) -> dict[str, float]:
    values = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "max_ms": round(float(values.max()), 1),
        "n": len(seconds),
    }


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _generate(folder: Path, millions: float | None) -> dict[str, Any]:
    """Write the folder in a child process; its seconds and peak memory."""
    shutil.rmtree(folder, ignore_errors=True)
    if millions is None:
        code = (
            "import json, sys, time; from pathlib import Path;"
            "from crimeprev.demo.generator import generate_demo;"
            "from crimeprev.demo.scale import peak_rss_mb; t = time.perf_counter();"
            "s = generate_demo(Path(sys.argv[1]));"
            "print(json.dumps({'records': s.records_written, "
            "'seconds': time.perf_counter() - t, "
            "'peak_rss_mb': peak_rss_mb()}))"
        )
        args = [str(folder)]
    else:
        code = (
            "import json, sys; from pathlib import Path;"
            "from crimeprev.demo.scale import generate_scaled_demo;"
            "s = generate_scaled_demo(Path(sys.argv[1]), float(sys.argv[2]));"
            "print(json.dumps({'records': s.records_written, 'seconds': s.seconds_taken, "
            "'record_writing_seconds': s.generation_seconds, "
            "'aggregate_seconds': s.aggregate_seconds, 'forces': len(s.forces), "
            "'months': s.months_written, 'peak_rss_mb': s.peak_rss_mb}))"
        )
        args = [str(folder), str(millions)]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["records_per_second"] = round(result["records"] / result["seconds"])
    result["cpu_s"] = round(
        after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 1
    )
    result["load_after"] = _load()
    return result


def _combinations(db: Database, count: int, seed: int) -> list[View]:
    """Random filters a user could choose: force, period, places and strand."""
    rng = np.random.default_rng(seed)
    config = db.config
    forces = data_forces(db)
    covered = covered_months(db)
    periods = covered[24:] or covered
    chosen = []
    for _ in range(count):
        force = str(rng.choice(forces)) if len(forces) > 1 else None
        slugs = [d.slug for d in config.districts_of(force)]
        places: tuple[str, ...] = ()
        if rng.random() < 0.5:
            size = int(rng.integers(1, 4))
            places = tuple(str(s) for s in rng.choice(slugs, size=size, replace=False))
        chosen.append(
            View(
                period=periods[int(rng.integers(0, len(periods)))],
                districts=places,
                strand_id=str(rng.choice([s.id for s in config.strands])),
                force=force,
            )
        )
    return chosen


def overview_page(db: Database, filters: View) -> Any:
    """What the overview page fetches."""
    return overview_table(db, filters), overview_narrative(db, filters)


def strand_page(db: Database, filters: View) -> Any:
    """What a strand page fetches (monthly view, every measure of the strand)."""
    config, period = db.config, filters.period
    strand_id = filters.strand_id or config.strands[0].id
    parts: list[Any] = [insight_table(db, filters, strand_id=strand_id)]
    for measure in config.strand(strand_id).measures:
        parts.append(monthly_series(db, filters, CHART_MONTHS, [measure.id]))
        parts.append(district_breakdown(db, filters, measure.id))
    parts.append(activity.activity_metrics(db, strand_id, period))
    parts.append(activity.commentary(db, strand_id, period))
    try:
        parts.append(delivery.progress(db, strand_id, period))
    except delivery.DeliveryUnavailable:
        pass
    return parts


def delivery_page(db: Database, filters: View) -> Any:
    """What the delivery page fetches (a period before the plan's first quarter shows a
    sentence, after the one query that finds there is none)."""
    try:
        return (
            delivery.quarter_for(db, filters.period),
            delivery.status_table(db, filters.period),
            delivery.actions_at(db, filters.period),
        )
    except delivery.DeliveryUnavailable as error:
        return str(error)


PAGES: dict[str, Callable[[Database, View], Any]] = {
    "overview": overview_page,
    "strand": strand_page,
    "delivery": delivery_page,
}


def _time(function: Callable[..., Any], *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def _with_cpu(measure: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """The result of `measure()`, and the CPU seconds and load averages around it."""
    before, cpu = _load(), time.process_time()
    result = measure()
    return result, {
        "cpu_s": round(time.process_time() - cpu, 2),
        "load_before": before,
        "load_after": _load(),
    }


def page_data(root: Path, combos: list[View]) -> dict[str, Any]:
    """Cold, warm and cached timings of each page's data over the combinations."""
    import ui.cached  # the dashboard's own cached call, used outside a server

    results: dict[str, Any] = {}
    opens = []
    for name, page in PAGES.items():

        def cold_views(page: Callable[[Database, View], Any] = page) -> list[float]:
            cold = []
            for filters in combos:
                started = time.perf_counter()
                fresh = open_database(root)
                opened = time.perf_counter() - started
                opens.append(opened)
                cold.append(opened + _time(page, fresh, filters))
            return cold

        cold, cold_cpu = _with_cpu(cold_views)
        db = open_database(root)
        page(db, combos[0])  # the connection's first query reads the files' metadata
        warm, warm_cpu = _with_cpu(
            lambda page=page, db=db: [_time(page, db, f) for f in reversed(combos)]
        )
        results[name] = {"cold": _ms(cold) | cold_cpu, "warm": _ms(warm) | warm_cpu}
    version = ui.data_version(root)
    ui.cached.database_for(str(root), version)
    cached = []
    for filters in combos:
        ui.cached.fetch_from(str(root), version, overview_table, filters)
        cached.append(_time(ui.cached.fetch_from, str(root), version, overview_table, filters))
    results["overview"]["cached"] = _ms(cached)
    results["database_open"] = _ms(opens)
    return results


PANDAS_CHILD = r"""
import json, sys, time
from datetime import date
import pandas as pd
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from crimeprev.config import config_for
from crimeprev.periods import Window, add_months, comparisons

root, combos = Path(sys.argv[1]), json.loads(sys.argv[2])
columns = json.loads(sys.argv[4])
config = config_for(root)


def vmhwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024


started = time.perf_counter()
records = pd.read_parquet(root / "records", columns=columns)
# Dates arrive as Python objects; the usual app converts them once, inside its cached load.
records["month_start"] = pd.to_datetime(records["month_start"])
load = time.perf_counter() - started


def rule_mask(frame, rule):
    mask = frame["record_kind"] == rule.record_kind
    if rule.crime_types:
        mask &= frame["crime_type"].isin(rule.crime_types)
    for flag in rule.flags:
        mask &= frame[flag]
    if rule.outcomes:
        mask &= frame["outcome"].isin(rule.outcomes)
    return mask


def chosen(combo, first):
    frame = records
    if combo["force"] is not None:
        frame = frame[frame["force"] == combo["force"]]
    if combo["codes"] is not None:
        frame = frame[frame["district_code"].isin(combo["codes"])]
    start, end = pd.Timestamp(first), pd.Timestamp(combo["period"])
    month = frame["month_start"]
    return frame[(month >= start) & (month <= end)]


def window_counts(monthly, pairs):
    out = {}
    for pair in pairs:
        for name, w in (("current", pair.current), (pair.name, pair.comparator)):
            start, end = pd.Timestamp(w.start), pd.Timestamp(w.end)
            inside = (monthly.index >= start) & (monthly.index <= end)
            out[name] = int(monthly[inside].sum())
    return out


def overview(combo):
    period = date.fromisoformat(combo["period"])
    pairs = comparisons(period, config.baseline_end, config.window_months)
    first = min([p.comparator.start for p in pairs] + [add_months(period, -23)])
    frame = chosen(combo, first)
    month = frame["month_start"]
    figures = {}
    for measure in config.measures:
        monthly = month[rule_mask(frame, measure.rule)].value_counts().sort_index()
        figures[measure.id] = window_counts(monthly, pairs)["current"]
    return figures


def strand(combo):
    period = date.fromisoformat(combo["period"])
    pairs = comparisons(period, config.baseline_end, config.window_months)
    first = min([p.comparator.start for p in pairs] + [add_months(period, -35)])
    frame = chosen(combo, first)
    month = frame["month_start"]
    current = Window.ending(period, config.window_months)
    previous = current.shifted(-config.window_months)
    figures = {}
    for measure in config.strand(combo["strand"]).measures:
        mask = rule_mask(frame, measure.rule)
        monthly = month[mask].value_counts().sort_index()
        counts = window_counts(monthly, pairs)
        for w in (current, previous):
            inside = mask & (month >= pd.Timestamp(w.start)) & (month <= pd.Timestamp(w.end))
            frame[inside].groupby("district_code").size()
        figures[measure.id] = counts["current"]
    return figures


timings = {"overview": [], "strand": []}
answers = {"overview": [], "strand": []}
first_view = None
for combo in combos:
    for name, page in (("overview", overview), ("strand", strand)):
        started = time.perf_counter()
        answers[name].append(page(combo))
        timings[name].append(time.perf_counter() - started)
        if first_view is None:
            first_view = load + timings[name][-1]
print(json.dumps({"load_seconds": load, "first_view_seconds": first_view, "timings": timings,
                  "answers": answers, "peak_rss_mb": vmhwm(), "rows": len(records),
                  "cpu_s": time.process_time()}))
"""


def pandas_way(root: Path, combos: list[View], db: Database) -> dict[str, Any]:
    """The usual way in a child process (so its memory is its own), checked against ours."""
    plain = [
        {
            "force": f.force,
            "codes": f.district_codes(db.config),
            "period": f.period.isoformat(),
            "strand": f.strand_id,
        }
        for f in combos
    ]
    load_before = _load()
    output = subprocess.run(
        [
            sys.executable,
            "-c",
            PANDAS_CHILD,
            str(root),
            json.dumps(plain),
            str(ROOT),
            json.dumps(PANDAS_COLUMNS),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    for filters, theirs in zip(combos, result["answers"]["overview"], strict=True):
        ours = insight_table(db, filters)
        ours = ours[ours["comparison"] == "previous_year"].set_index("measure")["current_count"]
        for measure, count in theirs.items():
            if not pd.isna(ours[measure]) and int(ours[measure]) != count:
                raise AssertionError(f"pandas and the dashboard disagree on {measure}: {filters}")
    return {
        "rows": result["rows"],
        "load_seconds": round(result["load_seconds"], 2),
        "first_view_seconds": round(result["first_view_seconds"], 2),
        "peak_rss_mb": round(result["peak_rss_mb"]),
        "overview": _ms(result["timings"]["overview"]),
        "strand": _ms(result["timings"]["strand"]),
        "checked_equal": True,
        "cpu_s": round(result["cpu_s"], 1),
        "load_before": load_before,
        "load_after": _load(),
    }


def _vmhwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def browser(root: Path, combos: list[View], db: Database, repeats: int) -> dict[str, Any]:
    """Navigation to the first chart drawn on a strand page, in Chromium: from a cold server
    (plain `streamlit run` and the warm start, one start each), then on one warm server."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        return {"skipped": "Chromium is not installed (/usr/bin/chromium)"}

    charted = [s.id for s in db.config.strands if s.measures]

    def url(base: str, filters: View) -> str:
        # A strand reported through activity alone draws no chart; one that counts is shown.
        strand = filters.strand_id if filters.strand_id in charted else charted[0]
        params = filters.query_params() | {"strand": strand}
        return f"{base}/strand?{urllib.parse.urlencode(params)}"

    logs = Path(tempfile.mkdtemp(prefix="crimeprev-bench-"))
    charted_strand = combos[0].strand_id if combos[0].strand_id in charted else charted[0]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        # The first chart from a cold server, plain `streamlit run` beside `make run`'s warm start.
        cold_starts = {
            label: one_start(chromium, root, warm, charted_strand, logs / f"{label}.log")
            for label, warm in (("streamlit_run", False), ("ui_serve", True))
        }
        chromium.close()
    with dashboard(root, logs / "streamlit.log", warm=True) as server:
        base, process = server.base, server.process
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
            )
            context = chromium.new_context(viewport={"width": 1400, "height": 1000})

            def first_chart(address: str) -> float:
                page = context.new_page()
                page.set_default_timeout(120_000)
                started = time.perf_counter()
                page.goto(address)
                page.locator(CHART).first.wait_for(state="visible")
                seconds = time.perf_counter() - started
                page.close()
                return seconds

            def in_app(address: str) -> list[float]:
                # A page opened once, then the sidebar menu: away to the delivery plan and
                # back to the strand, timed from the click to its first chart.
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(address)
                main = page.get_by_test_id("stMain")
                main.locator(CHART).first.wait_for(state="visible")
                nav = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
                seconds = []
                for _ in range(repeats):
                    nav.get_by_text("Delivery plan").click()
                    main.get_by_role("heading", name="Delivery plan", exact=True).wait_for()
                    started = time.perf_counter()
                    nav.get_by_text("Strands").click()
                    main.locator(CHART).first.wait_for(state="visible")
                    seconds.append(time.perf_counter() - started)
                page.close()
                return seconds

            first = combos[0]
            cold = first_chart(url(base, first))
            warm = [first_chart(url(base, first)) for _ in range(repeats)]
            navigated = in_app(url(base, first))
            fresh = [first_chart(url(base, f)) for f in combos[1:]]
            again = [first_chart(url(base, f)) for f in combos[1 : 1 + repeats]]
            chromium.close()
        peak = _vmhwm_mb(process.pid)
        server_cpu = cpu_seconds(process.pid)
    return {
        "cold_start": cold_starts,
        "server_start_seconds": round(server.healthy_after, 2),
        "first_chart_cold_s": round(cold, 2),
        "first_chart_warm_s": round(statistics.median(warm), 2),
        "first_chart_warm_max_s": round(max(warm), 2),
        "first_chart_in_app_p50_s": round(statistics.median(navigated), 2),
        "first_chart_in_app_max_s": round(max(navigated), 2),
        "first_chart_new_filters_p50_s": round(statistics.median(fresh), 2),
        "first_chart_new_filters_max_s": round(max(fresh), 2),
        "first_chart_revisited_p50_s": round(statistics.median(again), 2),
        "views_opened": 2 + 3 * repeats + len(fresh) + len(again),
        "streamlit_peak_mb": round(peak),
        "server_cpu_s": round(server_cpu, 1),
        "load_after": _load(),
    }


MAPPING = """
force = "{force}"
[columns]
record_id = "record_id"
month = "month"
district = "district_code"
crime_type = "crime_type"
record_kind = "record_kind"
outcome = "outcome"
[flags]
is_knife_enabled = "is_knife_enabled"
is_domestic_abuse = "is_domestic_abuse"
is_hate_crime = "is_hate_crime"
is_night_time_economy = "is_night_time_economy"
is_online = "is_online"
is_child_sexual_abuse = "is_child_sexual_abuse"
"""


def import_throughput(root: Path, force: str, last: date) -> dict[str, Any]:
    """One force's last 12 months out as CSV (new ids) and imported into a copy of the folder,
    which is checked to be left as it was. Only the record files are hard links (an import
    replaces a month's files, never writes into them); the monthly tables, their manifest and
    the logs are copied, as the import rewrites them."""
    scratch = Path(tempfile.mkdtemp(prefix="crimeprev-bench-import-"))
    before = _folder_state(root)
    try:
        copy = scratch / "data"
        copy.mkdir()
        for item in root.iterdir():
            if item.name == "records":
                shutil.copytree(item, copy / item.name, copy_function=os.link)
            elif item.is_dir():
                shutil.copytree(item, copy / item.name)
            else:
                shutil.copy2(item, copy / item.name)
        first = add_months(last, -11)
        dataset = ds.dataset(records_dir(root), format="parquet", partitioning="hive")
        wanted = (
            (ds.field("force") == force)
            & (ds.field("month_start") >= first)
            & (ds.field("month_start") <= last)
        )
        table = dataset.to_table(filter=wanted).to_pandas()
        table["record_id"] = "B-" + table["record_id"]
        table["month"] = table["month_start"].map(format_month)
        extract = scratch / "extract.csv"
        columns = ["record_id", "month", "district_code", "crime_type", "record_kind", "outcome"]
        flags = [c for c in PANDAS_COLUMNS if c.startswith("is_")]
        table[columns + flags].to_csv(extract, index=False)
        mapping = scratch / "mapping.toml"
        mapping.write_text(MAPPING.format(force=force), encoding="utf-8")
        load_before, cpu = _load(), time.process_time()
        started = time.perf_counter()
        summary = import_records(copy, [extract], mapping)
        seconds = time.perf_counter() - started
        return {
            "rows": summary.rows_read,
            "rows_loaded": summary.rows_loaded,
            "months_written": len(summary.months_written),
            "seconds": round(seconds, 2),
            "rows_per_second": round(summary.rows_read / seconds),
            "cpu_s": round(time.process_time() - cpu, 2),
            "load_before": load_before,
            "load_after": _load(),
            "source_folder_unchanged": _folder_state(root) == before,
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _folder_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every file's size and modification time, to show a benchmark changed nothing."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def measure(label: str, root: Path, args: argparse.Namespace, generation: Any) -> dict[str, Any]:
    print(f"[{label}] page data…", flush=True)
    config_for.cache_clear()
    db = open_database(root)
    combos = _combinations(db, args.combinations, seed=7)
    result: dict[str, Any] = {
        "folder": str(root),
        "generation": generation,
        "forces": len(data_forces(db)),
        "load_before": _load(),
    }
    result["page_data"] = page_data(root, combos)
    print(f"[{label}] the usual way (pandas)…", flush=True)
    result["pandas"] = pandas_way(root, combos[: args.pandas_combinations], db)
    if not args.skip_browser:
        print(f"[{label}] browser…", flush=True)
        result["browser"] = browser(root, combos, db, args.repeats)
    print(f"[{label}] import…", flush=True)
    result["import"] = import_throughput(root, data_forces(db)[-1], covered_months(db)[-1])
    result["load_after"] = _load()
    result["ratios"] = _ratios(result)
    return result


def _ratios(result: dict[str, Any]) -> dict[str, float]:
    ours, theirs = result["page_data"], result["pandas"]
    ratios = {}
    for page in ("overview", "strand"):
        ratios[f"{page}_warm_p50"] = round(theirs[page]["p50_ms"] / ours[page]["warm"]["p50_ms"], 1)
        ratios[f"{page}_cold_first_view"] = round(
            theirs["first_view_seconds"] * 1000 / ours[page]["cold"]["p50_ms"], 1
        )
    return ratios


def _print(results: dict[str, Any]) -> None:
    for label, result in results["datasets"].items():
        gen = result["generation"]
        print(f"\n== {label}: {result['folder']} ({result['forces']} forces) ==")
        if gen:
            print(
                f"generation: {gen['records']:,} records in {gen['seconds']:.1f} s "
                f"({gen['records_per_second']:,}/s), peak {gen['peak_rss_mb']:,.0f} MB, "
                f"CPU {gen.get('cpu_s', '-')} s, load after {gen.get('load_after', '-')}"
            )
        print(
            f"{'page data (ms)':<14} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} "
            f"{'warm p95':>9} {'pandas p50':>11} {'pandas p95':>11} {'x faster':>9} "
            f"{'CPU s cold/warm':>16}  load (1 min) cold/warm"
        )
        pandas = result["pandas"]
        for page in PAGES:
            timing = result["page_data"][page]
            theirs = pandas.get(page, {})
            ratio = result["ratios"].get(f"{page}_warm_p50", "")
            print(
                f"{page:<14} {timing['cold']['p50_ms']:>9} {timing['cold']['p95_ms']:>9} "
                f"{timing['warm']['p50_ms']:>9} {timing['warm']['p95_ms']:>9} "
                f"{theirs.get('p50_ms', '-'):>11} {theirs.get('p95_ms', '-'):>11} {ratio:>9} "
                f"{timing['cold']['cpu_s']:>7}/{timing['warm']['cpu_s']:<8}  "
                f"{timing['cold']['load_after'][0]}/{timing['warm']['load_after'][0]}"
            )
        cached = result["page_data"]["overview"]["cached"]
        print(f"overview from st.cache_data: p50 {cached['p50_ms']} ms, p95 {cached['p95_ms']} ms")
        print(
            f"pandas: read_parquet {pandas['load_seconds']} s for {pandas['rows']:,} rows, "
            f"first view {pandas['first_view_seconds']} s, peak {pandas['peak_rss_mb']:,} MB, "
            f"CPU {pandas['cpu_s']} s, load after {pandas['load_after']}"
        )
        if "browser" in result:
            b = dict(result["browser"])
            for label, start in b.pop("cold_start", {}).items():
                print(
                    f"first chart from a cold server, {label}: healthy {start['healthy_s']} s, "
                    f"request to chart {start['request_to_chart_s']} s, start to chart "
                    f"{start['start_to_chart_s']} s, server CPU {start['server_cpu_s']} s "
                    f"({start['session_cpu_s']} s after healthy), load {start['load_after']}"
                )
            print(f"browser on a warm server: {b}")
        imp = result["import"]
        print(
            f"import: {imp['rows']:,} rows in {imp['seconds']} s ({imp['rows_per_second']:,}/s), "
            f"{imp['months_written']} months rewritten with their monthly tables, CPU "
            f"{imp['cpu_s']} s, load {imp['load_after']}; the source folder "
            + ("unchanged" if imp["source_folder_unchanged"] else "CHANGED (a bug)")
        )
        print(f"load average before {result['load_before']}, after {result['load_after']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--millions", type=float, default=50.0)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--regenerate", action="store_true", help="write the folder again")
    parser.add_argument("--combinations", type=int, default=20)
    parser.add_argument("--pandas-combinations", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="warm browser views")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--only", choices=["demo", "scaled"])
    args = parser.parse_args()

    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_at_start": _load()},
        "targets": TARGETS,
        "datasets": {},
    }
    if RESULTS.is_file():
        previous = json.loads(RESULTS.read_text())
        results["datasets"] = previous.get("datasets", {})
    if args.only in (None, "demo"):
        print("[demo] writing the demo extract…", flush=True)
        generation = _generate(DEMO_FOLDER, None)
        results["datasets"]["demo"] = measure("demo", DEMO_FOLDER, args, generation)
    if args.only in (None, "scaled"):
        label = f"{args.millions:g}M"
        generation = None
        if args.regenerate or not any(args.folder.glob("records/month=*")):
            print(f"[{label}] writing {args.millions:g} million records…", flush=True)
            generation = _generate(args.folder, args.millions)
        results["datasets"][label] = measure(label, args.folder, args, generation)
    RESULTS.write_text(json.dumps(results, indent=2, default=str))
    _print(results)
    print(f"\nWritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
