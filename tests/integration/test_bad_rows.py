"""Poisoned rows on PostgreSQL: the beat task, run by a real worker, skips them, records them for admins, and
every good invitation still goes out over SMTP."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from afterglow.tables import TaskFailure
from surveys.policy import NEVER
from surveys.tables import Invitation
from surveys.tasks import dispatch
from tests.bad_rows import DUE, deliver_good_orders, expected_failures, plant_poison
from tests.integration.conftest import Mailbox, Workers, wait_for, wait_for_async
from tests.unit.staff_fixtures import make_staff, sign_in

pytestmark = pytest.mark.integration


async def test_poisoned_rows_stop_nobody_elses_invitation(
    client: AsyncTestClient, api_headers: dict[str, str], mailbox: Mailbox, workers: Workers
) -> None:
    planted = await plant_poison()
    await deliver_good_orders(client, api_headers)

    dispatch.delay(DUE.isoformat())
    wait_for(lambda: mailbox.count() == 3, what="the three good invitations")
    assert sorted(str(m["To"]) for m in mailbox.messages) == [f"good{n}@example.com" for n in range(3)]

    async def all_recorded() -> bool:
        return await TaskFailure.count() == len(expected_failures(planted))

    await wait_for_async(all_recorded, what="the skipped rows to be recorded")
    failures = await TaskFailure.select(TaskFailure.task_id, TaskFailure.task_name, TaskFailure.state)
    assert {row["task_id"] for row in failures} == expected_failures(planted)
    assert {(row["task_name"], row["state"]) for row in failures} == {("surveys.dispatch", "dead")}
    far = await Invitation.select(Invitation.status, Invitation.due_at).where(
        Invitation.order == planted.far_future_order
    )
    assert far == [{"status": "scheduled", "due_at": NEVER}]

    await make_staff()
    await sign_in(client, "ada")
    page = await client.get("/app/admin/tasks")
    assert f"order {planted.unplannable_order}: ZoneInfoNotFoundError" in page.text
