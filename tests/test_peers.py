"""How we compare: the ONS police force area tables imported, compared and checked against the
published workbook read cell by cell here, and the funnel limits against a hand computation.

The workbook and the boundaries live outside the repository (../shared/data/raw); the tests
that need them skip with a message when they are absent.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crimeprev.cli.main import main
from crimeprev.config import ConfigError, load_config
from crimeprev.db import Database
from crimeprev.figures import peers
from crimeprev.imports.common import ImportFailed, import_log
from crimeprev.imports.ons_pfa import edition_files, import_ons_pfa
from crimeprev.statistics.funnel import classify, overdispersion, poisson_limits
from crimeprev.store import RECORD_SCHEMA, write_month

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"
WORKBOOK = RAW / "ons_pfa_tables_ye_dec2024" / "policeforceareatablesyedecember2024.xlsx"
GEOJSON = RAW / "ons_pfa_tables_ye_dec2024" / "Police_Force_Areas.geojson"

# Where each figure sits in the published workbook, read here with openpyxl by address.
ROWS = {  # P1 and P4 rows; P2 and P3 are one row lower (an extra line of notes above)
    "England and Wales": 8,
    "Lancashire": 18,
    "Essex": 39,
    "City of London": 44,
    "Kent": 48,
}
COUNT_COLUMNS = {  # P1, P2, P4
    "Total recorded crime (excluding fraud)": "C",
    "Homicide": "E",
    "Sexual offences": "J",
    "Robbery": "K",
    "Residential burglary": "N",
}
RATE_COLUMNS = {  # P3 (residential burglary per 1,000 households)
    "Total recorded crime (excluding fraud)": "E",
    "Homicide": "G",
    "Sexual offences": "L",
    "Robbery": "M",
    "Residential burglary": "Q",
}


def _need_workbook() -> None:
    if not WORKBOOK.is_file():
        pytest.skip(f"The ONS workbook is not here ({WORKBOOK} is absent): skipped.")


@pytest.fixture(scope="module")
def book() -> openpyxl.Workbook:
    _need_workbook()
    return openpyxl.load_workbook(WORKBOOK, data_only=True)


@pytest.fixture(scope="module")
def ons_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding only the imported tables and boundaries."""
    _need_workbook()
    root = tmp_path_factory.mktemp("ons") / "data"
    import_ons_pfa(root, WORKBOOK, boundaries=GEOJSON if GEOJSON.is_file() else None)
    return root


