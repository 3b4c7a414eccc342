"""The worker's side of dispatch: a batch of claimed invitations (or reminders), rendered together and sent over a
few SMTP connections at once, their states written in bulk. At most once stays the mail log's job: each message is
claimed there (its unique Message-ID) right before it goes (the server waiting after DATA), so a batch run twice, or
by two workers, sends nothing twice; and one message of a batch goes at a time, so a worker that dies leaves at
most one handover unknown."""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from afterglow import hotsql
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.failures import record_row_failure, record_success, row_task_id, skip_bad_row
from afterglow.mail import MailNotSent, MailRefused, MailUncertain, SmtpSession, kept_session, message_bytes
from afterglow.settings import Settings
from surveys import policy
from surveys.services.emails import MAIL_COLUMNS, Rendered, Renderer, deliver, log_row, message_id, renderer
from surveys.services.planning import PASS, window
from surveys.tables import Invitation, SentEmail

#: Invitations per send task: enough to share connections and a few queries, few enough to spread over workers.
SEND_BATCH = 50

#: When the dispatch pass (beat runs it every minute) meets an SMTP outage again, if it lasts.
NEXT_PASS = timedelta(minutes=1)

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


def smtp_connections(settings: Settings) -> int:
    return max(1, settings.smtp_connections)


async def _logged(mids: list[str]) -> set[str]:
    """The Message-IDs the mail log has (sent, or handing over)."""
    if not mids:
        return set()
    rows = await SentEmail.select(SentEmail.message_id).where(SentEmail.message_id.is_in(mids))
    return {row["message_id"] for row in rows}


#: A claim in the mail log that also records the messages handed over before it as sent ($10): one statement.
_CLAIM = """
WITH recorded AS (
    UPDATE sent_email SET status = 'sent' WHERE message_id = ANY($10::varchar[]) AND status = 'handing_over'
)
INSERT INTO sent_email (message_id, invitation, purpose, "to", subject, text, html, headers, status, sent_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'handing_over', $9)
ON CONFLICT (message_id) DO NOTHING
RETURNING id
"""


class _MailLog:
    """The batch's handovers, one at a time over all its connections: a message is claimed in the mail log right
    before it goes, and that claim records the message handed over before it as sent. So a worker that dies leaves
    at most one message `handing_over`; the end of the batch records the last one."""

    def __init__(self) -> None:
        self.turn = asyncio.Lock()
        self.unrecorded: list[str] = []  # handed over, "sent" not yet written

    async def hand_over(self, smtp: SmtpSession, data: bytes, row: SentEmail) -> bool:
        """Send the message `smtp` has addressed, if this run wins its claim (`row`); False when another has."""
        async with self.turn:
            if not await self._claim(row):
                claimed = False
            else:
                claimed = True
                try:
                    await smtp.transfer(data)
                except MailNotSent:  # refused, or never sent: nothing went out, so the claim is given back
                    await SentEmail.delete().where(
                        (SentEmail.message_id == row.message_id) & (SentEmail.status == "handing_over")
                    )
                    raise
                self.unrecorded.append(row.message_id)
        if not claimed:
            await smtp.abandon()
        return claimed

    async def _claim(self, row: SentEmail) -> bool:
        sent = self.unrecorded
        if hotsql.postgres():
            values = (row.message_id, row.invitation, row.purpose, row.to, row.subject, row.text, row.html)
            won = await hotsql.write(_CLAIM, *values, json.dumps(row.headers), row.sent_at, sent)
            self.unrecorded = []
            return bool(won)
        await self.record_sent()
        try:
            await SentEmail.insert(row)
        except UNIQUE_VIOLATIONS:
            return False
        return True

    async def record_sent(self) -> None:
        sent = self.unrecorded
        if sent:
            await SentEmail.update({SentEmail.status: "sent"}).where(
                SentEmail.message_id.is_in(sent) & (SentEmail.status == "handing_over")
            )
            self.unrecorded = []


@dataclass
class _Batch:
    purpose: str
    now: datetime
    settings: Settings
    mids: dict[int, str]
    report: BatchReport
    waiting: deque[dict[str, Any]]
    render: Renderer | None = None
    done: list[dict[str, Any]] = field(default_factory=list)  # handed over (or maybe): their state is written
    refused: list[tuple[dict[str, Any], MailRefused]] = field(default_factory=list)
    settled: set[int] = field(default_factory=set)  # everything but what is to be given back
    log: _MailLog = field(default_factory=_MailLog)
    outage: MailNotSent | None = None
    stop: bool = False
    sender: str = ""


