"""Plotly figures for Lab 01's agents (plotly is imported only when a figure is made)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeagents.agents.taxonomy.environments import GridMap, ThermostatWorld, VacuumWorld
from edgeagents.agents.taxonomy.goal_based import SearchResult
from edgeagents.agents.taxonomy.learning import BanditRuns
from edgeagents.agents.taxonomy.model_based import VacuumEpisode
from edgeagents.agents.taxonomy.reflex import ThermostatRun


def thermostat_figure(runs: dict[str, ThermostatRun], world: ThermostatWorld):  # noqa: ANN201 - a plotly Figure
    """Room temperature over a day for each policy, with the comfort band and the outside air."""
    import plotly.graph_objects as go

    fig = go.Figure()
    first = next(iter(runs.values()))
    hours = np.arange(len(first.temperatures)) * 24 / world.steps_per_day
    fig.add_hrect(y0=world.low, y1=world.high, fillcolor="green", opacity=0.12, line_width=0, annotation_text="comfort band")
    fig.add_scatter(x=hours[:-1], y=first.outside, name="outside", line={"dash": "dot", "color": "grey"})
    for name, run in runs.items():
        fig.add_scatter(x=hours, y=run.temperatures, name=f"{name} ({run.in_band_share:.0%} in band)")
    fig.update_layout(title="Thermostat: room temperature over one day", xaxis_title="hour", yaxis_title="°C", height=380)
    return fig


def vacuum_curves_figure(curves: dict[str, np.ndarray]):  # noqa: ANN201
    """Mean share of dirt cleaned vs step (band: 10th-90th percentile over seeds)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, arr in curves.items():
        steps = np.arange(arr.shape[1])
        lo, hi = np.percentile(arr, 10, axis=0), np.percentile(arr, 90, axis=0)
        fig.add_scatter(x=np.r_[steps, steps[::-1]], y=np.r_[hi, lo[::-1]], fill="toself", opacity=0.2,
                        line={"width": 0}, showlegend=False, hoverinfo="skip", name=name)
        fig.add_scatter(x=steps, y=arr.mean(axis=0), name=f"{name} (mean of {arr.shape[0]} rooms)")
    fig.update_layout(title="Vacuum world: dirt cleaned vs steps", xaxis_title="step", yaxis_title="share of dirt cleaned",
                      yaxis_range=[0, 1.02], height=380)
    return fig


def vacuum_animation(world: VacuumWorld, episode: VacuumEpisode, title: str = "Vacuum episode", every: int = 1):  # noqa: ANN201
    """An animated heatmap of one recorded episode (walls, dirt, robot). Needs ``run_vacuum(record=True)``."""
    import plotly.graph_objects as go

    if not episode.dirt_frames:
        from edgeagents.errors import InvalidRequestError

        raise InvalidRequestError("This episode has no frames.", hint="Run it with run_vacuum(..., record=True).")

    def grid(k: int) -> np.ndarray:
        z = np.where(world.free, 0.0, -1.0)
        z[episode.dirt_frames[k]] = 1.0
        return z

    def frame_data(k: int) -> list:
        r, c = episode.positions[k]
        return [
            go.Heatmap(z=grid(k), zmin=-1, zmax=1, showscale=False,
                       colorscale=[[0, "#333"], [0.5, "#f4f4f4"], [1, "#a0522d"]]),
            go.Scatter(x=[c], y=[r], mode="markers", marker={"size": 22, "color": "#1f77b4", "symbol": "circle"}, name="robot"),
        ]

    ks = list(range(0, len(episode.dirt_frames), max(1, every)))
    fig = go.Figure(data=frame_data(0), frames=[go.Frame(data=frame_data(k), name=str(k)) for k in ks])
    fig.update_layout(
        title=title, height=420, width=460, yaxis={"autorange": "reversed", "scaleanchor": "x"}, showlegend=False,
        updatemenus=[{"type": "buttons", "buttons": [
            {"label": "▶ play", "method": "animate", "args": [None, {"frame": {"duration": 120}, "fromcurrent": True}]},
            {"label": "⏸", "method": "animate", "args": [[None], {"mode": "immediate", "frame": {"duration": 0}}]}]}],
        sliders=[{"steps": [{"label": str(k), "method": "animate", "args": [[str(k)], {"mode": "immediate"}]} for k in ks],
                  "currentvalue": {"prefix": "step "}}],
    )
    return fig


