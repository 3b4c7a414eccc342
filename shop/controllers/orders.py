"""The ingest API: orders and their events, authenticated by API key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath

from accounts.auth import API_LIMITS, require_api_key
from afterglow.apidocs import API_KEY_SECURITY
from afterglow.web import Now
from shop.policy import ImplausibleDate, check_date
from shop.schemas import EventAccepted, EventIn, OrderIn, OrderOut
from shop.services.orders import OrderNotFound, find_order, ingest_order, record_event
from shop.validation import problems


def _every_problem(shape: type[msgspec.Struct]) -> Callable[[Request], Awaitable[None]]:
    """A hook that answers 400 naming every invalid field of the body at once (msgspec alone names only the
    first); a body that is not a JSON object is left to the usual decoding, which answers 400 too."""

    async def check(request: Request) -> None:
        try:
            raw = await request.json()
        except ClientException:
            return
        found = problems(raw, shape) if isinstance(raw, dict) else []
        if found:
            keys = ", ".join(p["key"] for p in found)
            detail = f"Validation failed for {request.method} {request.url.path}: {keys}"
            raise ClientException(detail=detail, extra=[{**p, "source": "body"} for p in found])

    return check


class OrdersController(Controller):
    path = "/api/v1/orders"
    guards = [require_api_key]
    middleware = API_LIMITS
    tags = ["orders"]
    security = API_KEY_SECURITY

    @post(
        "/",
        name="orders:create",
        operation_id="CreateOrder",
        status_code=201,
        before_request=_every_problem(OrderIn),
    )
    async def create(self, data: Annotated[OrderIn, Body()], now: Now) -> Response[OrderOut]:
        """Store an order; sending the same `external_id` again returns the stored order with 200."""
        _plausible("placed_at", data.placed_at, now)
        order, created = await ingest_order(data)
        return Response(order, status_code=201 if created else 200)

    @get("/{external_id:str}", name="orders:detail", operation_id="GetOrder")
    async def detail(self, external_id: FromPath[str]) -> OrderOut:
        try:
            return await find_order(external_id)
        except OrderNotFound as exc:
            raise NotFoundException(detail=f"order {external_id!r} is unknown") from exc

    @post(
        "/{external_id:str}/events",
        name="orders:event",
        operation_id="RecordOrderEvent",
        status_code=202,
        before_request=_every_problem(EventIn),
    )
    async def event(self, external_id: FromPath[str], data: Annotated[EventIn, Body()], now: Now) -> EventAccepted:
        """Record what happened to the order: delivery, return, cancellation, complaints, support contacts."""
        _plausible("at", data.at, now)
        try:
            fresh = await record_event(external_id, data)
        except OrderNotFound as exc:
            raise NotFoundException(detail=str(exc)) from exc
        return EventAccepted(order=external_id, type=data.type, at=data.at, status="accepted" if fresh else "duplicate")


def _plausible(field: str, at: datetime, now: datetime) -> None:
    try:
        check_date(field, at, now)
    except ImplausibleDate as exc:
        raise ClientException(detail=exc.message, extra=[{"key": field, "message": exc.message}]) from exc
