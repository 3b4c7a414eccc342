"""Telling a team about its feedback by email: urgent inbox items at once, a test on request, and the summaries of
inbox items that emails, digests and webhooks share. Who hears: feedback.services.notify_settings.

Each email goes to one address under a stable Message-ID per item (or digest) and address, checked against the
SentEmail log first, so a retried or repeated send reaches nobody twice; the catch-up pass sends what was lost.
Each staff member gets it in the language they chose; an address of nobody on the staff (a team's shared inbox)
gets it in English."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from piccolo.columns.combination import Combinable

from accounts.services import Staff, audit, email_languages
from afterglow.failures import skip_bad_row
from afterglow.i18n import DEFAULT_LANGUAGE, N_, translate
from afterglow.kinds import COLUMN_SCALES, kind_name
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from afterglow.templating import render
from feedback.services.inbox import is_overdue
from feedback.services.notify_settings import notify_settings_of, recipients
from feedback.services.tagging import topics_by_item
from feedback.tables import InboxItem
from surveys.services.emails import Rendered, deliver
from surveys.tables import SentEmail

URGENT = "team-urgent"
TEST = "team-test"
#: How far back the catch-up pass looks for urgent items nobody was told about (announcement lost, broker down).
CATCH_UP = timedelta(days=1)
#: The catch-up pass leaves the newest items to the task their intake queued, which normally runs within seconds.
GRACE = timedelta(minutes=5)
EXCERPT_CHARS = 280
#: Stored words the emails show, marked for translation here; the templates translate them with `_(value)`.
WORDS = (
    # Translators: a sentiment label of feedback
    N_("positive"),
    N_("neutral"),
    N_("negative"),
    N_("mixed"),
    # Translators: the priority of an inbox item
    N_("urgent"),
    N_("high"),
    N_("normal"),
    N_("low"),
)
# What a team is told about an item -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSummary:
    """An inbox item as a notification shows it. `due` is the SLA due time in the shop's time zone."""

    id: int
    team_id: int | None
    team: str
    priority: str
    status: str
    kind: str
    created_at: datetime
    due_at: datetime | None
    due: str
    overdue: bool
    csat: int | None
    nps: int | None
    rating: int | None
    label: str
    topics: tuple[str, ...]
    excerpt: str
    customer: str
    order: str
    url: str
    notified_at: datetime | None

    @property
    def kind_name(self) -> str:
        return kind_name(self.kind)

    @property
    def scores(self) -> dict[str, int | None]:
        return {"csat": self.csat, "nps": self.nps, "rating": self.rating}

    @property
    def score_text(self) -> str:
        """ "NPS 2/10 · CSAT 1/5", or "" when the feedback has no score."""
        return self.score_text_in(DEFAULT_LANGUAGE)

    def score_text_in(self, language: str) -> str:
        """`score_text` as a reader of `language` reads it ("Sterne 4/5")."""
        stars = translate(language, "Stars")
        found = [("NPS", self.nps, "nps"), ("CSAT", self.csat, "csat"), (stars, self.rating, "rating")]
        parts = [f"{name} {value}/{COLUMN_SCALES[column].high}" for name, value, column in found if value is not None]
        return " · ".join(parts)


