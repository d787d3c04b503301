"""How we compare: the force beside its peer group and England and Wales, from the ONS police
force area tables imported with `crimeprev import ons-pfa` (see `crimeprev.imports.ons_pfa`).

Every figure shown is the published one: counts, % change and rates come from the tables as
printed, suppressed cells stay suppressed (`[u]`, `[u1]`: no number is shown), and the only
figures computed here are the rank among the forces, the funnel limits and the peer group
when none is configured. The page, `crimeprev peers` and the exports all take them from
`peer_table`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crimeprev.config import Config
from crimeprev.db import Database
from crimeprev.imports.ons_pfa import KNIFE_OFFENCES, TOTAL_CRIME, boundaries_file, edition_files
from crimeprev.periods import PeriodError, format_month, months_between, parse_month
from crimeprev.statistics.funnel import (
    classify,
    limit_curve,
    overdispersed_limits,
    overdispersion,
    poisson_limits,
)

ENGLAND_AND_WALES = "England and Wales"
HOUSEHOLD_OFFENCES = ("Residential burglary",)
# The offence groups a force's own records can be set against (the taxonomy's crime types
# that make up each published group); a group not listed is its crime type of the same name.
OFFENCE_CRIME_TYPES = {
    "Violence against the person": (
        "Homicide",
        "Death or serious injury caused by unlawful driving",
        "Violence with injury",
        "Violence without injury",
        "Stalking and harassment",
    ),
    "Sexual offences": ("Rape", "Other sexual offences"),
    "Robbery": ("Robbery of business property", "Robbery of personal property"),
    "Burglary": ("Residential burglary", "Non-residential burglary"),
    "Theft offences": (
        "Residential burglary",
        "Non-residential burglary",
        "Vehicle offences",
        "Theft from the person",
        "Bicycle theft",
        "Shoplifting",
        "All other theft offences",
    ),
    "Drug offences": ("Trafficking of drugs", "Possession of drugs"),
}
NOT_RECORDED_CRIME = ("Fraud",)
PEER_JSON_KEYS = (
    "force",
    "count",
    "previous_count",
    "pct_change",
    "population",
    "rate_per_1000",
    "rank",
    "funnel",
)


class PeersUnavailable(PeriodError):
    """The comparison cannot be made (no tables imported, an unknown name); the message says
    what to do. A PeriodError, so every surface reports it as one sentence."""


@dataclass(frozen=True)
class Edition:
    """One imported edition of the tables: the year it ends and the year before."""

    name: str
    period_end: date
    previous_end: date
    path: Path

    def label(self) -> str:
        return f"year ending {self.period_end:%B %Y}"


def editions(root: Path) -> list[str]:
    """The editions held, oldest first (`YYYY-MM`, the month their year ends)."""
    return list(edition_files(root))


def edition_for(root: Path, edition: str | None = None) -> Edition:
    """The named edition, or the latest; `PeersUnavailable` when none is held."""
    held = edition_files(root)
    if not held:
        raise PeersUnavailable(
            f"No ONS police force area tables are held in {root}: import them with "
            "`crimeprev import ons-pfa FILE.xlsx`."
        )
    name = edition or list(held)[-1]
    if name not in held:
        raise PeersUnavailable(
            f"There is no edition {name} of the ONS tables; held: {', '.join(held)}."
        )
    end = parse_month(name)
    return Edition(name, end, date(end.year - 1, end.month, 1), held[name])


def offence_groups(db: Database, edition: str | None = None) -> list[str]:
    """The offence groups the tables give for every force, in the published order."""
    chosen = edition_for(db.root, edition)
    frame = db.query(
        "ons_offence_groups", figures_path=str(chosen.path), period_end=chosen.period_end
    )
    return [str(g) for g in frame["offence_group"]]


def _match(name: str, known: list[str], what: str) -> str:
    wanted = " ".join(name.lower().split())
    exact = [k for k in known if k.lower() == wanted]
    if exact:
        return exact[0]
    partial = [k for k in known if k.lower().startswith(wanted)]
    if len(partial) == 1:
        return partial[0]
    raise PeersUnavailable(f"Unknown {what} '{name}'. Known: {', '.join(known)}.")


def find_offence(db: Database, name: str, edition: str | None = None) -> str:
    """The offence group a name (or the unambiguous start of one, any case) stands for."""
    return _match(name, offence_groups(db, edition), "offence group")


@dataclass(frozen=True)
class PeerGroup:
    """The forces the force is set beside, and what the group is."""

    force: str
    peers: tuple[str, ...]
    label: str
    is_configured: bool
    basis: str


@dataclass(frozen=True)
class PeerTable:
    """One offence group: every force and England and Wales, with the funnel verdicts."""

    edition: Edition
    offence_group: str
    group: PeerGroup
    # force, area_code, count, count_marker, previous_count, pct_change, pct_change_marker,
    # population, denominator, rate_per_1000, rate_marker, rank, ranked_of, expected_count,
    # funnel, funnel_overdispersed, is_focus, is_peer, is_england_and_wales
    frame: pd.DataFrame
    per_household: bool
    england_wales_rate: float
    phi: float

    @property
    def denominator(self) -> str:
        return "households" if self.per_household else "residents"

    @property
    def rate_label(self) -> str:
        return f"per 1,000 {self.denominator}"

    def focus_row(self) -> dict[str, Any]:
        return dict(self.frame[self.frame["is_focus"]].iloc[0])


def _force_frame(db: Database, chosen: Edition, offence: str) -> pd.DataFrame:
    return db.query(
        "ons_force_figures",
        figures_path=str(chosen.path),
        offence_group=offence,
        period_end=chosen.period_end,
        previous_end=chosen.previous_end,
    )


def _area_km2(root: Path) -> dict[str, float]:
    path = boundaries_file(root)
    if not path.is_file():
        return {}
    shapes = json.loads(path.read_text(encoding="utf-8"))
    return {
        f["properties"]["area_code"]: float(f["properties"]["area_km2"])
        for f in shapes.get("features", [])
        if f.get("properties", {}).get("area_km2")
    }


def find_force(names: list[str], name: str) -> str:
    """The police force area a name stands for (any case, or the unambiguous start of one)."""
    return _match(name, names, "police force area")


def peer_group(db: Database, force: str | None = None, edition: str | None = None) -> PeerGroup:
    """The configured peer group of the force (or of `force`, when named), else the transparent
    default: the forces nearest in population density and total recorded crime rate."""
    config: Config = db.config
    chosen = edition_for(db.root, edition)
    totals = _force_frame(db, chosen, TOTAL_CRIME)
    forces = totals[totals["area_kind"] == "force"]
    names = sorted(str(n) for n in forces["area_name"])
    focus = find_force(names, force or config.peers.force)
    if config.peers.forces and focus == find_force(names, config.peers.force):
        peers = tuple(find_force(names, n) for n in config.peers.forces)
        return PeerGroup(
            focus,
            peers,
            config.peers.name or "Configured peer group",
            True,
            f"{config.peers.name}: named in the strategy's configuration ([peers] group).",
        )
    areas = _area_km2(db.root)
    usable = forces[forces["rate_per_1000_population"].notna()].copy()
    usable["log_rate"] = np.log(usable["rate_per_1000_population"].astype(float))
    features = ["log_rate"]
    if areas:
        usable["log_density"] = np.log(
            usable["population"].astype(float)
            / usable["area_code"].map(areas).astype(float).clip(lower=1.0)
        )
        features.append("log_density")
        basis = (
            "population density (residents per square kilometre, from the imported boundaries) "
            "and total recorded crime per 1,000 residents"
        )
    else:
        basis = (
            "total recorded crime per 1,000 residents alone (import the police force area "
            "boundaries with --boundaries to add population density)"
        )
    scaled = (usable[features] - usable[features].mean()) / usable[features].std(ddof=0)
    scaled.index = usable["area_name"]
    if focus not in scaled.index:
        raise PeersUnavailable(
            f"{focus} has no published total crime rate, so no default peer group can be "
            "chosen for it; name one in [peers] group."
        )
    distance = np.sqrt(((scaled - scaled.loc[focus]) ** 2).sum(axis=1)).drop(focus)
    size = config.peers.default_size
    peers = tuple(str(n) for n in distance.sort_values(kind="stable").index[:size])
    return PeerGroup(
        focus,
        peers,
        f"Nearest {size} forces (default, not the most similar group)",
        False,
        f"No peer group is configured, so these are the {size} forces nearest to {focus} in "
        f"{basis}, each scaled to the spread across the forces. This is not the published "
        "most similar group; name that in [peers] group.",
    )


def _markers(column: pd.Series) -> pd.Series:
    """ONS markers as text, None where the cell holds a number."""
    return column.astype(object).where(column.notna(), None)


def peer_table(
    db: Database, offence: str, area: str | None = None, edition: str | None = None
) -> PeerTable:
    """Every force and England and Wales for one offence group (`offence` as named by
    `find_offence`), with the rank among the forces and the funnel verdicts; the focus is
    `area` or the configured force."""
    chosen = edition_for(db.root, edition)
    offence = find_offence(db, offence, chosen.name)
    group = peer_group(db, area, chosen.name)
    raw = _force_frame(db, chosen, offence)
    per_household = bool(
        offence in HOUSEHOLD_OFFENCES and raw["rate_per_1000_households"].notna().any()
    )
    suffix = "households" if per_household else "population"
    frame = pd.DataFrame(
        {
            "force": raw["area_name"].where(raw["area_kind"] == "force", ENGLAND_AND_WALES),
            "area_code": raw["area_code"],
            "count": raw["count_offences"],
            "count_marker": _markers(raw["count_marker"]),
            "previous_count": raw["previous_count"],
            "pct_change": raw["pct_change"],
            "pct_change_marker": _markers(raw["pct_change_marker"]),
            "population": raw["households" if per_household else "population"],
            "denominator": "households" if per_household else "residents",
            "rate_per_1000": raw[f"rate_per_1000_{suffix}"],
            "rate_marker": _markers(raw[f"rate_{suffix}_marker"]),
            "is_england_and_wales": raw["area_kind"] == "england_and_wales",
        }
    )
    forces = ~frame["is_england_and_wales"]
    ranked = frame["rate_per_1000"].where(forces)
    frame["rank"] = ranked.rank(ascending=False, method="min").astype("Int64")
    frame["ranked_of"] = int(ranked.notna().sum())
    national = frame[frame["is_england_and_wales"]].iloc[0]
    rate = float(national["rate_per_1000"])
    expected = frame["population"].astype(float) * rate / 1000
    frame["expected_count"] = expected.round(1)
    shown = forces & frame["rate_per_1000"].notna() & frame["count"].notna()
    phi = overdispersion(frame.loc[shown, "count"].astype(float).tolist(), expected[shown].tolist())
    verdicts, adjusted = [], []
    for index, row in frame.iterrows():
        if not shown[index]:
            suppressed = "rate suppressed" if row["rate_marker"] else "no published count"
            verdict = None if row["is_england_and_wales"] else f"not shown ({suppressed})"
            verdicts.append(verdict)
            adjusted.append(verdict)
            continue
        count = float(row["count"])
        verdicts.append(classify(count, poisson_limits(float(expected[index]))))
        adjusted.append(classify(count, overdispersed_limits(float(expected[index]), phi)))
    frame["funnel"] = verdicts
    frame["funnel_overdispersed"] = adjusted
    frame["is_focus"] = frame["force"] == group.force
    frame["is_peer"] = frame["force"].isin(group.peers)
    return PeerTable(chosen, offence, group, frame, per_household, rate, phi)


def peer_rows(table: PeerTable, everyone: bool = False) -> pd.DataFrame:
    """The force, its peers and England and Wales (every force with `everyone`), the force
    first, then its peers by rate, highest first, then England and Wales."""
    frame = table.frame
    keep = (
        frame
        if everyone
        else frame[frame["is_focus"] | frame["is_peer"] | frame["is_england_and_wales"]]
    )
    order = keep.assign(
        _group=np.select([keep["is_focus"], keep["is_england_and_wales"]], [0, 2], 1),
        _rate=-keep["rate_per_1000"].astype(float).fillna(-math.inf),
    )
    return order.sort_values(["_group", "_rate", "force"]).drop(columns=["_group", "_rate"])


def _number(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def peer_records(table: PeerTable, everyone: bool = False) -> list[dict[str, Any]]:
    """The rows of `peer_rows` as JSON-ready records: the published numbers unrounded, a
    suppressed cell as null with its marker beside it."""
    records = []
    for row in peer_rows(table, everyone).to_dict("records"):
        records.append(
            {
                "force": row["force"],
                "count": _number(row["count"]),
                "previous_count": _number(row["previous_count"]),
                "pct_change": _number(row["pct_change"]),
                "pct_change_marker": _number(row["pct_change_marker"]),
                "population": _number(row["population"]),
                "denominator": row["denominator"],
                "rate_per_1000": _number(row["rate_per_1000"]),
                "rate_marker": _number(row["rate_marker"]),
                "rank": _number(row["rank"]),
                "ranked_of": int(row["ranked_of"]),
                "funnel": _number(row["funnel"]),
                "funnel_overdispersed": _number(row["funnel_overdispersed"]),
                "is_peer": bool(row["is_peer"]),
            }
        )
    return records


def outlier_sentence(table: PeerTable) -> str:
    """The answer in words: where the force's rate stands and whether the gap is real."""
    row = table.focus_row()
    force, offence = row["force"], table.offence_group.lower()
    if row["rate_per_1000"] is None or pd.isna(row["rate_per_1000"]):
        return f"{force}'s rate of {offence} is suppressed in the published tables."
    peers = table.frame[table.frame["is_peer"] & table.frame["rate_per_1000"].notna()]
    above = int((peers["rate_per_1000"] > row["rate_per_1000"]).sum())
    place = f"{above + 1} of {len(peers) + 1} in its peer group"
    rate = f"{row['rate_per_1000']:.2f} {table.rate_label}"
    relation = "above" if row["rate_per_1000"] > table.england_wales_rate else "below"
    spread = row["funnel_overdispersed"]
    if spread == "within":
        real = (
            "inside the limits that allow for the usual spread between forces, so it is not "
            "out of line with them"
        )
    else:
        real = (
            f"{_verdict_words(spread)} even allowing for the usual spread between forces, so "
            "the difference is real"
        )
    return (
        f"{force}: {rate}, {relation} England and Wales ({table.england_wales_rate:.2f}); "
        f"ranked {row['rank']} of {row['ranked_of']} forces (1 = highest) and {place}. "
        f"Against chance alone it lies {_verdict_words(row['funnel'])}; it lies {real}."
    )


