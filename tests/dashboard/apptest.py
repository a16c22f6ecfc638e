"""Reading what an AppTest rendered: plotly figures (their JSON spec) and their traces."""

from __future__ import annotations

import base64
import json

import numpy as np


def figures(at) -> list[dict]:
    """The figure JSON of every plotly chart on the page, in page order."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def values(data: list | dict) -> list:
    """A trace's x or y as a list: plotly writes numeric arrays as base64 typed arrays ({dtype, bdata})."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def traces(figure: dict) -> dict[str, list[float]]:
    """Trace name -> its y values."""
    return {trace["name"]: values(trace["y"]) for trace in figure["data"]}
