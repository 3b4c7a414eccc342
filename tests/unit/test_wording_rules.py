"""The checks of an owner's wording: the links every customer email must carry, the sandbox, escaping, limits."""

from __future__ import annotations

import pytest

from surveys.wording_defaults import starter
from surveys.wording_rules import SAMPLE_VALUES, WordingRefused, check, render_all


def refused(key: str, **parts: str) -> dict[str, str]:
    with pytest.raises(WordingRefused) as caught:
        check(key, {**starter(key, "en"), **parts})
    return caught.value.problems


@pytest.mark.parametrize("key", ["invitation", "reminder", "survey_page"])
@pytest.mark.parametrize("language", ["en", "de", "hu"])
def test_every_starter_passes_its_own_checks(key: str, language: str) -> None:
    fields = check(key, starter(key, language))
    assert all(render_all(key, fields, SAMPLE_VALUES).values())


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
