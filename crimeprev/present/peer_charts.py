"""The Compare page's charts: the funnel plot, the knife crime trend by force, the force's
districts side by side, and the map of the 43 police force areas. Each takes what
`crimeprev.figures.peers` computes and returns an Altair chart in the shared look."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from crimeprev.figures.peers import PeerTable, funnel_limits, funnel_points, peer_rows
from crimeprev.formats import VEGA_COUNT, VEGA_RATE, vega_pct_change
from crimeprev.present.charts import BLUE, GREY, HEIGHT, LABEL_AXIS, ORANGE, VERMILLION, styled

ROLES = ["This force", "Peer", "Other force"]
ROLE_COLOURS = [VERMILLION, BLUE, GREY]
ROLE_SCALE = alt.Scale(domain=ROLES, range=ROLE_COLOURS)
FUNNEL_WIDTH = 640


def funnel_chart(table: PeerTable) -> alt.LayerChart:
    """Each force's rate against its population (or households), with the England and Wales
    rate and the 95% and 99.8% limits: dashed lines for chance alone (Poisson), solid for the
    limits widened by the spread between forces."""
    points = funnel_points(table)
    limits = funnel_limits(table)
    limits["line"] = limits["model"] + ", " + limits["level"] + " " + limits["limit"].str[:5]
    x = alt.X(
        "population:Q",
        title=f"{table.denominator.capitalize()} (log scale)",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(format="~s"),
    )
    y_title = f"{table.offence_group} {table.rate_label}"
    lines = (
        alt.Chart(limits)
        .mark_line(color="#555555", strokeWidth=1, aria=True)
        .encode(
            x=x,
            y=alt.Y("rate_per_1000:Q", title=y_title),
            detail="line:N",
            strokeDash=alt.StrokeDash(
                "model:N",
                title=None,
                scale=alt.Scale(
                    domain=["Poisson (chance alone)", "Allowing for spread"], range=[[4, 3], [1, 0]]
                ),
            ),
            opacity=alt.Opacity(
                "level:N", scale=alt.Scale(domain=["95%", "99.8%"], range=[0.45, 0.9]), legend=None
            ),
        )
    )
    centre = (
        alt.Chart(pd.DataFrame({"rate_per_1000": [table.england_wales_rate]}))
        .mark_rule(color=ORANGE, strokeWidth=2)
        .encode(y="rate_per_1000:Q")
    )
    dots = (
        alt.Chart()
        .mark_circle(size=70, opacity=0.9, stroke="white", strokeWidth=0.5, aria=True)
        .encode(
            x=x,
            y="rate_per_1000:Q",
            color=alt.Color("role:N", scale=ROLE_SCALE, title=None),
            tooltip=[
                alt.Tooltip("force:N", title="Force"),
                alt.Tooltip("count:Q", title="Offences", format=VEGA_COUNT),
                alt.Tooltip(
                    "population:Q", title=table.denominator.capitalize(), format=VEGA_COUNT
                ),
                alt.Tooltip(
                    "rate_per_1000:Q", title=table.rate_label.capitalize(), format=VEGA_RATE
                ),
                alt.Tooltip("rank:Q", title="Rank (1 = highest)"),
                alt.Tooltip("funnel:N", title="Against chance"),
                alt.Tooltip("funnel_overdispersed:N", title="Allowing for spread"),
            ],
        )
    )
    names = (
        alt.Chart()
        .transform_filter("datum.role == 'This force'")
        .mark_text(align="left", dx=8, fontSize=12, fontWeight="bold")
        .encode(
            x=x,
            y="rate_per_1000:Q",
            text="force:N",
            color=alt.Color("role:N", scale=ROLE_SCALE, legend=None),
        )
    )
    return styled(
        alt.LayerChart(data=points, layer=[lines, centre, dots, names]).properties(
            width=FUNNEL_WIDTH,
            height=HEIGHT + 80,
            title=alt.Title(
                f"{table.offence_group}: rate against size, {table.edition.label()}",
                subtitle=(
                    f"Orange line: England and Wales ({table.england_wales_rate:.2f} "
                    f"{table.rate_label}). Limits at 95% and 99.8%."
                ),
            ),
        )
    )


def knife_trend_chart(trend: pd.DataFrame) -> alt.LayerChart:
    """Selected knife and sharp instrument offences by force over the published years: every
    force in grey, the peers in blue and the force in vermillion on top."""
    frame = trend.dropna(subset=["count_offences"]).copy()
    frame["order"] = frame["role"].map({"Other force": 0, "Peer": 1, "This force": 2})
    base = alt.Chart().encode(
        x=alt.X("period_end:T", title="Year ending", axis=alt.Axis(format="%b %Y")),
        y=alt.Y(
            "count_offences:Q", title="Offences involving a knife", scale=alt.Scale(type="log")
        ),
        detail="force:N",
        color=alt.Color("role:N", scale=ROLE_SCALE, title=None),
        tooltip=[
            alt.Tooltip("force:N", title="Force"),
            alt.Tooltip("period_end:T", title="Year ending", format="%B %Y"),
            alt.Tooltip("count_offences:Q", title="Offences", format=VEGA_COUNT),
            alt.Tooltip("pct_involving_knife:Q", title="% involving a knife", format=".1f"),
        ],
    )
    others = base.transform_filter("datum.role == 'Other force'").mark_line(
        strokeWidth=1, opacity=0.35
    )
    shown = base.transform_filter("datum.role != 'Other force'").mark_line(
        strokeWidth=2.5, point=True
    )
    return styled(
        alt.LayerChart(data=frame, layer=[others, shown]).properties(
            width=FUNNEL_WIDTH,
            height=HEIGHT,
            title=alt.Title(
                "Knife and sharp instrument offences by force",
                subtitle="Selected offences (log scale); the peers highlighted.",
            ),
        )
    )


def district_chart(districts: pd.DataFrame, rate_label: str) -> alt.Chart:
    """The force's Community Safety Partnerships side by side by published rate."""
    frame = districts[districts["area_kind"] == "csp"].dropna(subset=["rate_per_1000"])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar(color=BLUE)
        .encode(
            y=alt.Y("csp_name:N", sort="-x", title=None, axis=LABEL_AXIS),
            x=alt.X("rate_per_1000:Q", title=rate_label.capitalize()),
            tooltip=[
                alt.Tooltip("csp_name:N", title="District"),
                alt.Tooltip("count_offences:Q", title="Offences", format=VEGA_COUNT),
                alt.Tooltip("previous_count:Q", title="Year before", format=VEGA_COUNT),
                alt.Tooltip("pct_change_text:N", title="% change"),
                alt.Tooltip("rate_per_1000:Q", title=rate_label.capitalize(), format=VEGA_RATE),
            ],
        )
        .transform_calculate(pct_change_text=vega_pct_change())
        .properties(width=FUNNEL_WIDTH - 140, height=alt.Step(20))
    )
    return styled(chart)


