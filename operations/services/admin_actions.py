"""What an admin does on the privacy and background-task pages: the work, then its row in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.services import Staff, audit
from afterglow import failures
from afterglow.celery_app import celery_app
from afterglow.settings import Settings
from operations.services.privacy import erase_customer, export_customer, subject_of
from surveys.services.emails import settle_handover


async def export_for(actor: Staff, email: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """The subject (ids only) and everything held under `email`; UnknownCustomer when nothing is. The audit log
    names the person by ids only: an email there would outlive an erasure."""
    subject = await subject_of(email)
    held = await export_customer(email)
    await audit(actor, "customer_exported", subject, now)
    return subject, held


async def erase_for(actor: Staff, email: str, now: datetime) -> tuple[str, dict[str, int]]:
    """Erase what is held under `email`: the subject (ids only) and how many rows of each kind were erased."""
    subject = await subject_of(email)
    counts = await erase_customer(email, now)
    await audit(actor, "customer_erased", subject, now, **counts)
    return subject, counts


async def requeue_task(actor: Staff, failure_id: int, now: datetime) -> str:
    """Send a dead letter's task again (every task is safe to run twice); returns the task's name. Raises
    failures.UnknownFailure when it was sent again already, OperationalError or OSError when the broker is down."""

    def publish(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
        celery_app.send_task(name, args=args, kwargs=kwargs, retry=False)

    name = await failures.requeue(failure_id, publish, actor.username, now)
    await audit(actor, "task.requeued", f"task-failure:{failure_id}", now, task=name)
    return name


async def settle_email(actor: Staff, sent_email_id: int, resend: bool, settings: Settings, now: datetime) -> bool:
    """Decide on an interrupted handover (see `settle_handover`); False when it was settled already."""
    settled = await settle_handover(sent_email_id, resend, settings)
    if settled:
        await audit(actor, "email.handover_settled", f"sent-email:{sent_email_id}", now, resent=resend)
    return settled