def _verdict_words(verdict: str) -> str:
    if verdict == "within":
        return "within the limits"
    side, level = verdict.split(" ", 1)
    return f"{side} the {level} limit"


def funnel_points(table: PeerTable) -> pd.DataFrame:
    """The forces as funnel points: population, rate and role (force, peer, other)."""
    frame = table.frame
    points = frame[~frame["is_england_and_wales"] & frame["rate_per_1000"].notna()].copy()
    points["role"] = np.select(
        [points["is_focus"], points["is_peer"]], ["This force", "Peer"], "Other force"
    )
    return points[
        [
            "force",
            "population",
            "count",
            "rate_per_1000",
            "rank",
            "funnel",
            "funnel_overdispersed",
            "role",
        ]
    ]


def funnel_limits(table: PeerTable) -> pd.DataFrame:
    """The limit lines (Poisson, and widened for overdispersion) over the forces' range of
    populations: `population, limit, rate_per_1000, model`."""
    populations = funnel_points(table)["population"].astype(float).tolist()
    rows = []
    for model, phi in (("Poisson (chance alone)", None), ("Allowing for spread", table.phi)):
        for point in limit_curve(table.england_wales_rate, populations, phi):
            for limit in ("lower_95", "upper_95", "lower_998", "upper_998"):
                rows.append(
                    {
                        "population": point["population"],
                        "limit": limit,
                        "level": "95%" if limit.endswith("95") else "99.8%",
                        "rate_per_1000": point[limit],
                        "model": model,
                    }
                )
    return pd.DataFrame(rows)


