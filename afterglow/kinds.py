"""The feedback vocabulary every app shares: the kinds of feedback and their names, the score scales, the NPS and
CSAT cut-offs, and which score a kind carries. Plain values only: this module imports none of the apps."""

from __future__ import annotations

from typing import NamedTuple

from afterglow.i18n import N_


class Scale(NamedTuple):
    """A run of scores, both ends included: a whole scale, or a group on one."""

    low: int
    high: int

    @property
    def points(self) -> range:
        """Every score in the run, lowest first (what a survey offers)."""
        return range(self.low, self.high + 1)

    @property
    def text(self) -> str:
        """ "0–6", as pages say it."""
        return f"{self.low}–{self.high}"


CSAT_SCALE = Scale(1, 5)
NPS_SCALE = Scale(0, 10)
STARS_SCALE = Scale(1, 5)

#: NPS groups: promoters 9–10, passives 7–8, detractors 0–6.
PROMOTER_FROM = 9
PASSIVE_FROM = 7
DETRACTOR_UP_TO = PASSIVE_FROM - 1
NPS_GROUPS: dict[str, Scale] = {
    "promoters": Scale(PROMOTER_FROM, NPS_SCALE.high),
    "passives": Scale(PASSIVE_FROM, PROMOTER_FROM - 1),
    "detractors": Scale(NPS_SCALE.low, DETRACTOR_UP_TO),
}
#: CSAT (and support CSAT) 4 and 5 count as satisfied, 1–3 as not satisfied.
SATISFIED_FROM = 4
SATISFIED = Scale(SATISFIED_FROM, CSAT_SCALE.high)
NOT_SATISFIED = Scale(CSAT_SCALE.low, SATISFIED_FROM - 1)
#: The low end worth a filter of its own: CSAT 1–2, support CSAT 1–2, reviews of 1–2 stars.
UNHAPPY_UP_TO = 2

#: The kinds of feedback (FeedbackItem.kind), each with the one name staff read (in English; their emails
#: translate it).
KIND_NAMES: dict[str, str] = {
    "order": N_("Order survey"),  # an order survey: CSAT and NPS
    "support": N_("Support CSAT"),  # a support survey: CSAT, with the agent
    "review": N_("Product review"),  # stars
    "suggestion": N_("Suggestion"),  # from the suggestion box: no score
}
FEEDBACK_KINDS = tuple(KIND_NAMES)

#: The score a score kind reads: (the feedback kind that carries it, its FeedbackItem column).
SCORES: dict[str, tuple[str, str]] = {
    "csat": ("order", "csat"),
    "nps": ("order", "nps"),
    "review": ("review", "rating"),
    "support": ("support", "csat"),
}
#: What a rule's `kind` condition can name, as staff read it: the scores, and the kinds without one.
RULE_KINDS: dict[str, str] = {
    "csat": "CSAT (order survey)",
    "nps": "NPS",
    "review": KIND_NAMES["review"],
    "support": KIND_NAMES["support"],
    "suggestion": KIND_NAMES["suggestion"],
}
#: The scale of each column that holds a score.
COLUMN_SCALES: dict[str, Scale] = {"csat": CSAT_SCALE, "nps": NPS_SCALE, "rating": STARS_SCALE}
#: The scale of each score kind.
SCALES: dict[str, Scale] = {kind: COLUMN_SCALES[column] for kind, (_, column) in SCORES.items()}


def score_of(score_kind: str, kind: str, scores: dict[str, int | None]) -> int | None:
    """The score of `score_kind` ("csat", "nps", "review", "support") in feedback of `kind` with these column
    values ({"csat": …, "nps": …, "rating": …}); None when this feedback has no such score."""
    if score_kind not in SCORES:
        return None
    carrier, column = SCORES[score_kind]
    return scores.get(column) if kind == carrier else None


def nps_group(score: int) -> str:
    """ "promoters", "passives" or "detractors"."""
    return next(name for name, group in NPS_GROUPS.items() if group.low <= score <= group.high)


def kind_name(kind: str) -> str:
    """The name staff read for a feedback kind; an unknown kind as it is stored."""
    return KIND_NAMES.get(kind, kind)
