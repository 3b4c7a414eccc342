"""Owners' wording of customer emails and the survey page: which templates exist, the variables each may use,
and the checks an edit must pass. Pure: no tables, no clock.

The invitation, reminder and survey page belong to surveys; the rejection email (reviews) and the staff reply
(feedback) are listed here too, so one editor and one set of checks serve every email a customer gets.

Every edited part is a small Jinja template run in a sandbox (`jinja2.sandbox.SandboxedEnvironment`): only the
documented variables exist, attributes of Python internals are refused, and an HTML part escapes every value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

#: Shown next to the editor; every email template may use these.
EMAIL_VARIABLES = {
    "customer_name": "the customer's name (may be empty)",
    "shop_name": "your shop's name",
    "order_number": "the order number",
    "survey_link": "the customer's own survey link (required)",
    "unsubscribe_link": "the one-click unsubscribe link (required)",
    "products": "the order's products: each has name, quantity, image_url and review_link",
    "is_support": "true for a survey after a support contact",
}
REJECTION_VARIABLES = {
    "customer_name": "the customer's name (may be empty)",
    "shop_name": "your shop's name",
    "product_name": "the product the review is about",
    "review_title": "the review's title (may be empty)",
    "reason": "why the review was not published, in the customer's language (required)",
    "edit_link": "the link to change the review (required; empty for a review that came without an invitation, "
    "so wrap it in {% if edit_link %}…{% endif %})",
}
REPLY_VARIABLES = {
    "customer_name": "the customer's first name (may be empty)",
    "shop_name": "your shop's name",
    "reply_text": "what the staff member wrote (required; paragraphs with their line breaks in the HTML body)",
    "staff_name": "the name of the staff member who replied",
    "conversation_link": "the page where the customer answers (required)",
    "quote": "what the customer wrote, to quote (may be empty; paragraphs in the HTML body)",
    "product_name": "the reviewed product, for a reply to a review (may be empty)",
    "is_review": "true for a reply to a product review",
    "greeted": "true when the reply text opens with a greeting of its own",
    "answer_by_email": "true when the customer may also answer by replying to the email",
}
PAGE_VARIABLES = {
    "customer_name": "the customer's name (may be empty)",
    "shop_name": "your shop's name",
    "order_number": "the order number",
}


@dataclass(frozen=True)
class Part:
    name: str
    label: str
    max_length: int
    html: bool = False
    multiline: bool = True


@dataclass(frozen=True)
class TemplateKind:
    key: str
    label: str
    parts: tuple[Part, ...]
    variables: Mapping[str, str]
    #: Variables that must appear in the output of each part marked multiline (the text and the HTML body).
    required: tuple[str, ...] = ()
    #: Stand-ins the checks render with; a required value must come out of the template, not merely be named.
    samples: Mapping[str, Any] = field(default_factory=dict)
    #: The values as the HTML body sees them (for example text made into paragraphs); the same when None.
    html_values: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None

    @property
    def is_email(self) -> bool:
        return bool(self.required)

    def values_for(self, part: Part, values: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.html_values(values) if part.html and self.html_values else values


EMAIL_PARTS = (
    Part("subject", "Subject", 200, multiline=False),
    Part("text", "Text body", 20_000),
    Part("html", "HTML body", 50_000, html=True),
)
PAGE_PARTS = (
    Part("intro", "Introduction", 1000),
    Part("csat_question", "Satisfaction question", 300, multiline=False),
    Part("nps_question", "Recommendation question", 300, multiline=False),
    Part("thanks", "Thank-you text", 1000),
)

#: Stand-ins the checks render with: a link must come out of the template, not merely be named in a dead branch.
SAMPLE_LINKS = {"survey_link": "https://check.invalid/s/sample", "unsubscribe_link": "https://check.invalid/u/sample"}
SAMPLE_VALUES: dict[str, Any] = {
    "customer_name": "Sample Customer",
    "shop_name": "Sample Shop",
    "order_number": "1001",
    "products": [{"name": "Sample product", "quantity": 1, "image_url": "", "review_link": "https://check.invalid/r"}],
    "is_support": False,
    **SAMPLE_LINKS,
}
REJECTION_SAMPLES: dict[str, Any] = {
    "customer_name": "Sample Customer",
    "shop_name": "Sample Shop",
    "product_name": "Sample product",
    "review_title": "Sample title",
    "reason": "Sample reason why",
    "edit_link": "https://check.invalid/s/sample/items/1",
}
REPLY_SAMPLES: dict[str, Any] = {
    "customer_name": "Sample",
    "shop_name": "Sample Shop",
    "reply_text": "Sample reply from the team",
    "staff_name": "Sample Staff",
    "conversation_link": "https://check.invalid/r/sample",
    "quote": "Sample feedback",
    "product_name": "Sample product",
    "is_review": False,
    "greeted": False,
    "answer_by_email": False,
}


def html_paragraphs(text: str, style: str = "margin:0 0 12px;") -> Markup:
    """Plain text as HTML paragraphs that keep its line breaks; every line escaped."""
    blocks = [block.strip("\n") for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return Markup("").join(
        Markup('<p style="{}">{}</p>').format(style, Markup("<br>").join(escape(line) for line in block.split("\n")))
        for block in blocks
    )


def reply_html_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "reply_text": html_paragraphs(values["reply_text"]),
        "quote": html_paragraphs(values["quote"], "margin:0 0 8px;"),
    }


TEMPLATES = {
    "invitation": TemplateKind(
        "invitation", "Invitation email", EMAIL_PARTS, EMAIL_VARIABLES, tuple(SAMPLE_LINKS), SAMPLE_VALUES
    ),
    "reminder": TemplateKind(
        "reminder", "Reminder email", EMAIL_PARTS, EMAIL_VARIABLES, tuple(SAMPLE_LINKS), SAMPLE_VALUES
    ),
    "review_rejected": TemplateKind(
        "review_rejected",
        "Review rejection email",
        EMAIL_PARTS,
        REJECTION_VARIABLES,
        ("reason", "edit_link"),
        REJECTION_SAMPLES,
    ),
    "reply": TemplateKind(
        "reply",
        "Reply to a customer",
        EMAIL_PARTS,
        REPLY_VARIABLES,
        ("reply_text", "conversation_link"),
        REPLY_SAMPLES,
        reply_html_values,
    ),
    "survey_page": TemplateKind("survey_page", "Survey page", PAGE_PARTS, PAGE_VARIABLES, (), SAMPLE_VALUES),
}


class WordingRefused(ValueError):
    """An edit that cannot be saved; `problems` maps each part to the reason, for the person who typed it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))
        self.problems = problems


