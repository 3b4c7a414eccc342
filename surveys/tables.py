"""Invitations (when to ask whom, and why not), responses, and the mail log."""

from piccolo.columns import (
    JSON,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from shop.tables import Customer, Order, OrderEvent


class Invitation(Table):
    """One request for feedback. Its `due_at` decides when the scheduler looks at it again.

    status: scheduled → sending → sent → reminding → reminded, or skipped (with `skip_reason`).
    """

    order = ForeignKey(references=Order, index=True)
    customer = ForeignKey(references=Customer, index=True)
    kind = Varchar(length=16, default="order")  # order | support
    # One invitation per order ("order"), one per support contact ("support:<at>").
    dedupe_key = Varchar(length=200, unique=True)
    support_event = ForeignKey(references=OrderEvent, null=True, default=None)
    agent = Varchar(length=200, default="")
    status = Varchar(length=16, default="scheduled", index=True)
    due_at = Timestamptz(index=True)
    expires_at = Timestamptz()
    skip_reason = Varchar(length=32, default="")
    hold_reason = Varchar(length=32, default="")
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None, index=True)
    reminder_due_at = Timestamptz(null=True, default=None, index=True)
    reminder_sent_at = Timestamptz(null=True, default=None)
    opened_at = Timestamptz(null=True, default=None, index=True)
    answered_at = Timestamptz(null=True, default=None, index=True)
    token = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class Response(Table):
    """The customer's answers to one invitation; answering again updates this row."""

    invitation = ForeignKey(references=Invitation, unique=True)
    csat = Integer(null=True, default=None)
    nps = Integer(null=True, default=None)
    comment = Text(default="")
    locale = Varchar(length=16, default="en")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class SentEmail(Table):
    """Every email handed to SMTP (or the dev outbox), keyed by a stable Message-ID.

    status: handing_over (claimed just before SMTP's DATA: if the sender died there, whether it arrived is unknown,
    and it is never sent again by itself) → sent."""

    message_id = Varchar(length=200, unique=True)
    invitation = ForeignKey(references=Invitation, null=True, default=None, index=True)
    purpose = Varchar(length=32, default="invitation")
    to = Varchar(length=320)
    subject = Varchar(length=300)
    text = Text()
    html = Text()
    headers = JSON(default={})
    status = Varchar(length=16, default="sent", index=True)
    sent_at = Timestamptz(default=TimestamptzNow())


class TemplateOverride(Table):
    """An owner's wording of one customer email or page in one language, replacing the translated default.

    slot: "<template key>:<language>" (see `surveys.wording_rules.TEMPLATES`); fields: the edited parts by name
    (an email's subject, text and html; the survey page's intro, questions and thank-you)."""

    slot = Varchar(length=40, unique=True)
    fields = JSON(default={})
    updated_by = Varchar(length=100, default="")
    updated_at = Timestamptz(default=TimestamptzNow())
