"""What a figure is asked for: a `View` (force, districts or Local Policing Areas, period, and
the strand a page shows), read from a URL's query string or the command line and checked
against the configuration and the data. Every function that computes a figure takes one.

Unknown values never raise here: each one is dropped with a sentence saying why, and the view
falls back to its default, so a mistyped link still opens a sensible page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crimeprev.config import Config, District
from crimeprev.periods import (
    PeriodError,
    Window,
    format_month,
    month_long_label,
    parse_month,
)


@dataclass(frozen=True)
class View:
    """A validated choice of period, places and strand: what every figure is computed for.

    Frozen and hashable, so a cached result is keyed on it."""

    period: date
    districts: tuple[str, ...] = ()
    lpas: tuple[str, ...] = ()
    strand_id: str | None = None
    # The force counted, when the data holds several; None counts every record.
    force: str | None = None
    # Who is looking (a role of crimeprev.access.roles): for a viewer, small counts in the
    # sensitive strands are suppressed. Never read from a URL; the command line holds every role.
    role: str = "admin"

    def district_codes(self, config: Config) -> list[str] | None:
        """The district codes to count, or None for the whole force."""
        chosen = selected_districts(config, self.districts, self.lpas, self.force)
        return None if chosen is None else [d.code for d in chosen]

    def has_place_filter(self) -> bool:
        """Whether districts or LPAs narrow the view below the whole force."""
        return bool(self.districts or self.lpas)

    def window(self, window_months: int) -> Window:
        """The window of `window_months` months ending the period."""
        return Window.ending(self.period, window_months)

    def query_params(self) -> dict[str, str]:
        """The filters as URL query parameters (empty ones left out)."""
        params = {"period": format_month(self.period)}
        if self.force:
            params["force"] = self.force
        if self.strand_id:
            params["strand"] = self.strand_id
        if self.districts:
            params["district"] = ",".join(self.districts)
        if self.lpas:
            params["lpa"] = ",".join(self.lpas)
        return params

    def place_label(self, config: Config) -> str:
        """The places counted, in words: `Essex (all districts)`, `Colchester, Tendring`."""
        chosen = selected_districts(config, self.districts, self.lpas, self.force)
        if chosen is None:
            return "All districts"
        if self.lpas and not self.districts:
            return " and ".join(f"{lpa} LPA" for lpa in self.lpas)
        return ", ".join(d.name for d in chosen)


@dataclass(frozen=True)
class ResolvedFilters:
    """Filters read from user input, with a sentence for every value that was not understood."""

    filters: View
    problems: tuple[str, ...] = field(default_factory=tuple)


def selected_districts(
    config: Config,
    district_slugs: tuple[str, ...],
    lpas: tuple[str, ...],
    force: str | None = None,
) -> list[District] | None:
    """Named districts if any, else the districts of the named LPAs, else None (whole force)."""
    if district_slugs:
        return [config.district_by_slug(slug) for slug in district_slugs]
    if lpas:
        return [d for d in config.districts_of(force) if d.lpa in lpas]
    return None


def find_district(config: Config, text: str) -> District | None:
    """A district by slug, name or ONS code, ignoring case; None when there is none."""
    wanted = text.strip().lower()
    for district in config.districts:
        if wanted in (district.slug, district.name.lower(), district.code.lower()):
            return district
    return None


def split_values(raw: str | list[str] | None) -> list[str]:
    """Comma-separated or repeated values, blanks dropped."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def default_force(config: Config, forces: tuple[str, ...]) -> str:
    """The force shown when none is asked for: the data folder's own (`[imports] force`), never
    merely the first in alphabetical order; the first only when the folder names none held."""
    configured = config.imports.force
    return configured if configured in forces else forces[0]


def resolve_filters(
    config: Config,
    covered: list[date],
    period: str | None = None,
    districts: str | list[str] | None = None,
    lpas: str | list[str] | None = None,
    strand: str | None = None,
    force: str | None = None,
    forces: tuple[str, ...] = (),
) -> ResolvedFilters:
    """Check user-given filter values; keep what is valid and explain what is not.

    `forces` are the forces the data holds: with more than one, the filters name one of them
    (the data folder's own force, `[imports] force`, unless `force` names another), and only
    its districts and LPAs are accepted."""
    problems: list[str] = []
    chosen_force = None
    if len(forces) > 1:
        chosen_force = default_force(config, forces)
        if force:
            match = next((f for f in forces if f.lower() == force.strip().lower()), None)
            if match is None:
                problems.append(
                    f"Unknown force '{force}'. Showing {chosen_force}; the data holds "
                    f"{', '.join(forces)}."
                )
            else:
                chosen_force = match
    if not covered:
        raise PeriodError("The data folder holds no records yet, so there is no period to show.")
    latest, earliest = covered[-1], covered[0]
    chosen_period = latest
    if period:
        try:
            chosen_period = parse_month(period)
        except PeriodError as error:
            problems.append(f"{error} Showing {month_long_label(latest)}, the latest month.")
        else:
            if not earliest <= chosen_period <= latest:
                problems.append(
                    f"There is no data for {month_long_label(chosen_period)}: the data runs from "
                    f"{month_long_label(earliest)} to {month_long_label(latest)}. "
                    f"Showing {month_long_label(latest)}."
                )
                chosen_period = latest

    slugs: list[str] = []
    for name in split_values(districts):
        district = find_district(config, name)
        if district is None or not district.belongs_to(chosen_force):
            known = ", ".join(d.slug for d in config.districts if d.belongs_to(chosen_force))
            where = f" of {chosen_force}" if chosen_force else ""
            problems.append(
                f"Unknown district{where} '{name}', left out. Known districts: {known}."
            )
        elif district.slug not in slugs:
            slugs.append(district.slug)

    chosen_lpas: list[str] = []
    force_lpas = config.lpas_of(chosen_force)
    for name in split_values(lpas):
        match = next((lpa for lpa in force_lpas if lpa.lower() == name.lower()), None)
        if match is None:
            problems.append(
                f"Unknown Local Policing Area '{name}', left out. Known: {', '.join(force_lpas)}."
            )
        elif match not in chosen_lpas:
            chosen_lpas.append(match)

    strand_id = None
    if strand:
        if strand in {s.id for s in config.strands}:
            strand_id = strand
        else:
            problems.append(f"Unknown strand '{strand}'. Showing the first strand instead.")

    filters = View(chosen_period, tuple(slugs), tuple(chosen_lpas), strand_id, chosen_force)
    return ResolvedFilters(filters, tuple(problems))
