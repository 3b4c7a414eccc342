"""Who hears about a team's feedback and how: its TeamChannel (an email address, else every active member; the
daily digest on or off; an outgoing webhook and its signing secret), as admins set it on the notifications page.
A team that never saved any settings gets the defaults: members' emails, a digest, no webhook."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import httpx

from accounts.services import AccountError, Staff, audit, team_id
from accounts.tables import Team, TeamMember
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.errors import FieldError
from feedback.services.destinations import url_refusal
from feedback.tables import TeamChannel, TeamDigest

SECRET_PREFIX = "whsec_"
EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")


class UnknownTeam(LookupError):
    """No team with this slug."""


class NotifySettingsError(FieldError):
    """Notification settings that cannot be saved as typed: `field` names the input, the message says why."""


# Who hears ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotifySettings:
    """A team's notification settings; a team that never saved any gets the defaults."""

    team_id: int
    team: str
    slug: str
    email: str = ""
    digest: bool = True
    webhook_url: str = ""
    has_secret: bool = False


async def notify_settings(team_ids: list[int] | None = None) -> list[NotifySettings]:
    """Every team's settings (or these teams'), by team name."""
    query = Team.select(Team.id, Team.name, Team.slug).order_by(Team.name)
    if team_ids is not None:
        query = query.where(Team.id.is_in(team_ids or [-1]))
    teams = await query
    saved = {
        row["team"]: row
        for row in await TeamChannel.select().where(TeamChannel.team.is_in([t["id"] for t in teams] or [-1]))
    }
    found = []
    for team in teams:
        row = saved.get(team["id"])
        found.append(
            NotifySettings(team["id"], team["name"], team["slug"])
            if row is None
            else NotifySettings(
                team["id"],
                team["name"],
                team["slug"],
                email=row["email"],
                digest=row["digest"],
                webhook_url=row["webhook_url"],
                has_secret=bool(row["webhook_secret"]),
            )
        )
    return found


async def notify_settings_of(slug: str) -> NotifySettings:
    try:
        found = await notify_settings([await team_id(slug)])
    except AccountError:
        raise UnknownTeam(slug) from None
    return found[0]


async def recipients(team: int) -> list[str]:
    """Where the team's email goes: its own address when set, else every active member's."""
    saved = await TeamChannel.select(TeamChannel.email).where(TeamChannel.team == team).first()
    if saved and saved["email"]:
        return [saved["email"]]
    rows = await TeamMember.select(TeamMember.user.email.as_alias("email")).where(
        (TeamMember.team == team) & (TeamMember.user.active == True)  # noqa: E712 - a SQL condition
    )
    return sorted({row["email"].strip().lower() for row in rows if EMAIL_RE.match(row["email"].strip())})


async def overview(team_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """For the admin page: each team's settings, who its email reaches now, and its latest digest."""
    found = []
    for notify in await notify_settings(team_ids):
        latest = (
            await TeamDigest.select(TeamDigest.key, TeamDigest.items, TeamDigest.overdue, TeamDigest.sent_at)
            .where(TeamDigest.team == notify.team_id)
            .order_by(TeamDigest.sent_at, ascending=False)
            .first()
        )
        found.append({"notify": notify, "recipients": await recipients(notify.team_id), "last_digest": latest})
    return found


# Settings ---------------------------------------------------------------------------------------------------------


def check_notify_settings(email: str, webhook_url: str, allowed_hosts: tuple[str, ...] = ()) -> tuple[str, str]:
    """The address and URL as they will be saved; NotifySettingsError for the first that is not right. A URL that points
    at an internal address is refused unless `allowed_hosts` names its host; sending checks again."""
    email, webhook_url = email.strip().lower(), webhook_url.strip()
    if email and (len(email) > 320 or not EMAIL_RE.match(email)):
        raise NotifySettingsError("email", "Enter one email address, like support@shop.example, or leave it empty.")
    if webhook_url:
        try:
            parts = urlparse(webhook_url)
            hostname, _ = parts.hostname, parts.port
        except ValueError:  # a bracketed host that is not an IPv6 address, a port past 65535
            raise NotifySettingsError("webhook_url", "The webhook URL is not a valid address.") from None
        if len(webhook_url) > 500 or parts.scheme not in ("http", "https") or not hostname:
            raise NotifySettingsError(
                "webhook_url", "The webhook URL must start with https:// (or http://) and name a host."
            )
        if any(ch.isspace() for ch in webhook_url):
            raise NotifySettingsError("webhook_url", "The webhook URL must not contain spaces.")
        reason = url_refusal(webhook_url, allowed_hosts)
        if reason:
            message = f"Webhooks go to public addresses only: {reason}. The server admin can allow an internal host."
            raise NotifySettingsError("webhook_url", message)
        try:
            httpx.URL(webhook_url)
        except httpx.InvalidURL:
            raise NotifySettingsError("webhook_url", "The webhook URL is not a valid address.") from None
    return email, webhook_url


async def store_notify_settings(team: int, values: dict[Any, Any], now: datetime) -> None:
    """Write a team's settings, creating its row on the first save."""
    values = {**values, TeamChannel.updated_at: now}
    if not await TeamChannel.exists().where(TeamChannel.team == team):
        row = TeamChannel(team=team)
        for column, value in values.items():
            setattr(row, column._meta.name, value)
        try:
            await TeamChannel.insert(row)
            return
        except UNIQUE_VIOLATIONS:
            pass  # another admin saved first: update their row
    await TeamChannel.update(values).where(TeamChannel.team == team)


def new_secret() -> str:
    """A signing secret for a team's webhook: 32 random bytes, shown to the admin once."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


async def save_notify_settings(
    actor: Staff,
    slug: str,
    email: str,
    digest: bool,
    webhook_url: str,
    now: datetime,
    allowed_hosts: tuple[str, ...] = (),
) -> str:
    """Save a team's email, digest and webhook settings (audited). Returns the webhook secret when a new one was
    made (a webhook URL set where there was none), which the caller shows once; otherwise ""."""
    current = await notify_settings_of(slug)
    email, webhook_url = check_notify_settings(email, webhook_url, allowed_hosts)
    values: dict[Any, Any] = {
        TeamChannel.email: email,
        TeamChannel.digest: digest,
        TeamChannel.webhook_url: webhook_url,
    }
    secret = ""
    if not webhook_url:
        values[TeamChannel.webhook_secret] = ""  # a later URL gets a fresh secret, shown once
    elif not current.has_secret:
        secret = values[TeamChannel.webhook_secret] = new_secret()
    await store_notify_settings(current.team_id, values, now)
    # The URL itself may carry a token (Slack's do): the audit log keeps its host only.
    host = urlparse(webhook_url).hostname or ""
    await audit(actor, "notifications.saved", f"team:{slug}", now, email=email, digest=digest, webhook_host=host)
    return secret
