"""The worker's side of dispatch: a batch of claimed invitations (or reminders), rendered together and sent over
one SMTP connection, their states written in bulk. At most once stays the mail log's job: each message is claimed
there (its unique Message-ID) right before DATA, so a batch run twice, or by two workers, sends nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from afterglow.failures import record_row_failure, skip_bad_row
from afterglow.mail import MailNotSent, MailRefused, MailUncertain, SmtpSession
from afterglow.settings import Settings
from surveys import policy
from surveys.services.emails import MAIL_COLUMNS, Rendered, Renderer, deliver, message_id, renderer
from surveys.services.planning import PASS, window
from surveys.tables import Invitation, SentEmail

#: Invitations per send task: enough to share a connection and a few queries, few enough to spread over workers.
SEND_BATCH = 50

#: purpose → (the claimed state, the state once sent, the state a send not made goes back to)
STATES = {"invitation": ("sending", "sent", "scheduled"), "reminder": ("reminding", "reminded", "sent")}


@dataclass
class BatchReport:
    sent: int = 0
    already: int = 0  # in the mail log before: handed over by an earlier run of this batch, or another
    not_claimed: int = 0  # sent, released or decided otherwise before this run
    refused: int = 0  # the server said no to the message: that invitation alone is marked
    uncertain: int = 0  # the connection broke during DATA: left to a person, never resent by itself
    released: int = 0  # not handed over (SMTP unreachable): due again, for the next pass
    failed: int = 0  # could not be rendered: recorded, and its claim left to the lease

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def chunks(ids: Sequence[int], size: int = SEND_BATCH) -> list[list[int]]:
    return [list(ids[n : n + size]) for n in range(0, len(ids), size)]


async def _logged(mids: list[str]) -> set[str]:
    """The Message-IDs the mail log has (sent, or handing over)."""
    if not mids:
        return set()
    rows = await SentEmail.select(SentEmail.message_id).where(SentEmail.message_id.is_in(mids))
    return {row["message_id"] for row in rows}


async def send_batch(ids: Sequence[int], purpose: str, now: datetime, settings: Settings) -> BatchReport:
    """Send the invitations of `ids` still claimed for `purpose`, over one connection, and record them."""
    claimed = STATES[purpose][0]
    report = BatchReport()
    rows = await Invitation.select(*MAIL_COLUMNS, Invitation.customer.timezone).where(
        Invitation.id.is_in(list(ids) or [0]) & (Invitation.status == claimed)
    )
    report.not_claimed = len(set(ids)) - len(rows)
    mids = {row["id"]: message_id(settings, row["id"], purpose, row["token"]) for row in rows}
    logged = await _logged(list(mids.values()))
    done = [row for row in rows if mids[row["id"]] in logged]  # handed over before: only the state is missing
    report.already = len(done)
    waiting = [row for row in rows if mids[row["id"]] not in logged]
    refused: list[tuple[dict[str, Any], MailRefused]] = []
    try:
        render = await renderer(waiting, purpose, now, settings)
        async with SmtpSession(settings) as smtp:
            while waiting:
                row = waiting[0]
                mail = await _rendered(render, row, now, report)
                if mail is not None:
                    try:
                        sent = await deliver(mail, mids[row["id"]], purpose, row["id"], now, settings, smtp)
                    except MailRefused as exc:
                        refused.append((row, exc))
                    except MailUncertain:
                        report.uncertain += 1  # its log row says handing_over: a person decides
                        done.append(row)
                    else:
                        report.sent += sent
                        report.already += not sent
                        done.append(row)
                waiting.pop(0)
    except MailNotSent as exc:  # the server cannot be reached: what was not handed over is due again
        await record_row_failure(PASS, f"SMTP {settings.smtp_host}:{settings.smtp_port}", exc, now)
    finally:
        await _mark_done(done, purpose, now, settings)
        await _mark_refused(refused, purpose, mids, now, report)
        report.released += await release([row["id"] for row in waiting], purpose, mids)
    return report


async def _rendered(render: Renderer, row: dict[str, Any], now: datetime, report: BatchReport) -> Rendered | None:
    async with skip_bad_row(PASS, f"invitation {row['id']}", now) as run:
        return render(row)
    if run.failed:
        report.failed += 1
    return None


async def _mark_done(rows: list[dict[str, Any]], purpose: str, now: datetime, settings: Settings) -> None:
    """Record the handed-over sends in a few updates: invitations grouped by their reminder's due time."""
    if not rows:
        return
    claimed, done, _ = STATES[purpose]
    groups: dict[datetime | None, list[int]] = {}
    for row in rows:
        if purpose == "invitation":
            zone = policy.local_zone(row["customer.timezone"], settings.shop_timezone)
            due = policy.into_window(policy.later(now, timedelta(days=settings.reminder_days)), zone, window(settings))
        else:
            due = None
        groups.setdefault(due, []).append(row["id"])
    for due, ids in groups.items():
        values: dict[Any, Any] = {Invitation.status: done, Invitation.reminder_due_at: due}
        values[Invitation.sent_at if purpose == "invitation" else Invitation.reminder_sent_at] = now
        await Invitation.update(values).where(Invitation.id.is_in(ids) & (Invitation.status == claimed))


async def _mark_refused(
    refused: list[tuple[dict[str, Any], MailRefused]],
    purpose: str,
    mids: dict[int, str],
    now: datetime,
    report: BatchReport,
) -> None:
    """A message the server refused marks its invitation alone: for good on a permanent refusal (5xx), due again
    on a temporary one (4xx). Each is recorded for the admins."""
    claimed, _, _ = STATES[purpose]
    for row, exc in refused:
        report.refused += 1
        await record_row_failure(PASS, f"invitation {row['id']}", exc, now)
        if exc.code < 500:
            report.released += await release([row["id"]], purpose, mids)
            continue
        values: dict[Any, Any] = (
            {Invitation.status: "skipped", Invitation.skip_reason: "refused", Invitation.hold_reason: ""}
            if purpose == "invitation"
            else {
                Invitation.status: "sent",
                Invitation.reminder_due_at: None,
                Invitation.hold_reason: "no reminder: refused",
            }
        )
        await Invitation.update(values).where((Invitation.id == row["id"]) & (Invitation.status == claimed))


async def release(ids: list[int], purpose: str, mids: dict[int, str]) -> int:
    """Give claims back: those of `ids` whose message (`mids`: id → Message-ID) the mail log does not have become
    due again. The log decides, not this process: a message claimed there may have gone out, so it keeps its claim."""
    logged = await _logged([mids[i] for i in ids])
    free = [i for i in ids if mids[i] not in logged]
    if not free:
        return 0
    claimed, _, back = STATES[purpose]
    rows = (
        await Invitation.update({Invitation.status: back, Invitation.claimed_at: None})
        .where(Invitation.id.is_in(free) & (Invitation.status == claimed))
        .returning(Invitation.id)
    )
    return len(rows)
