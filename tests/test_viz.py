"""The plotly helpers: one look, and reference lines that land where they should."""

import math

import pandas as pd

from edgeagents import viz

DF = pd.DataFrame({"model": ["a", "b", "a", "b"], "gb": [0.3, 30.0, 0.2, 20.0], "precision": ["F16", "F16", "Q4", "Q4"]})


def test_bar_and_line_use_the_course_template():
    fig = viz.bar(DF, x="model", y="gb", title="Weights", color="precision")
    assert fig.layout.title.text == "Weights" and fig.layout.height == viz.HEIGHT
    assert len(fig.data) == 2
    fig = viz.line(DF, x="model", y="gb", title="Line")
    assert fig.data[0].mode == "lines+markers"


def test_hline_label_sits_on_the_line_on_linear_and_log_axes():
    fig = viz.hline(viz.bar(DF, x="model", y="gb"), 20.0, "RAM")
    assert fig.layout.shapes[0].y0 == 20.0 and fig.layout.annotations[0].y == 20.0
    fig = viz.hline(viz.bar(DF, x="model", y="gb", log_y=True), 20.0, "RAM")
    assert fig.layout.shapes[0].y0 == 20.0
    assert math.isclose(fig.layout.annotations[0].y, math.log10(20.0))  # plotly puts annotations in log10 units
