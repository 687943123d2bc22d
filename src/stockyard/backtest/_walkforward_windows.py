"""Walk-forward windows on the bars' timeline, measured in bars or in time.

``train``, ``test`` and ``step`` are all bar counts (``500``, ``"500"``) or all durations
(``"30d"``, ``"12h"``, ``"2w"``, ``"90m"``, a ``timedelta``). Durations are laid on the clock
from the first bar: window ``k`` trains on ``[t0 + k·step, t0 + k·step + train)`` (anchored:
from ``t0``) and tests on the ``test`` after it; each part holds the bars whose open time
falls in it. A window stops at the data's end; one whose test part holds no bar, or whose
train part holds fewer than 2 (a weekend, a gap), or that holds the same bars as the one
before it, is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

__all__ = ["Span", "SpanSpec", "Window", "parse_span", "resolve_windows", "windows"]

Span = int | timedelta
SpanSpec = int | str | timedelta

_NS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9}
_UNIT_WORDS = {"min": "m", "mins": "m", "hr": "h", "hrs": "h", "day": "d", "days": "d"}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]+)$")
_MAX_CANDIDATES = 1_000_000  # windows laid on the clock before empty and repeated ones go


@dataclass(frozen=True, slots=True)
class Window:
    """Bar indexes on the timeline: train ``[train_start, train_end)``, test
    ``[train_end, test_end)``."""

    index: int
    train_start: int
    train_end: int
    test_end: int


def windows(
    bars: int, *, train: int, test: int, step: int | None = None, anchored: bool = False
) -> list[Window]:
    """Every full window over ``bars`` timeline bars (``step`` defaults to ``test``)."""
    step = test if step is None else step
    if train < 2 or test < 1 or step < 1:
        raise ValueError(f"need train >= 2, test >= 1, step >= 1; got {train}, {test}, {step}")
    if test > bars:
        raise ValueError(f"test of {test} bars is longer than the data ({bars} bars)")
    out: list[Window] = []
    start = 0
    while start + train + test <= bars:
        first = 0 if anchored else start
        out.append(Window(len(out), first, start + train, start + train + test))
        start += step
    if not out:
        raise ValueError(f"{bars} bars hold no window of train {train} + test {test} bars")
    return out


def parse_span(value: SpanSpec, *, name: str) -> Span:
    """A bar count (``500``, ``"500"``) or a duration (``"30d"``, ``"12h"``, ``"2w"``, ``"90m"``,
    ``"45s"``, a ``timedelta``); ``ValueError`` naming ``name`` for anything else."""
    if isinstance(value, bool):  # True is an int to Python, never a bar count
        raise ValueError(f"{name} must be a bar count or a duration, got {value!r}")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
        return value
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"{name} must be positive, got {value}")
        return value
    text = value.strip().lower()
    if text.isdigit():
        if int(text) == 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
        return int(text)
    match = _DURATION.match(text)
    unit = "" if match is None else _UNIT_WORDS.get(match.group(2), match.group(2))
    if match is None or unit not in _NS:
        if text.startswith("-"):
            raise ValueError(f"{name} must be positive, got {value!r}")
        raise ValueError(
            f"{name} {value!r} is not a bar count or a duration: "
            "use e.g. 500 (bars), 90m, 12h, 30d or 2w"
        )
    ns = round(float(match.group(1)) * _NS[unit])
    if ns <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return timedelta(microseconds=ns // 1000)


def resolve_windows(
    timeline: np.ndarray,
    end_ns: int,
    *,
    train: SpanSpec,
    test: SpanSpec,
    step: SpanSpec | None = None,
    anchored: bool = False,
) -> list[Window]:
    """The windows over ``timeline`` (sorted bar open times, ns; the data end at ``end_ns``)
    for ``train``/``test``/``step`` all in bars or all in time (``step`` defaults to ``test``)."""
    train_span = parse_span(train, name="train")
    test_span = parse_span(test, name="test")
    step_span = test_span if step is None else parse_span(step, name="step")
    if isinstance(train_span, int) and isinstance(test_span, int) and isinstance(step_span, int):
        return windows(
            int(timeline.size), train=train_span, test=test_span, step=step_span, anchored=anchored
        )
    if (
        isinstance(train_span, timedelta)
        and isinstance(test_span, timedelta)
        and isinstance(step_span, timedelta)
    ):
        return _time_windows(
            timeline, end_ns, train=_ns(train_span), test=_ns(test_span), step=_ns(step_span),
            anchored=anchored,
        )  # fmt: skip
    shown = ", ".join(
        f"{k}={_show(v)}"
        for k, v in (("train", train_span), ("test", test_span), ("step", step_span))
    )
    raise ValueError(
        f"give train, test and step all as bar counts or all as durations; got {shown}"
    )


def _time_windows(
    timeline: np.ndarray, end_ns: int, *, train: int, test: int, step: int, anchored: bool
) -> list[Window]:
    first = int(timeline[0])
    total = end_ns - first
    if test > total:
        raise ValueError(f"test {_fmt(test)} is longer than the data ({_fmt(total)})")
    if train + test > total:
        raise ValueError(
            f"the data ({_fmt(total)}) hold no window of train {_fmt(train)} + test {_fmt(test)}"
        )
    count = (total - train - test) // step + 1
    if count > _MAX_CANDIDATES:
        raise ValueError(f"step {_fmt(step)} lays {count:,} windows on the data; use a longer one")
    starts = first + np.arange(count, dtype=np.int64) * step
    train_at = np.full(count, first, dtype=np.int64) if anchored else starts
    cuts = np.searchsorted(
        timeline, np.stack([train_at, starts + train, starts + train + test]), side="left"
    )
    out: list[Window] = []
    last: tuple[int, int, int] | None = None
    for a, b, c in zip(*(cuts[i].tolist() for i in range(3)), strict=True):
        if c - b < 1 or b - a < 2 or (a, b, c) == last:
            continue
        out.append(Window(len(out), a, b, c))
        last = (a, b, c)
    if not out:
        raise ValueError(
            f"no window of train {_fmt(train)} + test {_fmt(test)} holds bars in both parts "
            f"(the data: {timeline.size:,} bars over {_fmt(total)})"
        )
    return out


def _ns(span: timedelta) -> int:
    return (span.days * 86400 + span.seconds) * 10**9 + span.microseconds * 1000


def _show(span: Span) -> str:
    return f"{span} bars" if isinstance(span, int) else _fmt(_ns(span))


def _fmt(ns: int) -> str:
    """``30d``, ``12h``, ``1d 6h``: whole days, hours, minutes and seconds."""
    parts = []
    rest = ns
    for unit in ("d", "h", "m", "s"):
        size = _NS[unit]
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts) if parts else f"{ns / 1e9:g}s"
