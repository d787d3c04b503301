"""One number everywhere: for random views over four data folders, a measure's count over the
12 months ending the period and over the 12 before is the same, or equally incomplete, on every
surface a user reads it from: the CLI's JSON, the overview and strand pages, Explore's pivot,
the map's district table, the signals table (for the period's month), and the deck, workbook
and HTML report built for the view.

The expected figure never comes from the code under test: `truth.Truth` counts the record files
with the measure's rule read from the TOML, and calls a window incomplete when the data lacks
any of its months.
"""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from conftest import render_app
from folders import FIXTURE_OF, FOLDER_NAMES
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from pptx import Presentation
from truth import INCOMPLETE, Count, Incomplete, Truth, month_add, pct_change, window_months

from crimeprev.cli.main import main

pytestmark = pytest.mark.cross_surface

EXAMPLES = settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: each example renders pages or builds files, and the first failing view is
    # the one reported (to the findings) as it is.
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WINDOW = 12
NAN = re.compile(r"\bnan\b", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    """A view a user can ask for: force (when the data holds several), measure, place, period."""

    force: str  # the force counted; `force_param` says whether the view names it
    force_param: str | None
    strand: str
    measure: str
    place: str  # "force-wide", "district" or "lpa"
    place_value: str | None  # the district's slug or the LPA's name
    period: date

    def url_params(self) -> dict[str, str]:
        params = {"period": f"{self.period:%Y-%m}"}
        if self.force_param:
            params["force"] = self.force_param
        if self.place == "district":
            params["district"] = str(self.place_value)
        elif self.place == "lpa":
            params["lpa"] = str(self.place_value)
        return params


@dataclass(frozen=True)
class Figure:
    previous: Count | str
    current: Count | str

    def __str__(self) -> str:
        return f"previous 12 months {self.previous}, current 12 months {self.current}"


_truths: dict[Path, Truth] = {}


def truth_of(root: Path) -> Truth:
    if root not in _truths:
        _truths[root] = Truth(root)
    return _truths[root]


def codes_of(truth: Truth, case: Case) -> list[str] | None:
    if case.place == "district":
        return [truth.district(str(case.place_value)).code]
    if case.place == "lpa":
        return [d.code for d in truth.districts_of(case.force) if d.lpa == case.place_value]
    return None


def expected(truth: Truth, case: Case, codes: list[str] | None = None) -> Figure:
    codes = codes_of(truth, case) if codes is None else codes
    current = window_months(case.period, WINDOW)
    previous = window_months(month_add(case.period, -WINDOW), WINDOW)
    return Figure(
        truth.count(case.measure, case.force, codes, previous),
        truth.count(case.measure, case.force, codes, current),
    )


@st.composite
def cases(draw: st.DrawFn, truth: Truth) -> Case:
    forces = truth.forces
    force = draw(st.sampled_from(forces))
    measure = draw(st.sampled_from(truth.measures))
    districts = truth.districts_of(force)
    place = draw(st.sampled_from(["force-wide", "district", "lpa"]))
    value = None
    if place == "district":
        value = draw(st.sampled_from([d.slug for d in districts]))
    elif place == "lpa":
        value = draw(st.sampled_from(sorted({d.lpa for d in districts})))
    months = truth.all_months
    # The latest month is the default view; earlier ones reach incomplete and gapped windows.
    period = draw(st.one_of(st.just(months[-1]), st.sampled_from(months)))
    return Case(
        force,
        force if len(forces) > 1 else None,
        measure.strand_id,
        measure.id,
        place,
        value,
        period,
    )


# How each surface shows a count ------------------------------------------------------------


def as_count(value: Any) -> Count | str:
    """A count as a surface shows it: a whole number, incomplete (nothing shown, or a sentence
    saying so), or the text itself when it is neither (e.g. `nan`)."""
    if value is None or value is pd.NA:
        return INCOMPLETE
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return INCOMPLETE
        return int(value) if value.is_integer() else str(value)
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d[\d,]*", text):
        return int(text.replace(",", ""))
    if text in ("", "–", "-", "—") or text.lower().startswith("incomplete"):
        return INCOMPLETE
    return text


def as_pct(value: Any) -> float | None | str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float):
        return round(float(value), 1)
    text = str(value).strip().split(" ")[0]
    if text in ("", "–", "-", "—") or text.lower().startswith(("incomplete", "no")):
        return None
    match = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)%", text)
    return float(match.group(1)) if match else text


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Incomplete) or isinstance(b, Incomplete):
        return isinstance(a, Incomplete) and isinstance(b, Incomplete)
    return bool(a == b)


def compare(where: str, want: Figure, got: Figure) -> list[str]:
    if same(want.previous, got.previous) and same(want.current, got.current):
        return []
    return [f"{where}: expected {want}; got {got}"]


