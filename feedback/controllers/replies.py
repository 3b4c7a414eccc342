"""Replying to customers and hearing back: the staff reply on an inbox item (`POST /app/inbox/{id}/reply`), and the
customer's conversation page behind the signed link in every reply email (`/r/{signed}`).

Both are plain forms that work without JavaScript (a post, then a 303 back); with htmx the handler returns the part
it swaps. Refused input comes back with the message and the typed text kept: 400 as a page, 422 as a partial."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, TooManyRequestsException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles
from accounts.services import Staff
from afterglow import i18n
from afterglow.ratelimit import LINK_LIMITS, RATE_LIMIT_STORE, digest, hit, too_many_requests_page
from afterglow.web import AppSettings, Form, Now, error_page, form_field, page
from feedback.services.inbound import (
    ANSWER_MAX,
    AnswerRefused,
    Conversation,
    ThreadClosed,
    UnknownThread,
    answer_on_page,
    open_conversation,
)
from feedback.services.replies import (
    REPLY_MAX,
    REPLYING_ROLES,
    ReplyArea,
    ReplyRefused,
    read_conversation_token,
    reply_area,
    write_reply,
)
from feedback.tasks import queue_reply
from surveys.services.links import LinkExpired, LinkInvalid

REPLY_FORM = "feedback/partials/reply_form.html"
CONVERSATION = "feedback/pages/conversation.html"
#: htmx listeners (the item page's timeline) can refresh on this event after a reply.
THREAD_CHANGED = "thread-changed"


class ReplyController(Controller):
    """Members reply on their teams' items (another team's item is 404), admins on any; managers read only (403)."""

    path = "/app/inbox"
    guards = [require_roles(*REPLYING_ROLES)]
    include_in_schema = False

    @post("/{item_id:int}/reply", name="feedback:reply", status_code=303)
    async def reply(
        self, request: HTMXRequest, item_id: FromPath[int], data: Form, now: Now, settings: AppSettings
    ) -> Template | Redirect:
        """Queue the reply for a worker to email, then back to the item (htmx: the reply area, updated)."""
        user: Staff = request.user
        area = await reply_area(user, item_id)
        if area is None:
            raise NotFoundException(detail="no such feedback in your inboxes")
        body = form_field(data, "body")
        try:
            entry_id = await write_reply(user, area, body, now, settings)
        except ReplyRefused as exc:
            status = 422 if request.htmx else 400
            return self._area(request, area, status, error=exc.message, typed=body, whole_page=not request.htmx)
        queued = await queue_reply(entry_id, now)
        if not request.htmx:
            return Redirect(path=request.app.route_reverse("feedback:item", item_id=item_id), status_code=303)
        fresh = await reply_area(user, item_id)
        notice = (
            f"Reply queued for {area.feedback['email']}."
            if queued
            else "Reply saved. It could not be queued right now; it goes out within minutes."
        )
        return self._area(request, fresh or area, 200, headers={"HX-Trigger": THREAD_CHANGED}, notice=notice)

    def _area(
        self, request: HTMXRequest, area: ReplyArea, status: int, headers: dict[str, str] | None = None, **context: Any
    ) -> Template:
        return page(
            REPLY_FORM,
            "en",
            status_code=status,
            headers=headers,
            user=request.user,
            item=area.item,
            feedback=area.feedback,
            thread=area.thread,
            can_act=True,
            reply_max=REPLY_MAX,
            **context,
        )


def conversation_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, LinkExpired):
        return error_page(
            request, 410, "This link has expired", "Please answer our latest email, or use the link it contains."
        )
    if isinstance(exc, ThreadClosed):
        return error_page(request, 410, "This link no longer works", "This conversation is closed.")
    if isinstance(exc, UnknownThread):
        return error_page(request, 404, "Conversation not found", "We could not find this conversation.")
    return error_page(
        request, 400, "This link does not work", "The link seems to be incomplete. Please open it again from the email."
    )


def conversation_page(
    signed: str,
    conversation: Conversation,
    settings: AppSettings,
    *,
    whole_page: bool,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Template:
    context = {"error": None, "typed": "", "sent": False, **extra}
    return page(
        CONVERSATION,
        conversation.language,
        status_code=status,
        headers=headers,
        signed=signed,
        conversation=conversation,
        shop_name=settings.shop_name,
        answer_max=ANSWER_MAX,
        whole_page=whole_page,
        **context,
    )


class ConversationController(Controller):
    """No sign-in: the signed link in a reply email is the key. Rate-limited per link and per address like the
    survey links, and answers per link per hour (`AFTERGLOW_RATE_ANSWERS_PER_LINK`)."""

    path = "/r/{signed:str}"
    exception_handlers = {
        LinkInvalid: conversation_error,
        LinkExpired: conversation_error,
        UnknownThread: conversation_error,
        ThreadClosed: conversation_error,
        TooManyRequestsException: too_many_requests_page,
    }
    middleware = LINK_LIMITS
    include_in_schema = False

    @get("/", name="feedback:conversation")
    async def show(
        self, signed: FromPath[str], now: Now, settings: AppSettings, sent: FromQuery[bool] = False
    ) -> Template:
        conversation = await open_conversation(read_conversation_token(settings, signed, now))
        return conversation_page(signed, conversation, settings, whole_page=True, sent=sent)

    @post("/", name="feedback:conversation-answer", status_code=303)
    async def answer(
        self, request: HTMXRequest, signed: FromPath[str], now: Now, settings: AppSettings, data: Form
    ) -> Template | Redirect:
        """Attach the answer to the thread (reopening a closed item). Refused: the form again, with the text."""
        conversation = await open_conversation(read_conversation_token(settings, signed, now))
        body = form_field(data, "body")
        whole_page = not request.htmx
        store = request.app.stores.get(RATE_LIMIT_STORE)
        refused = await hit(store, f"answers:{digest(signed)}", settings.rate_answers_per_link, 3600, now=now)
        if refused is not None:
            message = i18n.translate(
                conversation.language, "You have sent many answers in a short time. Please try again later."
            )
            return conversation_page(
                signed,
                conversation,
                settings,
                whole_page=whole_page,
                status=429 if whole_page else 422,  # htmx swaps 422 only: the message shows where the form is
                headers={"Retry-After": str(refused.seconds)},
                error=message,
                typed=body,
            )
        try:
            await answer_on_page(conversation, body, now)
        except AnswerRefused as exc:
            status = 400 if whole_page else 422
            return conversation_page(
                signed, conversation, settings, whole_page=whole_page, status=status, error=exc.message, typed=body
            )
        if whole_page:
            path = request.app.route_reverse("feedback:conversation", signed=signed)
            return Redirect(path=f"{path}?sent=1", status_code=303)
        conversation = await open_conversation(read_conversation_token(settings, signed, now))
        return conversation_page(signed, conversation, settings, whole_page=False, sent=True)
