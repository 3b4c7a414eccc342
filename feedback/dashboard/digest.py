"""The weekly digest: every Monday from 08:00 (the shop's time), each manager and admin who has not switched it
off gets last week's headline figures, the NPS of the last eight weeks and the topics on the move.

Due digests are rows (WeeklyDigest, one per person and week). The beat pass creates the rows for the week that is
due and claims them with a conditional update; a claim left by a dead worker expires. Each email has a stable
Message-ID and is checked against the SentEmail log first, so a retried task never sends it twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlparse
from zoneinfo import ZoneInfo

from piccolo.apps.user.tables import BaseUser

from accounts.services import Staff, audit, email_languages
from accounts.tables import StaffProfile
from afterglow.i18n import DEFAULT_LANGUAGE, format_day
from afterglow.settings import Settings
from afterglow.templating import render
from feedback.dashboard.figures import Totals
from feedback.dashboard.handling import Handling, handling
from feedback.dashboard.overview import Headline, headline, trend
from feedback.dashboard.periods import Period
from feedback.dashboard.segments import Segment
from feedback.dashboard.topics import TopicMoves, topic_mentions, topic_moves
from feedback.tables import WeeklyDigest
from surveys.services.emails import Rendered, deliver
from surveys.tables import SentEmail

PURPOSE = "weekly-digest"
SEND_HOUR = 8
TREND_WEEKS = 8
#: A claim older than this belongs to a worker that died (or a broker that lost the task): claim it again.
CLAIM = timedelta(hours=1)
ROLES = ("admin", "manager")


def due_week(now: datetime, timezone: str) -> date:
    """The Monday of the week whose digest is due: last week from Monday 08:00 on, the week before until then."""
    local = now.astimezone(ZoneInfo(timezone))
    this_monday = local.date() - timedelta(days=local.weekday())
    sent_from = datetime.combine(this_monday, time(SEND_HOUR), tzinfo=ZoneInfo(timezone))
    return this_monday - timedelta(days=7 if local >= sent_from else 14)


def digest_message_id(settings: Settings, user_id: int, week: date) -> str:
    domain = urlparse(settings.base_url).hostname or "afterglow.localhost"
    return f"<{PURPOSE}.{user_id}.{week.isoformat()}@{domain}>"


# The switch ---------------------------------------------------------------------------------------------------


async def weekly_digest_on(user_id: int) -> bool:
    row = await StaffProfile.select(StaffProfile.weekly_digest).where(StaffProfile.user == user_id).first()
    return bool(row and row["weekly_digest"])


async def set_weekly_digest(user: Staff, on: bool, now: datetime) -> None:
    """Switch one's own weekly digest on or off (recorded in the audit log)."""
    await StaffProfile.update({StaffProfile.weekly_digest: on}).where(StaffProfile.user == user.id)
    await audit(user, "weekly_digest_on" if on else "weekly_digest_off", f"user:{user.id}", now)


# Planning and claiming -----------------------------------------------------------------------------------------


async def recipients() -> list[dict[str, Any]]:
    """Active managers and admins with an email address who have not switched the digest off."""
    rows = await StaffProfile.select(
        StaffProfile.user, StaffProfile.user.email.as_alias("email"), StaffProfile.user.username.as_alias("username")
    ).where(
        StaffProfile.role.is_in(list(ROLES))
        & (StaffProfile.weekly_digest == True)  # noqa: E712 - a SQL comparison
        & (StaffProfile.user.active == True)  # noqa: E712
    )
    return [row for row in rows if "@" in (row["email"] or "")]


async def claim_due_digests(now: datetime, timezone: str) -> list[int]:
    """Create the due week's digest rows for everyone subscribed and claim those not sent (nor claimed in the last
    hour). Returns the claimed ids; a twin pass gets none of them."""
    week = due_week(now, timezone)
    for person in await recipients():
        row = WeeklyDigest(user=person["user"], week=week, key=f"{person['user']}:{week.isoformat()}", created_at=now)
        await WeeklyDigest.insert(row).on_conflict(target=WeeklyDigest.key, action="DO NOTHING")
    claimable = (WeeklyDigest.week == week) & (
        (WeeklyDigest.status == "due") | ((WeeklyDigest.status == "sending") & (WeeklyDigest.claimed_at < now - CLAIM))
    )
    claimed = (
        await WeeklyDigest.update({WeeklyDigest.status: "sending", WeeklyDigest.claimed_at: now})
        .where(claimable)
        .returning(WeeklyDigest.id)
    )
    return sorted(int(row["id"]) for row in claimed)


