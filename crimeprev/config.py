"""The strategy's configuration: districts, strands, measures and the vocabulary of records.

The defaults ship in `crimeprev/config/`. A data folder may carry its own `config/` with any of
the same files, which then replace the defaults for that data (a force other than Essex, say).
Everything is validated when loaded; a mistake is reported as `ConfigError` naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from crimeprev.errors import CrimeprevError
from crimeprev.periods import PeriodError, parse_month

DEFAULT_CONFIG_DIR = Path(__file__).parent / "config"
CONFIG_FILES = ("strategy.toml", "taxonomy.toml", "districts.csv")
IMPROVEMENT_DIRECTIONS = ("down", "up")


class ConfigError(CrimeprevError, ValueError):
    """The configuration cannot be used; the message names the file and the problem."""

    title = "The configuration cannot be used"


@dataclass(frozen=True)
class Rule:
    """Which records a measure counts: one record kind, narrowed by every list that is given."""

    record_kind: str
    crime_types: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()

    def describe(self) -> str:
        """The rule in words, for the definitions shown to users."""
        parts = [f"{self.record_kind} records"]
        if self.crime_types:
            parts.append("of type " + " or ".join(self.crime_types))
        if self.flags:
            parts.append("flagged " + " and ".join(self.flags))
        if self.outcomes:
            parts.append("with outcome " + " or ".join(self.outcomes))
        return ", ".join(parts)


@dataclass(frozen=True)
class Measure:
    """One counted measure of a strand."""

    id: str
    strand_id: str
    name: str
    unit: str
    improvement: str
    definition: str
    rule: Rule
    # Set when the data holds no direct measure and a related count stands in for it.
    proxy_note: str | None = None


@dataclass(frozen=True)
class Strand:
    """One of the strategy's thematic strands."""

    id: str
    name: str
    group: str
    lead_role: str
    measures: tuple[Measure, ...] = field(default_factory=tuple)
    # Set when the data in this folder cannot measure the strand at all, saying why.
    not_supported: str | None = None


@dataclass(frozen=True)
class District:
    """A district of the force, or one of the two places records go when they have none."""

    code: str
    name: str
    slug: str
    lpa: str | None
    population: int | None
    centroid_latitude: float | None
    centroid_longitude: float | None
    is_force_district: bool
    # Where the district sits on the tile map (row 0 at the top); None when not placed.
    tile_row: int | None = None
    tile_col: int | None = None
    # The force the district belongs to, when the data holds several; None means any force
    # (the two pseudo-districts, and every district of a single-force configuration).
    force: str | None = None

    def belongs_to(self, force: str | None) -> bool:
        """Whether the district is one of `force`'s (every district, when force is None)."""
        return force is None or self.force is None or self.force == force


@dataclass(frozen=True)
class Taxonomy:
    """The values records may hold, and so the values a rule may name."""

    record_kinds: tuple[str, ...]
    flags: tuple[str, ...]
    crime_types: tuple[str, ...]
    outcomes: tuple[str, ...]
    delivery_statuses: tuple[str, ...]


SENSITIVE_STRANDS = ("rape", "child-abuse-cse", "domestic-abuse")


@dataclass(frozen=True)
class MapSettings:
    """How the district map is drawn (`[map]`): an optional boundary file, and how hotspots
    of sensitive strands are kept from pointing at anyone."""

    # A GeoJSON or TopoJSON file of the districts; relative paths are read from the folder of
    # the strategy.toml that names it.
    boundaries: Path | None = None
    code_property: str = "LAD13CD"
    # For TopoJSON: which object holds the districts (the first one when not given).
    topojson_object: str | None = None
    hotspot_cell_degrees: float = 0.02
    sensitive_strands: tuple[str, ...] = SENSITIVE_STRANDS
    sensitive_min_count: int = 10


@dataclass(frozen=True)
class Signals:
    """The thresholds of the statistics that say whether a change is real (`[signals]`)."""

    significance_level: float = 0.05
    small_count: int = 20
    spike_family_alpha: float = 0.05
    spike_min_excess: int = 5
    spike_history_months: int = 36
    spike_min_history_months: int = 12