def excerpt(title: str, text: str, size: int = EXCERPT_CHARS) -> str:
    """Title and text on one line, cut at a word near `size` characters."""
    joined = " ".join(f"{title} {text}".split())
    if len(joined) <= size:
        return joined
    cut = joined[:size]
    if " " in cut[size // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


_SUMMARY_COLUMNS = (
    InboxItem.id,
    InboxItem.team,
    InboxItem.team.name,
    InboxItem.priority,
    InboxItem.status,
    InboxItem.created_at,
    InboxItem.due_at,
    InboxItem.responded_at,
    InboxItem.notified_at,
    InboxItem.feedback.id,
    InboxItem.feedback.kind,
    InboxItem.feedback.csat,
    InboxItem.feedback.nps,
    InboxItem.feedback.rating,
    InboxItem.feedback.label,
    InboxItem.feedback.title,
    InboxItem.feedback.text,
    InboxItem.feedback.name,
    InboxItem.feedback.email,
    InboxItem.feedback.order.external_id,
)


async def item_summaries(where: Combinable, now: datetime, settings: Settings) -> list[ItemSummary]:
    """The inbox items matching `where`, oldest first, as notifications show them."""
    rows = await InboxItem.select(*_SUMMARY_COLUMNS).where(where).order_by(InboxItem.created_at).order_by(InboxItem.id)
    topics = await topics_by_item([row["feedback.id"] for row in rows])
    zone = ZoneInfo(settings.shop_timezone)
    found = []
    for row in rows:
        name, email = row["feedback.name"].strip(), row["feedback.email"].strip()
        due_at = row["due_at"]
        found.append(
            ItemSummary(
                id=row["id"],
                team_id=row["team"],
                team=row["team.name"] or "Triage",
                priority=row["priority"],
                status=row["status"],
                kind=row["feedback.kind"],
                created_at=row["created_at"],
                due_at=due_at,
                due=due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if due_at else "",
                overdue=is_overdue(due_at, row["responded_at"], row["status"], now),
                csat=row["feedback.csat"],
                nps=row["feedback.nps"],
                rating=row["feedback.rating"],
                label=row["feedback.label"],
                topics=tuple(dict.fromkeys(t["topic"] for t in topics.get(row["feedback.id"], []))),
                excerpt=excerpt(row["feedback.title"], row["feedback.text"]),
                customer=f"{name} <{email}>" if name and email else name or email,
                order=row["feedback.order.external_id"] or "",
                url=f"{settings.base_url}/app/inbox/{row['id']}",
                notified_at=row["notified_at"],
            )
        )
    return found


# Sending to a team ---------------------------------------------------------------------------------------------


def team_message_id(settings: Settings, purpose: str, key: str, address: str) -> str:
    """Stable per purpose, key (item, or team and day) and address: a repeated send finds it in the log."""
    domain = urlparse(settings.base_url).hostname or "afterglow.localhost"
    mark = hashlib.sha256(address.encode()).hexdigest()[:12]
    return f"<{purpose}.{key}.{mark}@{domain}>"


async def deliver_to_team(
    render_in: Callable[[str], Rendered],
    addresses: list[str],
    message_id: Callable[[str], str],
    purpose: str,
    now: datetime,
    settings: Settings,
) -> int:
    """Send the email `render_in(language)` makes to each address whose Message-ID is not in the log yet, in the
    language its reader chose; returns how many went out now. MailNotSent leaves the remaining addresses for the
    retry, which skips those already logged."""
    wanted = {address: message_id(address) for address in addresses}
    logged = await SentEmail.select(SentEmail.message_id).where(SentEmail.message_id.is_in(list(wanted) or ["-"]))
    done = {row["message_id"] for row in logged}
    languages = await email_languages([address for address, mid in wanted.items() if mid not in done])
    rendered: dict[str, Rendered] = {}
    sent = 0
    for address, mid in wanted.items():
        if mid in done:
            continue
        language = languages.get(address.strip().lower(), DEFAULT_LANGUAGE)
        if language not in rendered:
            rendered[language] = render_in(language)
        if await deliver(replace(rendered[language], to=address), mid, purpose, None, now, settings):
            sent += 1
    return sent


def _subject(text: str) -> str:
    return " ".join(text.split())[:250]  # customer text cannot break the header onto a new line


def _headers(language: str, team: str) -> dict[str, str]:
    return {"Auto-Submitted": "auto-generated", "Content-Language": language, "X-Afterglow-Team": team}


def render_urgent(item: ItemSummary, settings: Settings, language: str = DEFAULT_LANGUAGE) -> Rendered:
    context = {"item": item, "shop_name": settings.shop_name}
    kind = translate(language, item.kind_name)
    subject = translate(language, "[Urgent] %(team)s: %(kind)s") % {"team": item.team, "kind": kind}
    if scores := item.score_text_in(language):
        subject += f" {scores}"
    if item.excerpt:
        subject += f" — {excerpt('', item.excerpt, 60)}"
    return Rendered(
        to="",
        subject=_subject(subject),
        text=render("feedback/email/notify_urgent.txt", language, **context),
        html=render("feedback/email/notify_urgent.html", language, **context),
        headers={**_headers(language, item.team), "Importance": "high"},
    )


async def send_urgent_notification(inbox_item_id: int, now: datetime, settings: Settings) -> str:
    """Email the team about an urgent inbox item once, then mark it notified. Returns what happened: "sent",
    "sent-before", "gone", "not-urgent", "triage" (nobody to tell) or "no-recipients". MailNotSent from SMTP."""
    found = await item_summaries(InboxItem.id == inbox_item_id, now, settings)
    if not found:
        return "gone"
    item = found[0]
    if item.priority != "urgent":
        return "not-urgent"
    if item.team_id is None:
        return "triage"
    if item.notified_at is not None:
        return "sent-before"
    addresses = await recipients(item.team_id)
    if not addresses:
        return "no-recipients"
    sent = await deliver_to_team(
        lambda language: render_urgent(item, settings, language),
        addresses,
        lambda address: team_message_id(settings, "notify", str(item.id), address),
        URGENT,
        now,
        settings,
    )
    await InboxItem.update({InboxItem.notified_at: now}).where(
        (InboxItem.id == inbox_item_id) & InboxItem.notified_at.is_null()
    )
    return "sent" if sent else "sent-before"


async def urgent_team_items(inbox_item_ids: list[int]) -> list[int]:
    """Which of these inbox items call for an email now: urgent, in a team's inbox, nobody told yet."""
    rows = await InboxItem.select(InboxItem.id).where(
        InboxItem.id.is_in(inbox_item_ids or [-1])
        & (InboxItem.priority == "urgent")
        & InboxItem.team.is_not_null()
        & InboxItem.notified_at.is_null()
    )
    return sorted(row["id"] for row in rows)


async def unnotified_urgent(now: datetime) -> list[int]:
    """Urgent team items of the last day nobody was told about: their task was lost, or SMTP gave up."""
    rows = await InboxItem.select(InboxItem.id).where(
        (InboxItem.priority == "urgent")
        & InboxItem.team.is_not_null()
        & InboxItem.notified_at.is_null()
        & (InboxItem.created_at >= now - CATCH_UP)
        & (InboxItem.created_at <= now - GRACE)
    )
    return sorted(row["id"] for row in rows)


async def notify_unnotified(now: datetime, settings: Settings) -> dict[str, int]:
    """The catch-up pass: send every lost urgent email. Stops at the first SMTP failure; the next pass goes on."""
    outcomes: dict[str, int] = {}
    for item_id in await unnotified_urgent(now):
        outcome = "failed"  # a bad item: recorded as a task failure, and the pass goes on
        try:
            async with skip_bad_row("feedback.notify_pending", f"inbox item {item_id}", now):
                outcome = await send_urgent_notification(item_id, now, settings)
        except MailNotSent:
            outcomes["smtp-failed"] = outcomes.get("smtp-failed", 0) + 1
            break
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def send_test_email(actor: Staff, slug: str, now: datetime, settings: Settings) -> list[str]:
    """Send a test email to the team's recipients now; returns their addresses (empty: nobody to send to).
    MailNotSent when SMTP refuses."""
    notify = await notify_settings_of(slug)
    addresses = await recipients(notify.team_id)
    if not addresses:
        return []
    context = {"team": notify.team, "actor": actor.username, "shop_name": settings.shop_name, "notify": notify}

    def render_in(language: str) -> Rendered:
        subject = translate(language, "Afterglow test: notifications for %(team)s") % {"team": notify.team}
        return Rendered(
            to="",
            subject=_subject(subject),
            text=render("feedback/email/notify_test.txt", language, **context),
            html=render("feedback/email/notify_test.html", language, **context),
            headers=_headers(language, notify.team),
        )

    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    message_id = partial(team_message_id, settings, "notify-test", f"{slug}.{stamp}")
    await deliver_to_team(render_in, addresses, message_id, TEST, now, settings)
    await audit(actor, "notifications.test_email", f"team:{slug}", now, recipients=len(addresses))
    return addresses