async def send_batch(
    ids: Sequence[int], purpose: str, now: datetime, settings: Settings, connections: int | None = None
) -> BatchReport:
    """Send the invitations of `ids` still claimed for `purpose` over `connections` SMTP connections at once
    (default: the settings'), and record them."""
    claimed = STATES[purpose][0]
    report = BatchReport()
    rows = await Invitation.select(*MAIL_COLUMNS, Invitation.customer.timezone).where(
        Invitation.id.is_in(list(ids) or [0]) & (Invitation.status == claimed)
    )
    report.not_claimed = len(set(ids)) - len(rows)
    mids = {row["id"]: message_id(settings, row["id"], purpose, row["token"]) for row in rows}
    logged = await _logged(list(mids.values()))
    fresh = [row for row in rows if mids[row["id"]] not in logged]
    batch = _Batch(purpose, now, settings, mids, report, deque(fresh), sender=parseaddr(settings.mail_from)[1])
    batch.done = [row for row in rows if mids[row["id"]] in logged]  # handed over before: only the state is missing
    report.already = len(batch.done)
    try:
        batch.render = await renderer(fresh, purpose, now, settings)
        if settings.dev_outbox:
            await _keep_for_outbox(batch)
        else:
            await _over_connections(batch, connections or smtp_connections(settings))
        server = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
        if batch.outage is not None:  # the server cannot be reached: what was not handed over is due again
            await record_row_failure(PASS, server, batch.outage, now, retry_at=now + NEXT_PASS)
        elif report.sent:
            await record_success(row_task_id(PASS, server))
    finally:
        await batch.log.record_sent()
        await _mark_done(batch.done, purpose, now, settings)
        await _mark_refused(batch.refused, purpose, mids, now, report)
        report.released += await release([r["id"] for r in fresh if r["id"] not in batch.settled], purpose, mids)
    return report


async def _over_connections(batch: _Batch, count: int) -> None:
    """The batch's messages over `count` connections, each taking the next waiting message when it is free."""
    results = await asyncio.gather(
        *(_connection(batch) for _ in range(min(count, len(batch.waiting)))), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _connection(batch: _Batch) -> None:
    async with kept_session(batch.settings) as smtp:
        while batch.waiting and not batch.stop:
            try:
                await _send(batch, smtp, batch.waiting.popleft())
            except MailNotSent as exc:  # unreachable: the other connections finish their message and stop too
                batch.stop = True
                batch.outage = batch.outage or exc
            except BaseException:
                batch.stop = True
                raise


async def _send(batch: _Batch, smtp: SmtpSession, row: dict[str, Any]) -> None:
    """One message: rendered, addressed on `smtp`, then handed over in its turn. MailNotSent: nothing went out."""
    assert batch.render is not None
    mail = await _rendered(batch.render, row, batch.now, batch.report)
    if mail is None:
        batch.settled.add(row["id"])
        return
    mid = batch.mids[row["id"]]
    data = message_bytes(
        batch.settings,
        to=mail.to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        message_id=mid,
        headers=mail.headers,
    )
    try:
        await smtp.address(batch.sender, [_address_of(mail.to)])
        sent = await batch.log.hand_over(smtp, data, log_row(mail, mid, batch.purpose, row["id"], batch.now))
    except MailRefused as exc:
        batch.refused.append((row, exc))
    except MailUncertain:
        batch.report.uncertain += 1  # its log row says handing_over: a person decides
        batch.done.append(row)
    else:
        batch.report.sent += sent
        batch.report.already += not sent
        batch.done.append(row)
    batch.settled.add(row["id"])


def _address_of(to: str) -> str:
    return to if _BARE_ADDRESS.fullmatch(to) else parseaddr(to)[1]


_BARE_ADDRESS = re.compile(r"[^\s<>(),\"]+@[^\s<>(),\"]+")


async def _keep_for_outbox(batch: _Batch) -> None:
    """No SMTP (the embedded default): each email is logged as sent, for the dev outbox."""
    assert batch.render is not None
    while batch.waiting:
        row = batch.waiting.popleft()
        mail = await _rendered(batch.render, row, batch.now, batch.report)
        if mail is not None:
            mid = batch.mids[row["id"]]
            sent = await deliver(mail, mid, batch.purpose, row["id"], batch.now, batch.settings)
            batch.report.sent += sent
            batch.report.already += not sent
            batch.done.append(row)
        batch.settled.add(row["id"])


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