def knife_trend(db: Database, area: str | None = None, edition: str | None = None) -> pd.DataFrame:
    """Selected offences involving a knife or sharp instrument by force, each published year
    from the year ending March 2011: `force, period_end, count_offences, role`."""
    chosen = edition_for(db.root, edition)
    group = peer_group(db, area, chosen.name)
    frame = db.query("ons_series", figures_path=str(chosen.path), offence_group=KNIFE_OFFENCES)
    frame["force"] = frame["area_name"].where(frame["area_kind"] == "force", ENGLAND_AND_WALES)
    frame["role"] = np.select(
        [frame["force"] == group.force, frame["force"].isin(group.peers)],
        ["This force", "Peer"],
        "Other force",
    )
    frame["period_end"] = pd.to_datetime(frame["period_end"])
    return frame[frame["area_kind"] == "force"][
        ["force", "period_end", "count_offences", "count_marker", "pct_involving_knife", "role"]
    ].reset_index(drop=True)


def district_figures(
    db: Database, offence: str, area: str | None = None, edition: str | None = None
) -> pd.DataFrame:
    """The force's Community Safety Partnerships for one offence group, as published (C2 to
    C5): `csp_name, count_offences, previous_count, pct_change, rate_per_1000`."""
    table = peer_table(db, offence, area, edition)
    code = table.focus_row()["area_code"]
    frame = db.query(
        "ons_csp_figures",
        figures_path=str(table.edition.path),
        force_code=code,
        offence_group=table.offence_group,
        period_end=table.edition.period_end,
        previous_end=table.edition.previous_end,
        per_household=table.per_household,
    )
    return frame.rename(columns={"area_name": "csp_name"})