def _peers_json(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> list[dict]:
    status = main(["--data-dir", str(root), "peers", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def _cell(book: openpyxl.Workbook, sheet: str, address: str) -> object:
    return book[sheet][address].value


@pytest.mark.parametrize("offence", list(COUNT_COLUMNS))
def test_peers_gives_the_published_cells_for_each_force(
    book: openpyxl.Workbook, ons_root: Path, capsys: pytest.CaptureFixture[str], offence: str
) -> None:
    rows = {r["force"]: r for r in _peers_json(capsys, ons_root, "--offence", offence, "--all")}
    assert len(rows) == 44  # the 43 forces and England and Wales
    column, rate_column = COUNT_COLUMNS[offence], RATE_COLUMNS[offence]
    households = offence == "Residential burglary"
    for force, row in ROWS.items():
        assert str(_cell(book, "Table P1", f"B{row}")).upper().startswith(force.upper())
        got = rows[force]
        assert got["count"] == _cell(book, "Table P1", f"{column}{row}")
        assert got["previous_count"] == _cell(book, "Table P4 ", f"{column}{row}")
        published_change = _cell(book, "Table P2", f"{column}{row + 1}")
        if isinstance(published_change, str):  # [u]: suppressed, and so shown as nothing
            assert got["pct_change"] is None
            assert f"[{got['pct_change_marker']}]" == published_change
        else:
            assert got["pct_change"] == pytest.approx(published_change, rel=1e-12)
        population = _cell(book, "Table P3", f"{'D' if households else 'C'}{row + 1}")
        assert got["population"] == population
        published_rate = _cell(book, "Table P3", f"{rate_column}{row + 1}")
        if isinstance(published_rate, str):  # [u1]: City of London's rates are not given
            assert got["rate_per_1000"] is None and got["rank"] is None
            assert f"[{got['rate_marker']}]" == published_rate
            assert got["funnel"] == "not shown (rate suppressed)"
        else:
            assert got["rate_per_1000"] == pytest.approx(published_rate, rel=1e-12)


def test_suppressed_cells_are_those_the_workbook_marks(
    book: openpyxl.Workbook, ons_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {r["force"]: r for r in _peers_json(capsys, ons_root, "--offence", "homicide", "--all")}
    marked = {
        re.sub(r"\s*\[note \d+\]", "", str(book["Table P2"][f"B{r}"].value)).strip()
        for r in range(9, 70)
        if book["Table P2"][f"E{r}"].value == "[u]"
        and str(book["Table P2"][f"A{r}"].value or "")[:3] in ("E23", "W15")
    }
    assert marked  # homicide changes rest on small numbers almost everywhere
    assert {f for f, r in rows.items() if r["pct_change_marker"] == "u"} == marked


@pytest.mark.parametrize(("offence", "force"), [("Sexual offences", "Essex"), ("Robbery", "Kent")])
def test_rank_is_the_place_by_published_rate_among_the_forces(
    book: openpyxl.Workbook,
    ons_root: Path,
    capsys: pytest.CaptureFixture[str],
    offence: str,
    force: str,
) -> None:
    sheet, column = book["Table P3"], RATE_COLUMNS[offence]
    rates = {
        str(sheet[f"B{r}"].value).strip(): sheet[f"{column}{r}"].value
        for r in range(10, 70)
        if str(sheet[f"A{r}"].value or "")[:3] in ("E23", "W15")
        and isinstance(sheet[f"{column}{r}"].value, float | int)
    }
    higher = sum(1 for rate in rates.values() if rate > rates[force])
    rows = _peers_json(capsys, ons_root, "--offence", offence, "--force", force)
    mine = rows[0]
    assert mine["force"] == force
    assert mine["rank"] == higher + 1
    assert mine["ranked_of"] == len(rates) == 42  # City of London's rate is suppressed
    assert rows[-1]["force"] == "England and Wales"
    assert len(rows) == 1 + 7 + 1  # the force, its seven nearest forces, England and Wales


def test_funnel_limits_match_a_hand_computed_poisson_case() -> None:
    expected = 100.0

    def quantile(q: float) -> int:
        # the smallest k whose cumulative Poisson probability reaches q, summed term by term
        total, term, k = 0.0, math.exp(-expected), 0
        while True:
            total += term
            if total >= q:
                return k
            k += 1
            term *= expected / k

    limits = poisson_limits(expected)
    assert (limits.lower_95, limits.upper_95) == (quantile(0.025), quantile(0.975))
    assert (limits.lower_998, limits.upper_998) == (quantile(0.001), quantile(0.999))
    assert (limits.lower_95, limits.upper_95) == (81, 120)
    assert classify(120, limits) == "within"
    assert classify(121, limits) == "above 95%"
    assert classify(limits.upper_998 + 1, limits) == "above 99.8%"
    assert classify(80, limits) == "below 95%"
    assert classify(limits.lower_998 - 1, limits) == "below 99.8%"


def test_overdispersion_is_one_for_counts_at_their_expectation_and_grows_with_spread() -> None:
    expected = [100.0] * 10
    assert overdispersion([110, 90] * 5, expected) == pytest.approx(1.0)
    # z = +/-3 for every area: the mean square is 9
    assert overdispersion([130, 70] * 5, expected) == pytest.approx(9.0)


def test_funnel_verdicts_follow_the_published_counts(ons_root: Path) -> None:
    db = Database(ons_root)
    table = peers.peer_table(db, "Sexual offences")
    national = table.frame[table.frame["is_england_and_wales"]].iloc[0]
    for row in table.frame[~table.frame["is_england_and_wales"]].to_dict("records"):
        if row["rate_per_1000"] is None or math.isnan(row["rate_per_1000"]):
            continue
        expected = row["population"] * national["rate_per_1000"] / 1000
        # a count more than 3.09 Poisson standard deviations off is beyond the 99.8% limits
        z = (row["count"] - expected) / math.sqrt(expected)
        if abs(z) > 3.3:
            assert row["funnel"] == ("above 99.8%" if z > 0 else "below 99.8%"), row["force"]
        if abs(z) < 1.8:
            assert row["funnel"] == "within", row["force"]


def test_the_default_peer_group_is_labelled_and_a_configured_one_is_used(
    ons_root: Path, tmp_path: Path
) -> None:
    default = peers.peer_group(Database(ons_root))
    assert not default.is_configured
    assert "not the most similar group" in default.label
    assert "Essex" not in default.peers and len(default.peers) == 7
    if GEOJSON.is_file():
        assert "population density" in default.basis
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "strategy.toml").write_text(
        'extends = "default"\n[peers]\nforce = "Kent"\n'
        'group_name = "Test group"\ngroup = ["Essex", "sussex"]\n'
    )
    configured = peers.peer_group(Database(ons_root, load_config(config_dir)))
    assert configured.force == "Kent"
    assert configured.peers == ("Essex", "Sussex")
    assert configured.label == "Test group" and configured.is_configured


def test_a_peer_group_without_a_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "strategy.toml").write_text('extends = "default"\n[peers]\ngroup = ["Kent"]\n')
    with pytest.raises(ConfigError, match="group_name"):
        load_config(tmp_path)


def test_an_unknown_offence_or_force_gets_one_sentence(
    ons_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--data-dir", str(ons_root), "peers", "--offence", "arson only"])
    assert status == 2
    assert (
        "Unknown offence group 'arson only'. Known: Total recorded crime" in capsys.readouterr().err
    )
    status = main(["--data-dir", str(ons_root), "peers", "--offence", "robbery", "--force", "Mars"])
    assert status == 2
    assert "Unknown police force area 'Mars'" in capsys.readouterr().err


def test_without_the_tables_peers_says_how_to_import_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(tmp_path), "peers", "--offence", "robbery"]) == 2
    assert "crimeprev import ons-pfa FILE.xlsx" in capsys.readouterr().err


def test_csv_keeps_suppressed_cells_empty_with_their_marker(
    ons_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--data-dir", str(ons_root), "peers", "--offence", "Homicide", "--format", "csv"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",")[:8] == list(peers.PEER_JSON_KEYS)
    essex = lines[1].split(",")
    assert essex[0] == "Essex" and essex[1] == "12" and essex[3] == "" and essex[8] == "u"


def test_the_districts_are_the_published_csp_rows(book: openpyxl.Workbook, ons_root: Path) -> None:
    frame = peers.district_figures(Database(ons_root), "Sexual offences")
    sheet = book["Table C2"]
    published = {
        str(sheet[f"D{r}"].value): sheet[f"N{r}"].value
        for r in range(9, 420)
        if sheet[f"A{r}"].value == "E23000028" and sheet[f"C{r}"].value
    }
    assert len(published) == 14
    got = dict(zip(frame["csp_name"], frame["count_offences"], strict=True))
    assert {k: got[k] for k in published} == published
    assert "Unassigned Essex" in got


def _records_for_2024(root: Path) -> dict[str, int]:
    """Crime records for every month of 2024: Basildon and Colchester a few each month."""
    from crimeprev.aggregate import ensure_aggregates

    made = {"E07000066": 0, "E07000071": 0}
    for month in range(1, 13):
        rows = []
        for code, per_month in (("E07000066", 3), ("E07000071", 2)):
            for i in range(per_month):
                made[code] += 1
                rows.append(
                    {
                        "record_id": f"R-{month}-{code}-{i}",
                        "force": "Essex Police",
                        "month_start": date(2024, month, 1),
                        "record_kind": "crime",
                        "district_code": code,
                        "crime_type": "Rape" if i == 0 else "Shoplifting",
                        "is_knife_enabled": False,
                        "is_domestic_abuse": False,
                        "is_hate_crime": False,
                        "is_night_time_economy": False,
                        "is_online": False,
                        "is_child_sexual_abuse": False,
                    }
                )
        table = pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)
        write_month(root, date(2024, month, 1), table)
    ensure_aggregates(root)
    return made


def test_reconciliation_sets_each_districts_records_beside_the_csp_count(
    book: openpyxl.Workbook, ons_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(ons_root / "ons", root / "ons")
    made = _records_for_2024(root)
    check = peers.reconciliation(Database(root), "Sexual offences")
    assert check.reason is None and check.year_label == "year ending December 2024"
    frame = check.frame.set_index("district_name")
    sheet = book["Table C2"]
    for name, code in (("Basildon", "E07000066"), ("Colchester", "E07000071")):
        row = next(r for r in range(9, 420) if sheet[f"E{r}"].value == code)
        published = sheet[f"N{row}"].value
        assert frame.loc[name, "count_records"] == 12  # one rape a month
        assert frame.loc[name, "ons_count"] == published
        assert frame.loc[name, "difference"] == 12 - published
    assert frame.loc["Maldon", "count_records"] == 0
    total = peers.reconciliation(Database(root), "Total recorded crime (excluding fraud)")
    assert total.frame is not None
    assert (
        total.frame.set_index("district_name").loc["Basildon", "count_records"] == made["E07000066"]
    )


def test_reconciliation_says_when_the_records_miss_the_published_years(
    ons_root: Path, demo_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    root.mkdir()
    for name in ("records", "aggregates"):
        (root / name).symlink_to(demo_root / name, target_is_directory=True)
    shutil.copytree(ons_root / "ons", root / "ons")
    check = peers.reconciliation(Database(root), "Robbery")
    assert check.frame is None
    assert check.reason == (
        "The records run from 2017-04 to 2022-09, so they cover neither year the ONS tables "
        "give (the years ending December 2024 and December 2023): there is nothing to reconcile."
    )


def test_a_damaged_copy_of_the_workbook_is_refused_with_a_sentence(tmp_path: Path) -> None:
    _need_workbook()
    root = tmp_path / "data"
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(WORKBOOK.read_bytes()[: WORKBOOK.stat().st_size // 2])
    with pytest.raises(ImportFailed) as refused:
        import_ons_pfa(root, cut)
    message = str(refused.value)
    assert message.startswith("cut.xlsx ") and "Download the published tables again." in message
    assert "\n" not in message and "Traceback" not in message
    assert not edition_files(root)
    logged = import_log(root)
    assert logged[-1]["kind"] == "ons-pfa" and logged[-1]["files"][0]["problem"] == message

    text = tmp_path / "notes.xlsx"
    text.write_text("Area Code,Area Name\nE23000028,Essex\n")
    with pytest.raises(ImportFailed, match="cannot be read as an Excel workbook"):
        import_ons_pfa(root, text)


def _edited_copy(tmp_path: Path, name: str, edit) -> Path:
    edited = openpyxl.load_workbook(WORKBOOK)
    edit(edited)
    path = tmp_path / name
    edited.save(path)
    return path


def test_an_altered_count_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    _need_workbook()
    root = tmp_path / "data"

    def alter(book: openpyxl.Workbook) -> None:
        book["Table P1"]["J39"] = 6845  # Essex's sexual offences, 1,000 more than published

    with pytest.raises(ImportFailed) as refused:
        import_ons_pfa(root, _edited_copy(tmp_path, "altered.xlsx", alter))
    assert "Sexual offences add up to" in str(refused.value)
    assert "J8" in str(refused.value)  # the England and Wales total it no longer matches
    assert not edition_files(root)

    def scribble(book: openpyxl.Workbook) -> None:
        book["Table P3"]["L40"] = "about three"

    with pytest.raises(ImportFailed, match=r"cell L40 holds 'about three', which is neither"):
        import_ons_pfa(root, _edited_copy(tmp_path, "scribbled.xlsx", scribble))

    def slip(book: openpyxl.Workbook) -> None:
        book["Table P3"]["L40"] = 3.59  # Essex's sexual offences rate: 5,845 / 1,896,600 is 3.08

    with pytest.raises(ImportFailed, match=r"cell L40: the rate for Essex's Sexual offences"):
        import_ons_pfa(root, _edited_copy(tmp_path, "slipped.xlsx", slip))
    assert not edition_files(root)
    assert [e["files"][0]["problem"] is not None for e in import_log(root)] == [True] * 3


def test_tables_are_found_by_title_and_header_and_a_later_edition_is_added(
    ons_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    shutil.copytree(ons_root / "ons", root / "ons")

    def next_year(book: openpyxl.Workbook) -> None:
        # a year on, with the sheets renamed and reordered and rows added above the tables
        for sheet in book.worksheets:
            for row in sheet.iter_rows(max_row=3):
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.value = cell.value.replace("2024", "2025").replace("2023", "2024")
        book["Table P1"].insert_rows(2, amount=2)
        book["Table P1"].title = "Offences now"
        book.move_sheet("Offences now", offset=4)
        book["Table P2"]["J40"] = 12.5  # Essex's % change in sexual offences, a year on

    import_ons_pfa(root, _edited_copy(tmp_path, "next.xlsx", next_year))
    assert list(edition_files(root)) == ["2024-12", "2025-12"]
    latest = _peers_json(capsys, root, "--offence", "Sexual offences")
    earlier = _peers_json(capsys, root, "--offence", "Sexual offences", "--edition", "2024-12")
    assert latest[0]["count"] == earlier[0]["count"] == 5845  # P1 read past its moved rows
    assert latest[0]["pct_change"] == 12.5
    assert earlier[0]["pct_change"] == pytest.approx(4.0036, abs=1e-4)
    import_ons_pfa(root, WORKBOOK)  # the same edition again replaces itself
    assert list(edition_files(root)) == ["2024-12", "2025-12"]
    stored = pq.read_table(edition_files(root)["2024-12"]).to_pandas()
    assert not stored.duplicated(["source_table", "source_cell"]).any()


@pytest.fixture(scope="module")
def demo_with_ons(
    demo_root: Path, ons_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The demo records with the ONS tables (and boundaries) imported beside them."""
    root = tmp_path_factory.mktemp("demo-ons") / "data"
    root.mkdir()
    for name in ("records", "delivery", "activity", "commentary"):
        if (demo_root / name).exists():
            (root / name).symlink_to(demo_root / name, target_is_directory=True)
    shutil.copytree(demo_root / "aggregates", root / "aggregates")
    shutil.copytree(ons_root / "ons", root / "ons")
    return root


def test_the_exported_sheet_and_slide_carry_the_peers_figures(
    demo_with_ons: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pptx import Presentation

    book_path, deck_path = tmp_path / "report.xlsx", tmp_path / "report.pptx"
    for out in (book_path, deck_path):
        args = ["--data-dir", str(demo_with_ons), "report", "--period", "2022-09"]
        assert main([*args, "--strand", "rape", "--out", str(out)]) == 0
    capsys.readouterr()
    sheet = openpyxl.load_workbook(book_path)["How we compare"]
    # An Excel Table with its header in row 1; the change stored as a fraction.
    assert [sheet[f"{c}1"].value for c in "ACDEIKLO"] == [
        "offence_group",
        "count",
        "previous_count",
        "pct_change",
        "rate_per_1000",
        "england_wales_rate",
        "rank",
        "funnel",
    ]
    slide = next(
        s
        for s in Presentation(str(deck_path)).slides
        if s.shapes.title is not None and s.shapes.title.text == "How we compare"
    )
    table = next(shape.table for shape in slide.shapes if shape.has_table)
    slide_rows = {
        table.cell(r, 0).text: [table.cell(r, c).text for c in range(8)]
        for r in range(1, len(table.rows))
    }
    row = 2
    while sheet[f"A{row}"].value:
        offence = sheet[f"A{row}"].value
        essex = _peers_json(capsys, demo_with_ons, "--offence", offence)[0]
        assert essex["force"] == "Essex" == sheet[f"B{row}"].value
        assert sheet[f"C{row}"].value == essex["count"]
        assert sheet[f"D{row}"].value == essex["previous_count"]
        assert sheet[f"E{row}"].value == pytest.approx(essex["pct_change"] / 100, rel=1e-6)
        assert sheet[f"I{row}"].value == pytest.approx(essex["rate_per_1000"], rel=1e-12)
        assert sheet[f"L{row}"].value == essex["rank"]
        assert sheet[f"O{row}"].value == essex["funnel"]
        shown = next(v for k, v in slide_rows.items() if k.startswith(offence))
        assert shown[1] == f"{essex['rate_per_1000']:.2f}" and shown[4] == str(essex["rank"])
        row += 1
    assert row - 2 == len(slide_rows) == len(peers.MAIN_OFFENCE_GROUPS)


def test_the_compare_page_shows_the_force_its_peers_and_the_answer(
    demo_with_ons: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import render_app

    at = render_app(monkeypatch, demo_with_ons, "pages/compare.py", offence="Sexual offences")
    assert not at.exception
    expected = _peers_json(capsys, demo_with_ons, "--offence", "Sexual offences")
    shown = at.dataframe[0].value
    assert list(shown["force"]) == [r["force"] for r in expected]
    assert list(shown["count"]) == [r["count"] for r in expected]
    answer = " ".join(m.value for m in at.markdown)
    assert "Essex: 3.08 per 1,000 residents, below England and Wales (3.38)" in answer
    assert any("not the published most similar group" in c.value for c in at.caption)
    assert any("cover neither year the ONS tables give" in i.value for i in at.info)

    at = render_app(monkeypatch, demo_with_ons, "pages/compare.py", offence="Arson only")
    assert not at.exception
    assert "Unknown offence group 'Arson only'" in at.warning[0].value


def test_the_compare_page_says_how_to_import_the_tables(
    demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import render_app

    at = render_app(monkeypatch, demo_root, "pages/compare.py")
    assert not at.exception
    assert "crimeprev import ons-pfa FILE.xlsx" in at.info[0].value


def test_knife_crime_by_force_is_the_published_series_from_2011(
    book: openpyxl.Workbook, ons_root: Path
) -> None:
    trend = peers.knife_trend(Database(ons_root))
    sheet = book["Table P6 "]
    header = [str(c.value or "") for c in sheet[9]]
    essex_row = next(r for r in range(10, 80) if sheet[f"A{r}"].value == "E23000028")
    essex = trend[trend["force"] == "Essex"].set_index("period_end")["count_offences"]
    first = header.index("Apr 2010 to\n Mar 2011") + 1
    latest = header.index("Jan 2024 to\n Dec 2024") + 1
    assert essex[pd.Timestamp("2011-03-01")] == sheet.cell(essex_row, first).value
    assert essex[pd.Timestamp("2024-12-01")] == sheet.cell(essex_row, latest).value == 1517
    periods = [h for h in header if " to" in h and not h.startswith("%") and "compared" not in h]
    assert len(essex) == len(periods) == 14
    roles = trend.drop_duplicates("force").set_index("force")["role"]
    assert roles["Essex"] == "This force"
    assert (roles == "Peer").sum() == 7 and trend["force"].nunique() == 43


def test_a_sheet_larger_than_any_ons_table_is_refused_without_reading_it(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Table P1"
    sheet["A1"] = "Table P1: Police recorded crime by offence group and police force area"
    sheet.cell(row=60_000, column=2, value=1)
    path = tmp_path / "huge.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed, match="larger than any ONS table"):
        import_ons_pfa(tmp_path / "data", path)


def test_a_workbook_without_the_tables_says_what_is_missing(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active["A1"] = "Police force area data tables - year ending December 2024"
    path = tmp_path / "empty.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed) as refused:
        import_ons_pfa(tmp_path / "data", path)
    assert str(refused.value).startswith(
        "The workbook has no table of numbers of offences by police force area for the year"
    )


def test_the_compare_charts_are_valid_vega_lite_holding_the_figures(ons_root: Path) -> None:
    from crimeprev.present import peer_charts

    db = Database(ons_root)
    table = peers.peer_table(db, "Residential burglary")
    funnel = peer_charts.funnel_chart(table)
    funnel.to_dict()  # validates against the Vega-Lite schema
    assert len(funnel.data) == 42 and set(funnel.data["role"]) == {
        "This force",
        "Peer",
        "Other force",
    }
    assert "per 1,000 households" in json.dumps(funnel.to_dict())
    peer_charts.knife_trend_chart(peers.knife_trend(db)).to_dict()
    peer_charts.district_chart(
        peers.district_figures(db, "Residential burglary"), table.rate_label
    ).to_dict()
    shapes = peers.force_shapes(db)
    if GEOJSON.is_file():
        assert shapes is not None and len(shapes) == 43
        named = {shape["force"]: shape["role"] for shape in shapes}
        assert named["Essex"] == "This force" and "Devon and Cornwall" in named  # by code
        assert sorted(f for f, role in named.items() if role == "Peer") == sorted(table.group.peers)
        peer_charts.force_map_chart(shapes).to_dict()


def test_every_offence_group_can_be_compared(ons_root: Path) -> None:
    from crimeprev.present import peer_charts

    db = Database(ons_root)
    groups = peers.offence_groups(db)
    assert len(groups) == 23 and groups[0] == "Total recorded crime (excluding fraud)"
    for offence in groups:
        table = peers.peer_table(db, offence)
        assert table.frame["force"].nunique() == 44, offence
        assert peers.outlier_sentence(table).startswith("Essex: ")
        assert len(peer_charts.funnel_chart(table).data) == table.frame["rank"].notna().sum()
        districts = peers.district_figures(db, offence)
        assert (districts["area_kind"] == "csp").sum() == 14, offence
