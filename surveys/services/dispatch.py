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
from surveys.services.sending import SEND_BATCH, chunks
from surveys.tables import Invitation

#: A claim older than this is taken to belong to a worker that died; its send is handed out again.
CLAIM_LEASE = timedelta(minutes=15)
BATCH = 500

Enqueue = Callable[[int, str], None]
#: Hands a batch of claimed sends (ids, purpose) to one worker task.
EnqueueBatch = Callable[[list[int], str], None]


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


async def _claim(ids: list[int], expected: str, claimed: str, now: datetime) -> list[int]:
    """Claim these sends in one conditional update; the ids this pass won (another pass may have some)."""
    if not ids:
        return []
    rows = (
        await Invitation.update(
            {
                Invitation.status: claimed,
                Invitation.claimed_at: now,
                Invitation.hold_reason: "",
            }
        )
        .where(Invitation.id.is_in(ids) & (Invitation.status == expected))
        .returning(Invitation.id)
    )
    return sorted(row["id"] for row in rows)


async def _hand_out(sends: list[int], purpose: str, now: datetime, enqueue: EnqueueBatch) -> int:
    """Claim `sends` (emptying the list) and hand what this pass won to one worker task; how many it won."""
    expected, claimed = ("scheduled", "sending") if purpose == "invitation" else ("sent", "reminding")
    won = await _claim(sends, expected, claimed, now)
    sends.clear()
    if won:
        enqueue(won, purpose)
    return len(won)


def _without(where: Combinable, bad: set[int]) -> Combinable:
    """`where`, leaving out the rows this pass skipped as bad, so a later batch does not fetch them again."""
    return where & Invitation.id.not_in(list(bad)) if bad else where


async def _first_emails(now: datetime, settings: Settings, enqueue: EnqueueBatch, report: DispatchReport) -> None:
    bad: set[int] = set()
    while True:
        rows = (
            await Invitation.select(*_COLUMNS)
            .where(_without((Invitation.status == "scheduled") & (Invitation.due_at <= now), bad))
            .order_by(Invitation.due_at)
            .limit(BATCH)
        )
        recently = await _recently_asked([r["customer"] for r in rows], now, settings) if rows else set()
        sends: list[int] = []
        for row in rows:
            async with skip_bad_row(PASS, f"invitation {row['id']}", now) as run:
                if await _first_email(row, row["customer"] in recently, now, settings, report):
                    sends.append(row["id"])
            if run.failed:
                bad.add(row["id"])
            if len(sends) == SEND_BATCH:  # the workers start on a batch while the pass decides the next
                report.queued += await _hand_out(sends, "invitation", now, enqueue)
        report.queued += await _hand_out(sends, "invitation", now, enqueue)
        if len(rows) < BATCH:
            return


async def _first_email(row: dict, recently: bool, now: datetime, settings: Settings, report: DispatchReport) -> bool:
    """Skip or hold the invitation as the policy says; True when it is to be sent now."""
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
    return isinstance(decision, policy.Send)


async def _reminders(now: datetime, settings: Settings, enqueue: EnqueueBatch, report: DispatchReport) -> None:
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
        sends: list[int] = []
        for row in rows:
            async with skip_bad_row(PASS, f"invitation {row['id']}", now) as run:
                if await _reminder(row, now, settings, report):
                    sends.append(row["id"])
            if run.failed:
                bad.add(row["id"])
            if len(sends) == SEND_BATCH:
                report.reminders_queued += await _hand_out(sends, "reminder", now, enqueue)
        report.reminders_queued += await _hand_out(sends, "reminder", now, enqueue)
        if len(rows) < BATCH:
            return


async def _reminder(row: dict, now: datetime, settings: Settings, report: DispatchReport) -> bool:
    """Drop or hold the reminder as the policy says; True when it is to be sent now."""
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
    return isinstance(decision, policy.Send)


async def _stale_claims(now: datetime, enqueue: EnqueueBatch, report: DispatchReport) -> None:
    """Hand out again the sends whose worker vanished; the send itself checks the mail log."""
    for claimed, purpose in (("sending", "invitation"), ("reminding", "reminder")):
        rows = (
            await Invitation.update({Invitation.claimed_at: now})
            .where((Invitation.status == claimed) & (Invitation.claimed_at < now - CLAIM_LEASE))
            .returning(Invitation.id)
        )
        report.requeued += len(rows)
        for batch in chunks(sorted(row["id"] for row in rows)):
            enqueue(batch, purpose)


async def dispatch_due(
    now: datetime, settings: Settings, enqueue: Enqueue | None = None, *, enqueue_batch: EnqueueBatch | None = None
) -> DispatchReport:
    """One scheduler pass as of `now`: plan new invitations, then claim every due send in bulk and hand the claims
    out, `enqueue_batch` (a send task each) a batch at a time, or `enqueue` one by one. A row that fails is
    recorded as a task failure and skipped; the pass goes on with the others."""

    def one_by_one(ids: list[int], purpose: str) -> None:
        for invitation_id in ids:
            assert enqueue is not None
            enqueue(invitation_id, purpose)

    hand = enqueue_batch or one_by_one
    report = DispatchReport(planned=await plan_invitations(now, settings))
    await _stale_claims(now, hand, report)
    await _first_emails(now, settings, hand, report)
    await _reminders(now, settings, hand, report)
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
