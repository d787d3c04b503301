"""`crimeprev import ons-pfa`: the ONS "Police force area data tables" workbook, published with
Crime in England and Wales, read into one tidy table per edition.

    <data>/ons/edition=YYYY-MM/figures.parquet   one row per published cell
    <data>/ons/boundaries.geojson                the 43 police force areas, simplified

Each table is found by its title ("Table P1: Police recorded crime by offence group and police
force area ... number of offences, year ending December 2024") and its header row (the row
that starts `Area Code` or `Police Force Area code`), not by sheet name or position, so a
later edition with rows, columns or sheets moved is read the same way. The ONS notation is
read as what it means: `[u]` and `[u1]` are suppressed, `[x]` unavailable, `[z]` not
applicable; the value is then empty and the marker kept. `[note N]` markers in names and
headings are kept beside the cleaned name. An edition imported again replaces itself; another
edition is added beside the ones already held.
"""

from __future__ import annotations

import json
import math
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from crimeprev.imports.common import (
    FileReport,
    ImportFailed,
    ImportSummary,
    Progress,
    no_progress,
    save_import,
)
from crimeprev.periods import format_month
from crimeprev.store import import_lock, write_table_atomically

ONS_FOLDER = "ons"
FIGURES_FILE = "figures.parquet"
BOUNDARIES_FILE = "boundaries.geojson"
# No ONS table comes near these; a sheet claiming more is not one of them (and reading it
# would hold the machine's memory for nothing).
MAX_ROWS = 5_000
MAX_COLUMNS = 200
MAX_FILE_BYTES = 50_000_000
HEADER_SEARCH_ROWS = 30

MARKERS = {
    "u": "suppressed: the number comes from a small base",
    "u1": "suppressed: the area's resident population is too small",
    "x": "unavailable",
    "z": "not applicable",
}
MARKER = re.compile(r"^\[\s*([a-z]\d?)\s*\]$", re.IGNORECASE)
NOTE = re.compile(r"\[\s*notes?\s*([^\]]*)\]", re.IGNORECASE)
YEAR_ENDING = re.compile(
    r"year ending (january|february|march|april|may|june|july|august|september|october|"
    r"november|december)\s+(\d{4})",
    re.IGNORECASE,
)
PERIOD_COLUMN = re.compile(
    r"^(?:(%) involving a knife )?([A-Z][a-z]{2}) (\d{4}) to ([A-Z][a-z]{2}) (\d{4})$"
)
MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}

DRIVING = "Death or serious injury caused by unlawful driving"
# Offence groups are written slightly differently from one table to the next; each spelling
# seen is read as the one name used throughout.
OFFENCE_ALIASES = {
    "total recorded crime (excludinging fraud)": "Total recorded crime (excluding fraud)",
    "total recorded crime (excluding fraud)": "Total recorded crime (excluding fraud)",
    "death or serious injury - unlawful driving": DRIVING,
    "death or serious injury caused by illegal driving": DRIVING,
    "other theft offences": "All other theft offences",
    "all other theft offences": "All other theft offences",
    "miscellaneous crimes": "Miscellaneous crimes against society",
    "miscellaneous crimes against society": "Miscellaneous crimes against society",
}
TOTAL_CRIME = "Total recorded crime (excluding fraud)"
KNIFE_OFFENCES = "Selected offences involving a knife or sharp instrument"
FIREARM_OFFENCES = "Firearm offences (excluding air weapons)"

FIGURE_SCHEMA = pa.schema(
    [
        ("edition", pa.string()),
        ("source_table", pa.string()),
        ("source_cell", pa.string()),
        ("geography", pa.string()),
        ("area_kind", pa.string()),
        ("area_code", pa.string()),
        ("area_name", pa.string()),
        ("force_code", pa.string()),
        ("force_name", pa.string()),
        ("la_code", pa.string()),
        ("offence_group", pa.string()),
        ("measure", pa.string()),
        ("period_end", pa.date32()),
        ("value", pa.float64()),
        ("marker", pa.string()),
        ("marker_meaning", pa.string()),
        ("notes", pa.string()),
    ]
)
FORCE_COUNT = 43