def compare_current_and_pct(where: str, want: Figure, current: Any, pct: Any) -> list[str]:
    """For a surface that shows the current count and the % change, not the previous count."""
    problems = []
    if not same(want.current, as_count(current)):
        problems.append(f"{where}: current 12 months expected {want.current}; got {current!r}")
    wanted_pct = pct_change(want.previous, want.current)
    shown = as_pct(pct)
    if shown != wanted_pct:
        problems.append(
            f"{where}: % change against the 12 months before expected {wanted_pct} "
            f"(from {want}); got {pct!r}"
        )
    return problems


# The surfaces ------------------------------------------------------------------------------


def cli_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    args = ["--data-dir", str(root), "insight", "--period", f"{case.period:%Y-%m}"]
    args += ["--strand", case.strand, "--format", "json"]
    if case.force_param:
        args += ["--force", case.force_param]
    for code in codes_of(truth, case) or []:
        args += ["--district", code]
    capsys.readouterr()
    try:
        status = main(args)
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    if status != 0:
        return [f"CLI `crimeprev {' '.join(args[2:])}` exited {status}: {err.strip()}"]
    rows = [
        r
        for r in json.loads(out)
        if r["measure"] == case.measure and r["comparison"] == "previous_year"
    ]
    got = Figure(as_count(rows[0]["comparator_count"]), as_count(rows[0]["current_count"]))
    return compare("CLI insight JSON", expected(truth, case), got)


def run_page(root: Path, page: str | None, **params: str) -> Any:
    with pytest.MonkeyPatch.context() as monkeypatch:
        at = render_app(monkeypatch, root, page, **params)
    problems = [f"exception on the page: {e.value}" for e in at.exception]
    return at, problems


def overview_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    at, problems = run_page(root, None, **case.url_params())
    if problems:
        return [f"overview page: {p}" for p in problems]
    table = at.dataframe[0].value
    row = table[table["measure_id"] == case.measure].iloc[0]
    return compare_current_and_pct(
        "overview table",
        expected(truth, case),
        row["current_count"],
        row["change_previous_year"],
    )


def strand_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    at, problems = run_page(root, "pages/strand.py", **case.url_params(), strand=case.strand)
    if problems:
        return [f"strand page: {p}" for p in problems]
    measures = [m.id for m in truth.measures if m.strand_id == case.strand]
    # Each measure has two small tables, against the year before and against the baseline.
    table = at.table[2 * measures.index(case.measure)].value
    labels = list(table.columns)
    got = Figure(as_count(table.iloc[0][labels[0]]), as_count(table.iloc[0][labels[1]]))
    return compare(f"strand page table ({labels[0]} | {labels[1]})", expected(truth, case), got)


def explore_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    at, problems = run_page(
        root, "pages/explore.py", **case.url_params(), measure=case.measure, by="district"
    )
    if problems:
        return [f"Explore page: {p}" for p in problems]
    pivot = at.dataframe[0].value
    problems = []
    for row in pivot.itertuples():
        got = Figure(as_count(row.comparison_count), as_count(row.current_count))
        if row.dimension_value == "Total":
            want = expected(truth, case)
        else:
            district = next((d for d in truth.districts if d.name == row.dimension_value), None)
            if district is None:
                continue  # records outside the districts, or with no location
            want = expected(truth, case, [district.code])
        problems += compare(f"Explore pivot row {row.dimension_value!r}", want, got)
    if "Total" not in set(pivot["dimension_value"]):
        want = expected(truth, case)
        if want.current != 0 or want.previous != 0:
            problems.append(f"Explore pivot: no Total row where {want}")
    return problems


def map_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    at, problems = run_page(root, "pages/map.py", **case.url_params(), measure=case.measure)
    if problems:
        return [f"map page: {p}" for p in problems]
    table = at.dataframe[-1].value
    wanted_codes = codes_of(truth, case)
    shown_names = set(table["district_name"])
    expected_names = {
        d.name
        for d in truth.districts_of(case.force)
        if wanted_codes is None or d.code in wanted_codes
    }
    problems = []
    if case.place == "district" and shown_names != expected_names:
        problems.append(f"map district table shows {sorted(shown_names)}, not {expected_names}")
    for row in table.itertuples():
        district = next((d for d in truth.districts if d.name == row.district_name), None)
        if district is None:
            problems.append(f"map district table: unknown district {row.district_name!r}")
            continue
        got = Figure(as_count(row.previous_count), as_count(row.current_count))
        problems += compare(
            f"map district table row {row.district_name!r}",
            expected(truth, case, [district.code]),
            got,
        )
    return problems


