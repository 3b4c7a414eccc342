"""Staff users, roles, teams, API keys and the audit log: the rules, with plain values in and out."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from piccolo.apps.user.tables import BaseUser

from accounts.policy import ROLES
from accounts.tables import ApiKey, AuditEvent, StaffProfile, Team, TeamMember
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.i18n import DEFAULT_LANGUAGE, LANGUAGES


class AccountError(ValueError):
    """A staff action that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Staff:
    """The signed-in person as every staff page sees them."""

    id: int
    username: str
    role: str
    team_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def sees_everything(self) -> bool:
        return self.role in {"admin", "manager"}


SLUG_RE = re.compile(r"[^a-z0-9]+")
#: The column sizes of Team.name and Piccolo's BaseUser.username / .email.
TEAM_NAME_MAX = 100
USERNAME_MAX = 100
EMAIL_MAX = 255


def slugify(name: str) -> str:
    return SLUG_RE.sub("-", name.lower()).strip("-")[:64]


async def create_staff(
    username: str,
    password: str,
    role: str,
    *,
    email: str,
    teams: list[str] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> int:
    """Create a staff user with a hashed password (PBKDF2, Piccolo's BaseUser), a role and an email language."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError("a staff user needs an email address")
    if len(email) > EMAIL_MAX or len(username) > USERNAME_MAX:
        raise AccountError(f"usernames have at most {USERNAME_MAX} characters, email addresses {EMAIL_MAX}")
    if await BaseUser.exists().where(BaseUser.email == email):
        raise AccountError(f"{email} belongs to another user already")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("password must have at least 8 characters")
    _check_language(language)
    if await BaseUser.exists().where(BaseUser.username == username):
        raise AccountError(f"user {username!r} exists already")
    user = await BaseUser.create_user(username=username, password=password, email=email, active=True)
    await StaffProfile.insert(StaffProfile(user=user.id, role=role, language=language))
    for slug in teams or []:
        await add_member(slug, user.id)
    return int(user.id)


async def staff(user_id: int) -> Staff | None:
    """The active staff user with this id, with their teams; None if unknown or deactivated."""
    row = (
        await StaffProfile.select(StaffProfile.role, StaffProfile.user.username, StaffProfile.user.active)
        .where(StaffProfile.user == user_id)
        .first()
    )
    if row is None or not row["user.active"]:
        return None
    teams = await TeamMember.select(TeamMember.team).where(TeamMember.user == user_id)
    return Staff(user_id, row["user.username"], row["role"], frozenset(t["team"] for t in teams))


async def authenticate(username: str, password: str) -> Staff | None:
    """The staff user for these credentials, or None (wrong password, unknown or deactivated user)."""
    user_id = await BaseUser.login(username=username, password=password)
    return await staff(int(user_id)) if user_id is not None else None


async def set_active(user_id: int, active: bool) -> None:
    await BaseUser.update({BaseUser.active: active}).where(BaseUser.id == user_id)


async def set_role(user_id: int, role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    await StaffProfile.update({StaffProfile.role: role}).where(StaffProfile.user == user_id)


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise AccountError(f"language must be one of {', '.join(LANGUAGES)}")


async def set_language(user_id: int, language: str) -> None:
    """The language of the emails Afterglow sends this person."""
    _check_language(language)
    await StaffProfile.update({StaffProfile.language: language}).where(StaffProfile.user == user_id)


async def email_languages(addresses: list[str]) -> dict[str, str]:
    """The email language of each staff user with one of these addresses (lower case); an address of nobody on
    the staff (a team's shared inbox) is not in the answer."""
    wanted = sorted({address.strip().lower() for address in addresses})
    if not wanted:
        return {}
    rows = await StaffProfile.select(StaffProfile.user.email.as_alias("email"), StaffProfile.language).where(
        StaffProfile.user.email.is_in(wanted)
    )
    return {row["email"]: row["language"] for row in rows}


async def create_team(name: str) -> int:
    name = name.strip()
    slug = slugify(name)
    if not name or not slug:
        raise AccountError("a team needs a name")
    if len(name) > TEAM_NAME_MAX:
        raise AccountError(f"a team name has at most {TEAM_NAME_MAX} characters")
    try:
        rows = await Team.insert(Team(name=name, slug=slug)).returning(Team.id)
    except UNIQUE_VIOLATIONS:
        raise AccountError(f"team {name!r} exists already") from None
    return int(rows[0]["id"])


async def team_names() -> dict[int, str]:
    """Every team's name by its id, in order of name."""
    return {row["id"]: row["name"] for row in await Team.select(Team.id, Team.name).order_by(Team.name)}


async def team_id(slug: str) -> int:
    row = await Team.select(Team.id).where(Team.slug == slug).first()
    if row is None:
        raise AccountError(f"no team {slug!r}")
    return int(row["id"])


async def add_member(team_slug: str, user_id: int) -> None:
    tid = await team_id(team_slug)
    with contextlib.suppress(*UNIQUE_VIOLATIONS):  # already a member
        await TeamMember.insert(TeamMember(team=tid, user=user_id, key=f"{tid}:{user_id}"))


async def remove_member(team_slug: str, user_id: int) -> None:
    await TeamMember.delete().where(TeamMember.key == f"{await team_id(team_slug)}:{user_id}")


# API keys -------------------------------------------------------------------------------------------------

KEY_PREFIX = "ag_"


def _hash(key: str) -> str:
    # Keys are 32 random bytes: a fast hash is enough (there is nothing to guess), and lookups stay cheap.
    return hashlib.sha256(key.encode()).hexdigest()


async def issue_api_key(name: str, created_by: int | None) -> tuple[int, str]:
    """Create a key; returns its id and the key itself, which is never shown again."""
    if not name.strip():
        raise AccountError("an API key needs a name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    rows = await ApiKey.insert(
        ApiKey(name=name.strip(), prefix=key[:10], key_hash=_hash(key), created_by=created_by)
    ).returning(ApiKey.id)
    return int(rows[0]["id"]), key


async def api_key_valid(key: str, now: datetime) -> bool:
    """True for a key that was issued and not revoked; records when it was last used (to the minute)."""
    if not key.startswith(KEY_PREFIX):
        return False
    row = (
        await ApiKey.select(ApiKey.id, ApiKey.revoked_at, ApiKey.last_used_at)
        .where(ApiKey.key_hash == _hash(key))
        .first()
    )
    if row is None or row["revoked_at"] is not None:
        return False
    if row["last_used_at"] is None or row["last_used_at"] < now - timedelta(minutes=1):
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == row["id"])
    return True


async def revoke_api_key(key_id: int, now: datetime) -> None:
    await ApiKey.update({ApiKey.revoked_at: now}).where((ApiKey.id == key_id) & ApiKey.revoked_at.is_null())


# Audit log ------------------------------------------------------------------------------------------------


async def audit(actor: Staff | None, action: str, target: str, now: datetime, **detail: Any) -> None:
    """Record a staff action. Never store secrets or passwords in `detail`."""
    await AuditEvent.insert(
        AuditEvent(
            actor=actor.id if actor else None,
            actor_name=actor.username if actor else "system",
            action=action,
            target=target,
            detail=detail,
            at=now,
        )
    )
