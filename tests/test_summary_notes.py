"""The summary names unknown mode labels with their counts and says how naive times were
read; its two kinds of "computed" rows are told apart."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot import Engine
from carbonfoot.cli import main
from carbonfoot.cli.render import unknown_labels_line
from carbonfoot.results import (
    UNKNOWN_LABELS_KEPT,
    merge_label_counts,
    unknown_label_counts,
)
from carbonfoot.streaming import stream_calc

Trips = Callable[..., dict[str, list[Any]]]


def test_unknown_labels_are_listed_most_frequent_first(engine: Engine, make_trips: Trips) -> None:
    modes = ["bycicle", "bus", "skateboard", "bycicle", "", None, "  ", "hovercraft", "bycicle"]
    summary = engine.compute(make_trips(mode=modes)).summary
    assert summary.unknown_labels == (("bycicle", 3), ("hovercraft", 1), ("skateboard", 1))
    assert summary.unknown_labels_more == 0
    (unknown,) = [row for row in summary.by_mode if row.mode == "(unknown)"]
    assert unknown.trips == 8  # the empty labels are unknown too, but have no name to list
    assert unknown_labels_line(summary) == (
        '(unknown) 8: "bycicle" 3, "hovercraft" 1, "skateboard" 1 (see `carbonfoot modes`)'
    )


def test_the_list_is_cut_with_how_many_more_there_were(engine: Engine, make_trips: Trips) -> None:
    labels = [f"mode-{i:03d}" for i in range(UNKNOWN_LABELS_KEPT + 7)]
    summary = engine.compute(make_trips(mode=[*labels, "mode-050"])).summary
    assert len(summary.unknown_labels) == UNKNOWN_LABELS_KEPT
    assert summary.unknown_labels[0] == ("mode-050", 2)
    assert summary.unknown_labels_more == 7
    line = unknown_labels_line(summary, shown=2)
    assert line.startswith('(unknown) 108: "mode-050" 2, "mode-000" 1, and 105 more labels')


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "bus", "e"]), max_size=60), st.integers(1, 4))
def test_counts_are_value_counts_of_the_unknown_rows(labels: list[str], keep: int) -> None:
    codes = pa.array([0 if label == "bus" else -1 for label in labels], pa.int32())
    found, more = unknown_label_counts(
        pa.array(labels, pa.string()), codes.to_numpy(zero_copy_only=False), keep=keep
    )
    expected = collections.Counter(label for label in labels if label != "bus")
    ranked = sorted(expected.items(), key=lambda item: (-item[1], item[0]))
    assert list(found) == ranked[:keep]
    assert more == max(len(ranked) - keep, 0)
    # Parts merge into what the whole gives, while no part was cut.
    half = len(labels) // 2
    parts = [
        unknown_label_counts(
            pa.array(piece, pa.string()),
            codes.to_numpy(zero_copy_only=False)[start : start + len(piece)],
            keep=1000,
        )[0]
        for start, piece in ((0, labels[:half]), (half, labels[half:]))
    ]
    assert merge_label_counts(parts, keep=keep) == (found, more)


def test_naive_times_are_counted_and_the_zone_named(make_trips: Trips) -> None:
    engine = Engine("uk-desnz-2025")  # a UK set, and the policy's default zone, Shanghai
    times = [
        "2024-05-01T08:00:00",  # naive
        "2024-05-01 09:00",  # naive
        "2024-05-01T08:00:00+01:00",
        "2024-05-01T08:00:00Z",
        "not a time",
        "2024-05-01T10:00:00",  # naive
    ]
    summary = engine.compute(make_trips(started_at=times)).summary
    assert summary.naive_times == 3
    assert summary.timezone == "Asia/Shanghai"
    london = Engine("uk-desnz-2025", policy_params={"timezone": "Europe/London"})
    assert london.compute(make_trips(started_at=times)).summary.timezone == "Europe/London"


def test_timestamps_without_a_zone_are_naive_and_with_one_are_not(engine: Engine) -> None:
    moment = dt.datetime(2024, 5, 1, 8, 0)
    base = {
        "trip_id": ["a", "b"],
        "user_id": ["u", "v"],
        "mode": ["bus", "bus"],
        "distance": [1.0, 2.0],
    }
    naive = pa.table({**base, "started_at": pa.array([moment, None], pa.timestamp("s"))})
    zoned = pa.table({**base, "started_at": pa.array([moment] * 2, pa.timestamp("s", tz="UTC"))})
    assert engine.compute(naive).summary.naive_times == 1
    assert engine.compute(zoned).summary.naive_times == 0


def test_a_streamed_run_has_the_same_notes(tmp_path: Path, engine: Engine) -> None:
    size = 3000
    table = pa.table(
        {
            "trip_id": [f"t{i}" for i in range(size)],
            "user_id": [f"u{i % 97}" for i in range(size)],
            "mode": [("bus", "bycicle", "walk", "skateboard")[i % 4] for i in range(size)],
            "distance": [1.0 + i % 7 for i in range(size)],
            "started_at": [
                f"2024-05-{1 + i % 28:02d}T08:{i % 60:02d}:00" + ("+08:00" if i % 3 else "")
                for i in range(size)
            ],
        }
    )
    path = tmp_path / "trips.csv"
    pa_csv.write_csv(table, path)
    one = engine.compute(table).summary
    streamed = stream_calc(
        engine, path, tmp_path / "out.csv", chunk_rows=1000, rows_per_bucket=1000
    )
    assert one.unknown_labels == (("bycicle", 750), ("skateboard", 750))
    assert one.naive_times == 1000
    assert streamed.unknown_labels == one.unknown_labels
    assert streamed.naive_times == one.naive_times


def test_the_cli_summary_names_labels_naive_times_and_both_counts(tmp_path: Path) -> None:
    trips = tmp_path / "trips.csv"
    trips.write_text(
        "trip_id,user_id,mode,distance,started_at\n"
        "a,u1,bus,5,2024-05-01T08:00:00\n"
        "b,u1,bycicle,5,2024-05-01T09:00:00\n"
        "c,u2,skateboard,5,2024-05-01T10:00:00+01:00\n"
        "d,u2,metro,5,2024-05-01T11:00:00\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["calc", str(trips), "-o", str(tmp_path / "out.csv"), "--factors", "uk-desnz-2025"]
    )
    assert result.exit_code == 0, result.output
    assert '(unknown) 2: "bycicle" 1, "skateboard" 1' in result.output
    assert "3 naive times read as Asia/Shanghai" in result.output
    assert "carbonfoot: 4 trips, 2 counted" in result.output
    assert "rows: 4 in = 2 computed (2 counted in the totals + 0 quarantined" in result.output


@pytest.mark.parametrize("name", ["started_us"])
def test_no_message_names_an_internal_field(name: str) -> None:
    from carbonfoot.ledger.ledger import conflict_message

    message = conflict_message([("t1", ("started_us", "distance_km"))])
    assert name not in message
    assert "started_at" in message
