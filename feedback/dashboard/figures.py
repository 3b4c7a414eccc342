"""The dashboard's figures from summed counts: pure arithmetic, so every number is tested without a database.

NPS = % of 9–10 minus % of 0–6 answers; CSAT = % of 4–5 answers of order surveys, Support CSAT the same of support
surveys (what each counts: feedback.dashboard.definitions); response rate = of the invitations sent in the period,
the share answered (so far). The NPS interval is an adjusted Wald interval on the +1/0/−1 scores, with one
pseudo-answer in each class (Rocks 2016), so that a single answer shows a wide band (not none) and small samples
never look like big swings; it is therefore not centred on the NPS itself."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

#: The counts the rollup keeps per day and segment, in its column order.
MEASURES = (
    "items",
    "nps_n",
    "promoters",
    "detractors",
    "csat_n",
    "csat_ok",
    "support_csat_n",
    "support_csat_ok",
    "rating_n",
    "rating_sum",
    "positive",
    "neutral",
    "negative",
    "mixed",
    "scheduled",
    "sent",
    "opened",
    "answered",
    "sent_opened",
    "sent_answered",
)
LABELS = ("positive", "neutral", "negative", "mixed")
Z95 = 1.96
#: How the NPS interval is made, as the pages name it.
NPS_INTERVAL = (
    "95% adjusted Wald interval (Rocks 2016): one pseudo-answer is added to each group, so it is not centred on the NPS"
)
#: Below this many answers a point is drawn hollow and its change is called uncertain.
SMALL_SAMPLE = 30


@dataclass(frozen=True)
class Totals:
    items: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0
    csat_n: int = 0
    csat_ok: int = 0
    support_csat_n: int = 0
    support_csat_ok: int = 0
    rating_n: int = 0
    rating_sum: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    mixed: int = 0
    scheduled: int = 0
    sent: int = 0
    opened: int = 0
    answered: int = 0
    sent_opened: int = 0
    sent_answered: int = 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Totals:
        """From a query row of sums (None, Decimal or float on some engines, for an empty group)."""
        return cls(**{name: int(row.get(name) or 0) for name in MEASURES})

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def passives(self) -> int:
        return self.nps_n - self.promoters - self.detractors

    @property
    def nps(self) -> float | None:
        return 100 * (self.promoters - self.detractors) / self.nps_n if self.nps_n else None

    @property
    def nps_interval(self) -> tuple[float, float] | None:
        """95% interval of the NPS (adjusted Wald, clipped to −100…100)."""
        if not self.nps_n:
            return None
        n = self.nps_n + 3
        promoters, detractors = (self.promoters + 1) / n, (self.detractors + 1) / n
        mean = promoters - detractors
        margin = Z95 * math.sqrt(max(promoters + detractors - mean * mean, 0.0) / n)
        return max(-100.0, 100 * (mean - margin)), min(100.0, 100 * (mean + margin))

    @property
    def nps_margin(self) -> float | None:
        """Half the interval's width, in NPS points."""
        interval = self.nps_interval
        return (interval[1] - interval[0]) / 2 if interval else None

    def share(self, part: int, whole: int) -> float | None:
        return 100 * part / whole if whole else None

    @property
    def promoter_share(self) -> float | None:
        return self.share(self.promoters, self.nps_n)

    @property
    def passive_share(self) -> float | None:
        return self.share(self.passives, self.nps_n)

    @property
    def detractor_share(self) -> float | None:
        return self.share(self.detractors, self.nps_n)

    @property
    def csat(self) -> float | None:
        return self.share(self.csat_ok, self.csat_n)

    @property
    def support_csat(self) -> float | None:
        return self.share(self.support_csat_ok, self.support_csat_n)

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_n if self.rating_n else None

    @property
    def labelled(self) -> int:
        return self.positive + self.neutral + self.negative + self.mixed

    def label_share(self, label: str) -> float | None:
        return self.share(getattr(self, label), self.labelled)

    @property
    def negative_share(self) -> float | None:
        return self.label_share("negative")

    @property
    def response_rate(self) -> float | None:
        """Of the invitations sent in the period, the share answered so far."""
        return self.share(self.sent_answered, self.sent)

    @property
    def open_rate(self) -> float | None:
        return self.share(self.sent_opened, self.sent)


@dataclass(frozen=True)
class Change:
    """A figure now and in the previous period; `clear` is False when the samples are too small to tell."""

    now: float | None
    before: float | None
    clear: bool = True

    @property
    def delta(self) -> float | None:
        return None if self.now is None or self.before is None else self.now - self.before


def nps_change(now: Totals, before: Totals) -> Change:
    """The change is clear when it is larger than the noise of both samples (95%, the margins combined)."""
    if now.nps is None or before.nps is None:
        return Change(now.nps, before.nps, clear=False)
    noise = math.hypot(now.nps_margin or 0.0, before.nps_margin or 0.0)
    return Change(now.nps, before.nps, clear=abs(now.nps - before.nps) > noise)


def share_change(now: Totals, before: Totals, figure: str, sample: str) -> Change:
    """A percentage's change, clear when both periods have enough answers and the difference beats a two-proportion
    test at 95%."""
    a, b = getattr(now, figure), getattr(before, figure)
    n_a, n_b = getattr(now, sample), getattr(before, sample)
    if a is None or b is None:
        return Change(a, b, clear=False)
    pooled = (a * n_a + b * n_b) / (100 * (n_a + n_b))
    noise = Z95 * 100 * math.sqrt(max(pooled * (1 - pooled), 0.0) * (1 / n_a + 1 / n_b))
    return Change(a, b, clear=min(n_a, n_b) >= SMALL_SAMPLE and abs(a - b) > noise)


def plain_change(now: float | None, before: float | None, *, enough: bool = True) -> Change:
    return Change(now, before, clear=enough and now is not None and before is not None)
