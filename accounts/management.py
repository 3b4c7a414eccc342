"""What an admin does to staff accounts: the listings behind the admin pages and the rules their changes follow.

Every change here writes an audit event; nothing secret (passwords, keys) goes into the event's detail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.query.functions import Count

from accounts.policy import ROLES
from accounts.services import (
    AccountError,
    Staff,
    add_member,
    audit,
    create_staff,
    create_team,
    issue_api_key,
    remove_member,
    revoke_api_key,
    set_active,
    set_language,
    set_role,
    team_id,
)
from accounts.tables import ApiKey, AuditEvent, StaffProfile, Team, TeamMember

AUDIT_PAGE_SIZE = 50


class UnknownStaff(AccountError):
    """No staff user with this id."""


class UnknownApiKey(AccountError):
    """No API key with this id."""


@dataclass(frozen=True)
class Invited:
    """A new staff user and their one-time password, which is shown once and never stored in clear."""

    user_id: int
    username: str
    password: str


# Listings --------------------------------------------------------------------------------------------------


async def staff_list(user_id: int | None = None) -> list[dict[str, Any]]:
    """Every staff user (or one) with role, email language, active flag, last sign-in and teams, by username."""
    query = StaffProfile.select(
        StaffProfile.user.id.as_alias("id"),
        StaffProfile.user.username.as_alias("username"),
        StaffProfile.user.email.as_alias("email"),
        StaffProfile.user.active.as_alias("active"),
        StaffProfile.user.last_login.as_alias("last_login"),
        StaffProfile.role,
        StaffProfile.language,
    ).order_by(StaffProfile.user.username)
    if user_id is not None:
        query = query.where(StaffProfile.user == user_id)
    rows = await query
    memberships = await TeamMember.select(
        TeamMember.user, TeamMember.team.name.as_alias("name"), TeamMember.team.slug.as_alias("slug")
    ).order_by(TeamMember.team.name)
    teams: dict[int, list[dict[str, str]]] = {}
    for m in memberships:
        teams.setdefault(m["user"], []).append({"name": m["name"], "slug": m["slug"]})
    return [{**row, "teams": teams.get(row["id"], [])} for row in rows]


async def one_staff(user_id: int) -> dict[str, Any]:
    rows = await staff_list(user_id)
    if not rows:
        raise UnknownStaff(f"no staff user #{user_id}")
    return rows[0]


async def team_list() -> list[dict[str, Any]]:
    """Every team with its member count, by name."""
    counts = await TeamMember.select(TeamMember.team, Count(alias="members")).group_by(TeamMember.team)
    members = {row["team"]: row["members"] for row in counts}
    teams = await Team.select(Team.id, Team.name, Team.slug, Team.created_at).order_by(Team.name)
    return [{**team, "members": members.get(team["id"], 0)} for team in teams]


async def api_key_list(key_id: int | None = None) -> list[dict[str, Any]]:
    """API keys, newest first: name, prefix, who made it and when, last use, revocation. Never the hash."""
    query = ApiKey.select(
        ApiKey.id,
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.created_at,
        ApiKey.created_by.username.as_alias("created_by"),
        ApiKey.last_used_at,
        ApiKey.revoked_at,
    ).order_by(ApiKey.id, ascending=False)
    if key_id is not None:
        query = query.where(ApiKey.id == key_id)
    return await query


async def audit_page(page: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the audit log, newest first, and the number of pages (at least 1)."""
    total = await AuditEvent.count()
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = (
        await AuditEvent.select(
            AuditEvent.id, AuditEvent.actor_name, AuditEvent.action, AuditEvent.target, AuditEvent.detail, AuditEvent.at
        )
        .order_by(AuditEvent.at, ascending=False)
        .order_by(AuditEvent.id, ascending=False)
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .output(load_json=True)
    )
    return rows, pages


# Changes ---------------------------------------------------------------------------------------------------


async def invite_staff(
    actor: Staff, username: str, email: str, role: str, teams: list[str], now: datetime, language: str = "en"
) -> Invited:
    """Create a staff user with a random password for the admin to hand over; the teams must exist."""
    username = username.strip()
    if not username or len(username) > 100:
        raise AccountError("a username has 1 to 100 characters")
    for slug in teams:
        await team_id(slug)  # fail before the user exists, not halfway through
    password = secrets.token_urlsafe(12)
    user_id = await create_staff(username, password, role, email=email, teams=teams, language=language)
    await audit(
        actor, "staff_invited", username, now, role=role, email=email.strip().lower(), teams=teams, language=language
    )
    return Invited(user_id, username, password)


async def change_active(actor: Staff, user_id: int, active: bool, now: datetime) -> None:
    """Deactivate (signs them out at their next request) or reactivate a user; never oneself."""
    target = await one_staff(user_id)
    if user_id == actor.id and not active:
        raise AccountError("you cannot deactivate yourself")
    if target["active"] == active:
        return
    await set_active(user_id, active)
    await audit(actor, "staff_reactivated" if active else "staff_deactivated", target["username"], now)


async def change_role(actor: Staff, user_id: int, role: str, now: datetime) -> None:
    """Give a user another role; an admin cannot change their own, so there is always one admin left."""
    target = await one_staff(user_id)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if user_id == actor.id:
        raise AccountError("you cannot change your own role")
    if target["role"] == role:
        return
    await set_role(user_id, role)
    await audit(actor, "staff_role_changed", target["username"], now, old=target["role"], new=role)


async def change_language(actor: Staff, user_id: int, language: str, now: datetime) -> None:
    """Choose the language of the emails a user gets (their own too)."""
    target = await one_staff(user_id)
    if target["language"] == language:
        return
    await set_language(user_id, language)
    await audit(actor, "staff_language_changed", target["username"], now, old=target["language"], new=language)


async def change_membership(actor: Staff, user_id: int, team_slug: str, member: bool, now: datetime) -> None:
    """Add a user to a team or take them out of it."""
    target = await one_staff(user_id)
    await team_id(team_slug)
    is_member = any(t["slug"] == team_slug for t in target["teams"])
    if is_member == member:
        return
    await (add_member if member else remove_member)(team_slug, user_id)
    action = "team_member_added" if member else "team_member_removed"
    await audit(actor, action, target["username"], now, team=team_slug)


async def new_team(actor: Staff, name: str, now: datetime) -> int:
    team = await create_team(name)
    await audit(actor, "team_created", name.strip(), now)
    return team


async def new_api_key(actor: Staff, name: str, now: datetime) -> tuple[int, str]:
    """Issue a key; returns its id and the key, which the caller shows once."""
    key_id, key = await issue_api_key(name, actor.id)
    await audit(actor, "api_key_created", name.strip(), now, key_id=key_id, prefix=key[:10])
    return key_id, key


async def end_api_key(actor: Staff, key_id: int, now: datetime) -> None:
    """Revoke a key: requests carrying it are refused from now on."""
    rows = await api_key_list(key_id)
    if not rows:
        raise UnknownApiKey(f"no API key #{key_id}")
    if rows[0]["revoked_at"] is not None:
        return
    await revoke_api_key(key_id, now)
    await audit(actor, "api_key_revoked", rows[0]["name"], now, key_id=key_id, prefix=rows[0]["prefix"])
