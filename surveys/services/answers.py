"""What a customer does with a survey link: open it, answer (in parts, as often as they like), unsubscribe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afterglow import hotsql, i18n
from afterglow.celery_app import announce_saved
from afterglow.errors import FieldError
from afterglow.kinds import COLUMN_SCALES
from afterglow.settings import Settings
from shop.services.orders import unsubscribe_customer
from surveys.services import survey_read, wording
from surveys.services.links import read_survey_token, read_unsubscribe_token
from surveys.tables import Invitation, Response

COMMENT_MAX = 5000


@dataclass(frozen=True)
class ItemSection:
    """What another app adds to the survey page for the order's items. The reviews app provides it through app.py;
    surveys never imports reviews."""

    #: (survey kind, items, version) → what the page shows. `version` is what `version_sql` gave in the statement
    #: that read the items (None when not read): an answer may be kept under it.
    read: Callable[[str, list[dict[str, Any]], str | None], Awaitable[list[Any]]]
    #: A scalar SQL expression over the invitation row `i`, read with the items, that changes whenever what `read`
    #: answers for them may change.
    version_sql: str = "NULL"


class UnknownInvitation(LookupError):
    """A correctly signed link whose invitation no longer exists."""


class InvalidAnswer(FieldError):
    """An answer outside its scale or too long; names the field."""


class EmptyAnswer(InvalidAnswer):
    """A submission with no score and no comment: nothing to store."""


@dataclass
class Answers:
    """What one submission carries; None means "not given this time", not "cleared"."""

    csat: int | None = None
    nps: int | None = None
    comment: str | None = None

    @property
    def empty(self) -> bool:
        """No score and no words: "Send" pressed on an untouched form."""
        return self.csat is None and self.nps is None and not self.comment


@dataclass
class SurveyView:
    invitation_id: int
    token: str
    kind: str
    language: str
    customer_name: str
    order_number: str
    agent: str
    items: list[dict[str, Any]] = field(default_factory=list)
    csat: int | None = None
    nps: int | None = None
    comment: str = ""
    answered: bool = False
    #: The delivered items offered for review, with the customer's reviews (see `ItemSection`).
    item_reviews: list[Any] = field(default_factory=list)
    #: The owner's wording of the page's texts by part (Admin → Templates); a missing part shows the default.
    wording: dict[str, str] = field(default_factory=dict)


def parse_answers(form: dict[str, Any], language: str) -> Answers:
    """Read answers from form fields, strictly: a score must be a whole number on its scale."""
    answers = Answers()
    for name in ("csat", "nps"):
        low, high = COLUMN_SCALES[name]
        raw = form.get(name)
        if raw is None or str(raw).strip() == "":
            continue
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise InvalidAnswer(name, i18n.translate(language, "Please choose one of the options.")) from None
        if not low <= value <= high:
            raise InvalidAnswer(name, i18n.translate(language, "Please choose one of the options."))
        setattr(answers, name, value)
    if "comment" in form and form["comment"] is not None:
        comment = str(form["comment"]).replace("\r\n", "\n").strip()
        if len(comment) > COMMENT_MAX:
            raise InvalidAnswer(
                "comment",
                i18n.translate(language, "Please keep your comment under %(max)s characters.") % {"max": COMMENT_MAX},
            )
        answers.comment = comment
    return answers


@dataclass(frozen=True)
class Linked:
    """The invitation behind a survey link, and the language its customer reads."""

    id: int
    language: str


_LINKED = "SELECT i.id, c.locale FROM invitation i JOIN customer c ON c.id = i.customer WHERE i.token = $1"


async def invitation_for_link(signed: str, now: datetime, settings: Settings) -> Linked:
    """The invitation a survey link belongs to; LinkInvalid, LinkExpired or UnknownInvitation otherwise."""
    token = read_survey_token(settings, signed, now)
    rows = await hotsql.fetch(_LINKED, token)
    if not rows:
        raise UnknownInvitation(token)
    return Linked(int(rows[0]["id"]), i18n.customer_language(rows[0]["locale"], settings))


async def open_survey(
    invitation_id: int,
    now: datetime | None = None,
    section: ItemSection | None = None,
    shop_name: str | None = None,
    settings: Settings | None = None,
) -> SurveyView:
    """Everything the survey page shows. Given `now`, a first opening is recorded (one write, ever). Given
    `section`, what it gives for the order's items lands in `view.item_reviews`. Given `shop_name`, the
    owner's wording of the page (if any) lands in `view.wording`; given `settings`, the page is in the shop's
    default language for a customer whose language the shop does not use."""
    async with hotsql.one_connection():
        found = await survey_read.read_by_id(invitation_id, _version_sql(section))
        if found is None:
            raise UnknownInvitation(invitation_id)
        view = await _view(found, section, shop_name, settings)
    await _record_opening(found, now)
    return view


async def open_survey_link(signed: str, now: datetime, section: ItemSection, settings: Settings) -> SurveyView:
    """`open_survey` for the page behind a signed link, read by its token (LinkInvalid, LinkExpired or
    UnknownInvitation otherwise). A repeat view is one statement, so it takes no connection of its own for the
    page: the reviews section, when it is not kept, reads on another."""
    token = read_survey_token(settings, signed, now)
    found = await survey_read.read_by_token(token, _version_sql(section))
    if found is None:
        raise UnknownInvitation(token)
    view = await _view(found, section, settings.shop_name, settings)
    await _record_opening(found, now)
    return view


def _version_sql(section: ItemSection | None) -> str:
    return section.version_sql if section is not None else "NULL"


async def _record_opening(found: survey_read.SurveyRead, now: datetime | None) -> None:
    """A first opening is written once, after the reads have given their connection back."""
    if now is not None and found.invitation["opened_at"] is None:
        await Invitation.update({Invitation.opened_at: now}).where(
            (Invitation.id == found.invitation["id"]) & Invitation.opened_at.is_null()
        )


async def _view(
    found: survey_read.SurveyRead,
    section: ItemSection | None,
    shop_name: str | None,
    settings: Settings | None,
) -> SurveyView:
    inv, items, response = found.invitation, found.items, found.response
    extra = await section.read(inv["kind"], items, found.section_version) if section is not None else []
    locale = inv["customer.locale"]
    language = i18n.customer_language(locale, settings) if settings else i18n.language_for(locale)
    fields = found.page_wording(language) if shop_name is not None else None
    view = SurveyView(
        invitation_id=inv["id"],
        token=inv["token"],
        kind=inv["kind"],
        language=language,
        customer_name=inv["customer.name"],
        order_number=inv["order.external_id"],
        agent=inv["agent"],
        items=[{key: item[key] for key in ("id", "sku", "name", "quantity")} for item in items],
        answered=inv["answered_at"] is not None,
    )
    view.item_reviews = extra
    values = wording.page_values(inv["customer.name"], inv["order.external_id"], shop_name or "")
    view.wording = wording.page_wording(fields, values, inv["kind"])
    if response:
        view.csat, view.nps, view.comment = response["csat"], response["nps"], response["comment"]
    return view


#: `save_answers` on PostgreSQL as one statement (one round trip, atomic as any statement): the answer given is
#: upserted, a score or words mark the invitation answered. A NULL parameter is an answer not given this time.
_SAVE = """
WITH saved AS (
    INSERT INTO response (invitation, csat, nps, comment, locale, created_at, updated_at)
    VALUES ($1, $2, $3, COALESCE($4, ''), $5, $6, $6)
    ON CONFLICT (invitation) DO UPDATE SET
        updated_at = excluded.updated_at,
        csat = COALESCE($2, response.csat),
        nps = COALESCE($3, response.nps),
        comment = COALESCE($4, response.comment)
    RETURNING id
), answered AS (
    UPDATE invitation SET answered_at = $6, reminder_due_at = NULL
    WHERE id = $1 AND answered_at IS NULL AND $7
)
SELECT id FROM saved
"""


async def save_answers(invitation_id: int, answers: Answers, language: str, now: datetime) -> int:
    """Store what was given, keeping earlier answers; one response row per invitation (a double submit updates
    it). One transaction: a connection lost half-way stores nothing, and the customer may simply send again."""
    answered = answers.csat is not None or answers.nps is not None or bool(answers.comment)
    if hotsql.postgres():
        args = (answers.csat, answers.nps, answers.comment, language, now, answered)
        return int((await hotsql.write(_SAVE, invitation_id, *args))[0]["id"])
    given = [
        column
        for column, value in (
            (Response.csat, answers.csat),
            (Response.nps, answers.nps),
            (Response.comment, answers.comment),
        )
        if value is not None
    ]
    row = Response(
        invitation=invitation_id,
        csat=answers.csat,
        nps=answers.nps,
        comment=answers.comment or "",
        locale=language,
        created_at=now,
        updated_at=now,
    )
    async with Response._meta.db.transaction():
        saved = (
            await Response.insert(row)
            .on_conflict(target=Response.invitation, action="DO UPDATE", values=[Response.updated_at, *given])
            .returning(Response.id)
        )
        if answered:
            await Invitation.update({Invitation.answered_at: now, Invitation.reminder_due_at: None}).where(
                (Invitation.id == invitation_id) & Invitation.answered_at.is_null()
            )
    return int(saved[0]["id"])


async def submit_answers(invitation_id: int, answers: Answers, language: str, now: datetime) -> int:
    """Save the answers (`save_answers`), then tell feedback intake that a response was saved. An empty
    submission (no score, no comment) stores nothing: EmptyAnswer asks for an answer. A score saved earlier (one
    click in the email) comes back checked in the form, so "Send" with it is never empty."""
    if answers.empty:
        raise EmptyAnswer(
            "answer", i18n.translate(language, "Please choose a score or write a few words before sending.")
        )
    response_id = await save_answers(invitation_id, answers, language, now)
    await announce_saved("survey", response_id)
    return response_id


def valid_scores(form: Mapping[str, Any]) -> dict[str, int]:
    """The scores in `form` (NPS first) that `parse_answers` accepts; the others are left out, not refused."""
    scores: dict[str, int] = {}
    for name in ("nps", "csat"):
        try:
            value = getattr(parse_answers({name: form.get(name)}, "en"), name)
        except InvalidAnswer:
            continue
        if value is not None:
            scores[name] = value
    return scores


async def unsubscribe(signed: str, now: datetime, settings: Settings) -> str:
    """Unsubscribe the customer behind an unsubscribe link; returns their language for the reply page."""
    token = read_unsubscribe_token(settings, signed)
    inv = (
        await Invitation.select(Invitation.customer, Invitation.customer.locale)
        .where(Invitation.token == token)
        .first()
    )
    if inv is None:
        raise UnknownInvitation(token)
    await unsubscribe_customer(inv["customer"], now)
    await Invitation.update({Invitation.reminder_due_at: None}).where(Invitation.customer == inv["customer"])
    return i18n.customer_language(inv["customer.locale"], settings)


async def unsubscribe_language(signed: str, settings: Settings) -> str:
    token = read_unsubscribe_token(settings, signed)
    inv = await Invitation.select(Invitation.customer.locale).where(Invitation.token == token).first()
    if inv is None:
        raise UnknownInvitation(token)
    return i18n.customer_language(inv["customer.locale"], settings)
