"""Team webhooks reach public addresses only: the notifications page refuses a URL that points inside (every way of
writing an address), sending refuses a host that resolves inside, the test button says so without connecting, and
the allow-list (AFTERGLOW_WEBHOOK_ALLOWED_HOSTS) lets a named internal host through. DNS is faked and every
connection is recorded; one to anything but 127.0.0.1 is refused by the test, so nothing leaves this machine."""

from __future__ import annotations

import dataclasses
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpx
import pytest
from litestar.testing import AsyncTestClient

from accounts.services import team_id
from afterglow.settings import Settings, load
from app import create_app
from bench.harness import free_port
from feedback.services.destinations import url_refusal
from feedback.services.notify_settings import store_notify_settings
from feedback.services.webhooks import deliver_now, queue_item_webhooks
from feedback.tables import TeamChannel, WebhookDelivery
from tests.unit.notify_fixtures import routed_review, routing_rules, webhook_receiver
from tests.unit.staff_fixtures import make_staff, sign_in

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
PAGE = "/app/admin/notifications"
HTMX = {"HX-Request": "true"}
SECRET = re.compile(r'id="webhook-secret">([^<]+)<')
TRICKS = [
    ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]:8080/hook", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:8080/hook", "::ffff:127.0.0.1 is a loopback address"),
    ("http://0x7f000001:8080/hook", "0x7f000001 is a loopback address"),
    ("http://2130706433:8080/hook", "2130706433 is a loopback address"),
    ("http://0177.0.0.1:8080/hook", "0177.0.0.1 is a loopback address"),
    ("http://localhost:8080/hook", "localhost is an internal host name"),
    ("http://127.1:8080/hook", "127.1 is a loopback address"),
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
]


async def post(client: AsyncTestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, follow_redirects=False, **kwargs)


