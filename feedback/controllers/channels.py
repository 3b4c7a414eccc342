"""The admin page for team notifications (/app/admin/notifications): each team's email address, daily digest and
outgoing webhook, a test of each, and the webhook deliveries that gave up, with a retry.

Plain forms redirect back (303) with a message code, so a link cannot make the page say anything; with htmx a
team's form swaps that team's card and a retry swaps the delivery's row. Refused input comes back with the message
and what was typed (400). A new webhook secret is shown on the response that made it, never again (no-store)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.mail import MailNotSent
from afterglow.web import NO_STORE, AppSettings, Form, Now, error_page, form_field
from feedback.services import notifications, notify_settings, webhooks
from feedback.services.destinations import RefusedDestination
from feedback.services.notify_settings import NotifySettingsError, UnknownTeam

PAGE = "feedback/pages/channels.html"
CARD = "feedback/partials/channel_card.html"
ROW = "feedback/partials/channel_delivery_row.html"
DONE = {
    "saved": "Notification settings saved.",
    "test-email": "Test email sent to the team's addresses.",
    "test-webhook": "Test webhook delivered.",
    "retried": "The delivery is pending again: the next delivery pass (every minute) sends it.",
}
ERRORS = {
    "no-recipients": "Nobody to email: set an address or add active members to the team.",
    "smtp": "The test email could not be sent: the mail server refused it or could not be reached.",
    "test-webhook": "The test webhook was not accepted; its delivery below says why.",
    "refused": "The test webhook was not sent: its URL points at an internal address; its delivery below says which.",
    "no-webhook": "Set a webhook URL first.",
    "not-retryable": "Only a failed delivery can be sent again.",
}


def _typed(card: dict[str, Any]) -> dict[str, Any]:
    notify = card["notify"]
    return {"email": notify.email, "digest": notify.digest, "webhook_url": notify.webhook_url}


class NotificationsController(Controller):
    path = "/app/admin/notifications"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="feedback:admin-notifications")
    async def page(
        self,
        request: HTMXRequest,
        settings: AppSettings,
        done: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Template:
        return await self._page(request, settings, done=DONE.get(done or ""), error=ERRORS.get(error or ""))

    @post("/teams/{team_slug:str}", name="feedback:admin-channel-save", status_code=303)
    async def save(
        self, request: HTMXRequest, team_slug: FromPath[str], data: Form, now: Now, settings: AppSettings
    ) -> Template | Redirect | Response[Any]:
        """Save a team's email, digest and webhook URL; a first URL gets a secret, shown on this response only."""
        typed = {
            "email": form_field(data, "email"),
            "digest": form_field(data, "digest") == "1",
            "webhook_url": form_field(data, "webhook_url"),
        }
        try:
            allowed = settings.webhook_allowed_hosts
            secret = await notify_settings.save_notify_settings(
                signed_in(request), team_slug, now=now, allowed_hosts=allowed, **typed
            )
        except UnknownTeam:
            return self._no_team(request)
        except NotifySettingsError as exc:
            card = {"form": typed, "error": exc.message, "field": exc.field}
            return await self._card(request, settings, team_slug, 400, **card)
        if secret:
            return await self._card(request, settings, team_slug, secret=secret, done=DONE["saved"])
        if not request.htmx:
            return self._back(request, done="saved")
        return await self._card(request, settings, team_slug, done=DONE["saved"])

    @post("/teams/{team_slug:str}/secret", name="feedback:admin-channel-secret", status_code=303)
    async def secret(
        self, request: HTMXRequest, team_slug: FromPath[str], now: Now, settings: AppSettings
    ) -> Template | Redirect | Response[Any]:
        """A new signing secret (the old one stops working at once), shown on this response only."""
        try:
            secret = await webhooks.regenerate_secret(signed_in(request), team_slug, now)
        except UnknownTeam:
            return self._no_team(request)
        except NotifySettingsError:
            return await self._refused(request, settings, team_slug, "no-webhook")
        done = "New secret made: give it to the receiver now."
        return await self._card(request, settings, team_slug, secret=secret, done=done)

    @post("/teams/{team_slug:str}/test-email", name="feedback:admin-channel-test-email", status_code=303)
    async def test_email(
        self, request: HTMXRequest, team_slug: FromPath[str], now: Now, settings: AppSettings
    ) -> Template | Redirect | Response[Any]:
        try:
            sent_to = await notifications.send_test_email(signed_in(request), team_slug, now, settings)
        except UnknownTeam:
            return self._no_team(request)
        except MailNotSent:
            return await self._refused(request, settings, team_slug, "smtp", status_code=200)
        if not sent_to:
            return await self._refused(request, settings, team_slug, "no-recipients")
        if not request.htmx:
            return self._back(request, done="test-email")
        return await self._card(request, settings, team_slug, done=f"Test email sent to {', '.join(sent_to)}.")

    @post("/teams/{team_slug:str}/test-webhook", name="feedback:admin-channel-test-webhook", status_code=303)
    async def test_webhook(
        self, request: HTMXRequest, team_slug: FromPath[str], now: Now, settings: AppSettings
    ) -> Template | Redirect | Response[Any]:
        """POST a signed test event now and say what the receiver answered."""
        try:
            delivery = await webhooks.send_test_webhook(signed_in(request), team_slug, now, settings)
        except UnknownTeam:
            return self._no_team(request)
        except NotifySettingsError:
            return await self._refused(request, settings, team_slug, "no-webhook")
        except RefusedDestination as exc:  # nothing was contacted, so the answer tells nothing about the address
            if not request.htmx:
                return self._back(request, error="refused")
            message = f"The test webhook was not sent: {exc}. Webhooks go to public addresses only."
            return await self._card(request, settings, team_slug, 400, error=message)
        if delivery["status"] != "delivered":
            if not request.htmx:
                return self._back(request, error="test-webhook")
            message = f"The test webhook was not accepted: {delivery['last_error']}."
            return await self._card(request, settings, team_slug, error=message)
        if not request.htmx:
            return self._back(request, done="test-webhook")
        done = f"Test webhook delivered (HTTP {delivery['response_status']})."
        return await self._card(request, settings, team_slug, done=done)

    @post("/deliveries/{delivery_id:int}/retry", name="feedback:admin-delivery-retry", status_code=303)
    async def retry(
        self, request: HTMXRequest, delivery_id: FromPath[int], now: Now
    ) -> Template | Redirect | Response[Any]:
        """Put a failed delivery back to pending; the next delivery pass sends it."""
        status_code, notice, error = 200, DONE["retried"], ""
        try:
            await webhooks.retry_delivery(signed_in(request), delivery_id, now)
        except webhooks.UnknownDelivery:
            return error_page(request, 404, "Not found", "There is no such webhook delivery.")
        except webhooks.NotRetryable:
            status_code, notice, error = 400, "", ERRORS["not-retryable"]
        if not request.htmx:
            return self._back(request, done="retried") if not error else self._back(request, error="not-retryable")
        row = await webhooks.delivery(delivery_id)
        context = {"d": row, "notice": notice, "error": error, "language": "en"}
        return Template(template_name=ROW, context=context, status_code=status_code)

    # Responses ---------------------------------------------------------------------------------------------------

    def _back(self, request: HTMXRequest, *, done: str = "", error: str = "") -> Redirect:
        path = request.app.route_reverse("feedback:admin-notifications")
        return Redirect(path=path, query_params={"error": error} if error else {"done": done}, status_code=303)

    def _no_team(self, request: HTMXRequest) -> Response[Any]:
        return error_page(request, 404, "Not found", "There is no such team.")

    async def _page(
        self, request: HTMXRequest, settings: AppSettings, status_code: int = 200, **context: Any
    ) -> Template:
        """The whole page; `cards` (team slug → what that card shows besides its settings) for the one changed."""
        changed: dict[str, dict[str, Any]] = context.pop("cards", {})
        cards = []
        for card in await notify_settings.overview():
            extra = changed.get(card["notify"].slug, {})
            cards.append({**card, "form": _typed(card), **extra})
        return Template(
            template_name=PAGE,
            context={
                "language": "en",
                "user": request.user,
                "tab": "notifications",
                "cards": cards,
                "failed": await webhooks.failed_deliveries(),
                "recent": await webhooks.recent_deliveries(),
                "digest_hour": settings.digest_hour,
                "timezone": settings.shop_timezone,
                **context,
            },
            status_code=status_code,
            headers=NO_STORE if any("secret" in extra for extra in changed.values()) else None,
        )

    async def _card(
        self, request: HTMXRequest, settings: AppSettings, slug: str, status_code: int = 200, **extra: Any
    ) -> Template:
        """htmx: the team's card with `extra` (a message, typed values, a new secret); otherwise the whole page
        with that card so."""
        if not request.htmx:
            return await self._page(request, settings, status_code, cards={slug: extra})
        team = await notify_settings.notify_settings_of(slug)
        card = (await notify_settings.overview([team.team_id]))[0]
        context = {"language": "en", "card": {**card, "form": _typed(card), **extra}, "settings": settings}
        headers = NO_STORE if "secret" in extra else None
        return Template(template_name=CARD, context=context, status_code=status_code, headers=headers)

    async def _refused(
        self, request: HTMXRequest, settings: AppSettings, slug: str, code: str, status_code: int = 400
    ) -> Template | Redirect:
        if not request.htmx:
            return self._back(request, error=code)
        return await self._card(request, settings, slug, status_code, error=ERRORS[code])