def force_map_chart(features: list[dict[str, Any]]) -> alt.Chart:
    """The 43 police force areas, the force and its peers coloured."""
    chart: alt.Chart = (
        alt.Chart({"values": features})
        .mark_geoshape(stroke="white", strokeWidth=0.7, aria=True)
        .encode(
            color=alt.Color("role:N", scale=ROLE_SCALE, title=None),
            tooltip=[alt.Tooltip("force:N", title="Force"), alt.Tooltip("role:N", title="Role")],
        )
        .properties(width=380, height=460, projection=alt.Projection(type="mercator"))
    )
    return styled(chart)


MARKER_WORDS = {
    "u": "suppressed (small base)",
    "u1": "suppressed (small population)",
    "x": "unavailable",
    "z": "not applicable",
}


def peer_display_table(table: PeerTable, everyone: bool = False) -> pd.DataFrame:
    """The force, its peers and England and Wales as the page lists them: the published
    figures, and a note where a cell is suppressed or unavailable rather than a number."""
    rows = peer_rows(table, everyone)
    notes = []
    for row in rows.to_dict("records"):
        parts = []
        if row["pct_change_marker"]:
            parts.append(f"% change {MARKER_WORDS.get(row['pct_change_marker'], 'not given')}")
        if row["rate_marker"]:
            parts.append(f"rate {MARKER_WORDS.get(row['rate_marker'], 'not given')}")
        notes.append("; ".join(parts))
    shown = rows[
        [
            "force",
            "count",
            "previous_count",
            "pct_change",
            "population",
            "rate_per_1000",
            "rank",
            "funnel",
            "funnel_overdispersed",
        ]
    ].copy()
    shown["published_note"] = notes
    return shown.reset_index(drop=True)
