"""The label of a text and its score together. The thresholds below are the policy; tests pin them."""

from __future__ import annotations

from dataclasses import dataclass

from afterglow.kinds import DETRACTOR_UP_TO, NPS_SCALE, PROMOTER_FROM

# A text or combined polarity at or beyond ±LABEL_THRESHOLD is positive/negative; closer to 0 it is neutral.
LABEL_THRESHOLD = 0.1
# A normalised score (-1..1) at or beyond ±SCORE_THRESHOLD is positive/negative: 4 of 5 stars (0.5) is positive.
SCORE_THRESHOLD = 0.25
# Text and score each count this much in the combined polarity.
TEXT_WEIGHT = 0.5
SCORE_WEIGHT = 0.5
# "Mixed": one clause at or above +MIXED_POLE and another at or below -MIXED_POLE (both sides strong) …
MIXED_POLE = 0.3
# … and neither outweighs the other: the weighted praise and the weighted complaint differ by less than this share
# of both together. Otherwise the lean wins (positive or negative by the sign of the weighted polarity).
MIXED_LEAN = 0.4
# A text of CONCLUSION_FROM sentences or more has room for both sides: there, a smaller lean already decides.
MIXED_LEAN_LONG = 0.15
# … unless the score is at an end of its scale (1 or 5 stars, NPS 0 or 10): then the score settles it.
# (bench.sentiment_eval: gated at 2 and 4 stars the combined macro-F1 was 0.664; at the ends it is 0.715.)
EXTREME_SCORE = 1.0
# A score at least this far from the middle is clear: 2 or 4 stars and beyond.
CLEAR_SCORE = 0.5
# Flagged: text at least this clearly one way while the score is clearly (CLEAR_SCORE) the other way.
CLEAR_TEXT = 0.4
# Clause weights in the whole-text polarity: each later clause weighs LATER_WEIGHT_STEP more than the one before,
# and a clause opened by a contrast word ("but", "after", "aber") weighs CONTRAST_WEIGHT times as much.
LATER_WEIGHT_STEP = 0.5
CONTRAST_WEIGHT = 2.0
# The last sentence with an opinion, in a text of CONCLUSION_FROM sentences or more, is the writer's verdict ("… but
# it works, I'd buy it again"): its clauses weigh CONCLUSION_WEIGHT times as much. Two sentences are two sides, not
# body and verdict.
CONCLUSION_FROM = 3
CONCLUSION_WEIGHT = 2.0
# How sure a label is (0..1). A label from the score alone counts for less than one that also read the text; a text
# in a language with a lexicon where no opinion was found is "neutral" with little confidence; with nothing at all
# to go on (no lexicon, no score) the label is "neutral" with none.
SCORE_ONLY_TRUST = 0.7
NO_OPINION_CONFIDENCE = 0.3
FLAGGED_CONFIDENCE = 0.4
# NPS (0..10): detractors 0–6 map onto -1..NPS_TOP_DETRACTOR, passives 7–8 are 0, promoters 9 → 0.5 and 10 → 1.
NPS_TOP_DETRACTOR = -0.25


def normalise_score(score: int, scale: tuple[int, int]) -> float:
    """A score on its scale as -1..1: stars 1→-1, 3→0, 5→1; NPS 0–6 negative, 7–8 neutral, 9–10 positive."""
    low, high = scale
    if high <= low:
        raise ValueError(f"scale {scale} must run from low to high")
    if not low <= score <= high:
        raise ValueError(f"score {score} is outside the scale {low}..{high}")
    if scale == NPS_SCALE:
        if score <= DETRACTOR_UP_TO:
            return round(-1.0 + score * (1.0 + NPS_TOP_DETRACTOR) / DETRACTOR_UP_TO, 4)
        if score < PROMOTER_FROM:
            return 0.0
        return round(0.5 + 0.5 * (score - PROMOTER_FROM) / (high - PROMOTER_FROM), 4)
    return round(-1.0 + 2.0 * (score - low) / (high - low), 4)


def polarity_label(polarity: float, threshold: float = LABEL_THRESHOLD) -> str:
    if polarity >= threshold:
        return "positive"
    if polarity <= -threshold:
        return "negative"
    return "neutral"


@dataclass(frozen=True)
class Verdict:
    label: str  # never "": positive | neutral | negative | mixed
    source: str  # "text+score" | "text" | "score" | "" (nothing to go on)
    flagged: bool
    confidence: float = 0.0


def is_mixed(clauses: list[tuple[float, float]], *, long_text: bool = False) -> tuple[bool, bool]:
    """From (weight, polarity) of the clauses with an opinion: whether the text is mixed (both sides strong and
    neither outweighs the other), and whether it is torn (both sides strong, whichever wins)."""
    torn = any(p >= MIXED_POLE for _, p in clauses) and any(p <= -MIXED_POLE for _, p in clauses)
    if not torn:
        return False, False
    praise = sum(w * p for w, p in clauses if p > 0)
    complaint = -sum(w * p for w, p in clauses if p < 0)
    band = MIXED_LEAN_LONG if long_text else MIXED_LEAN
    return abs(praise - complaint) < band * (praise + complaint), True


def _sure(value: float, threshold: float) -> float:
    """0.5 at a label's threshold, rising to 1 half a unit beyond it; for neutral, 1 at 0 falling to 0.5 there."""
    if abs(value) >= threshold:
        return round(min(1.0, 0.5 + abs(value) - threshold), 4)
    return round(1.0 - 0.5 * abs(value) / threshold, 4)


def combine(text_polarity: float | None, mixed: bool, score: float | None, *, torn: bool = False) -> Verdict:
    """Label from the text's polarity (None: no opinion found or no lexicon), its mixedness and the score. `torn`:
    the text has strong praise and strong complaint, so a lean that is not mixed is a side, never neutral."""
    if text_polarity is None:
        if score is None:
            return Verdict("neutral", "", False, 0.0)
        label = polarity_label(score, SCORE_THRESHOLD)
        return Verdict(label, "score", False, round(SCORE_ONLY_TRUST * _sure(score, SCORE_THRESHOLD), 4))
    if score is None:
        if mixed:
            return Verdict("mixed", "text", False, 0.6)
        return Verdict(_lean(text_polarity, torn), "text", False, _sure(text_polarity, LABEL_THRESHOLD))
    score_label = polarity_label(score, SCORE_THRESHOLD)
    if mixed and abs(score) < EXTREME_SCORE:
        return Verdict("mixed", "text+score", False, 0.6)
    if not mixed and (
        (text_polarity >= CLEAR_TEXT and score <= -CLEAR_SCORE)
        or (text_polarity <= -CLEAR_TEXT and score >= CLEAR_SCORE)
    ):
        return Verdict(score_label, "text+score", True, FLAGGED_CONFIDENCE)
    if abs(score) < EXTREME_SCORE and {polarity_label(text_polarity), score_label} == {"positive", "negative"}:
        # A satisfied score beside a complaint ("arrived quickly but the box was dented", 4 stars), or the other
        # way round, short of a contradiction: both sides are there and neither wins.
        return Verdict("mixed", "text+score", False, 0.5)
    combined = TEXT_WEIGHT * text_polarity + SCORE_WEIGHT * score
    return Verdict(_lean(combined, torn and not mixed), "text+score", False, _sure(combined, LABEL_THRESHOLD))


def _lean(polarity: float, torn: bool) -> str:
    label = polarity_label(polarity)
    if label == "neutral" and torn and polarity != 0:
        return "positive" if polarity > 0 else "negative"
    return label
