"""Charts as geometry for server-rendered SVG: points, paths, an optional band, axis ticks, and the same numbers as
rows of a table (the text alternative). Pure functions; the template draws them and owns every attribute.

A point with few answers (fewer than SMALL_SAMPLE) is marked `small` (drawn hollow); a bucket without any is a
gap in the line, never a zero."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from feedback.dashboard.figures import SMALL_SAMPLE, Totals
from feedback.dashboard.periods import Bucket

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 30
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Point:
    x: float
    y: float | None
    value: float | None
    text: str  # the value as the table and tooltip say it
    n: int
    label: str  # the bucket, e.g. "Week of 9 Mar 2026"
    href: str
    small: bool
    low: float | None = None  # the band at this point, in chart units
    high: float | None = None
    band_text: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # series-0 …: colour and dash from the stylesheet
    points: list[Point]
    path: str
    band: str = ""  # an SVG path for the 95% interval, or ""


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    unit: str
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    n_label: str  # what n counts: "answers", "reviews" …
    width: int = WIDTH
    height: int = HEIGHT
    notes: list[str] = field(default_factory=list)

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return WIDTH - RIGHT

    @property
    def plot_bottom(self) -> int:
        return HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        return all(p.value is None for s in self.series for p in s.points)


@dataclass(frozen=True)
class Line:
    """One series: how to read its value, its sample size and (optionally) its interval from Totals."""

    name: str
    value: Callable[[Totals], float | None]
    n: Callable[[Totals], int]
    measure: str  # the drill-down measure behind a point
    interval: Callable[[Totals], tuple[float, float] | None] | None = None


def bucket_label(bucket: Bucket, grain: str) -> str:
    if grain == "month":
        text = bucket.start.strftime("%b %Y")
    elif grain == "week":
        text = "Week of " + _day(bucket.start)
    else:
        text = bucket.start.strftime("%a ") + _day(bucket.start)
    return text + (" (part)" if bucket.partial else "")


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def _short(bucket: Bucket, grain: str) -> str:
    return bucket.start.strftime("%b %y") if grain == "month" else f"{bucket.start.day} {bucket.start.strftime('%b')}"


def _path(points: Sequence[tuple[float, float | None]]) -> str:
    """Line segments through the points; a missing value starts a new segment."""
    parts, pen = [], "M"
    for x, y in points:
        if y is None:
            pen = "M"
            continue
        parts.append(f"{pen}{x:.1f} {y:.1f}")
        pen = "L"
    return " ".join(parts)


def _band(points: Sequence[Point]) -> str:
    """Closed shapes between the lower and upper ends of the interval, one per run of points that have one."""
    shapes, run = [], []
    for point in [*points, None]:
        if point is not None and point.low is not None and point.high is not None:
            run.append(point)
            continue
        if len(run) == 1:  # a lone point: a narrow bar, so its interval still shows
            (p,) = run
            shapes.append(f"M{p.x - 4:.1f} {p.high:.1f} L{p.x + 4:.1f} {p.high:.1f} L{p.x + 4:.1f} {p.low:.1f} "
                          f"L{p.x - 4:.1f} {p.low:.1f} Z")  # fmt: skip
        elif run:
            top = " L".join(f"{p.x:.1f} {p.high:.1f}" for p in run)
            bottom = " L".join(f"{p.x:.1f} {p.low:.1f}" for p in reversed(run))
            shapes.append(f"M{top} L{bottom} Z")
        run = []
    return " ".join(shapes)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000):
        if value <= step * 4:
            return float(step * 4)
    return float(int(value * 1.1) + 1)


def line_chart(
    key: str,
    title: str,
    periods: Sequence[Bucket],
    lines: Sequence[tuple[Line, Sequence[Totals]]],
    grain: str,
    *,
    fmt: Callable[[float], str],
    n_label: str,
    drill: Callable[[Bucket, str, int], str],
    y_range: tuple[float, float] | None = None,
    unit: str = "",
) -> Chart:
    """A chart of one or more lines, each over its own totals per bucket; `y_range` fixed (e.g. −100…100) or from
    the data. `drill(bucket, measure, line number)` is the URL behind a point."""
    values = [v for line, totals in lines for t in totals if (v := line.value(t)) is not None]
    low, high = y_range if y_range else (0.0, _nice_max(max(values, default=0.0)))
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(periods) - 1, 1)

    def x_of(index: int) -> float:
        return LEFT + (plot_w / 2 if len(periods) == 1 else index * step)

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (min(max(value, low), high) - low) / span)

    series = []
    for number, (line, totals_per_bucket) in enumerate(lines):
        points = []
        for index, (bucket, totals) in enumerate(zip(periods, totals_per_bucket, strict=True)):
            value, n = line.value(totals), line.n(totals)
            interval = line.interval(totals) if line.interval else None
            points.append(
                Point(
                    x=x_of(index),
                    y=None if value is None else y_of(value),
                    value=value,
                    text="–" if value is None else fmt(value),
                    n=n,
                    label=bucket_label(bucket, grain),
                    href=drill(bucket, line.measure, number),
                    small=0 < n < SMALL_SAMPLE,
                    low=y_of(interval[0]) if interval else None,
                    high=y_of(interval[1]) if interval else None,
                    band_text=f"{fmt(interval[0])} to {fmt(interval[1])}" if interval else "",
                )
            )
        path = _path([(p.x, p.y) for p in points])
        series.append(Series(line.name, f"series-{number}", points, path, _band(points) if line.interval else ""))

    y_ticks = [Tick(y_of(low + span * k / 4), fmt(low + span * k / 4)) for k in range(5)]
    every = max(1, -(-len(periods) // MAX_X_LABELS))
    x_ticks = [Tick(x_of(i), _short(b, grain)) for i, b in enumerate(periods) if i % every == 0]
    return Chart(
        key=key,
        title=title,
        description=describe(title, series, periods, grain, n_label),
        unit=unit,
        series=series,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        n_label=n_label,
    )


def describe(title: str, series: Sequence[Series], periods: Sequence[Bucket], grain: str, n: str) -> str:
    """One or two sentences a screen reader announces for the chart."""
    if not periods:
        return f"{title}: no data in this period."
    first, last = bucket_label(periods[0], grain), bucket_label(periods[-1], grain)
    said = [f"{title} by {grain}, {first} to {last}."]
    for line in series:
        known = [p for p in line.points if p.value is not None]
        if not known:
            said.append(f"{line.name}: no {n} in this period.")
            continue
        lowest = min(known, key=lambda p: p.value or 0.0)
        highest = max(known, key=lambda p: p.value or 0.0)
        said.append(
            f"{line.name}: {known[0].text} at first, {known[-1].text} last; lowest {lowest.text} ({lowest.label}), "
            f"highest {highest.text} ({highest.label}); {sum(p.n for p in line.points)} {n} in all."
        )
    return " ".join(said)