def force_shapes(db: Database, area: str | None = None) -> list[dict[str, Any]] | None:
    """The 43 police force areas as GeoJSON features with `force` (named as in the tables,
    matched by code) and `role`, wound for Vega; None when no boundaries were imported."""
    from crimeprev.config import MapSettings
    from crimeprev.figures.maps import load_boundaries

    path = boundaries_file(db.root)
    if not path.is_file():
        return None
    chosen = edition_for(db.root)
    group = peer_group(db, area, chosen.name)
    totals = _force_frame(db, chosen, TOTAL_CRIME)
    names = dict(zip(totals["area_code"], totals["area_name"], strict=True))
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    for feature in features:
        code = feature["properties"]["area_code"]
        names.setdefault(code, feature["properties"].get("area_name") or code)
    codes = [feature["properties"]["area_code"] for feature in features]
    boundaries = load_boundaries(MapSettings(boundaries=path, code_property="area_code"), codes)
    shown = []
    for feature in boundaries.data["features"]:
        code, geometry = feature["properties"]["area_code"], feature["geometry"]
        name = str(names[code])
        role = (
            "This force"
            if name == group.force
            else "Peer"
            if name in group.peers
            else "Other force"
        )
        shown.append(
            {"type": "Feature", "geometry": geometry, "properties": {}, "force": name, "role": role}
        )
    return shown


