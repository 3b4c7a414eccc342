"""The web application factory: `litestar --app app:create_app run`, or `afterglow run`."""

from __future__ import annotations

import gc
from typing import Any

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig

from accounts.auth import SESSION_STORE, session_auth, session_store, staff_auth_error
from accounts.controllers.admin import AdminController
from accounts.controllers.signin import SignInController
from afterglow import readers
from afterglow.apidocs import openapi_config
from afterglow.bodies import BodyRequest, RefuseUnreadableBodies
from afterglow.db import DATABASE_UNAVAILABLE, is_postgres, start_pool
from afterglow.health import health, ready
from afterglow.logs import RequestLogMiddleware
from afterglow.ratelimit import RATE_LIMIT_STORE, rate_limit_store, too_many_requests_json
from afterglow.settings import ROOT, Settings, get_settings
from afterglow.templating import environment
from afterglow.web import IdsInRange, database_unavailable, now, security_headers, server_error, settings_provider
from feedback.controllers.channels import NotificationsController
from feedback.controllers.dashboard import DashboardController
from feedback.controllers.inbound import InboundEmailController
from feedback.controllers.inbox import InboxController
from feedback.controllers.learning import LearningController
from feedback.controllers.replies import ConversationController, ReplyController
from feedback.controllers.rules import RoutingRulesController
from feedback.controllers.suggestions import SuggestionBoxController
from feedback.services.reply_preview import preview_reply
from operations.controllers.privacy import PrivacyController
from operations.controllers.settings import BrandController, SettingsController
from operations.controllers.shopify_privacy import ShopifyPrivacyController
from operations.controllers.start import StartController
from operations.controllers.tasks import BackgroundTasksController
from operations.controllers.topics import TopicsController
from operations.services.shopify_privacy import answer_shopify_privacy
from reviews.controllers.api import ProductsApiController
from reviews.controllers.customer import ItemReviewController
from reviews.controllers.feed import GoogleFeedController
from reviews.controllers.media import ReviewPhotoController
from reviews.controllers.staff import ReviewsController
from reviews.controllers.widget import ReviewWidgetController
from reviews.services.collect import SURVEY_SECTION
from reviews.services.rejection_email import preview_rejection
from shop.controllers.catalogue import CatalogueAdminController
from shop.controllers.orders import OrdersController
from shop.controllers.products import ProductsController
from shop.controllers.webhooks import WebhooksController
from surveys.controllers.outbox import DevOutboxController
from surveys.controllers.survey import ITEM_SECTION, SurveyController
from surveys.controllers.templates_admin import TemplatesController
from surveys.controllers.unsubscribe import UnsubscribeController
from surveys.services.wording_preview import EmailPreviews

WORDING_PREVIEWS: EmailPreviews = {"review_rejected": preview_rejection, "reply": preview_reply}


def _database_pool(settings: Settings) -> tuple[list[Any], list[Any]]:
    """A PostgreSQL connection pool for the web process, and its connections for single read statements
    (`afterglow.readers`); workers connect per task: each runs its own loop."""
    from piccolo.engine import engine_finder

    engine = engine_finder()
    if engine is None or not is_postgres(engine) or settings.db_pool_size <= 0:
        return [], []

    async def open_pool() -> None:
        await start_pool(engine, settings.db_pool_size)
        if settings.db_read_connections > 0:
            readers.start(engine.get_new_connection, settings.db_read_connections)  # type: ignore[attr-defined]

    async def close_pool() -> None:
        await readers.stop()
        await engine.close_connection_pool()  # type: ignore[attr-defined]

    return [open_pool], [close_pool]


def _keep_out_of_full_collections() -> None:
    """What start-up built (modules, routes, templates, pools) lives as long as the app: the collector's full
    passes skip it from now on. Walking it took ~100 ms, every few seconds under load: the pages' p99."""
    gc.freeze()