@dataclasses.dataclass
class Network:
    """The fake DNS (name → its answers, the last one repeating) and every connection attempted, by address."""

    answers: dict[str, list[list[str]]] = dataclasses.field(default_factory=dict)
    lookups: list[str] = dataclasses.field(default_factory=list)
    connections: list[tuple[str, int]] = dataclasses.field(default_factory=list)


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    net = Network()
    connect = anyio.connect_tcp

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        net.lookups.append(name)
        if name not in net.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        found = net.answers[name].pop(0) if len(net.answers[name]) > 1 else net.answers[name][0]
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, int(port))) for a in found]

    async def connect_tcp(remote_host: Any, remote_port: int, **kwargs: Any) -> Any:
        net.connections.append((str(remote_host), remote_port))
        if str(remote_host) != "127.0.0.1":
            raise OSError(f"the test network reaches 127.0.0.1 only, not {remote_host}")
        return await connect(remote_host, remote_port, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(anyio, "connect_tcp", connect_tcp)
    return net


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """Production's default: no internal host allowed (the test run allows 127.0.0.1 for its receivers)."""
    return dataclasses.replace(settings, webhook_allowed_hosts=())


async def signed_in_admin(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        await make_staff()
        assert await sign_in(client, "ada") == 303
        yield client


@pytest.fixture
async def admin(strict: Settings) -> AsyncIterator[AsyncTestClient]:
    async for client in signed_in_admin(strict):
        yield client


async def hook_support(url: str) -> None:
    """A webhook URL stored as it is (saved before these checks existed, or its name resolves elsewhere now)."""
    values = {TeamChannel.webhook_url: url, TeamChannel.webhook_secret: "whsec_test"}
    await store_notify_settings(await team_id("support"), values, NOW - timedelta(days=1))


@contextmanager
def redirecting_receiver(location: str) -> Iterator[dict[str, Any]]:
    """An HTTP server on 127.0.0.1 that answers every POST with 307 to `location`, counting the requests."""
    seen = {"port": free_port(), "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen["requests"] += 1
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", seen["port"]), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("url", "reason"), TRICKS)
async def test_the_page_refuses_a_webhook_url_that_points_inside(
    admin: AsyncTestClient, network: Network, url: str, reason: str
) -> None:
    refused = await post(admin, f"{PAGE}/teams/support", {"webhook_url": url}, headers=HTMX)
    assert refused.status_code == 400
    assert f"Webhooks go to public addresses only: {reason}." in refused.text
    assert await TeamChannel.count() == 0
    assert network.lookups == [] and network.connections == []


@pytest.mark.parametrize(("url", "reason"), TRICKS)
async def test_the_test_button_refuses_an_internal_url_without_connecting(
    admin: AsyncTestClient, network: Network, url: str, reason: str
) -> None:
    await hook_support(url)
    tested = await post(admin, f"{PAGE}/teams/support/test-webhook", headers=HTMX)
    assert tested.status_code == 400
    assert f"The test webhook was not sent: {reason}." in tested.text
    assert network.connections == []
    plain = await post(admin, f"{PAGE}/teams/support/test-webhook")
    assert (plain.status_code, plain.headers["location"]) == (303, f"{PAGE}?error=refused")
    assert network.connections == []
    rows = await WebhookDelivery.select(WebhookDelivery.status, WebhookDelivery.response_status)
    assert rows == [{"status": "failed", "response_status": None}] * 2  # kept under recent deliveries


async def test_a_public_name_that_resolves_to_loopback_is_refused_when_sending(
    admin: AsyncTestClient, network: Network
) -> None:
    network.answers["hooks.shop-example.com"] = [["127.0.0.1"]]
    saved = await post(admin, f"{PAGE}/teams/support", {"webhook_url": "http://hooks.shop-example.com:8080/h"})
    assert saved.status_code == 200 and "settings saved" in saved.text  # saving cannot tell: it looks nothing up
    tested = await post(admin, f"{PAGE}/teams/support/test-webhook", headers=HTMX)
    assert tested.status_code == 400
    assert "hooks.shop-example.com resolves to 127.0.0.1, which is a loopback address" in tested.text
    assert network.connections == []


async def test_a_delivery_to_a_name_with_any_internal_address_fails_at_once_unsent(
    strict: Settings, network: Network
) -> None:
    await make_staff()
    await routing_rules()
    network.answers["hooks.shop-example.com"] = [["93.184.216.34", "10.1.2.3"]]
    await hook_support("https://hooks.shop-example.com/afterglow")
    (made,) = await queue_item_webhooks(await routed_review(1, "Broken.", NOW), NOW, strict)
    assert await deliver_now(made, NOW, strict) == "refused"
    row = await WebhookDelivery.select().where(WebhookDelivery.id == made).first()
    assert (row["status"], row["attempts"], row["next_attempt_at"], row["response_status"]) == ("failed", 1, None, None)
    assert row["last_error"] == "not sent: hooks.shop-example.com resolves to 10.1.2.3, which is a private address"
    assert network.connections == []


async def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    strict: Settings, network: Network
) -> None:
    """DNS rebinding: the first answer is public, every later one loopback; the connection goes to the first."""
    await make_staff()
    await routing_rules()
    network.answers["rebind.shop-example.com"] = [["93.184.216.34"], ["127.0.0.1"]]
    await hook_support("http://rebind.shop-example.com:8080/afterglow")
    (made,) = await queue_item_webhooks(await routed_review(1, "Broken.", NOW), NOW, strict)
    assert await deliver_now(made, NOW, strict) == "retrying"  # the public address does not answer here
    assert network.lookups == ["rebind.shop-example.com"]
    assert network.connections == [("93.184.216.34", 8080)]


async def test_a_redirect_from_an_allowed_receiver_is_not_followed(settings: Settings, network: Network) -> None:
    allowed = dataclasses.replace(settings, webhook_allowed_hosts=("127.0.0.1",))
    with redirecting_receiver("http://169.254.169.254/latest/meta-data/") as receiver:
        async for admin in signed_in_admin(allowed):
            await hook_support(f"http://127.0.0.1:{receiver['port']}/hook")
            tested = await post(admin, f"{PAGE}/teams/support/test-webhook", headers=HTMX)
            assert tested.status_code == 200
            assert "not accepted: HTTP 307 (a redirect, not followed: set the final URL)" in tested.text
    assert receiver["requests"] == 1
    assert network.connections == [("127.0.0.1", receiver["port"])]


async def test_the_allow_list_lets_a_named_internal_host_and_port_through(settings: Settings, network: Network) -> None:
    with webhook_receiver(clock=lambda: datetime.now(UTC)) as receiver:
        host = f"webhooks.internal:{receiver.port}"
        network.answers["webhooks.internal"] = [["127.0.0.1"]]
        allowed = dataclasses.replace(settings, webhook_allowed_hosts=(host,))
        async for admin in signed_in_admin(allowed):
            other = await post(admin, f"{PAGE}/teams/support", {"webhook_url": "http://webhooks.internal:9/"})
            assert other.status_code == 400 and "webhooks.internal is an internal host name" in other.text
            saved = await post(admin, f"{PAGE}/teams/support", {"webhook_url": f"http://{host}/h"}, headers=HTMX)
            assert saved.status_code == 200
            secret = SECRET.search(saved.text)
            assert secret
            receiver.secret = secret.group(1)
            tested = await post(admin, f"{PAGE}/teams/support/test-webhook", headers=HTMX)
            assert "Test webhook delivered (HTTP 200)." in tested.text
    (got,) = receiver.received
    assert got.signed and got.headers["Host"] == host  # the name travels in the Host header
    assert network.lookups == ["webhooks.internal"]
    assert network.connections == [("127.0.0.1", receiver.port)]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe is a link-local address"),  # NAT64
        ("https://[2002:7f00:1::]/", "2002:7f00:1:: is a loopback address"),  # 6to4
        ("https://224.0.0.1/", "224.0.0.1 is a multicast address"),
        ("https://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("https://240.0.0.1/", "240.0.0.1 is a reserved address"),
        ("https://100.64.0.1/", "100.64.0.1 is a non-public address"),
        ("https://metadata.google.internal/", "metadata.google.internal is an internal host name"),
        ("https://redis:6379/", "redis is a single-label (internal) host name"),
        ("https://0x7f.1/", "0x7f.1 is a loopback address"),
        ("https://hooks.slack.com/services/T0/B0/x", ""),
        ("https://93.184.216.34/", ""),
        ("https://1.2.3.example/", ""),
    ],
)
def test_what_a_url_says_about_where_it_goes(url: str, reason: str) -> None:
    assert url_refusal(url) == reason


def test_the_allow_list_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERGLOW_WEBHOOK_ALLOWED_HOSTS", " Hooks.Internal, 10.0.0.5:8080 ,")
    assert load().webhook_allowed_hosts == ("hooks.internal", "10.0.0.5:8080")
    assert url_refusal("http://10.0.0.5:8080/x", load().webhook_allowed_hosts) == ""
    assert url_refusal("http://10.0.0.5:8081/x", load().webhook_allowed_hosts) == "10.0.0.5 is a private address"
    monkeypatch.setenv("AFTERGLOW_WEBHOOK_ALLOWED_HOSTS", "hooks.internal/path")
    with pytest.raises(RuntimeError, match="not a host or host:port"):
        load()
