"""Who may open which staff route: the table the access test checks, and docs/access.md is generated from.

    python -m tests.unit.access_matrix > docs/access.md

Placeholders in paths and form values are filled by the test: {support_item} (feedback routed to the Support
team), {triage_item} (feedback no team has yet), {member_user} (the Support member's user id), {api_key} (an
issued key's id), {customer} (a customer's email), {held_review} (a review held by a content rule; the routes below
approve, reject and reply to it in turn), {review_photo} (that review's photo file), {rule} (the routing rule that sends
support feedback to Support; the routes below edit, move, switch off and then delete it) and {who} (the principal making
the request).
"""

from __future__ import annotations

PRINCIPALS = ("anonymous", "member of the team", "member of another team", "manager", "admin")

# (method, path, form, expected status per principal in PRINCIPALS order)
ROUTES: list[tuple[str, str, dict[str, str], tuple[int, int, int, int, int]]] = [
    ("GET", "/app", {}, (303, 303, 303, 303, 303)),
    ("GET", "/app/inbox", {}, (303, 200, 200, 200, 200)),
    ("GET", "/app/inbox/{support_item}", {}, (303, 200, 404, 200, 200)),
    ("GET", "/app/inbox/{triage_item}", {}, (303, 404, 404, 200, 200)),
    ("GET", "/app/inbox/agents", {}, (303, 200, 200, 200, 200)),
    ("POST", "/app/inbox/{support_item}/status", {"status": "in_progress"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{support_item}/assign", {"assignee": "me"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{support_item}/notes", {"note": "Note by {who}"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{support_item}/label", {"label": "mixed"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{support_item}/topics", {"topics": "delivery"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{triage_item}/status", {"status": "in_progress"}, (303, 404, 404, 403, 303)),
    ("POST", "/app/inbox/{support_item}/reply", {"body": "Reply from {who}"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{triage_item}/reply", {"body": "Reply from {who}"}, (303, 404, 404, 403, 303)),
    ("GET", "/app/dashboard", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/dashboard/trend/nps?period=365d&grain=week", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/dashboard/compare?by=channel&a=web&b=app", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/dashboard/responses?measure=detractors", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/dashboard/responses.csv", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/dashboard/retention", {}, (303, 403, 403, 200, 200)),
    ("POST", "/app/dashboard/digest", {"on": "1"}, (303, 403, 403, 303, 303)),
    ("GET", "/app/reviews", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/reviews?status=held", {}, (303, 403, 403, 200, 200)),
    ("GET", "/app/reviews/photos/{review_photo}", {}, (303, 403, 403, 200, 200)),
    ("POST", "/app/reviews/{held_review}/reply", {"reply": "Thank you, from {who}"}, (303, 403, 403, 303, 303)),
    ("POST", "/app/reviews/{held_review}/approve", {}, (303, 403, 403, 303, 303)),
    ("POST", "/app/reviews/{held_review}/reject", {"reason": "Rejected by {who}"}, (303, 403, 403, 303, 303)),
    ("GET", "/app/admin", {}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/users", {}, (303, 403, 403, 403, 200)),
    (
        "POST",
        "/app/admin/users",
        {"username": "new-{who}", "email": "new-{who}@shop.example", "role": "member"},
        (303, 403, 403, 403, 200),
    ),
    ("POST", "/app/admin/users/{member_user}/active", {"active": "1"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/users/{member_user}/role", {"role": "member"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/users/{member_user}/language", {"language": "de"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/users/{member_user}/teams", {"team": "support", "member": "1"}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/teams", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/teams", {"name": "Team of {who}"}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/routing", {}, (303, 403, 403, 403, 200)),
    ("GET", "/app/admin/routing/new", {}, (303, 403, 403, 403, 200)),
    ("GET", "/app/admin/routing/{rule}", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/routing", {"name": "Rule of {who}", "archive": "1", "active": "1"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/routing/preview", {"kind": "support"}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/routing/{rule}/preview", {"kind": "support"}, (303, 403, 403, 403, 200)),
    (
        "POST",
        "/app/admin/routing/{rule}",
        {"name": "Support, by {who}", "kind": "support", "archive": "1", "active": "1"},
        (303, 403, 403, 403, 303),
    ),
    ("POST", "/app/admin/routing/{rule}/move", {"step": "down"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/routing/{rule}/active", {"active": "0"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/routing/{rule}/delete", {"confirm": "yes"}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/api-keys", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/api-keys", {"name": "key of {who}"}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/api-keys/{api_key}/revoke", {}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/notifications", {}, (303, 403, 403, 403, 200)),
    (
        "POST",
        "/app/admin/notifications/teams/support",
        {"email": "", "digest": "1", "webhook_url": ""},
        (303, 403, 403, 403, 303),
    ),
    ("POST", "/app/admin/notifications/teams/support/test-email", {}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/notifications/teams/support/test-webhook", {}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/notifications/teams/support/secret", {}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/notifications/deliveries/999999/retry", {}, (303, 403, 403, 403, 404)),
    ("GET", "/app/admin/learning", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/learning/switch", {"on": "0"}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/templates", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/templates/reset", {"key": "invitation", "lang": "de"}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/settings", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/settings", {"shop_name": "Demo Shop"}, (303, 403, 403, 403, 303)),
    ("POST", "/app/admin/settings/reset", {"key": "shop_name"}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/topics", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/topics", {"rows": "0"}, (303, 403, 403, 403, 400)),
    ("POST", "/app/admin/topics/reset", {}, (303, 403, 403, 403, 303)),
    ("GET", "/app/admin/topics/retag", {}, (303, 403, 403, 403, 200)),
    ("GET", "/app/admin/audit", {}, (303, 403, 403, 403, 200)),
    ("GET", "/app/admin/privacy", {}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/privacy/export", {"email": "{customer}"}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/privacy/erase", {"email": "{customer}"}, (303, 403, 403, 403, 200)),
    ("POST", "/app/admin/privacy/erase/confirm", {"email": "{customer}", "confirm": "no"}, (303, 403, 403, 403, 303)),
    # Last: moving closes the item here, so the rows above find it open.
    ("POST", "/app/inbox/{support_item}/move", {"team": "logistics"}, (303, 303, 404, 403, 303)),
    ("POST", "/app/inbox/{triage_item}/move", {"team": "support"}, (303, 404, 404, 403, 303)),
]

LEGEND = """\
303 for anonymous visitors is the redirect to `/login` (an htmx request gets 401 with `HX-Redirect` instead);
403 is "not for your role"; 404 on an inbox item means it belongs to a team the user is not in (its existence is
not revealed); on webhook delivery 999999, that no such delivery exists. 303 for signed-in users is a redirect after a
change, or from a section root to its first page.
Every POST also needs the CSRF token; without it the answer is 403 whoever asks."""


def markdown() -> str:
    lines = [
        "# Staff access",
        "",
        "Generated from `tests/unit/access_matrix.py` (`python -m tests.unit.access_matrix > docs/access.md`);",
        "`tests/unit/test_access_matrix.py` checks every cell against the running app.",
        "",
        "| route | " + " | ".join(PRINCIPALS) + " |",
        "| --- | " + " | ".join("---" for _ in PRINCIPALS) + " |",
    ]
    for method, path, _form, expected in ROUTES:
        lines.append(f"| `{method} {path}` | " + " | ".join(str(code) for code in expected) + " |")
    return "\n".join([*lines, "", LEGEND, ""])


if __name__ == "__main__":
    print(markdown(), end="")
