"""A team's daily digest: from the configured local hour (in the shop's time zone), one email per team and day with
the items new since its last digest (all but urgent ones, which were emailed at once) and every overdue open item.

Once per team and day: the pass inserts the day's TeamDigest row (unique key "<team id>:<date>") before sending, and
only the pass that inserted it sends. Each address gets its email under a stable Message-ID checked against the
mail log, and the new items are then marked notified, so the next digest starts after them. If the sender dies
between the row and the emails, a later pass finds the row older than LEASE with addresses missing from the log,
takes it over with a conditional UPDATE and finishes it: nobody gets a day's digest twice, and none is lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.failures import skip_bad_row
from afterglow.i18n import DEFAULT_LANGUAGE, translate
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from afterglow.templating import render
from feedback.services.inbox import overdue_condition
from feedback.services.notifications import CATCH_UP, ItemSummary, deliver_to_team, item_summaries, team_message_id
from feedback.services.notify_settings import notify_settings, recipients
from feedback.tables import InboxItem, TeamDigest
from surveys.services.emails import Rendered
from surveys.tables import SentEmail

DIGEST = "team-digest"
#: A digest row this old whose emails are not all in the log belonged to a sender that died (or SMTP was down).
LEASE = timedelta(minutes=15)
#: New items older than this are not listed: a digest switched on later does not send the team's history.
LOOKBACK = timedelta(days=2)
#: Items listed per section; the rest are counted and wait in the inbox.
LISTED = 50
#: The beat pass's task name, as admins see it on the "Background tasks" page.
PASS = "feedback.team_digests"


def digest_day(now: datetime, zone: ZoneInfo, hour: int) -> date | None:
    """The local date whose digest is due at `now`, or None before the digest hour (the day's digest goes out at
    the first pass from that hour on, however late)."""
    local = now.astimezone(zone)
    return local.date() if local.hour >= hour else None


def digest_key(team_id: int, day: date) -> str:
    return f"{team_id}:{day.isoformat()}"


@dataclass(frozen=True)
class Digest:
    team_id: int
    team: str
    day: date
    new: list[ItemSummary]  # not overdue: those are listed once, under overdue
    overdue: list[ItemSummary]
    new_ids: list[int]  # every new item, overdue or not: marked notified once sent

    @property
    def empty(self) -> bool:
        return not self.new_ids and not self.overdue


async def digest_for(team_id: int, team: str, day: date, now: datetime, settings: Settings) -> Digest:
    """What the team's digest for `day` says as of `now`."""
    fresh = await item_summaries(
        (InboxItem.team == team_id)
        & (InboxItem.priority != "urgent")
        & InboxItem.notified_at.is_null()
        & (InboxItem.created_at >= now - LOOKBACK)
        & (InboxItem.created_at <= now),
        now,
        settings,
    )
    overdue = await item_summaries((InboxItem.team == team_id) & overdue_condition(now), now, settings)
    return Digest(
        team_id=team_id,
        team=team,
        day=day,
        new=[item for item in fresh if not item.overdue],
        overdue=sorted(overdue, key=lambda item: (item.due_at or now, item.id)),
        new_ids=[item.id for item in fresh],
    )


def render_team_digest(digest: Digest, settings: Settings, language: str = DEFAULT_LANGUAGE) -> Rendered:
    context = {
        "digest": digest,
        "new": digest.new[:LISTED],
        "overdue": digest.overdue[:LISTED],
        "more_new": max(0, len(digest.new) - LISTED),
        "more_overdue": max(0, len(digest.overdue) - LISTED),
        "inbox_url": f"{settings.base_url}/app/inbox",
        "shop_name": settings.shop_name,
    }
    counts = {"team": digest.team, "day": digest.day.isoformat(), "new": len(digest.new_ids)}
    if digest.overdue:
        counts["overdue"] = len(digest.overdue)
        subject = translate(language, "%(team)s daily digest %(day)s: %(new)s new, %(overdue)s overdue") % counts
    else:
        subject = translate(language, "%(team)s daily digest %(day)s: %(new)s new") % counts
    return Rendered(
        to="",
        subject=" ".join(subject.split()),
        text=render("feedback/email/digest.txt", language, **context),
        html=render("feedback/email/digest.html", language, **context),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language, "X-Afterglow-Team": digest.team},
    )


def _message_id(settings: Settings, team_id: int, day: date) -> Callable[[str], str]:
    return lambda address: team_message_id(settings, "digest", f"{team_id}.{day.isoformat()}", address)


