"""The shared feedback vocabulary (afterglow.kinds): scales, cut-offs, names and which score a kind carries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from afterglow import kinds
from afterglow.kinds import NPS_GROUPS, SCALES, nps_group, score_of


def test_scales() -> None:
    assert SCALES == {"csat": (1, 5), "nps": (0, 10), "review": (1, 5), "support": (1, 5)}
    assert list(kinds.NPS_SCALE.points) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert list(kinds.STARS_SCALE.points) == [1, 2, 3, 4, 5]
    assert kinds.CSAT_SCALE.text == "1–5"


@pytest.mark.parametrize(
    ("score", "group"), [(0, "detractors"), (6, "detractors"), (7, "passives"), (8, "passives"), (9, "promoters")]
)
def test_nps_groups(score: int, group: str) -> None:
    assert nps_group(score) == group


def test_nps_groups_cover_the_scale_once() -> None:
    covered = sorted(score for group in NPS_GROUPS.values() for score in group.points)
    assert covered == list(kinds.NPS_SCALE.points)
    assert {name: group.text for name, group in NPS_GROUPS.items()} == {
        "promoters": "9–10",
        "passives": "7–8",
        "detractors": "0–6",
    }


def test_csat_satisfied_is_4_and_5() -> None:
    assert (list(kinds.SATISFIED.points), list(kinds.NOT_SATISFIED.points)) == ([4, 5], [1, 2, 3])


SCORES = {"csat": 4, "nps": 9, "rating": 2}


@pytest.mark.parametrize(
    ("score_kind", "kind", "expected"),
    [
        ("csat", "order", 4),
        ("nps", "order", 9),
        ("support", "support", 4),  # a support survey's CSAT
        ("review", "review", 2),
        ("csat", "support", None),  # support CSAT is not the order survey's CSAT
        ("support", "order", None),
        ("nps", "support", None),
        ("review", "order", None),
        ("suggestion", "suggestion", None),  # no score
    ],
)
def test_score_of(score_kind: str, kind: str, expected: int | None) -> None:
    assert score_of(score_kind, kind, SCORES) == expected


def test_one_name_per_kind() -> None:
    assert kinds.KIND_NAMES["support"] == kinds.RULE_KINDS["support"] == "Support CSAT"
    assert kinds.kind_name("review") == "Product review"
    assert kinds.kind_name("imported") == "imported"


def test_imports_no_app() -> None:
    """The shell's vocabulary stands alone: importing it loads none of the domain apps."""
    code = (
        "import sys, afterglow.kinds; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'accounts', 'shop', 'surveys', 'reviews', "
        "'feedback'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