MIB = 1024 * 1024


@dataclass(frozen=True)
class Imports:
    """The data folder's force and the limits every import checks before it reads a file
    (`[imports]`): a file past one of them is refused with a sentence and nothing written."""

    # The force this data folder is for: a file whose rows are another force's is refused
    # unless `--force` names it, and the dashboard opens on this force.
    force: str | None = None
    max_file_bytes: int = 256 * MIB
    max_total_bytes: int = 2048 * MIB
    max_line_bytes: int = 1 * MIB
    max_lines: int = 5_000_000
    max_sheet_rows: int = 1_048_576
    max_sheet_columns: int = 200
    max_sheet_cells: int = 20_000_000


MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP SECRET")


@dataclass(frozen=True)
class ReportSettings:
    """What every page of a report carries (`[report]`): the protective marking, the meeting
    the paper goes to, and optionally a PowerPoint template (.potx or .pptx) for the deck."""

    marking: str = "OFFICIAL"
    agenda_item: str | None = None
    meeting_date: date | None = None
    author: str | None = None
    approver: str | None = None
    version: str | None = None
    template: Path | None = None


REPORT_TEXT_SETTINGS = ("agenda_item", "author", "approver", "version")


def _load_report(raw: Any, path: Path) -> ReportSettings:
    if raw is None:
        return ReportSettings()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [report] must be a table of settings.")
    unknown = set(raw) - {"marking", "meeting_date", "template", *REPORT_TEXT_SETTINGS}
    if unknown:
        raise ConfigError(f"{path}: [report] has unknown settings {sorted(unknown)}.")
    marking = raw.get("marking", ReportSettings.marking)
    if not isinstance(marking, str) or marking.strip().upper() not in MARKINGS:
        raise ConfigError(f"{path}: [report] marking must be one of {', '.join(MARKINGS)}.")
    texts = {}
    for name in REPORT_TEXT_SETTINGS:
        value = raw.get(name)
        if value is not None and (not isinstance(value, str | int | float) or not str(value)):
            raise ConfigError(f"{path}: [report] {name} must be a short text.")
        texts[name] = None if value is None else str(value).strip()
    meeting = raw.get("meeting_date")
    if meeting is not None and not isinstance(meeting, date):
        raise ConfigError(f"{path}: [report] meeting_date must be a date such as 2022-10-14.")
    template = raw.get("template")
    if template is not None and not isinstance(template, str):
        raise ConfigError(f"{path}: [report] template must name a .potx or .pptx file.")
    return ReportSettings(
        marking=marking.strip().upper(),
        meeting_date=meeting,
        template=None if template is None else (path.parent / template),
        **texts,
    )


@dataclass(frozen=True)
class PeerGroup:
    """Which forces the force is compared with (`[peers]`): a named list, meant to be the
    force's published most similar group; empty means the transparent default (the forces
    nearest in population density and total recorded crime rate), labelled as such."""

    # The force as the ONS police force area tables name it.
    force: str = "Essex"
    forces: tuple[str, ...] = ()
    name: str | None = None
    default_size: int = 7


def _load_peers(raw: Any, path: Path) -> PeerGroup:
    if raw is None:
        return PeerGroup()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [peers] must be a table of settings.")
    unknown = set(raw) - {"force", "group", "group_name", "default_size"}
    if unknown:
        raise ConfigError(f"{path}: [peers] has unknown settings {sorted(unknown)}.")
    force = raw.get("force", PeerGroup.force)
    if not isinstance(force, str) or not force.strip():
        raise ConfigError(f"{path}: [peers] force must name a police force area.")
    forces = _strings(raw.get("group", []), f"{path}: [peers] group")
    if len(set(forces)) != len(forces) or force in forces:
        raise ConfigError(f"{path}: [peers] group names a force twice, or names the force itself.")
    name = _optional_text(raw, "group_name", f"{path}: [peers]")
    if forces and name is None:
        raise ConfigError(
            f"{path}: [peers] group_name must say what the group is and where it comes from."
        )
    size = raw.get("default_size", PeerGroup.default_size)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 42:
        raise ConfigError(f"{path}: [peers] default_size must be a whole number from 1 to 42.")
    return PeerGroup(force=force.strip(), forces=forces, name=name, default_size=size)


