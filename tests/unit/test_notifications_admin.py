"""The notifications admin page: admins only, CSRF on every form, refused input kept, the webhook secret shown once,
tests of the email and the webhook, every change in the audit log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from piccolo.apps.user.tables import BaseUser

from accounts.services import remove_member
from accounts.tables import AuditEvent
from feedback.tables import TeamChannel, WebhookDelivery
from surveys.tables import SentEmail
from tests.unit.notify_fixtures import webhook_receiver
from tests.unit.staff_fixtures import make_staff, sign_in

PAGE = "/app/admin/notifications"
SECRET = re.compile(r'id="webhook-secret">([^<]+)<')
HTMX = {"HX-Request": "true"}


async def post(client: AsyncTestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, follow_redirects=False, **kwargs)


@pytest.fixture
async def admin(client: AsyncTestClient) -> AsyncTestClient:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    return client


async def channel() -> dict[str, Any] | None:
    return await TeamChannel.select().where(TeamChannel.team.slug == "support").first()


async def actions() -> list[tuple[str, str]]:
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
    return [(row["action"], row["target"]) for row in rows if row["action"].startswith("notifications.")]


@pytest.mark.parametrize("username", ["max", "sue"])
async def test_managers_and_members_get_403_on_every_notifications_route(
    client: AsyncTestClient, username: str
) -> None:
    await make_staff()
    assert await sign_in(client, username) == 303
    assert (await client.get(PAGE, follow_redirects=False)).status_code == 403
    for path, data in (
        (f"{PAGE}/teams/support", {"email": "x@shop.example", "digest": "1", "webhook_url": "https://evil.example"}),
        (f"{PAGE}/teams/support/secret", {}),
        (f"{PAGE}/teams/support/test-email", {}),
        (f"{PAGE}/teams/support/test-webhook", {}),
        (f"{PAGE}/deliveries/1/retry", {}),
    ):
        assert (await post(client, path, data)).status_code == 403, path
    assert await channel() is None and await actions() == []


async def test_the_page_lists_each_team_with_who_its_email_reaches(admin: AsyncTestClient) -> None:
    page = await admin.get(PAGE)
    assert page.status_code == 200
    assert 'aria-current="page">Notifications</a>' in page.text
    assert 'id="channel-support"' in page.text and 'id="channel-logistics"' in page.text
    assert "every active member (sue@shop.example)" in page.text
    assert "08:00 (Europe/Berlin)" in page.text


async def test_saving_a_webhook_url_shows_its_secret_once_and_audits_only_the_host(admin: AsyncTestClient) -> None:
    hook = "https://hooks.slack.example/services/T000/B000/token-in-the-path"
    saved = await post(
        admin, f"{PAGE}/teams/support", {"email": "Support@Shop.example", "digest": "1", "webhook_url": hook}
    )
    assert saved.status_code == 200  # the secret is on this response, not behind a redirect
    assert saved.headers["cache-control"] == "no-store"
    secret = SECRET.search(saved.text)
    assert secret and secret.group(1).startswith("whsec_")
    row = await channel()
    assert row is not None
    assert (row["email"], row["digest"], row["webhook_url"], row["webhook_secret"]) == (
        "support@shop.example",
        True,
        hook,
        secret.group(1),
    )
    again = await admin.get(PAGE)
    assert secret.group(1) not in again.text and "webhook-secret" not in again.text
    # Saving again keeps the secret (and shows none); only "new secret" replaces it.
    resaved = await post(admin, f"{PAGE}/teams/support", {"email": "", "webhook_url": hook})
    assert resaved.status_code == 303 and resaved.headers["location"] == f"{PAGE}?done=saved"
    row = await channel()
    assert row is not None and (row["email"], row["digest"], row["webhook_secret"]) == ("", False, secret.group(1))
    events = (
        await AuditEvent.select(AuditEvent.detail)
        .where(AuditEvent.action == "notifications.saved")
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    assert events[0]["detail"] == {
        "email": "support@shop.example",
        "digest": True,
        "webhook_host": "hooks.slack.example",
    }
    assert all("token-in-the-path" not in str(e["detail"]) and secret.group(1) not in str(e["detail"]) for e in events)
    assert await actions() == [("notifications.saved", "team:support")] * 2


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "not an address", "webhook_url": "https://ok.example/hook"}, "Enter one email address"),
        ({"email": "a@shop.example, b@shop.example", "webhook_url": ""}, "Enter one email address"),
        ({"email": "", "webhook_url": "ftp://files.example/hook"}, "must start with https://"),
        ({"email": "", "webhook_url": "https://"}, "must start with https://"),
        ({"email": "", "webhook_url": "javascript:alert(1)"}, "must start with https://"),
    ],
)
async def test_refused_input_comes_back_with_the_message_and_what_was_typed_and_saves_nothing(
    admin: AsyncTestClient, form: dict[str, str], message: str
) -> None:
    plain = await post(admin, f"{PAGE}/teams/support", {**form, "digest": "1"})
    assert plain.status_code == 400
    assert message in plain.text and 'aria-invalid="true"' in plain.text
    for value in form.values():
        assert f'value="{value}"' in plain.text.replace("&#34;", '"') or value == ""
    swapped = await post(admin, f"{PAGE}/teams/support", {**form, "digest": "1"}, headers=HTMX)
    assert swapped.status_code == 400
    assert swapped.text.lstrip().startswith('<section class="card channel-card" id="channel-support">')
    assert message in swapped.text and "<html" not in swapped.text
    assert await channel() is None and await actions() == []


async def test_a_new_secret_replaces_the_old_one_and_is_shown_once(admin: AsyncTestClient) -> None:
    first = await post(admin, f"{PAGE}/teams/support", {"webhook_url": "https://hooks.example/a"}, headers=HTMX)
    old = SECRET.search(first.text)
    assert old and first.status_code == 200 and first.headers["cache-control"] == "no-store"
    made = await post(admin, f"{PAGE}/teams/support/secret", headers=HTMX)
    new = SECRET.search(made.text)
    assert made.status_code == 200 and new and new.group(1) != old.group(1)
    assert made.headers["cache-control"] == "no-store"
    row = await channel()
    assert row is not None and row["webhook_secret"] == new.group(1)
    # Removing the URL removes the secret; a team without a webhook has no secret to renew.
    await post(admin, f"{PAGE}/teams/support", {"webhook_url": ""})
    row = await channel()
    assert row is not None and row["webhook_secret"] == ""
    refused = await post(admin, f"{PAGE}/teams/support/secret")
    assert (refused.status_code, refused.headers["location"]) == (303, f"{PAGE}?error=no-webhook")
    assert "Set a webhook URL first." in (await admin.get(refused.headers["location"])).text
    assert [a for a, _ in await actions()] == [
        "notifications.saved",
        "notifications.secret_regenerated",
        "notifications.saved",
    ]


async def test_send_a_test_email_to_the_team(admin: AsyncTestClient) -> None:
    sent = await post(admin, f"{PAGE}/teams/support/test-email", headers=HTMX)
    assert sent.status_code == 200 and "Test email sent to sue@shop.example." in sent.text
    mail = await SentEmail.select(SentEmail.to, SentEmail.purpose, SentEmail.subject).first()
    assert mail == {
        "to": "sue@shop.example",
        "purpose": "team-test",
        "subject": "Afterglow test: notifications for Support",
    }
    await remove_member("logistics", await _user_id("leo"))  # Logistics' only member leaves: nobody to email
    nobody = await post(admin, f"{PAGE}/teams/logistics/test-email")
    assert (nobody.status_code, nobody.headers["location"]) == (303, f"{PAGE}?error=no-recipients")
    assert await SentEmail.count() == 1


async def _user_id(username: str) -> int:
    return int((await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first())["id"])


async def test_send_a_test_webhook_signed_with_the_teams_secret(admin: AsyncTestClient) -> None:
    with webhook_receiver(clock=lambda: datetime.now(UTC)) as receiver:
        saved = await post(admin, f"{PAGE}/teams/support", {"webhook_url": receiver.url}, headers=HTMX)
        secret = SECRET.search(saved.text)
        assert secret
        receiver.secret = secret.group(1)
        tested = await post(admin, f"{PAGE}/teams/support/test-webhook", headers=HTMX)
        assert tested.status_code == 200 and "Test webhook delivered (HTTP 200)." in tested.text
        receiver.answers = [500]
        failed = await post(admin, f"{PAGE}/teams/support/test-webhook")
        assert (failed.status_code, failed.headers["location"]) == (303, f"{PAGE}?error=test-webhook")
    assert [r.signed for r in receiver.received] == [True, True]
    assert receiver.received[0].headers["X-Afterglow-Event"] == "test"
    assert receiver.received[0].json["team"] == "Support"
    rows = await WebhookDelivery.select(WebhookDelivery.status, WebhookDelivery.attempts).order_by(WebhookDelivery.id)
    assert rows == [{"status": "delivered", "attempts": 1}, {"status": "failed", "attempts": 1}]  # a test is tried once
    page = await admin.get(PAGE)
    failed_section = page.text.split("Failed webhook deliveries", 1)[1].split("Recent webhook deliveries", 1)[0]
    assert "HTTP 500" not in failed_section  # tests are not dead letters; they show under recent deliveries
    assert "HTTP 500" in page.text.split("Recent webhook deliveries", 1)[1]


async def test_unknown_teams_and_deliveries_are_404(admin: AsyncTestClient) -> None:
    assert (await post(admin, f"{PAGE}/teams/nobody", {"email": ""})).status_code == 404
    assert (await post(admin, f"{PAGE}/teams/nobody/test-email")).status_code == 404
    assert (await post(admin, f"{PAGE}/deliveries/999/retry")).status_code == 404


async def test_a_form_without_the_csrf_token_is_refused(admin: AsyncTestClient) -> None:
    response = await admin.post(f"{PAGE}/teams/support", data={"email": "x@shop.example"}, follow_redirects=False)
    assert response.status_code == 403
    assert await channel() is None
