"""Who may do what: the staff roles. Pure values, no database."""

from __future__ import annotations

#: admin (everything), manager (all feedback, read), member (their teams' feedback).
ROLES = ("admin", "manager", "member")