@dataclass(frozen=True)
class Config:
    """Everything the strategy's configuration says, validated."""

    strands: tuple[Strand, ...]
    districts: tuple[District, ...]
    taxonomy: Taxonomy
    baseline_end: date
    window_months: int
    delivery_window_months: int
    fingerprint: str
    # Which kind of data the configuration is written for, and that data's source in words.
    profile: str = "force-records"
    source: str = "The force's own crime and incident records"
    signals: Signals = field(default_factory=Signals)
    map: MapSettings = field(default_factory=MapSettings)
    peers: PeerGroup = field(default_factory=PeerGroup)
    imports: Imports = field(default_factory=Imports)
    report: ReportSettings = field(default_factory=ReportSettings)

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(m for s in self.strands for m in s.measures)

    def strand(self, strand_id: str) -> Strand:
        for strand in self.strands:
            if strand.id == strand_id:
                return strand
        raise KeyError(strand_id)

    def measure(self, measure_id: str) -> Measure:
        for measure in self.measures:
            if measure.id == measure_id:
                return measure
        raise KeyError(measure_id)

    @property
    def force_districts(self) -> tuple[District, ...]:
        return tuple(d for d in self.districts if d.is_force_district)

    @property
    def lpas(self) -> tuple[str, ...]:
        return tuple(sorted({d.lpa for d in self.force_districts if d.lpa}))

    def districts_of(self, force: str | None) -> tuple[District, ...]:
        """The force districts of one force (all of them when force is None)."""
        return tuple(d for d in self.force_districts if d.belongs_to(force))

    def lpas_of(self, force: str | None) -> tuple[str, ...]:
        """The Local Policing Areas of one force (all of them when force is None)."""
        return tuple(sorted({d.lpa for d in self.districts_of(force) if d.lpa}))

    def district_by_slug(self, slug: str) -> District:
        for district in self.districts:
            if district.slug == slug:
                return district
        raise KeyError(slug)


def _config_file(name: str, folder: Path | None) -> Path:
    if folder is not None and (folder / name).is_file():
        return folder / name
    return DEFAULT_CONFIG_DIR / name


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error}).") from error


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings.")
    return tuple(value)