def _collect_everything_again() -> None:
    """Back to normal at shutdown: a process that builds another app (the tests) leaks nothing it froze."""
    gc.unfreeze()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    on_startup, on_shutdown = _database_pool(settings)
    handlers: list[Any] = [
        health,
        ready,
        StartController,
        OrdersController,
        ProductsController,
        WebhooksController,
        ShopifyPrivacyController,
        SurveyController,
        UnsubscribeController,
        ReviewPhotoController,
        ProductsApiController,
        ReviewWidgetController,
        GoogleFeedController,
        ItemReviewController,
        ConversationController,
        InboundEmailController,
        SuggestionBoxController,
        BrandController,
        Router(
            path="/",
            route_handlers=[
                SignInController,
                InboxController,
                ReplyController,
                DashboardController,
                ReviewsController,
                AdminController,
                PrivacyController,
                BackgroundTasksController,
                NotificationsController,
                RoutingRulesController,
                LearningController,
                CatalogueAdminController,
                TemplatesController,
                SettingsController,
                TopicsController,
            ],
            middleware=[session_auth(settings).middleware],
        ),
        create_static_files_router(path="/static", directories=[ROOT / "static"], name="static"),
    ]
    if settings.dev_outbox:
        handlers.append(DevOutboxController)
    app = Litestar(
        route_handlers=handlers,
        dependencies={
            "settings": Provide(settings_provider(settings)),
            "now": Provide(now, sync_to_thread=False),
            # The template editor previews the rejection email and the reply through reviews' and feedback's own path.
            "wording_previews": Provide(lambda: WORDING_PREVIEWS, sync_to_thread=False),
            # Shopify may send its privacy topics to the orders address: the shop app hands them to operations.
            "shopify_privacy": Provide(lambda: answer_shopify_privacy, sync_to_thread=False),
        },
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment())),
        openapi_config=openapi_config(settings.base_url),
        plugins=[HTMXPlugin()],
        request_class=BodyRequest,
        # Token-bearing public routes (/s/, /u/, /r/: a customer's conversation) and key-authenticated machine
        # routes (/api/, /webhooks/) need no CSRF cookie: the unguessable signed token (or the API key or HMAC)
        # already proves the request is meant. The widget lives in other sites' frames, where our cookies may not
        # arrive; its one write (a vote) is rate-limited. The suggestion box (exactly /feedback and
        # /feedback/embed, which shops frame) acts for no one: a forged post can only do what anyone may do
        # openly, leave a note; a single-use signed form token, a honeypot and a rate limit per address keep bots
        # out. Litestar searches these patterns anywhere in the path: each is anchored at its start, so a staff
        # URL that merely contains one (a team named "API") still needs the token.
        # The feeds (/feeds/) only read, and shared caches keep them: they set no cookie.
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.production,
            cookie_httponly=False,
            exclude=[r"^/(api|webhooks|s|u|r|widget|feeds)/", r"^/feedback(/embed)?/?$"],
        ),
        middleware=[IdsInRange, RefuseUnreadableBodies],
        before_send=[security_headers],
        stores={SESSION_STORE: session_store(settings), RATE_LIMIT_STORE: rate_limit_store(settings)},
        exception_handlers={
            NotAuthorizedException: staff_auth_error,
            PermissionDeniedException: staff_auth_error,
            TooManyRequestsException: too_many_requests_json,
            **dict.fromkeys(DATABASE_UNAVAILABLE, database_unavailable),
            HTTP_500_INTERNAL_SERVER_ERROR: server_error,
        },
        state=State({"settings": settings, ITEM_SECTION: SURVEY_SECTION}),
        on_startup=[*on_startup, _keep_out_of_full_collections],
        on_shutdown=[_collect_everything_again, *on_shutdown],
        debug=False,
        # Logging is set up once per process by afterglow.logs (JSON lines in production), not by Litestar.
        logging_config=None,
    )
    return RequestLogMiddleware.around(app)
