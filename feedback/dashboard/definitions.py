"""What the dashboard's score figures count, as SQL conditions on `feedback_item AS f`: one definition each, used
by the rollup, the sums computed on the fly, the drill-down lists, the CSV and the retention view alike.

- CSAT: the 1–5 answers of order surveys. Support surveys' answers are Support CSAT, a figure of its own: a
  support contact is about the help, not about a product, so it has no category; counting it into CSAT would make
  the overall figure differ from the sum of its categories.
- Review rating: published reviews only; held (waiting for a moderator) and rejected ones are not on the shop.
- NPS: the 0–10 answers, which only order surveys ask."""

from __future__ import annotations

from afterglow.kinds import SATISFIED_FROM

ORDER_CSAT = "f.kind = 'order' AND f.csat IS NOT NULL"
SUPPORT_CSAT = "f.kind = 'support' AND f.csat IS NOT NULL"
#: SATISFIED_FROM is an int from afterglow.kinds, safe to write into the SQL.
SATISFIED = f"f.csat >= {SATISFIED_FROM:d}"
PUBLISHED_REVIEW = (
    "f.source = 'review' AND f.rating IS NOT NULL AND EXISTS "
    "(SELECT 1 FROM review AS rv WHERE rv.id = f.source_id AND rv.status = 'published')"
)


def counted(condition: str) -> str:
    """How many rows meet the condition (0 for none, never NULL, on both engines)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
