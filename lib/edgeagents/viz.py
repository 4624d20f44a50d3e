"""Small plotly helpers with one look across the labs.

>>> from edgeagents import viz
>>> viz.bar(df, x="model", y="weights_gb", title="Weights per model").show()

Each helper returns a ``plotly.graph_objects.Figure``; change it further with plotly's own
``fig.update_layout(...)`` before ``fig.show()``.
"""

from __future__ import annotations

from typing import Any

TEMPLATE = "plotly_white"
HEIGHT = 380
COLORS = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096", "#d69e2e", "#319795"]


def style(fig: Any, title: str | None = None, *, height: int = HEIGHT) -> Any:
    """Apply the course look to any plotly figure and return it."""
    fig.update_layout(
        template=TEMPLATE,
        title=title if title is not None else fig.layout.title.text,
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        colorway=COLORS,
        legend={"title": None},
    )
    return fig


def bar(df: Any, x: str, y: str, title: str = "", *, color: str | None = None, barmode: str = "group", log_y: bool = False, **kwargs: Any) -> Any:
    """A bar chart of ``y`` per ``x`` (grouped by ``color`` when given)."""
    import plotly.express as px

    fig = px.bar(df, x=x, y=y, color=color, barmode=barmode, log_y=log_y, color_discrete_sequence=COLORS, **kwargs)
    return style(fig, title)


def line(df: Any, x: str, y: str, title: str = "", *, color: str | None = None, markers: bool = True, log_y: bool = False, **kwargs: Any) -> Any:
    """A line chart of ``y`` against ``x`` (one line per ``color``)."""
    import plotly.express as px

    fig = px.line(df, x=x, y=y, color=color, markers=markers, log_y=log_y, color_discrete_sequence=COLORS, **kwargs)
    return style(fig, title)


def scatter(df: Any, x: str, y: str, title: str = "", *, color: str | None = None, **kwargs: Any) -> Any:
    """A scatter plot of ``y`` against ``x``."""
    import plotly.express as px

    fig = px.scatter(df, x=x, y=y, color=color, color_discrete_sequence=COLORS, **kwargs)
    return style(fig, title)


def hline(fig: Any, y: float, label: str, *, dash: str = "dash", color: str = "#c53030") -> Any:
    """Add a labelled horizontal reference line (a RAM limit, a budget) and return the figure.

    Works on log axes too: plotly places shapes at data values but annotations at log10 values there.
    """
    import math

    fig.add_hline(y=y, line_dash=dash, line_color=color)
    on_log = fig.layout.yaxis.type == "log"
    fig.add_annotation(
        x=0, xref="x domain", y=math.log10(y) if on_log else y, yref="y",
        text=label, showarrow=False, xanchor="left", yanchor="bottom", font={"color": color},
    )
    return fig


__all__ = ["COLORS", "HEIGHT", "TEMPLATE", "bar", "hline", "line", "scatter", "style"]