def ons_dir(root: Path) -> Path:
    """Where the official statistics are kept in a data folder."""
    return root / ONS_FOLDER


def edition_files(root: Path) -> dict[str, Path]:
    """Each edition held (`YYYY-MM`, the month its year ends) and its figures file, oldest
    first."""
    folder = ons_dir(root)
    found = {}
    for path in sorted(folder.glob("edition=*/" + FIGURES_FILE)):
        found[path.parent.name.split("=", 1)[1]] = path
    return found


def boundaries_file(root: Path) -> Path:
    """The simplified police force area boundaries copied in by the import."""
    return ons_dir(root) / BOUNDARIES_FILE


@dataclass(frozen=True)
class TableKind:
    """What a table holds: which figure, at which geography, and how its columns read."""

    geography: str  # pfa or csp
    measure: str  # count, pct_change, rate_per_1000, series
    offence_group: str | None = None  # for a series: the offences it counts


@dataclass
class FoundTable:
    sheet: str
    label: str
    title: str
    kind: TableKind
    period_end: date | None
    header_row: int
    headers: list[str]
    header_notes: list[str]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)


def _clean(text: Any) -> tuple[str, str]:
    """A heading or name without its `[note N]` markers, whitespace collapsed; and the notes."""
    raw = "" if text is None else str(text)
    notes = ["note " + n.strip() for n in NOTE.findall(raw)]
    cleaned = " ".join(NOTE.sub(" ", raw).split())
    return cleaned, "; ".join(notes)


def _year_endings(text: str) -> list[date]:
    return [date(int(y), MONTHS[m.lower()], 1) for m, y in YEAR_ENDING.findall(text)]


def _classify(title: str, headers: list[str]) -> TableKind | None:
    lowered = " ".join(title.lower().split())
    if "community safety partnership" in lowered:
        if "list of" in lowered:
            return None
        if "percentage change" in lowered:
            return TableKind("csp", "pct_change")
        if "rate per 1,000" in lowered:
            return TableKind("csp", "rate_per_1000")
        if "number of police recorded crimes" in lowered:
            return TableKind("csp", "count")
        return None
    if "police force area" not in lowered:
        return None
    periods = sum(1 for h in headers if PERIOD_COLUMN.match(h) and not h.startswith("%"))
    if "knife" in lowered and periods >= 3:
        return TableKind("pfa", "series", KNIFE_OFFENCES)
    if "firearm" in lowered and periods >= 3:
        return TableKind("pfa", "series", FIREARM_OFFENCES)
    if "offence group" not in lowered:
        return None
    if "percentage change" in lowered:
        return TableKind("pfa", "pct_change")
    if "rate of offences per 1,000" in lowered:
        return TableKind("pfa", "rate_per_1000")
    if "number of offences" in lowered:
        return TableKind("pfa", "count")
    return None


def _bounded_rows(sheet: Any, name: str) -> Iterator[tuple[Any, ...]]:
    rows, columns = sheet.max_row, sheet.max_column
    if (rows or 0) > MAX_ROWS or (columns or 0) > MAX_COLUMNS:
        raise ImportFailed(
            f"Sheet '{name}' is {rows:,} rows by {columns:,} columns, larger than any ONS "
            f"table (at most {MAX_ROWS:,} rows and {MAX_COLUMNS} columns): this is not the "
            "published workbook, or it has been damaged."
        )
    count = 0
    for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
        count += 1
        if count > MAX_ROWS:
            raise ImportFailed(
                f"Sheet '{name}' runs past {MAX_ROWS:,} rows, longer than any ONS table: this "
                "is not the published workbook, or it has been damaged."
            )
        yield tuple(row)


def _is_header(first: Any) -> bool:
    text = " ".join(str(first or "").lower().split())
    return text in ("area code", "area codes", "police force area code")


