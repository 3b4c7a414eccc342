"""The checks of an owner's wording: the links every customer email must carry, the sandbox, escaping, limits."""

from __future__ import annotations

import pytest

from surveys.wording_defaults import starter
from surveys.wording_rules import REPLY_SAMPLES, SAMPLE_VALUES, TEMPLATES, WordingRefused, check, lacking, render_all


def refused(key: str, **parts: str) -> dict[str, str]:
    with pytest.raises(WordingRefused) as caught:
        check(key, {**starter(key, "en"), **parts})
    return caught.value.problems


@pytest.mark.parametrize("key", list(TEMPLATES))
@pytest.mark.parametrize("language", ["en", "de", "hu"])
def test_every_starter_passes_its_own_checks(key: str, language: str) -> None:
    fields = check(key, starter(key, language))
    assert all(render_all(key, fields, TEMPLATES[key].samples).values())


def test_the_german_starter_is_german() -> None:
    assert starter("invitation", "de")["subject"].startswith("Wie zufrieden")


@pytest.mark.parametrize("link", ["survey_link", "unsubscribe_link"])
@pytest.mark.parametrize("key", ["invitation", "reminder"])
def test_an_email_without_a_required_link_is_refused_with_the_reason(key: str, link: str) -> None:
    fields = starter(key, "en")
    problems = refused(key, text=fields["text"].replace(f"{{{{ {link} }}}}", ""))
    assert problems == {"text": f"must contain {{{{ {link} }}}}: every {key} email carries it"}
    assert "html" in refused(key, html=fields["html"].replace(f"{{{{ {link} }}}}", ""))


def test_a_link_in_a_branch_that_never_renders_does_not_count() -> None:
    problems = refused("invitation", text="{% if false %}{{ survey_link }}{% endif %} {{ unsubscribe_link }}")
    assert problems["text"].startswith("must contain {{ survey_link }}")


@pytest.mark.parametrize(
    "trick",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ products.__class__.__init__.__globals__ }}",
        "{{ customer_name.format.__globals__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_tricks(trick: str) -> None:
    problems = refused("invitation", html=f"{trick} {{{{ survey_link }}}} {{{{ unsubscribe_link }}}}")
    assert "html" in problems and "class" not in problems["html"].replace("{{", "")


def test_an_unknown_variable_is_named_with_the_ones_allowed() -> None:
    problems = refused("invitation", subject="Hi {{ first_name }}")
    assert problems["subject"].startswith("unknown variable {{ first_name }}; you may use: customer_name")


def test_a_syntax_error_names_its_line() -> None:
    problems = refused("invitation", text="{{ survey_link }}\n{{ unsubscribe_link }}\n{% if %}")
    assert problems["text"].startswith("line 3: ")


def test_lengths_and_empty_parts_are_refused() -> None:
    assert refused("invitation", subject="x" * 201)["subject"] == "is 201 characters long; at most 200"
    assert refused("survey_page", thanks="  ")["thanks"] == "is empty"
    assert refused("invitation", subject="one\ntwo")["subject"] == "must fit on one line"


def test_customer_names_are_escaped_in_html_and_kept_in_text() -> None:
    fields = check("invitation", starter("invitation", "en"))
    values = {**SAMPLE_VALUES, "customer_name": '<script>alert("x")</script>'}
    out = render_all("invitation", fields, values)
    assert "<script>" not in out["html"] and "&lt;script&gt;" in out["html"]
    assert '<script>alert("x")</script>' in out["text"]


def test_a_reply_keeps_its_paragraphs_and_line_breaks_in_html_escaped_and_its_text_as_written() -> None:
    fields = check("reply", starter("reply", "en"))
    text = "Sorry <b>Ann</b>!\nLine two.\n\nNew paragraph."
    out = render_all("reply", fields, {**REPLY_SAMPLES, "reply_text": text, "quote": ""})
    assert '<p style="margin:0 0 12px;">Sorry &lt;b&gt;Ann&lt;/b&gt;!<br>Line two.</p>' in out["html"]
    assert '<p style="margin:0 0 12px;">New paragraph.</p>' in out["html"]
    assert text in out["text"] and "What you wrote" not in out["text"] + out["html"]


def test_the_edit_link_may_sit_in_a_branch_for_reviews_without_an_invitation() -> None:
    fields = check("review_rejected", starter("review_rejected", "en"))
    out = render_all("review_rejected", fields, {**TEMPLATES["review_rejected"].samples, "edit_link": ""})
    assert "change your review" not in out["text"] and "href" not in out["html"]


def test_a_required_value_left_out_by_a_branch_the_samples_did_not_take_is_named() -> None:
    starting = starter("reply", "en")
    fields = check(
        "reply", {**starting, "text": "{% if not greeted %}{{ reply_text }}{% endif %} {{ conversation_link }}"}
    )
    values = {**REPLY_SAMPLES, "greeted": True, "reply_text": "Hello Ann, sorry!"}
    assert lacking("reply", render_all("reply", fields, values), values) == ["text: {{ reply_text }}"]
    assert lacking("reply", render_all("reply", fields, REPLY_SAMPLES), REPLY_SAMPLES) == []