async def email_team_digest(digest: Digest, now: datetime, settings: Settings) -> str:
    """Email the digest to each of the team's addresses not yet in the log, then mark its new items notified.
    "sent" or "no-recipients"; MailNotSent when SMTP refuses (a later pass finishes it)."""
    addresses = await recipients(digest.team_id)
    if not addresses:
        return "no-recipients"
    message_id = _message_id(settings, digest.team_id, digest.day)
    render_in = partial(render_team_digest, digest, settings)
    await deliver_to_team(render_in, addresses, message_id, DIGEST, now, settings)
    if digest.new_ids:
        await InboxItem.update({InboxItem.notified_at: now}).where(
            InboxItem.id.is_in(digest.new_ids) & InboxItem.notified_at.is_null()
        )
    return "sent"


async def _unfinished(row: dict[str, Any], settings: Settings) -> bool:
    """True when some address of the team has not got this digest (by the log)."""
    team_id, day = row["team"], date.fromisoformat(row["key"].split(":", 1)[1])
    addresses = await recipients(team_id)
    if not addresses:
        return False
    message_id = _message_id(settings, team_id, day)
    wanted = [message_id(address) for address in addresses]
    return await SentEmail.count().where(SentEmail.message_id.is_in(wanted)) < len(wanted)


async def _finish_interrupted(now: datetime, settings: Settings, outcomes: dict[str, int]) -> None:
    """Take over the digests of the last day whose sender died or whose SMTP failed, and finish them."""
    rows = await TeamDigest.select(TeamDigest.id, TeamDigest.team, TeamDigest.team.name, TeamDigest.key).where(
        (TeamDigest.sent_at >= now - CATCH_UP)
        & (TeamDigest.sent_at < now - LEASE)
        & ((TeamDigest.items > 0) | (TeamDigest.overdue > 0))
    )
    for row in rows:
        if not await _unfinished(row, settings):
            continue
        taken = (
            await TeamDigest.update({TeamDigest.sent_at: now})
            .where((TeamDigest.id == row["id"]) & (TeamDigest.sent_at < now - LEASE))
            .returning(TeamDigest.id)
        )
        if not taken:
            continue  # another pass took it over
        async with skip_bad_row(PASS, f"team digest {row['id']}", now):
            day = date.fromisoformat(row["key"].split(":", 1)[1])
            digest = await digest_for(row["team"], row["team.name"], day, now, settings)
            outcome = "resumed-empty" if digest.empty else "resumed"
            if not digest.empty:
                await email_team_digest(digest, now, settings)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1


async def _send_team_digest(
    team_id: int, team: str, key: str, day: date, now: datetime, settings: Settings, outcomes: dict[str, int]
) -> None:
    digest = await digest_for(team_id, team, day, now, settings)
    row = TeamDigest(team=team_id, key=key, items=len(digest.new_ids), overdue=len(digest.overdue))
    row.sent_at = now
    try:
        await TeamDigest.insert(row)
    except UNIQUE_VIOLATIONS:
        return  # a twin pass has it
    outcome = "empty" if digest.empty else await email_team_digest(digest, now, settings)
    outcomes[outcome] = outcomes.get(outcome, 0) + 1


async def send_team_digests(now: datetime, settings: Settings) -> dict[str, int]:
    """The beat pass: finish interrupted digests, then, from the digest hour on, send each team's digest for the
    day unless it exists. Counts what happened: "sent", "empty" (no email), "no-recipients", "smtp-failed",
    "resumed". Safe to run at any time, by many at once."""
    outcomes: dict[str, int] = {}
    try:
        await _finish_interrupted(now, settings, outcomes)
        day = digest_day(now, ZoneInfo(settings.shop_timezone), settings.digest_hour)
        if day is None:
            return outcomes
        teams = [c for c in await notify_settings() if c.digest]
        keys = [digest_key(c.team_id, day) for c in teams]
        done = {
            row["key"] for row in await TeamDigest.select(TeamDigest.key).where(TeamDigest.key.is_in(keys or ["-"]))
        }
        for team in teams:
            key = digest_key(team.team_id, day)
            if key in done:
                continue
            async with skip_bad_row(PASS, f"team {team.team_id}", now):
                await _send_team_digest(team.team_id, team.team, key, day, now, settings, outcomes)
    except MailNotSent:
        # SMTP is down: stop here. The claimed digest is finished after LEASE; the others wait for the next pass.
        outcomes["smtp-failed"] = outcomes.get("smtp-failed", 0) + 1
    return outcomes