def _read_sheet(sheet: Any, name: str) -> FoundTable | None:
    rows = _bounded_rows(sheet, name)
    preamble: list[str] = []
    for index, row in enumerate(islice(rows, HEADER_SEARCH_ROWS), start=1):
        if row and _is_header(row[0]):
            cleaned = [_clean(h) for h in row]
            width = max((i for i, (h, _) in enumerate(cleaned) if h), default=-1) + 1
            headers = [h for h, _ in cleaned[:width]]
            title = next((t for t in preamble if t.lower().startswith("table ")), "")
            kind = _classify(title, headers)
            if kind is None:
                return None
            label = title.split(":", 1)[0].strip()
            endings = _year_endings(title)
            found = FoundTable(
                sheet=name,
                label=label,
                title=" ".join(title.split()),
                kind=kind,
                period_end=max(endings) if endings else None,
                header_row=index,
                headers=headers,
                header_notes=[n for _, n in cleaned[:width]],
            )
            for number, data in enumerate(rows, start=index + 1):
                values = tuple(data[:width])
                if not any(v is not None and str(v).strip() for v in values[:4]):
                    break  # a blank row ends the table
                found.rows.append((number, values))
            return found
        first = next((str(v) for v in row if v is not None and str(v).strip()), None)
        if first is not None:
            preamble.append(first)
    return None


