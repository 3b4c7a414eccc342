"""One customer who left data through every way in (order, survey, review with a photo, suggestion, conversation
page, emailed answer) and every place it spreads to (inbox, notes, replies, team emails, webhooks, task failures);
and a scan of every table and every file of the data folder for what identifies them."""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

from litestar.testing import AsyncTestClient
from piccolo.columns import JSON, Text, Varchar
from piccolo.conf.apps import Finder

from accounts.services import team_id
from afterglow.failures import record_failure
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from feedback.policy import Rule
from feedback.services.intake import ingest_pending
from feedback.services.notifications import send_urgent_notification
from feedback.services.notify_settings import store_notify_settings
from feedback.services.rules import create_rule
from feedback.services.webhooks import queue_item_webhooks
from feedback.tables import FeedbackItem, InboxItem, TeamChannel, ThreadEntry
from reviews.tables import Review, ReviewPhoto
from shop.tables import OrderItem
from surveys.services.emails import logged_message
from surveys.tables import Invitation, SentEmail
from tests.factories import event_payload, order_payload, photo_bytes
from tests.unit.reply_fixtures import answer_to, post_form
from tests.unit.survey_fixtures import DELIVERED_AT, OPEN_AT, SEND_AT, SURVEY_URL, UNSUBSCRIBE_URL, run_dispatch

EMAIL = "annabel.quist@example.org"
NAME = "Annabel Quist"
COMMENT = "The marmalade jar arrived cracked, Annabel here"
TITLE = "Zesty gooseberry kettle"
REVIEW_TEXT = "Whistles like a nightingale at dawn"
SUGGESTION = "Please stock quince paste in winter"
NOTE = "Rang Annabel on her mobile about the jar"
STAFF_REPLY = "Dear Annabel Quist, a new jar is on its way."
PUBLIC_REPLY = "Thank you, Annabel!"
ON_THE_PAGE = "Lovely, the replacement came with a bow"
BY_EMAIL = "Received the second jar intact, cheers"
FAILED_SMTP = f"SMTP 127.0.0.1:25: (550, '5.1.1 <{EMAIL}>: Recipient address rejected')"
#: What identifies the customer, and what they wrote; searched case-insensitively.
NEEDLES = ("annabel", "quist", COMMENT, TITLE, REVIEW_TEXT, SUGGESTION, ON_THE_PAGE, BY_EMAIL)

BOB_SAYS = "Bob remarks that the teapot is splendid"
CONVERSATION_URL = re.compile(r"https?://[^\s/]+(/r/[A-Za-z0-9_.\-]+)")
WEBHOOK_URL = "https://hooks.example.com/afterglow"


@dataclasses.dataclass
class Seeded:
    survey_path: str  # /s/<signed>
    item_path: str  # /s/<signed>/items/<id>
    unsubscribe_path: str  # /u/<signed>
    conversation_paths: list[str]  # /r/<signed>, one per thread staff replied on
    reply_email: EmailMessage  # a reply as it reached the customer, to answer again later
    photo_files: list[str]


async def invited(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, **who: str) -> str:
    """Order and delivery through the API, then the invitation email; returns its text."""
    external_id = who.pop("external_id")
    response = await client.post("/api/v1/orders", json=order_payload(external_id, **who), headers=api_headers)
    assert response.status_code == 201, response.text
    event = event_payload("delivered", DELIVERED_AT)
    assert (await client.post(f"/api/v1/orders/{external_id}/events", json=event, headers=api_headers)).is_success
    _, queued = await run_dispatch(SEND_AT, settings)
    [(invitation_id, _)] = queued
    mail = await SentEmail.select(SentEmail.text).where(SentEmail.invitation == invitation_id).first()
    return str(mail["text"])


async def routing(settings: Settings) -> None:
    """Order surveys reach Support as urgent (an email at once); reviews and suggestions as normal. Support has
    a webhook."""
    support = await team_id("support")
    await create_rule(Rule(0, "Orders", kind="csat", teams=(support,), priority="urgent"), None, OPEN_AT)
    await create_rule(Rule(0, "Reviews", kind="review", teams=(support,)), None, OPEN_AT)
    await create_rule(Rule(0, "Ideas", kind="suggestion", teams=(support,)), None, OPEN_AT)
    await store_notify_settings(
        support, {TeamChannel.webhook_url: WEBHOOK_URL, TeamChannel.webhook_secret: "s3"}, OPEN_AT
    )


async def suggest(client: AsyncTestClient, **fields: str) -> None:
    page = await client.get("/feedback")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token, page.text
    form = {"token": token.group(1), "name": "", "email": "", "website": "", **fields}
    assert (await client.post("/feedback", data=form, follow_redirects=False)).status_code == 303


def reply_as_received(row: dict, settings: Settings) -> EmailMessage:
    """The logged reply (dev outbox) as the customer's mail program shows it."""
    return message_from_bytes(bytes(logged_message(row, settings)), policy=email_policy.default)  # type: ignore[return-value]


async def staff_reply(staff: AsyncTestClient, item_id: int, body: str) -> dict:
    """Reply through the item page (the eager worker sends it to the dev outbox); the logged email."""
    assert (await post_form(staff, f"/app/inbox/{item_id}/reply", {"body": body})).status_code == 303
    query = SentEmail.select().where(SentEmail.purpose == "feedback-reply").order_by(SentEmail.id, ascending=False)
    return (await query.output(load_json=True).first()) or {}