def route_figure(grid: GridMap, results: Sequence[SearchResult]):  # noqa: ANN201
    """The map (terrain cost) with each algorithm's path and the cells it expanded."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(results), subplot_titles=[
        f"{r.algorithm}: cost {r.cost:g}, {r.expanded} cells expanded" for r in results])
    z = np.where(np.isfinite(grid.cost), grid.cost, -2.0)
    for i, res in enumerate(results, 1):
        fig.add_heatmap(z=z, colorscale=[[0, "#222"], [0.2, "#f4f4f4"], [0.4, "#b5d99c"], [1, "#8b5a2b"]],
                        showscale=False, row=1, col=i, hovertemplate="cost %{z}<extra></extra>")
        if res.expanded_order:
            er, ec = zip(*res.expanded_order)
            fig.add_scatter(x=ec, y=er, mode="markers", marker={"size": 4, "color": "orange"}, name="expanded",
                            showlegend=i == 1, row=1, col=i)
        if res.path:
            pr, pc = zip(*res.path)
            fig.add_scatter(x=pc, y=pr, mode="lines", line={"color": "#d62728", "width": 3}, name="path",
                            showlegend=i == 1, row=1, col=i)
        fig.update_yaxes(autorange="reversed", row=1, col=i)
    fig.update_layout(title="Route planning (dark = wall, light = road, green = grass, brown = mud)", height=360)
    return fig


def bandit_figure(runs: Sequence[BanditRuns], best_rate: float, window: int = 50):  # noqa: ANN201
    """Learning curves (mean reward per round, smoothed) and cumulative regret, averaged over seeds."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"clicks per round ({window}-round average)", "cumulative regret"])
    for i, run in enumerate(runs):
        colour = f"hsl({(i * 67) % 360},60%,45%)"
        curve = run.learning_curve(window)
        fig.add_scatter(x=np.arange(len(curve)) + window, y=curve, name=run.name, line={"color": colour}, row=1, col=1)
        fig.add_scatter(x=np.arange(run.regret.shape[1]) + 1, y=run.cumulative_regret, name=run.name,
                        line={"color": colour}, showlegend=False, row=1, col=2)
    fig.add_hline(y=best_rate, line_dash="dot", annotation_text="best item", row=1, col=1)
    fig.update_xaxes(title_text="round")
    fig.update_layout(title=f"Learning recommenders (mean of {runs[0].rewards.shape[0]} seeds)", height=380)
    return fig


def decisions_figure(evaluations: dict[str, Sequence[str]], states: Sequence[float], expert: Sequence[str]):  # noqa: ANN201
    """Which action each policy chose at each temperature, against the expert's."""
    import plotly.graph_objects as go

    names = list(evaluations)
    fig = go.Figure()
    fig.add_scatter(x=list(states), y=["expert"] * len(states), mode="markers+text", text=list(expert),
                    textposition="top center", marker={"size": 10, "color": "black"}, name="expert")
    for name in names:
        chosen = list(evaluations[name])
        colours = ["#2ca02c" if a == b else "#d62728" for a, b in zip(chosen, expert)]
        fig.add_scatter(x=list(states), y=[name] * len(states), mode="markers+text", text=chosen,
                        textposition="top center", marker={"size": 10, "color": colours}, name=name)
    fig.update_layout(title="Chosen action per temperature (green = agrees with the expert)", xaxis_title="°C",
                      height=120 + 70 * (len(names) + 1), showlegend=False)
    return fig