# What it says ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestFigures:
    week: Period
    headline: Headline
    weeks: list[tuple[date, Totals]]
    topics: TopicMoves
    handling: Handling


async def digest_figures(week: date, now: datetime, timezone: str) -> DigestFigures:
    """Last week against the week before, eight weeks of NPS, topics on the move, the inbox now."""
    period = Period(week, week + timedelta(days=6))
    top = await headline(Segment(), period, timezone)
    eight = Period(week - timedelta(days=7 * (TREND_WEEKS - 1)), period.end)
    weeks = [(bucket.start, totals) for bucket, totals in await trend(Segment(), eight, "week", timezone)]
    moves = topic_moves(await topic_mentions(Segment(), period, timezone), top.now, top.before)
    return DigestFigures(period, top, weeks, moves, await handling(Segment(), now))


def render_manager_digest(
    figures: DigestFigures, to: str, settings: Settings, language: str = DEFAULT_LANGUAGE
) -> Rendered:
    """The digest in the language its reader chose."""
    query = urlencode({"from": figures.week.start.isoformat(), "to": figures.week.end.isoformat(), "grain": "day"})
    context = {
        "day": partial(format_day, language=language),
        "shop_name": settings.shop_name,
        "f": figures,
        "dashboard_url": f"{settings.base_url}/app/dashboard?{query}",
        "switch_url": f"{settings.base_url}/app/dashboard#weekly-digest",
        "nps_scale": max((abs(t.nps) for _, t in figures.weeks if t.nps is not None), default=0.0) or 1.0,
    }
    subject = render("feedback/email/weekly_subject.txt", language, **context)
    return Rendered(
        to=to,
        subject=" ".join(subject.split()),
        text=render("feedback/email/weekly_digest.txt", language, **context),
        html=render("feedback/email/weekly_digest.html", language, **context),
        headers={"Auto-Submitted": "auto-generated", "Content-Language": language},
    )


async def send_manager_digest(digest_id: int, now: datetime, settings: Settings) -> str:
    """Send one claimed digest. Returns "sent", "sent-before", "switched-off" (since it was planned) or "gone"."""
    row = (
        await WeeklyDigest.select(WeeklyDigest.id, WeeklyDigest.user, WeeklyDigest.week, WeeklyDigest.status)
        .where(WeeklyDigest.id == digest_id)
        .first()
    )
    if row is None:
        return "gone"
    person = await BaseUser.select(BaseUser.email).where(BaseUser.id == row["user"]).first()
    if person is None or not await weekly_digest_on(row["user"]):
        await WeeklyDigest.update({WeeklyDigest.status: "skipped"}).where(WeeklyDigest.id == digest_id)
        return "switched-off"
    week = row["week"] if isinstance(row["week"], date) else date.fromisoformat(str(row["week"]))
    mid = digest_message_id(settings, row["user"], week)
    done = {WeeklyDigest.status: "sent", WeeklyDigest.sent_at: now, WeeklyDigest.message_id: mid}
    if row["status"] == "sent" or await SentEmail.exists().where(SentEmail.message_id == mid):
        await WeeklyDigest.update(done).where(WeeklyDigest.id == digest_id)
        return "sent-before"
    language = (await email_languages([person["email"]])).get(person["email"].strip().lower(), DEFAULT_LANGUAGE)
    figures = await digest_figures(week, now, settings.shop_timezone)
    mail = render_manager_digest(figures, person["email"], settings, language)
    sent = await deliver(mail, mid, PURPOSE, None, now, settings)
    await WeeklyDigest.update(done).where(WeeklyDigest.id == digest_id)
    return "sent" if sent else "sent-before"