async def seed(customer: AsyncTestClient, staff: AsyncTestClient, api_headers: dict[str, str], s: Settings) -> Seeded:
    """Everything Annabel leaves behind, and Bob's survey comment next to it. `customer` also plays the mail
    system; `staff` is signed in as an admin."""
    await routing(s)
    text = await invited(customer, api_headers, s, external_id="Q-1", email=EMAIL, name=NAME)
    await invited(customer, api_headers, s, external_id="B-1", email="bob@example.com", name="Bob Control")
    survey, unsubscribe = SURVEY_URL.search(text), UNSUBSCRIBE_URL.search(text)
    assert survey and unsubscribe
    survey_path = survey.group(1)
    answered = await customer.post(
        survey_path, data={"csat": "2", "nps": "3", "comment": COMMENT}, follow_redirects=False
    )
    assert answered.status_code == 303, answered.text
    bob = await Invitation.select(Invitation.id).where(Invitation.customer.email == "bob@example.com").first()
    bob_text = await SentEmail.select(SentEmail.text).where(SentEmail.invitation == bob["id"]).first()
    bob_link = SURVEY_URL.search(bob_text["text"])
    assert bob_link
    bob_answer = await customer.post(bob_link.group(1), data={"csat": "5", "comment": BOB_SAYS}, follow_redirects=False)
    assert bob_answer.status_code == 303

    item = await OrderItem.select(OrderItem.id).where(OrderItem.order.external_id == "Q-1").first()
    item_path = f"{survey_path}/items/{item['id']}"
    photo = [("photos", ("IMG_1.JPG", photo_bytes(gps=True), "image/jpeg"))]
    form = {"rating": "4", "title": TITLE, "text": REVIEW_TEXT}
    assert (await customer.post(item_path, data=form, files=photo, follow_redirects=False)).status_code < 400
    await suggest(customer, text=SUGGESTION, name=NAME, email=EMAIL)
    assert await ingest_pending(OPEN_AT)

    items = {
        row["feedback.kind"]: row["id"]
        for row in await InboxItem.select(InboxItem.id, InboxItem.feedback.kind).where(
            InboxItem.feedback.email == EMAIL
        )
    }
    assert sorted(items) == ["order", "review", "suggestion"], items
    assert await send_urgent_notification(items["order"], OPEN_AT, s) == "sent"
    assert len(await queue_item_webhooks(list(items.values()), OPEN_AT, s)) == 3

    assert (await post_form(staff, f"/app/inbox/{items['order']}/notes", {"note": NOTE})).status_code == 303
    review = await Review.select(Review.id).where(Review.customer.email == EMAIL).first()
    assert (await post_form(staff, f"/app/reviews/{review['id']}/reply", {"reply": PUBLIC_REPLY})).is_redirect
    replies = [await staff_reply(staff, items[kind], STAFF_REPLY) for kind in ("order", "suggestion")]
    paths = [found.group(1) for row in replies if (found := CONVERSATION_URL.search(row["text"]))]
    assert len(paths) == 2
    on_page = await customer.post(paths[0], data={"body": ON_THE_PAGE}, follow_redirects=False)
    assert on_page.status_code == 303, on_page.text
    email = reply_as_received(replies[0], s)
    emailed = await answer_email(customer, answer_to(email, BY_EMAIL, sender=f"{NAME} <{EMAIL}>"), s)
    assert emailed.status_code == 201, emailed.text
    entry = await ThreadEntry.select(ThreadEntry.id).where(ThreadEntry.kind == "reply").first()
    await record_failure(
        "t-1", "feedback.send_reply", [entry["id"]], {}, MailNotSent(FAILED_SMTP), OPEN_AT, next_retry_at=None
    )

    photos = [row["file_name"] for row in await ReviewPhoto.select(ReviewPhoto.file_name)]
    assert len(photos) == 1 and await FeedbackItem.count().where(FeedbackItem.email == EMAIL) == 3
    return Seeded(survey_path, item_path, unsubscribe.group(1), paths, email, photos)


async def answer_email(inbound: AsyncTestClient, raw: bytes, settings: Settings) -> object:
    headers = {"Content-Type": "message/rfc822", "Authorization": f"Bearer {settings.inbound_secret}"}
    return await inbound.post("/webhooks/inbound-email", content=raw, headers=headers)


# Scanning -----------------------------------------------------------------------------------------------------


async def found_in_tables(needles: tuple[str, ...]) -> dict[str, set[str]]:
    """For each needle, the `table.column`s of every app's tables whose text, varchar or JSON holds it."""
    found: dict[str, set[str]] = {needle: set() for needle in needles}
    for table in Finder().get_table_classes():
        columns = [c for c in table._meta.columns if isinstance(c, Varchar | Text | JSON)]
        if not columns:
            continue
        for row in await table.select(*columns):
            for name, value in row.items():
                for needle in needles:
                    if needle.lower() in str(value).lower():
                        found[needle].add(f"{table._meta.tablename}.{name}")
    return found


def found_in_files(folder: Path, needles: tuple[str, ...]) -> dict[str, set[str]]:
    """For each needle, the files under `folder` (the SQLite database among them) whose bytes hold it."""
    found: dict[str, set[str]] = {needle: set() for needle in needles}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes().lower()
        for needle in needles:
            if needle.lower().encode() in data:
                found[needle].add(str(path.relative_to(folder)))
    return found
