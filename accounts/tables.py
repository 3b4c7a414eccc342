"""Staff: who they are (Piccolo's BaseUser), their role, their teams, the API keys they issue, what they did."""

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSON, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class StaffProfile(Table):
    """The role of a staff user: admin (everything), manager (all feedback, read), member (their teams' feedback)."""

    user = ForeignKey(references=BaseUser, unique=True)
    role = Varchar(length=16, default="member")
    created_at = Timestamptz(default=TimestamptzNow())
    # Managers and admins get the dashboard's weekly digest unless they switch it off.
    weekly_digest = Boolean(default=True)
    # The language of the emails Afterglow sends this person (one of afterglow.i18n.LANGUAGES).
    language = Varchar(length=8, default="en")


class Team(Table):
    name = Varchar(length=100, unique=True)
    slug = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class TeamMember(Table):
    team = ForeignKey(references=Team, index=True)
    user = ForeignKey(references=BaseUser, index=True)
    # One row per (team, user): enforced by a unique key, as Piccolo has no composite constraint.
    key = Varchar(length=64, unique=True)


class ApiKey(Table):
    """A key for the ingest API and webhooks. Only a hash is kept; the key is shown once."""

    name = Varchar(length=100)
    prefix = Varchar(length=12, index=True)
    key_hash = Varchar(length=64, unique=True)
    created_by = ForeignKey(references=BaseUser, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class AuditEvent(Table):
    """Who did what, when: every staff action that changes something."""

    actor = ForeignKey(references=BaseUser, null=True, default=None, index=True)
    actor_name = Varchar(length=100, default="")
    action = Varchar(length=64, index=True)
    target = Varchar(length=200, default="")
    detail = JSON(default={})
    at = Timestamptz(default=TimestamptzNow(), index=True)