@dataclass(frozen=True)
class Reconciliation:
    """The force's records beside the published CSP counts for one year, or why not."""

    frame: pd.DataFrame | None
    reason: str | None
    year_label: str
    offence_group: str


def reconciliation(
    db: Database,
    offence: str,
    force: str | None = None,
    area: str | None = None,
    edition: str | None = None,
) -> Reconciliation:
    """Each district's crime records over a year the ONS tables give (the latest the records
    cover fully) beside the published count for its Community Safety Partnership, with the
    difference (records minus published). `force` is the records' force, `area` the ONS name."""
    from crimeprev.figures.insight import covered_months

    table = peer_table(db, offence, area, edition)
    chosen = table.edition
    offence_group = table.offence_group
    types = _crime_types(db.config, offence_group)
    covered = set(covered_months(db, force))
    years = [chosen.period_end, chosen.previous_end]
    year = next(
        (
            end
            for end in years
            if all(m in covered for m in months_between(date(end.year - 1, end.month, 1), end)[1:])
        ),
        None,
    )
    labels = " and ".join(f"{end:%B %Y}" for end in years)
    if types is None:
        return Reconciliation(
            None,
            f"The records' crime types do not make up '{offence_group}', so they cannot be set "
            "beside the published counts for it.",
            "",
            offence_group,
        )
    if year is None:
        span = (
            f"run from {format_month(min(covered))} to {format_month(max(covered))}"
            if covered
            else "are empty"
        )
        return Reconciliation(
            None,
            f"The records {span}, so they cover neither year the ONS tables give "
            f"(the years ending {labels}): there is nothing to reconcile.",
            "",
            offence_group,
        )
    first = months_between(date(year.year - 1, year.month, 1), year)[1]
    district_codes = [d.code for d in db.config.districts_of(force)]
    frame = db.query(
        "ons_reconcile_districts",
        figures_path=str(chosen.path),
        force_code=table.focus_row()["area_code"],
        offence_group=offence_group,
        first_month=first,
        last_month=year,
        crime_types=list(types),
        force=force,
        district_codes=district_codes,
    )
    return Reconciliation(frame, None, f"year ending {year:%B %Y}", offence_group)