def signals_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    at, problems = run_page(root, "pages/signals.py", **case.url_params())
    if problems:
        return [f"signals page: {p}" for p in problems]
    problems = []
    month = [case.period]
    for element in at.dataframe:
        table = element.value
        if "count_records" not in table.columns:
            continue
        for row in table.itertuples():
            measure = next(m for m in truth.measures if m.name == row.measure_name)
            district = next(d for d in truth.districts if d.name == row.district_name)
            want = truth.count(measure.id, case.force, [district.code], month)
            got = as_count(row.count_records)
            if not same(want, got):
                problems.append(
                    f"signals table row ({row.measure_name}, {row.district_name}, "
                    f"{case.period:%Y-%m}): expected {want}; got {got}"
                )
    return problems


def _report(root: Path, truth: Truth, case: Case, suffix: str, capsys: Any) -> bytes | str:
    """The report file `crimeprev report` writes for the view, or the error it printed."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"report{suffix}"
        args = ["--data-dir", str(root), "report", "--period", f"{case.period:%Y-%m}"]
        args += ["--strand", case.strand, "--out", str(out)]
        if case.force_param:
            args += ["--force", case.force_param]
        for code in codes_of(truth, case) or []:
            args += ["--district", code]
        capsys.readouterr()
        try:
            status = main(args)
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        _, err = capsys.readouterr()
        if status != 0:
            return f"`crimeprev {' '.join(args[2:])}` exited {status}: {err.strip()}"
        return out.read_bytes()


def workbook_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    data = _report(root, truth, case, ".xlsx", capsys)
    if isinstance(data, str):
        return [f"workbook: {data}"]
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = list(book["Insight"].iter_rows(values_only=True))
    header = rows[0]  # each sheet is an Excel Table whose header is row 1
    records = [dict(zip(header, r, strict=False)) for r in rows[1:] if r[0]]
    mine = [
        r for r in records if r["measure_id"] == case.measure and r["comparison"] == "previous_year"
    ]
    if len(mine) != 1:
        return [f"workbook Insight sheet: {len(mine)} rows for {case.measure}, previous year"]
    got = Figure(as_count(mine[0]["comparator_count"]), as_count(mine[0]["current_count"]))
    return compare("workbook Insight sheet", expected(truth, case), got)


def html_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    data = _report(root, truth, case, ".html", capsys)
    if isinstance(data, str):
        return [f"HTML report: {data}"]
    tree = lxml_html.fromstring(data.decode("utf-8"))
    problems = []
    nans = sum(1 for piece in tree.itertext() if NAN.search(piece))
    if nans:
        problems.append(f"HTML report: 'nan' printed {nans} times")
    tables = tree.xpath(
        f'//table[@data-measure="{case.measure}"][@data-comparison="previous_year"]'
    )
    if len(tables) != 1:
        return [*problems, f"HTML report: {len(tables)} year-before tables for {case.measure}"]
    cells = [c.text_content() for c in tables[0].xpath(".//tbody/tr[1]/td")]
    got = Figure(as_count(cells[0]), as_count(cells[1]))
    return problems + compare("HTML report comparison table", expected(truth, case), got)


def deck_surface(root: Path, truth: Truth, case: Case, capsys: Any) -> list[str]:
    data = _report(root, truth, case, ".pptx", capsys)
    if isinstance(data, str):
        return [f"deck: {data}"]
    deck = Presentation(io.BytesIO(data))
    name = truth.measure(case.measure).name
    problems = []
    for slide in deck.slides:
        shapes = list(slide.shapes)
        title = next((s.text_frame.text for s in shapes if s.name.startswith("Title")), "")
        for shape in shapes:
            if shape.has_text_frame and NAN.search(shape.text_frame.text):
                problems.append(f"deck slide {title!r}: 'nan' in {shape.text_frame.text[:80]!r}")
        # A measure's slide is named for it; its title states the finding.
        if slide.name != f"measure:{case.measure}":
            continue
        for index, shape in enumerate(shapes):
            if shape.has_text_frame and shape.text_frame.text == "Against the year before":
                table = next(s for s in shapes[index:] if s.has_table).table
                cells = [[c.text for c in r.cells] for r in table.rows]
                got = Figure(as_count(cells[0][1]), as_count(cells[1][1]))
                return problems + compare(f"deck slide {title!r}", expected(truth, case), got)
    return [*problems, f"deck: no 'Against the year before' table on a slide for {name}"]


SURFACES: dict[str, Callable[[Path, Truth, Case, Any], list[str]]] = {
    "cli": cli_surface,
    "overview": overview_surface,
    "strand": strand_surface,
    "explore": explore_surface,
    "map": map_surface,
    "signals": signals_surface,
    "workbook": workbook_surface,
    "html": html_surface,
    "deck": deck_surface,
}

# (surface, folder): the finding that makes it fail today. Strict: fixed means fail, remove.


def _params() -> list[Any]:
    params = []
    for surface in SURFACES:
        for folder in FOLDER_NAMES:
            params.append(pytest.param(surface, folder, id=f"{surface}-{folder}"))
    return params


# The property asks the command-line surfaces for periods with data;
# test_a_period_the_data_lacks_reads_as_incomplete asks them for the periods inside a gap.
COMMAND_SURFACES = ("cli", "workbook", "html", "deck")


def answers(surface: str, truth: Truth, case: Case) -> bool:
    return surface not in COMMAND_SURFACES or case.period in truth.covered[case.force]


def anchor_cases(truth: Truth) -> list[Case]:
    """Views every run checks before the random ones, so that each folder's awkward corners
    are always reached: the default view; the last force (on the scaled folder, a force that
    is not the default) in one district in the data's first year, where the 12 months before
    are not covered; and, where the data has a gap, an LPA with the period in the gap (a month
    the dashboard offers). The random views then reach the rest."""
    months = truth.all_months
    first, last = truth.forces[0], truth.forces[-1]
    several = len(truth.forces) > 1
    early, middle = truth.measures[-1], truth.measures[len(truth.measures) // 2]
    gaps = [m for m in months if m not in truth.covered[last]]
    anchors = [
        Case(
            first,
            first if several else None,
            truth.measures[0].strand_id,
            truth.measures[0].id,
            "force-wide",
            None,
            months[-1],
        ),
        Case(
            last,
            last if several else None,
            early.strand_id,
            early.id,
            "district",
            truth.districts_of(last)[0].slug,
            months[min(11, len(months) - 1)],
        ),
    ]
    if gaps:
        lpa = sorted({d.lpa for d in truth.districts_of(last)})[0]
        anchors.append(
            Case(last, last if several else None, middle.strand_id, middle.id, "lpa", lpa, gaps[0])
        )
    return anchors


@pytest.mark.parametrize(("surface", "folder"), _params())
def test_every_surface_shows_the_counted_figure(
    surface: str, folder: str, request: pytest.FixtureRequest, capsys: Any
) -> None:
    root: Path = request.getfixturevalue(FIXTURE_OF[folder])
    truth = truth_of(root)
    check = SURFACES[surface]
    anchors = [c for c in anchor_cases(truth) if answers(surface, truth, c)]
    found = [f"{case}: {p}" for case in anchors for p in check(root, truth, case, capsys)]
    assert not found, f"{surface} on the {folder} folder:\n" + "\n".join(found)

    @EXAMPLES
    @given(case=cases(truth))
    def holds(case: Case) -> None:
        assume(answers(surface, truth, case))
        problems = check(root, truth, case, capsys)
        assert not problems, f"{surface} on the {folder} folder, {case}:\n" + "\n".join(problems)

    holds()


@pytest.mark.parametrize("folder", ["gapped", "police-uk"])
@pytest.mark.parametrize("surface", COMMAND_SURFACES)
def test_a_period_the_data_lacks_reads_as_incomplete(
    surface: str, folder: str, request: pytest.FixtureRequest, capsys: Any
) -> None:
    """The dashboard offers every month from the first to the last, gaps included; the
    command line must answer for such a period as the pages do: its windows incomplete."""
    root: Path = request.getfixturevalue(FIXTURE_OF[folder])
    truth = truth_of(root)
    in_gap = [c for c in anchor_cases(truth) if not answers(surface, truth, c)]
    assert in_gap
    problems = [p for case in in_gap for p in SURFACES[surface](root, truth, case, capsys)]
    assert not problems, "\n".join(problems)


def _whole_report(root: Path, period: date, suffix: str, capsys: Any) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"report{suffix}"
        status = main(
            ["--data-dir", str(root), "report", "--period", f"{period:%Y-%m}", "--out", str(out)]
        )
        assert status == 0, capsys.readouterr().err
        return out.read_bytes()


@pytest.mark.parametrize("suffix", [".html", ".pptx"])
def test_a_whole_report_on_real_data_prints_no_nan(
    police_uk_folder: Path, suffix: str, capsys: Any
) -> None:
    """Every strand, the real import's latest period: strands the data cannot measure and
    windows it does not cover must read as words, never `nan`."""
    truth = truth_of(police_uk_folder)
    data = _whole_report(police_uk_folder, truth.all_months[-1], suffix, capsys)
    if suffix == ".html":
        texts = list(lxml_html.fromstring(data.decode("utf-8")).itertext())
    else:
        texts = [
            cell.text
            for slide in Presentation(io.BytesIO(data)).slides
            for shape in slide.shapes
            for cell in (
                [c for r in shape.table.rows for c in r.cells] if shape.has_table else [shape]
            )
            if getattr(cell, "text", None)
        ]
    printed = [t for t in texts if NAN.search(t)]
    assert not printed, f"'nan' printed {len(printed)} times, e.g. {printed[:3]}"
