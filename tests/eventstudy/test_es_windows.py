"""Window resolution, overlap flags and the performance budget."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.eventstudy.windows import LabelWindow, OffsetWindow, flag_overlaps, resolve_window


def test_resolve_window_counts_sessions_and_clips_to_the_index() -> None:
    index = pd.bdate_range("2025-06-02", periods=10)  # Mon 2 .. Fri 13 June
    pos0 = 5  # Mon 9 June
    assert resolve_window(index, pos0, OffsetWindow(-1, 1)) == (4, 6)
    assert resolve_window(index, pos0, OffsetWindow(-8, 0)) == (0, 5)
    assert resolve_window(index, pos0, OffsetWindow(6, 9)) is None
    # labels between sessions snap inwards: Sat 7 .. Sun 8 June holds no session
    assert resolve_window(index, pos0, LabelWindow("2025-06-07", "2025-06-08")) is None
    assert resolve_window(index, pos0, LabelWindow("2025-06-07", "2025-06-10")) == (5, 6)
    assert str(OffsetWindow(-5, 5)) == "[-5,+5]" and str(OffsetWindow(0, 1)) == "[0,+1]"
    with pytest.raises(ValueError):
        OffsetWindow(2, 1)


def test_overlap_flags_report_event_and_estimation_overlaps_per_ticker() -> None:
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3", "e4", "e5"],
            "ticker": ["MSFT", "MSFT", "MSFT", "GOOGL", "GOOGL"],
            "day0": [1000, 1008, 1200, 1000, 1003],
        }
    )
    flags = flag_overlaps(events)  # default windows: event period [-5, +5], estimation [-250, -11]
    rows = {tuple(r) for r in flags.itertuples(index=False)}
    assert rows == {
        # e1 [995, 1005] and e2 [1003, 1013] share three sessions
        ("MSFT", "e1", "e2", "event_period", 1003, 1005),
        # e1's event period [995, 1005] reaches into e2's estimation window [758, 997]
        ("MSFT", "e1", "e2", "estimation", 995, 997),
        # e1 and e2 fall in e3's estimation window [950, 1189]
        ("MSFT", "e1", "e3", "estimation", 995, 1005),
        ("MSFT", "e2", "e3", "estimation", 1003, 1013),
        ("GOOGL", "e4", "e5", "event_period", 998, 1005),
    }
    # with a [0, 0] event period only e1 and e2 (inside e3's estimation window) remain
    narrow = flag_overlaps(events, [OffsetWindow(0, 0)], OffsetWindow(-250, -11))
    assert set(narrow["kind"]) == {"estimation"}
    assert len(narrow) == 2 and set(narrow["other_event_id"]) == {"e3"}


def test_overlap_flags_with_session_labels() -> None:
    sessions = pd.bdate_range("2025-01-01", periods=400)
    events = pd.DataFrame(
        {"event_id": ["a", "b"], "ticker": ["ORCL", "ORCL"], "day0": [sessions[300], sessions[302]]}
    )
    flags = flag_overlaps(events, [OffsetWindow(-1, 1)], OffsetWindow(-250, -11), sessions=sessions)
    assert flags.to_dict("records") == [
        {
            "ticker": "ORCL",
            "event_id": "a",
            "other_event_id": "b",
            "kind": "event_period",
            "overlap_start": sessions[301],
            "overlap_end": sessions[301],
        }
    ]
    with pytest.raises(TypeError):
        flag_overlaps(events, [LabelWindow("2025-01-01", "2025-01-02")], sessions=sessions)  # type: ignore[list-item]
