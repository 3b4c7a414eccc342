"""The scheduler pass: plan, decide, claim and hand over what is due. Safe to run at any time, by many."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from piccolo.columns.combination import Combinable

from afterglow.failures import skip_bad_row
from afterglow.settings import Settings
from surveys import policy
from surveys.services.emails import send_once
from surveys.services.planning import PASS, plan_invitations, window
from surveys.tables import Invitation

#: A claim older than this is taken to belong to a worker that died; its send is handed out again.
CLAIM_LEASE = timedelta(minutes=15)
BATCH = 500

Enqueue = Callable[[int, str], None]


@dataclass
class DispatchReport:
    planned: int = 0
    queued: int = 0
    reminders_queued: int = 0
    requeued: int = 0
    waiting: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


_COLUMNS = (
    Invitation.id,
    Invitation.kind,
    Invitation.customer,
    Invitation.expires_at,
    Invitation.customer.timezone,
    Invitation.customer.unsubscribed_at,
    Invitation.order.returned_at,
    Invitation.order.not_asked,
    Invitation.order.cancelled_at,
    Invitation.order.complaint_open,
)


async def _recently_asked(customer_ids: list[int], now: datetime, settings: Settings) -> set[int]:
    since = now - timedelta(days=settings.fatigue_days)
    rows = await Invitation.select(Invitation.customer).where(
        Invitation.customer.is_in(customer_ids) & (Invitation.kind == "order") & (Invitation.sent_at >= since)
    )
    return {r["customer"] for r in rows}


def _situation(row: dict, now: datetime, recently: bool, settings: Settings) -> policy.Situation:
    return policy.Situation(
        now=now,
        kind=row["kind"],
        expires_at=row["expires_at"],
        unsubscribed=row["customer.unsubscribed_at"] is not None,
        # An order whose every line was refunded is returned, whichever report came first.
        returned=row["order.returned_at"] is not None or row["order.not_asked"] == "refunded",
        cancelled=row["order.cancelled_at"] is not None,
        complaint_open=bool(row["order.complaint_open"]),
        recently_asked=recently,
        zone=policy.local_zone(row["customer.timezone"], settings.shop_timezone),
        window=window(settings),
    )


async def _claim(invitation_id: int, expected: str, claimed: str, now: datetime) -> bool:
    rows = (
        await Invitation.update(
            {
                Invitation.status: claimed,
                Invitation.claimed_at: now,
                Invitation.hold_reason: "",
            }
        )
        .where((Invitation.id == invitation_id) & (Invitation.status == expected))
        .returning(Invitation.id)
    )
    return bool(rows)


def _without(where: Combinable, bad: set[int]) -> Combinable:
    """`where`, leaving out the rows this pass skipped as bad, so a later batch does not fetch them again."""
    return where & Invitation.id.not_in(list(bad)) if bad else where


async def _first_emails(now: datetime, settings: Settings, enqueue: Enqueue, report: DispatchReport) -> None:
    bad: set[int] = set()
    while True:
        rows = (
            await Invitation.select(*_COLUMNS)
            .where(_without((Invitation.status == "scheduled") & (Invitation.due_at <= now), bad))
            .order_by(Invitation.due_at)
            .limit(BATCH)
        )
        recently = await _recently_asked([r["customer"] for r in rows], now, settings) if rows else set()
        for row in rows:
            async with skip_bad_row(PASS, f"invitation {row['id']}", now) as run:
                await _first_email(row, row["customer"] in recently, now, settings, enqueue, report)
            if run.failed:
                bad.add(row["id"])
        if len(rows) < BATCH:
            return


async def _first_email(
    row: dict, recently: bool, now: datetime, settings: Settings, enqueue: Enqueue, report: DispatchReport
) -> None:
    decision = policy.decide(_situation(row, now, recently, settings))
    pending = (Invitation.id == row["id"]) & (Invitation.status == "scheduled")
    if isinstance(decision, policy.Skip):
        await Invitation.update(
            {
                Invitation.status: "skipped",
                Invitation.skip_reason: decision.reason,
                Invitation.hold_reason: "",
            }
        ).where(pending)
        report.skipped[decision.reason] = report.skipped.get(decision.reason, 0) + 1
    elif isinstance(decision, policy.Wait):
        await Invitation.update(
            {
                Invitation.due_at: decision.until,
                Invitation.hold_reason: decision.reason,
            }
        ).where(pending)
        report.waiting += 1
    elif await _claim(row["id"], "scheduled", "sending", now):
        enqueue(row["id"], "invitation")
        report.queued += 1


async def _reminders(now: datetime, settings: Settings, enqueue: Enqueue, report: DispatchReport) -> None:
    bad: set[int] = set()
    while True:
        rows = (
            await Invitation.select(*_COLUMNS)
            .where(
                _without(
                    (Invitation.status == "sent")
                    & (Invitation.reminder_due_at <= now)
                    & Invitation.answered_at.is_null(),
                    bad,
                )
            )
            .order_by(Invitation.reminder_due_at)
            .limit(BATCH)
        )
        for row in rows:
            async with skip_bad_row(PASS, f"invitation {row['id']}", now) as run:
                await _reminder(row, now, settings, enqueue, report)
            if run.failed:
                bad.add(row["id"])
        if len(rows) < BATCH:
            return


async def _reminder(row: dict, now: datetime, settings: Settings, enqueue: Enqueue, report: DispatchReport) -> None:
    decision = policy.decide(_situation(row, now, False, settings))
    pending = (Invitation.id == row["id"]) & (Invitation.status == "sent")
    if isinstance(decision, policy.Skip):
        await Invitation.update(
            {
                Invitation.reminder_due_at: None,
                Invitation.hold_reason: f"no reminder: {decision.reason}",
            }
        ).where(pending)
        key = f"reminder_{decision.reason}"
        report.skipped[key] = report.skipped.get(key, 0) + 1
    elif isinstance(decision, policy.Wait):
        await Invitation.update({Invitation.reminder_due_at: decision.until}).where(pending)
        report.waiting += 1
    elif await _claim(row["id"], "sent", "reminding", now):
        enqueue(row["id"], "reminder")
        report.reminders_queued += 1


async def _stale_claims(now: datetime, enqueue: Enqueue, report: DispatchReport) -> None:
    """Hand out again the sends whose worker vanished; the send itself checks the mail log."""
    rows = await Invitation.select(Invitation.id, Invitation.status).where(
        Invitation.status.is_in(["sending", "reminding"]) & (Invitation.claimed_at < now - CLAIM_LEASE)
    )
    for row in rows:
        await Invitation.update({Invitation.claimed_at: now}).where(
            (Invitation.id == row["id"]) & (Invitation.status == row["status"])
        )
        enqueue(row["id"], "invitation" if row["status"] == "sending" else "reminder")
        report.requeued += 1


async def dispatch_due(now: datetime, settings: Settings, enqueue: Enqueue) -> DispatchReport:
    """One scheduler pass as of `now`: plan new invitations, then claim and enqueue every due send. A row that
    fails is recorded as a task failure and skipped; the pass goes on with the others."""
    report = DispatchReport(planned=await plan_invitations(now, settings))
    await _stale_claims(now, enqueue, report)
    await _first_emails(now, settings, enqueue, report)
    await _reminders(now, settings, enqueue, report)
    return report


async def send_claimed(invitation_id: int, purpose: str, now: datetime, settings: Settings) -> str:
    """Send a claimed invitation or reminder and record it. Running it twice sends one email."""
    claimed, done = ("sending", "sent") if purpose == "invitation" else ("reminding", "reminded")
    inv = (
        await Invitation.select(Invitation.status, Invitation.token, Invitation.customer.timezone)
        .where(Invitation.id == invitation_id)
        .first()
    )
    if inv is None or inv["status"] != claimed:
        return "not-claimed"
    await send_once(invitation_id, purpose, inv["token"], now, settings)
    if purpose == "invitation":
        zone = policy.local_zone(inv["customer.timezone"], settings.shop_timezone)
        values = {
            Invitation.status: done,
            Invitation.sent_at: now,
            Invitation.reminder_due_at: policy.into_window(
                policy.later(now, timedelta(days=settings.reminder_days)), zone, window(settings)
            ),
        }
    else:
        values = {
            Invitation.status: done,
            Invitation.reminder_sent_at: now,
            Invitation.reminder_due_at: None,
        }
    await Invitation.update(values).where((Invitation.id == invitation_id) & (Invitation.status == claimed))
    return done