def _environment(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=html, undefined=StrictUndefined, keep_trailing_newline=True)


ENVIRONMENTS = {True: _environment(True), False: _environment(False)}


def slot(key: str, language: str) -> str:
    return f"{key}:{language}"


def kind_of(key: str) -> TemplateKind:
    if key not in TEMPLATES:
        raise LookupError(key)
    return TEMPLATES[key]


def render_part(part: Part, source: str, values: Mapping[str, Any]) -> str:
    """One part rendered in the sandbox. WordingRefused (with the reason) instead of any template error."""
    try:
        out = ENVIRONMENTS[part.html].from_string(source).render(**values)
    except TemplateSyntaxError as exc:
        raise WordingRefused({part.name: f"line {exc.lineno}: {exc.message}"}) from None
    except SecurityError:
        raise WordingRefused(
            {part.name: "uses something templates may not reach (only the listed variables)"}
        ) from None
    except UndefinedError as exc:
        raise WordingRefused({part.name: f"{exc.message}; the variables are listed next to the editor"}) from None
    except Exception as exc:  # a filter on the wrong type, a division by zero: the owner's to fix
        raise WordingRefused({part.name: f"cannot be rendered: {exc}"}) from None
    return out.strip() if not part.multiline else out


def _check_part(kind: TemplateKind, part: Part, source: str) -> str | None:
    if not source.strip():
        return "is empty"
    if len(source) > part.max_length:
        return f"is {len(source)} characters long; at most {part.max_length}"
    if not part.multiline and "\n" in source.strip():
        return "must fit on one line"
    try:
        names = meta.find_undeclared_variables(ENVIRONMENTS[part.html].parse(source))
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    unknown = sorted(names - set(kind.variables))
    if unknown:
        allowed = ", ".join(kind.variables)
        return f"unknown variable {{{{ {unknown[0]} }}}}; you may use: {allowed}"
    try:
        out = render_part(part, source, kind.values_for(part, kind.samples))
    except WordingRefused as exc:
        return exc.problems[part.name]
    if part.multiline:
        for name in kind.required:
            if str(kind.samples[name]) not in out:
                return f"must contain {{{{ {name} }}}}: every {kind.label.lower()} carries it"
    return None


def check(key: str, fields: Mapping[str, str]) -> dict[str, str]:
    """The parts of an edit, each checked: present, within its length, compiling, only known variables, and the
    links every customer email must carry. Returns the clean parts; WordingRefused names each part's problem."""
    kind = kind_of(key)
    clean = {part.name: str(fields.get(part.name) or "").replace("\r\n", "\n") for part in kind.parts}
    problems = {}
    for part in kind.parts:
        if why := _check_part(kind, part, clean[part.name]):
            problems[part.name] = why
    if problems:
        raise WordingRefused(problems)
    return clean


def lacking(key: str, rendered: Mapping[str, str], values: Mapping[str, Any]) -> list[str]:
    """The required variables whose real value did not come out of a rendered email (a branch the checks' samples
    took but these values do not): such an email must not be sent in this wording."""
    kind = kind_of(key)
    missing = []
    for part in kind.parts:
        if not part.multiline:
            continue
        shown = kind.values_for(part, values)
        for name in kind.required:
            value = str(escape(shown[name]) if part.html else shown[name])
            if value not in rendered[part.name]:
                missing.append(f"{part.name}: {{{{ {name} }}}}")
    return missing


def render_all(key: str, fields: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, str]:
    """Every part of a checked template rendered with the real values; WordingRefused when a part is missing."""
    kind = kind_of(key)
    missing = [part.name for part in kind.parts if part.name not in fields]
    if missing:
        raise WordingRefused(dict.fromkeys(missing, "is missing"))
    return {part.name: render_part(part, fields[part.name], kind.values_for(part, values)) for part in kind.parts}
