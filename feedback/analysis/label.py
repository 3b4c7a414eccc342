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
# "Mixed": one sentence/clause at or above +MIXED_POLE and another at or below -MIXED_POLE …
MIXED_POLE = 0.3
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
    label: str
    source: str
    flagged: bool


def combine(text_polarity: float | None, mixed: bool, score: float | None) -> Verdict:
    """Label from the text's polarity (None: no opinion found or no lexicon), its mixedness and the score."""
    if text_polarity is None:
        if score is None:
            return Verdict("", "", False)
        return Verdict(polarity_label(score, SCORE_THRESHOLD), "score", False)
    if score is None:
        return Verdict("mixed" if mixed else polarity_label(text_polarity), "text", False)
    score_label = polarity_label(score, SCORE_THRESHOLD)
    if mixed and abs(score) < EXTREME_SCORE:
        return Verdict("mixed", "text+score", False)
    if not mixed and (
        (text_polarity >= CLEAR_TEXT and score <= -CLEAR_SCORE)
        or (text_polarity <= -CLEAR_TEXT and score >= CLEAR_SCORE)
    ):
        return Verdict(score_label, "text+score", True)
    combined = TEXT_WEIGHT * text_polarity + SCORE_WEIGHT * score
    return Verdict(polarity_label(combined), "text+score", False)