def _crime_types(config: Config, offence_group: str) -> tuple[str, ...] | None:
    known = config.taxonomy.crime_types
    if offence_group == TOTAL_CRIME:
        return tuple(t for t in known if t not in NOT_RECORDED_CRIME)
    types = OFFENCE_CRIME_TYPES.get(offence_group, (offence_group,))
    return types if all(t in known for t in types) else None


# The offence groups a summary of how the force compares covers (the report's slide and sheet).
MAIN_OFFENCE_GROUPS = (
    TOTAL_CRIME,
    "Violence against the person",
    "Sexual offences",
    "Robbery",
    "Residential burglary",
    "Vehicle offences",
    "Shoplifting",
    "Criminal damage and arson",
    "Drug offences",
    "Possession of weapons offences",
    "Public order offences",
)
SUMMARY_COLUMNS = (
    "offence_group",
    "force",
    "count",
    "previous_count",
    "pct_change",
    "pct_change_marker",
    "population",
    "denominator",
    "rate_per_1000",
    "rate_marker",
    "england_wales_rate",
    "rank",
    "ranked_of",
    "peer_place",
    "funnel",
    "funnel_overdispersed",
)


@dataclass(frozen=True)
class PeerSummary:
    """The force's row of `peer_table` for each main offence group, with the answers in words."""

    edition: Edition
    group: PeerGroup
    table: pd.DataFrame
    sentences: list[str]


def peer_summary(
    db: Database, area: str | None = None, edition: str | None = None
) -> PeerSummary | None:
    """How the force compares across the main offence groups; None when no tables are held."""
    if not edition_files(db.root):
        return None
    known = offence_groups(db, edition)
    rows, sentences = [], []
    table = None
    for offence in (g for g in MAIN_OFFENCE_GROUPS if g in known):
        table = peer_table(db, offence, area, edition)
        row = table.focus_row()
        group = table.frame[(table.frame["is_peer"] | table.frame["is_focus"])]
        rated = group[group["rate_per_1000"].notna()]
        place = int((rated["rate_per_1000"] > row["rate_per_1000"]).sum()) + 1
        record = peer_records(table)[0]
        rows.append(
            record
            | {
                "offence_group": offence,
                "england_wales_rate": table.england_wales_rate,
                "peer_place": f"{place} of {len(rated)}"
                if not pd.isna(row["rate_per_1000"])
                else None,
            }
        )
        sentences.append(f"{offence}: {outlier_sentence(table)}")
    if table is None:
        return None
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    return PeerSummary(table.edition, table.group, frame, sentences)