def _require(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' is missing or empty.")
    return value


def _optional_text(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be a sentence when it is given.")
    return value.strip()


def _load_taxonomy(path: Path) -> Taxonomy:
    raw = _read_toml(path)
    keys = ("record_kinds", "flags", "crime_types", "outcomes", "delivery_statuses")
    values = {k: _strings(raw.get(k), f"{path}: '{k}'") for k in keys}
    for flag in values["flags"]:
        if not flag.startswith("is_") or not flag.replace("_", "").isalnum():
            raise ConfigError(f"{path}: flag '{flag}' must be a column name starting 'is_'.")
    return Taxonomy(**values)


def _load_rule(raw: Any, where: str, taxonomy: Taxonomy) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'rule' is missing.")
    unknown_keys = set(raw) - {"record_kind", "crime_types", "flags", "outcomes"}
    if unknown_keys:
        raise ConfigError(f"{where}: the rule has unknown keys {sorted(unknown_keys)}.")
    rule = Rule(
        record_kind=_require(raw, "record_kind", where),
        crime_types=_strings(raw.get("crime_types", []), f"{where}: crime_types"),
        flags=_strings(raw.get("flags", []), f"{where}: flags"),
        outcomes=_strings(raw.get("outcomes", []), f"{where}: outcomes"),
    )
    checks = (
        ((rule.record_kind,), taxonomy.record_kinds, "record kind"),
        (rule.crime_types, taxonomy.crime_types, "crime type"),
        (rule.flags, taxonomy.flags, "flag"),
        (rule.outcomes, taxonomy.outcomes, "outcome"),
    )
    for given, known, what in checks:
        for value in given:
            if value not in known:
                raise ConfigError(f"{where}: unknown {what} '{value}'; known: {', '.join(known)}.")
    return rule


def _load_strands(raw: dict[str, Any], path: Path, taxonomy: Taxonomy) -> tuple[Strand, ...]:
    strands: list[Strand] = []
    seen_measures: set[str] = set()
    for index, entry in enumerate(raw.get("strands", [])):
        where = f"{path}: strand {index + 1}"
        strand_id = _require(entry, "id", where)
        where = f"{path}: strand '{strand_id}'"
        measures = []
        for measure_raw in entry.get("measures", []):
            measure_id = _require(measure_raw, "id", where)
            measure_where = f"{where}, measure '{measure_id}'"
            if measure_id in seen_measures:
                raise ConfigError(f"{measure_where}: the measure id is used twice.")
            seen_measures.add(measure_id)
            improvement = _require(measure_raw, "improvement", measure_where)
            if improvement not in IMPROVEMENT_DIRECTIONS:
                raise ConfigError(f"{measure_where}: improvement must be 'down' or 'up'.")
            measures.append(
                Measure(
                    id=measure_id,
                    strand_id=strand_id,
                    name=_require(measure_raw, "name", measure_where),
                    unit=_require(measure_raw, "unit", measure_where),
                    improvement=improvement,
                    definition=_require(measure_raw, "definition", measure_where),
                    rule=_load_rule(measure_raw.get("rule"), measure_where, taxonomy),
                    proxy_note=_optional_text(measure_raw, "proxy", measure_where),
                )
            )
        strands.append(
            Strand(
                id=strand_id,
                name=_require(entry, "name", where),
                group=_require(entry, "group", where),
                lead_role=_require(entry, "lead_role", where),
                measures=tuple(measures),
                not_supported=_optional_text(entry, "not_supported", where),
            )
        )
    if not strands:
        raise ConfigError(f"{path}: no strands are defined.")
    if len({s.id for s in strands}) != len(strands):
        raise ConfigError(f"{path}: a strand id is used twice.")
    return tuple(strands)


def _optional_number(text: str, kind: type[int] | type[float], where: str) -> Any:
    if text.strip() == "":
        return None
    try:
        return kind(text)
    except ValueError as error:
        raise ConfigError(f"{where}: '{text}' is not a number.") from error


def _load_districts(path: Path) -> tuple[District, ...]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    districts = []
    for line, row in enumerate(rows, start=2):
        where = f"{path}, line {line}"
        try:
            districts.append(
                District(
                    code=_require(row, "district_code", where),
                    name=_require(row, "district_name", where),
                    slug=_require(row, "district_slug", where),
                    lpa=row.get("lpa") or None,
                    population=_optional_number(row.get("population_mid_2022", ""), int, where),
                    centroid_latitude=_optional_number(
                        row.get("centroid_latitude", ""), float, where
                    ),
                    centroid_longitude=_optional_number(
                        row.get("centroid_longitude", ""), float, where
                    ),
                    is_force_district=row.get("is_force_district", "").strip().lower() == "true",
                    tile_row=_optional_number(row.get("tile_row") or "", int, where),
                    tile_col=_optional_number(row.get("tile_col") or "", int, where),
                    force=(row.get("force") or "").strip() or None,
                )
            )
        except AttributeError as error:
            raise ConfigError(f"{where}: the row has too few columns.") from error
    for attribute in ("code", "name", "slug"):
        values = [getattr(d, attribute) for d in districts]
        if len(set(values)) != len(values):
            raise ConfigError(f"{path}: a district {attribute} is used twice.")
    _check_tiles(districts, path)
    if not any(d.is_force_district for d in districts):
        raise ConfigError(f"{path}: no district is marked is_force_district = true.")
    return tuple(districts)


def _check_tiles(districts: list[District], path: Path) -> None:
    placed = []
    for district in districts:
        position = (district.tile_row, district.tile_col)
        if position == (None, None):
            continue
        if None in position or min(p for p in position if p is not None) < 0:
            raise ConfigError(
                f"{path}: {district.name} needs both tile_row and tile_col, each 0 or more."
            )
        placed.append(position)
    if len(set(placed)) != len(placed):
        raise ConfigError(f"{path}: two districts share a tile_row and tile_col.")


def _load_map(raw: Any, path: Path, strand_ids: set[str]) -> MapSettings:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [map] must be a table of settings.")
    known = set(MapSettings.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{path}: [map] has unknown settings {sorted(unknown)}.")
    boundaries = raw.get("boundaries")
    if boundaries is not None and (not isinstance(boundaries, str) or not boundaries.strip()):
        raise ConfigError(f"{path}: [map] boundaries must name a file.")
    # Leaving the list out keeps the shipped protection; only an explicit list changes it.
    default_sensitive = [s for s in SENSITIVE_STRANDS if s in strand_ids]
    sensitive = _strings(
        raw.get("sensitive_strands", default_sensitive), f"{path}: [map] sensitive_strands"
    )
    unknown_strands = sorted(set(sensitive) - strand_ids)
    if unknown_strands:
        raise ConfigError(
            f"{path}: [map] sensitive_strands names unknown strands {unknown_strands}."
        )
    cell = raw.get("hotspot_cell_degrees", MapSettings.hotspot_cell_degrees)
    if isinstance(cell, bool) or not isinstance(cell, int | float) or not 0 < cell <= 1:
        raise ConfigError(
            f"{path}: [map] hotspot_cell_degrees must be a number above 0, at most 1."
        )
    minimum = raw.get("sensitive_min_count", MapSettings.sensitive_min_count)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise ConfigError(f"{path}: [map] sensitive_min_count must be a whole number, 1 or more.")
    texts = {}
    for name in ("code_property", "topojson_object"):
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{path}: [map] {name} must be a name.")
        texts[name] = value
    return MapSettings(
        boundaries=path.parent / boundaries.strip() if boundaries else None,
        code_property=texts["code_property"] or MapSettings.code_property,
        topojson_object=texts["topojson_object"],
        hotspot_cell_degrees=float(cell),
        sensitive_strands=sensitive,
        sensitive_min_count=minimum,
    )


def _load_signals(raw: Any, path: Path) -> Signals:
    if raw is None:
        return Signals()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [signals] must be a table of settings.")
    defaults = Signals()
    unknown = set(raw) - set(defaults.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{path}: [signals] has unknown settings {sorted(unknown)}.")
    values: dict[str, Any] = {}
    for name in defaults.__dataclass_fields__:
        default = getattr(defaults, name)
        value = raw.get(name, default)
        if isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise ConfigError(f"{path}: [signals] {name} must be a number between 0 and 1.")
            value = float(value)
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{path}: [signals] {name} must be a whole number, 0 or more.")
        values[name] = value
    signals = Signals(**values)
    if not 1 <= signals.spike_min_history_months <= signals.spike_history_months:
        raise ConfigError(
            f"{path}: [signals] spike_min_history_months must be at least 1 and at most "
            "spike_history_months."
        )
    return signals


PERIOD_DEFAULTS: dict[str, Any] = {
    "baseline_end": "2019-12",
    "window_months": 12,
    "delivery_window_months": 6,
}
# A window longer than this would compare years with years no data folder holds.
MAX_WINDOW_MONTHS = 60


def _load_periods(raw: Any, path: Path) -> dict[str, Any]:
    """The [periods] settings, checked: a baseline month, and whole numbers of months."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [periods] must be a table of settings.")
    unknown = set(raw) - set(PERIOD_DEFAULTS)
    if unknown:
        raise ConfigError(f"{path}: [periods] has unknown settings {sorted(unknown)}.")
    values = PERIOD_DEFAULTS | raw
    try:
        baseline_end = parse_month(str(values["baseline_end"]))
    except PeriodError as error:
        raise ConfigError(f"{path}: [periods] baseline_end: {error}") from error
    checked: dict[str, Any] = {"baseline_end": baseline_end}
    for name in ("window_months", "delivery_window_months"):
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"{path}: [periods] {name} must be a whole number of months, not {value!r}."
            )
        if not 1 <= value <= MAX_WINDOW_MONTHS:
            raise ConfigError(
                f"{path}: [periods] {name} must be between 1 and {MAX_WINDOW_MONTHS} months, "
                f"not {value}."
            )
        checked[name] = value
    return checked


def _load_imports(raw: Any, path: Path) -> Imports:
    if raw is None:
        return Imports()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [imports] must be a table of settings.")
    defaults = Imports()
    unknown = set(raw) - set(defaults.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{path}: [imports] has unknown settings {sorted(unknown)}.")
    force = raw.get("force")
    if force is not None and (not isinstance(force, str) or not force.strip()):
        raise ConfigError(f'{path}: [imports] force must name a force, e.g. "Essex Police".')
    limits: dict[str, int] = {}
    for name in defaults.__dataclass_fields__:
        if name == "force":
            continue
        value = raw.get(name, getattr(defaults, name))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{path}: [imports] {name} must be a whole number, 1 or more.")
        limits[name] = value
    if limits["max_file_bytes"] > limits["max_total_bytes"]:
        raise ConfigError(
            f"{path}: [imports] max_file_bytes cannot be larger than max_total_bytes."
        )
    return Imports(force=force.strip() if force else None, **limits)


def _extended(strategy: dict[str, Any], path: Path) -> dict[str, Any]:
    """A strategy that `extends = "default"`: the default strands, each strand's measures
    replaced by the file's `strand_overrides.<id>`, its other settings over the default's."""
    base_name = strategy.get("extends")
    if base_name is None:
        return strategy
    if base_name != "default":
        raise ConfigError(f"{path}: 'extends' can only name \"default\", not {base_name!r}.")
    base = _read_toml(DEFAULT_CONFIG_DIR / "strategy.toml")
    # A data folder names its own force: the default's [imports] is not inherited.
    base.pop("imports", None)
    overrides = strategy.get("strand_overrides", {})
    known = {entry.get("id") for entry in base.get("strands", [])}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"{path}: strand_overrides names unknown strands {unknown}.")
    strands = []
    for entry in base.get("strands", []):
        override = overrides.get(entry.get("id"))
        if override is not None:
            entry = {k: v for k, v in entry.items() if k not in ("measures", "not_supported")}
            entry |= override
        strands.append(entry)
    merged = base | {k: v for k, v in strategy.items() if k not in ("extends", "strand_overrides")}
    return merged | {"strands": strands}


def config_fingerprint(folder: Path | None = None) -> str:
    """A fingerprint of the configuration files in force, without reading what they say."""
    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        digest.update(_config_file(name, folder).read_bytes())
    # A strategy may extend the default one, so the default always counts.
    digest.update((DEFAULT_CONFIG_DIR / "strategy.toml").read_bytes())
    return digest.hexdigest()[:16]


def load_config(folder: Path | None = None) -> Config:
    """Read and validate the configuration, preferring files in `folder` over the defaults."""
    paths = {name: _config_file(name, folder) for name in CONFIG_FILES}
    taxonomy = _load_taxonomy(paths["taxonomy.toml"])
    strategy = _extended(_read_toml(paths["strategy.toml"]), paths["strategy.toml"])
    periods = _load_periods(strategy.get("periods"), paths["strategy.toml"])
    return Config(
        strands=_load_strands(strategy, paths["strategy.toml"], taxonomy),
        districts=_load_districts(paths["districts.csv"]),
        taxonomy=taxonomy,
        baseline_end=periods["baseline_end"],
        window_months=periods["window_months"],
        delivery_window_months=periods["delivery_window_months"],
        fingerprint=config_fingerprint(folder),
        signals=_load_signals(strategy.get("signals"), paths["strategy.toml"]),
        map=_load_map(
            strategy.get("map"),
            paths["strategy.toml"],
            {str(entry.get("id")) for entry in strategy.get("strands", [])},
        ),
        peers=_load_peers(strategy.get("peers"), paths["strategy.toml"]),
        imports=_load_imports(strategy.get("imports"), paths["strategy.toml"]),
        report=_load_report(strategy.get("report"), paths["strategy.toml"]),
        profile=str(strategy.get("profile", "force-records")),
        source=str(strategy.get("source", "The force's own crime and incident records")),
    )


@cache
def config_for(folder: Path) -> Config:
    """The configuration in force for a data folder (its own `config/`, else the defaults)."""
    return load_config(folder / "config")
