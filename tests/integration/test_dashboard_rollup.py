"""The dashboard's rollup sweep and feedback against retention on PostgreSQL (the unit tests' checks, collected
here again)."""

from __future__ import annotations

import pytest

from tests.unit.test_dashboard_retention import (  # noqa: F401 - collected here again, to run on PostgreSQL
    shop,
    test_an_answer_younger_than_a_year_is_followed_up_to_now,
    test_by_csat_answer,
    test_no_answers_gives_empty_groups_and_no_multiple,
    test_promoters_came_back_twice_as_often_as_detractors,
    test_the_retention_rate_of_a_month,
)
from tests.unit.test_dashboard_rollup import (  # noqa: F401
    test_a_day_without_changes_is_left_alone,
    test_a_review_a_moderator_publishes_enters_the_rating_at_the_next_sweep,
    test_a_staff_correction_of_the_label_reaches_the_next_sweep,
    test_a_sweep_finding_another_at_work_does_nothing,
    test_an_answer_days_later_counts_for_the_day_its_invitation_was_sent,
    test_first_sweep_builds_the_rollup_and_later_ones_add_what_changed,
    test_recomputing_a_day_twice_leaves_the_same_rows,
)

pytestmark = pytest.mark.integration