def _cell_value(
    table: FoundTable, row: int, column: int, raw: Any
) -> tuple[float | None, str | None]:
    """A published cell as a number, or its ONS marker; anything else refuses the file."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, int | float):
        if not math.isfinite(float(raw)):
            raw = str(raw)
        else:
            return float(raw), None
    text = str(raw).strip()
    marker = MARKER.match(text)
    if marker and marker.group(1).lower() in MARKERS:
        return None, marker.group(1).lower()
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        return number, None
    where = f"{table.label} ('{table.sheet}'), cell {get_column_letter(column + 1)}{row}"
    raise ImportFailed(
        f"{where} holds '{text[:40]}', which is neither a number nor one of the ONS markers "
        "[u], [u1], [x] or [z]: the file is not the published workbook, or it has been edited."
    )


def _area_kind(code: str | None) -> str:
    if not code:
        return "other"
    prefix = code[:3]
    return {
        "K04": "england_and_wales",
        "E92": "country",
        "W92": "country",
        "E12": "region",
        "E23": "force",
        "W15": "force",
    }.get(prefix, "other")


def _offence(header: str) -> tuple[str, str]:
    """The offence group a rate or count column holds, and its measure's denominator."""
    lowered = header.lower()
    denominator = "population"
    if "household" in lowered:
        denominator = "households"
    base = re.sub(r"\s*\((?:households?|per 1,000 (?:population|households?))\)", "", header)
    base = " ".join(base.split())
    return OFFENCE_ALIASES.get(base.lower(), base), denominator


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _pfa_rows(table: FoundTable, edition: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    period = table.period_end
    for number, values in table.rows:
        code = _text(values[0])
        name, name_notes = _clean(values[1])
        kind = _area_kind(code)
        base = {
            "edition": edition,
            "source_table": table.label,
            "geography": "pfa",
            "area_kind": kind,
            "area_code": code,
            "area_name": name,
            "force_code": code if kind == "force" else None,
            "force_name": name if kind == "force" else None,
            "la_code": None,
        }
        for column in range(2, len(table.headers)):
            header = table.headers[column]
            if not header:
                continue
            notes = "; ".join(n for n in (name_notes, table.header_notes[column]) if n)
            measure, offence, row_period = table.kind.measure, None, period
            if table.kind.measure == "series":
                match = PERIOD_COLUMN.match(header)
                if match is None:
                    continue  # the % change column beside the series
                share, _, _, end_month, end_year = match.groups()
                row_period = date(int(end_year), MONTHS[_month_name(end_month)], 1)
                measure = "pct_involving_knife" if share else "count"
                offence = table.kind.offence_group
            else:
                lowered = header.lower()
                if lowered.startswith("population figures"):
                    measure, offence = "population", None
                elif lowered.startswith("household figures"):
                    measure, offence = "households", None
                else:
                    offence, denominator = _offence(header)
                    if table.kind.measure == "rate_per_1000" and denominator == "households":
                        measure = "rate_per_1000_households"
            value, marker = _cell_value(
                table, number, column, values[column] if column < len(values) else None
            )
            out.append(
                base
                | {
                    "source_cell": f"{get_column_letter(column + 1)}{number}",
                    "offence_group": offence,
                    "measure": measure,
                    "period_end": row_period,
                    "value": value,
                    "marker": marker,
                    "marker_meaning": MARKERS.get(marker or ""),
                    "notes": notes or None,
                }
            )
    return out


def _month_name(short: str) -> str:
    return next(name for name in MONTHS if name.startswith(short.lower()))


def _csp_rows(table: FoundTable, edition: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    headers = [h.lower() for h in table.headers]
    try:
        columns = {
            key: next(i for i, h in enumerate(headers) if h == wanted)
            for key, wanted in (
                ("force_code", "police force area code"),
                ("force_name", "police force area name"),
                ("csp_code", "community safety partnership code"),
                ("csp_name", "community safety partnership name"),
                ("la_code", "local authority code"),
            )
        }
    except StopIteration as error:
        raise ImportFailed(
            f"{table.label} ('{table.sheet}') lacks the police force area, community safety "
            "partnership or local authority columns its header row should have."
        ) from error
    first_figure = max(columns.values()) + 2
    force_name_by_code: dict[str, str] = {}
    for number, values in table.rows:
        force_code = _text(values[columns["force_code"]])
        force_name, _ = _clean(values[columns["force_name"]])
        if force_code:
            force_name = force_name_by_code.setdefault(force_code, force_name)
        csp_code = _text(values[columns["csp_code"]])
        csp_name, name_notes = _clean(values[columns["csp_name"]])
        if not csp_code and not csp_name:
            kind, code, name = "force", force_code, force_name
        elif not csp_code:
            kind, code, name = "unassigned", None, csp_name
        else:
            kind, code, name = "csp", csp_code, csp_name
        base = {
            "edition": edition,
            "source_table": table.label,
            "geography": "csp",
            "area_kind": kind,
            "area_code": code,
            "area_name": name,
            "force_code": force_code,
            "force_name": force_name,
            "la_code": _text(values[columns["la_code"]]),
        }
        for column in range(first_figure, len(table.headers)):
            header = table.headers[column]
            if not header:
                continue
            lowered = header.lower()
            measure = table.kind.measure
            offence: str | None
            if lowered.startswith("population figures"):
                measure, offence = "population", None
            elif lowered.startswith("household figures"):
                measure, offence = "households", None
            else:
                offence, denominator = _offence(header)
                if measure == "rate_per_1000" and denominator == "households":
                    measure = "rate_per_1000_households"
            value, marker = _cell_value(
                table, number, column, values[column] if column < len(values) else None
            )
            notes = "; ".join(n for n in (name_notes, table.header_notes[column]) if n)
            out.append(
                base
                | {
                    "source_cell": f"{get_column_letter(column + 1)}{number}",
                    "offence_group": offence,
                    "measure": measure,
                    "period_end": table.period_end,
                    "value": value,
                    "marker": marker,
                    "marker_meaning": MARKERS.get(marker or ""),
                    "notes": notes or None,
                }
            )
    return out


def _edition(titles: list[str]) -> date:
    for title in titles:
        if "police force area data tables" in title.lower():
            endings = _year_endings(title)
            if endings:
                return max(endings)
    raise ImportFailed(
        "The workbook does not say which year it covers: no sheet is titled 'Police force "
        "area data tables - year ending <month> <year>'. Is it the ONS police force area "
        "data tables?"
    )


def _check_pfa(table: FoundTable, rows: list[dict[str, Any]]) -> None:
    codes = [r["area_code"] for r in rows if r["area_kind"] == "force"]
    forces = sorted(set(codes))
    where = f"{table.label} ('{table.sheet}')"
    if len(forces) != FORCE_COUNT:
        raise ImportFailed(
            f"{where} has {len(forces)} police force areas, not the {FORCE_COUNT} of England "
            "and Wales: the table is incomplete or damaged."
        )
    if not any(r["area_kind"] == "england_and_wales" for r in rows):
        raise ImportFailed(f"{where} has no England and Wales row (K04000001).")
    if table.kind.measure == "count":
        negative = next(
            (r for r in rows if r["area_kind"] == "force" and (r["value"] or 0) < 0), None
        )
        if negative is not None:
            raise ImportFailed(
                f"{where}, cell {negative['source_cell']}: {negative['area_name']} has a "
                f"negative count ({negative['value']:g}) of {negative['offence_group']}."
            )


def _check_totals(table: FoundTable, rows: list[dict[str, Any]]) -> None:
    """England and Wales is the sum of the 43 forces and British Transport Police."""
    sums: dict[str, float] = {}
    totals: dict[str, tuple[float, str]] = {}
    for r in rows:
        if r["value"] is None or r["offence_group"] is None:
            continue
        if r["area_kind"] in ("force", "other"):
            sums[r["offence_group"]] = sums.get(r["offence_group"], 0.0) + r["value"]
        elif r["area_kind"] == "england_and_wales":
            totals[r["offence_group"]] = (r["value"], r["source_cell"])
    for offence, (total, cell) in totals.items():
        if abs(sums.get(offence, 0.0) - total) > 0.5:
            raise ImportFailed(
                f"{table.label} ('{table.sheet}'): the areas' {offence} add up to "
                f"{sums.get(offence, 0.0):,.0f}, not the England and Wales total of {total:,.0f} "
                f"in cell {cell}: the table has been altered or damaged."
            )


def _check_rates(counts: list[dict[str, Any]], rates: list[dict[str, Any]], label: str) -> None:
    """A published rate agrees with the count and population it comes from (to 2%, since the
    population is rounded to 100): catches columns that have slipped."""
    population = {
        r["area_code"]: r["value"] for r in rates if r["measure"] == "population" and r["value"]
    }
    count = {
        (r["area_code"], r["offence_group"]): r["value"]
        for r in counts
        if r["area_kind"] == "force" and r["value"] is not None
    }
    for r in rates:
        if r["measure"] != "rate_per_1000" or r["value"] is None or r["area_kind"] != "force":
            continue
        n = count.get((r["area_code"], r["offence_group"]))
        pop = population.get(r["area_code"])
        if n is None or not pop:
            continue
        expected = n / pop * 1000
        if abs(expected - r["value"]) > 0.02 * max(expected, r["value"]) + 0.01:
            raise ImportFailed(
                f"{label}, cell {r['source_cell']}: the rate for {r['area_name']}'s "
                f"{r['offence_group']} ({r['value']:.2f} per 1,000) does not follow from its "
                f"count ({n:,.0f}) and population ({pop:,.0f}): the tables do not line up."
            )


@dataclass
class ReadWorkbook:
    """What was read from a workbook: its edition, the tables found and their figures."""

    edition: date
    tables: list[FoundTable]
    figures: pa.Table
    skipped_sheets: list[str]


def read_workbook(path: Path) -> ReadWorkbook:
    """Read and check the workbook; raises `ImportFailed` with one sentence when it cannot be
    used."""
    if not path.is_file():
        raise ImportFailed(f"There is no file {path}.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(
            f"{path.name} is {path.stat().st_size / 1e6:.0f} MB, far larger than the ONS "
            "workbook (under 1 MB): it is not the published tables."
        )
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportFailed(
            f"{path.name} cannot be read as an Excel workbook (.xlsx): {error}. Download the "
            "published tables again."
        ) from error
    except Exception as error:  # a damaged part inside the archive raises many kinds
        raise ImportFailed(
            f"{path.name} is damaged and cannot be read as an Excel workbook "
            f"({type(error).__name__}). Download the published tables again."
        ) from error
    try:
        return _read_book(book)
    except ImportFailed:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as error:
        raise ImportFailed(
            f"{path.name} is damaged: part of it cannot be read ({type(error).__name__}). "
            "Download the published tables again."
        ) from error
    finally:
        book.close()


def _read_book(book: Any) -> ReadWorkbook:
    titles: list[str] = []
    tables: list[FoundTable] = []
    skipped: list[str] = []
    for name in book.sheetnames[:MAX_COLUMNS]:
        sheet = book[name]
        found = _read_sheet(sheet, name)
        if found is None:
            skipped.append(name)
            for row in islice(sheet.iter_rows(max_col=3, values_only=True), 3):
                titles.extend(str(v) for v in row if isinstance(v, str))
        else:
            tables.append(found)
    edition = _edition(titles + [t.title for t in tables])
    edition_text = format_month(edition)
    previous = date(edition.year - 1, edition.month, 1)
    rows: list[dict[str, Any]] = []
    by_kind: dict[tuple[str, str, date | None], list[dict[str, Any]]] = {}
    for table in tables:
        if table.kind.measure != "series" and table.period_end is None:
            raise ImportFailed(
                f"{table.label} ('{table.sheet}') does not say which year it covers."
            )
        table_rows = (
            _pfa_rows(table, edition_text)
            if table.kind.geography == "pfa"
            else _csp_rows(table, edition_text)
        )
        if table.kind.geography == "pfa":
            _check_pfa(table, table_rows)
            if table.kind.measure == "count":
                _check_totals(table, table_rows)
        key = (table.kind.geography, table.kind.measure, table.period_end)
        if key in by_kind and table.kind.measure != "series":
            raise ImportFailed(
                f"{table.label} and another table both hold {table.kind.measure} for "
                f"{table.kind.geography.upper()}s: the workbook is not the published layout."
            )
        by_kind[key] = table_rows
        rows.extend(table_rows)
    required = {
        ("pfa", "count", edition): "numbers of offences by police force area for the year",
        ("pfa", "count", previous): "numbers of offences by police force area the year before",
        ("pfa", "pct_change", edition): "percentage change by police force area",
        ("pfa", "rate_per_1000", edition): "rates per 1,000 population by police force area",
    }
    missing = [text for key, text in required.items() if key not in by_kind]
    if missing:
        raise ImportFailed(
            f"The workbook has no table of {'; nor of '.join(missing)} (found by title and "
            "header row). Is it the ONS police force area data tables?"
        )
    _check_rates(
        by_kind[("pfa", "count", edition)],
        by_kind[("pfa", "rate_per_1000", edition)],
        next(t.label for t in tables if t.kind == TableKind("pfa", "rate_per_1000")),
    )
    figures = pa.Table.from_pylist(rows, schema=FIGURE_SCHEMA)
    return ReadWorkbook(edition, tables, figures, skipped)


def _simplified_boundaries(path: Path, force_codes: set[str]) -> dict[str, Any]:
    """The police force areas of a GeoJSON file, coordinates rounded to about 10 m, with
    each area's code, name and area in square kilometres."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImportFailed(f"The boundary file {path.name} cannot be read as JSON.") from error
    features = raw.get("features") if isinstance(raw, dict) else None
    if not isinstance(features, list) or not features:
        raise ImportFailed(f"The boundary file {path.name} is not a GeoJSON FeatureCollection.")
    simplified: list[dict[str, Any]] = []
    for feature in features:
        properties = feature.get("properties") or {}
        code_key = next((k for k in properties if re.fullmatch(r"PFA\d\dCD", k)), None)
        name_key = next((k for k in properties if re.fullmatch(r"PFA\d\dNM", k)), None)
        geometry = feature.get("geometry") or {}
        if code_key is None or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        rounded = [[_round_ring(ring) for ring in polygon] for polygon in polygons]
        simplified.append(
            {
                "type": "Feature",
                "properties": {
                    "area_code": properties[code_key],
                    "area_name": properties.get(name_key) if name_key else None,
                    "area_km2": round(sum(_polygon_km2(p) for p in rounded), 1),
                },
                "geometry": {"type": "MultiPolygon", "coordinates": rounded},
            }
        )
    found = {f["properties"]["area_code"] for f in simplified}
    missing = sorted(force_codes - found)
    if missing:
        raise ImportFailed(
            f"The boundary file {path.name} has no police force area for "
            f"{', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''} "
            "(property PFAyyCD): it is not the 43 police force areas."
        )
    return {"type": "FeatureCollection", "features": simplified}


def _round_ring(ring: list[list[float]]) -> list[list[float]]:
    points: list[list[float]] = []
    for x, y, *_ in ring:
        point = [round(float(x), 4), round(float(y), 4)]
        if not points or points[-1] != point:
            points.append(point)
    return points


def _polygon_km2(rings: list[list[list[float]]]) -> float:
    """A polygon's area on a local flat projection: close enough at a county's scale."""
    total = 0.0
    for index, ring in enumerate(rings):
        if len(ring) < 3:
            continue
        mid_latitude = math.radians(sum(p[1] for p in ring) / len(ring))
        kx, ky = 111.32 * math.cos(mid_latitude), 110.57
        area = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            area += (x0 * kx) * (y1 * ky) - (x1 * kx) * (y0 * ky)
        total += abs(area) / 2 * (1 if index == 0 else -1)
    return total


def import_ons_pfa(
    root: Path,
    path: Path,
    boundaries: Path | None = None,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Import the ONS police force area tables (and optionally the police force area
    boundaries) into the data folder; see the module docstring. A file that cannot be used
    is logged and refused with `ImportFailed`; nothing is written then."""
    started = time.perf_counter()
    summary = ImportSummary(kind="ons-pfa", data_dir=str(root))
    report = FileReport(file=str(path))
    summary.files.append(report)
    with import_lock(root):
        try:
            progress(0.1, f"Reading {path.name}")
            read = read_workbook(path)
            shapes = None
            if boundaries is not None:
                progress(0.7, f"Reading {boundaries.name}")
                forces = {
                    code
                    for code, kind in zip(
                        read.figures["area_code"].to_pylist(),
                        read.figures["area_kind"].to_pylist(),
                        strict=True,
                    )
                    if kind == "force" and code
                }
                shapes = _simplified_boundaries(boundaries, forces)
        except ImportFailed as error:
            report.problem = str(error)
            summary.seconds = time.perf_counter() - started
            save_import(root, summary, None)
            raise
        edition = format_month(read.edition)
        report.rows_read = sum(len(t.rows) for t in read.tables)
        report.rows_loaded = report.rows_read  # every row of every table is kept
        report.months = [edition]
        progress(0.8, "Writing the figures")
        target = ons_dir(root) / f"edition={edition}" / FIGURES_FILE
        replaced = target.is_file()
        staging = boundaries_file(root).with_name(f".{BOUNDARIES_FILE}.staging")
        if shapes is not None:
            # Both files are written in full before either is swapped in.
            staging.parent.mkdir(parents=True, exist_ok=True)
            staging.write_text(json.dumps(shapes, separators=(",", ":")), encoding="utf-8")
        try:
            write_table_atomically(read.figures, target)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        if shapes is not None:
            staging.replace(boundaries_file(root))
            summary.notes.append(
                f"Police force area boundaries: {len(shapes['features'])} areas copied "
                f"(simplified) to {boundaries_file(root).relative_to(root)}."
            )
        summary.notes.append(
            f"Edition: year ending {read.edition:%B %Y} "
            f"({'replaced the copy already held' if replaced else 'added'}); "
            f"{read.figures.num_rows:,} published figures from "
            + ", ".join(f"{t.label} ({t.kind.geography} {t.kind.measure})" for t in read.tables)
            + "."
        )
        summary.notes.append(
            "Editions held (years ending): " + ", ".join(sorted(edition_files(root))) + "."
        )
        if read.skipped_sheets:
            summary.notes.append("Sheets not used: " + ", ".join(read.skipped_sheets) + ".")
        suppressed = sum(1 for m in read.figures["marker"].to_pylist() if m)
        summary.notes.append(
            f"{suppressed:,} cells are marked rather than given ([u], [u1] suppressed, [x] "
            "unavailable, [z] not applicable); they are kept as markers, never as zeros."
        )
        summary.seconds = time.perf_counter() - started
        save_import(root, summary, None)
        progress(1.0, "Done")
    return summary
