"""Topics in the browser: the admin page (roles, CSRF, audit, reset), a saved topic used by the next tagging pass
without a restart, routing rules naming a topic that is gone, re-tagging in the background with its progress, and
the shop's languages deciding the language of the next invitation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from afterglow import editable
from afterglow.overrides import current_settings, stored
from afterglow.settings import Settings
from feedback.analysis.topics import DEFAULT_TOPIC_KEYWORDS
from feedback.policy import Rule
from feedback.services import retag
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from feedback.services.topic_settings import job, record_job
from feedback.tables import FeedbackItem, Suggestion
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import OPEN_AT, invite

PAGE = "/app/admin/topics"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def post(client: AsyncTestClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(
        path, data={**data, "_csrf_token": client.cookies.get("csrftoken", "")}, follow_redirects=False
    )


def topic_form(topics: dict[str, dict[str, str]], remove: tuple[int, ...] = ()) -> dict[str, str]:
    """The page's form with these topics (language → "a, b"), as a browser sends it."""
    form = {"rows": str(len(topics) + 1), "languages": "en,de"}
    for i, (name, by_language) in enumerate(topics.items()):
        form[f"topic-{i}"] = name
        form |= {f"keywords-{i}-{lang}": words for lang, words in by_language.items()}
    form |= {f"remove-{i}": "1" for i in remove}
    return form


def defaults_with(**more: dict[str, str]) -> dict[str, dict[str, str]]:
    shown = {t: {lang: ", ".join(w) for lang, w in langs.items()} for t, langs in DEFAULT_TOPIC_KEYWORDS.items()}
    return {**shown, **more}


async def suggestion(text: str) -> int:
    rows = await Suggestion.insert(Suggestion(text=text, locale="en", created_at=NOW)).returning(Suggestion.id)
    return int(rows[0]["id"])


async def topics_of(feedback_id: int) -> list[str]:
    query = FeedbackItem.select(FeedbackItem.auto_topics).where(FeedbackItem.id == feedback_id)
    row = await query.output(load_json=True).first()
    return list(row["auto_topics"])


async def test_only_admins_see_and_change_topics(client: AsyncTestClient) -> None:
    await make_staff()
    for who in ("max", "sue"):
        assert await sign_in(client, who) == 303
        assert (await client.get(PAGE)).status_code == 403
        assert (await post(client, PAGE, topic_form({"gifts": {"en": "voucher"}}))).status_code == 403
        assert (await post(client, f"{PAGE}/reset", {})).status_code == 403
        assert (await post(client, f"{PAGE}/retag", {})).status_code == 403
        client.cookies.clear()
    assert await sign_in(client, "ada") == 303
    forged = await client.post(PAGE, data=topic_form({"gifts": {"en": "voucher"}}), follow_redirects=False)
    assert forged.status_code == 403
    assert await stored() == {}


async def test_a_new_topic_tags_the_next_feedback_without_a_restart_and_resets(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    page = (await client.get(PAGE)).text
    assert 'value="delivery"' in page and "Environment default" in page and 'aria-current="page">Topics' in page
    before = await ingest(
        "suggestion", await suggestion("Please sell a gift voucher for birthdays."), datetime.now(UTC)
    )
    assert before.feedback_id and await topics_of(before.feedback_id) == []

    saved = await post(client, PAGE, topic_form(defaults_with(gifts={"en": "Voucher, gift card", "de": "gutschein"})))
    assert saved.status_code == 303, saved.text
    assert (await current_settings()).topic_keywords["gifts"] == {"en": ("voucher", "gift card"), "de": ("gutschein",)}
    audited = AuditEvent.select(AuditEvent.detail).where(AuditEvent.action == "topics.changed")
    event = await audited.output(load_json=True).first()
    assert event and event["detail"]["added"] == ["gifts"]

    after = await ingest("suggestion", await suggestion("A gift voucher would be lovely."), datetime.now(UTC))
    assert after.feedback_id and await topics_of(after.feedback_id) == ["gifts"]
    page = (await client.get(PAGE)).text
    assert "Changed here" in page and "1 feedback item was tagged with other keywords" in page

    assert (await post(client, f"{PAGE}/reset", {})).status_code == 303
    assert editable.TOPICS not in await stored()
    again = await ingest("suggestion", await suggestion("Another gift voucher, please."), datetime.now(UTC))
    assert again.feedback_id and await topics_of(again.feedback_id) == []
    assert await AuditEvent.exists().where(AuditEvent.action == "topics.reset")


async def test_a_wrong_list_is_refused_and_renaming_and_removing_work(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    refused = await post(client, PAGE, topic_form({"gifts": {"en": " , "}}))
    assert (
        refused.status_code == 400
        and "Nothing was saved" in refused.text
        and "needs at least one keyword" in refused.text
    )
    assert await stored() == {}
    renamed = defaults_with()
    renamed["shipping"] = renamed.pop("delivery")
    assert (await post(client, PAGE, topic_form(renamed, remove=(0,)))).status_code == 303
    saved = (await current_settings()).topic_keywords
    assert saved is not None and "delivery" not in saved and "shipping" in saved and "packaging" not in saved


async def test_rules_naming_a_topic_that_is_gone_are_named_on_the_page(client: AsyncTestClient) -> None:
    await make_staff()
    await create_rule(Rule(0, "Late parcels", topics=frozenset({"delivery"}), archive=True), None, OPEN_AT)
    assert await sign_in(client, "ada") == 303
    assert "Late parcels" not in (await client.get(PAGE)).text
    topics = defaults_with()
    del topics["delivery"]
    assert (await post(client, PAGE, topic_form(topics))).status_code == 303
    page = (await client.get(PAGE)).text
    assert 'The routing rule "Late parcels" names the topic "delivery"' in page
    rules = (await client.get("/app/admin/routing/new")).text
    assert 'value="packaging"' in rules and 'value="delivery"' not in rules


async def test_re_tagging_runs_in_the_background_with_its_progress(client: AsyncTestClient) -> None:
    await make_staff()
    ids = [
        (await ingest("suggestion", await suggestion(f"Gift voucher number {n}."), datetime.now(UTC))).feedback_id
        for n in range(3)
    ]
    assert await sign_in(client, "ada") == 303
    assert (await post(client, PAGE, topic_form(defaults_with(gifts={"en": "voucher"})))).status_code == 303
    assert "3 feedback items were tagged with other keywords" in (await client.get(PAGE)).text

    started = await post(client, f"{PAGE}/retag", {})
    assert started.status_code == 303 and "done=" in started.headers["location"]
    assert [await topics_of(i) for i in ids if i] == [["gifts"]] * 3
    finished = await job()
    assert finished and finished.pop("at")
    assert finished == {
        "state": "done",
        "done": 3,
        "total": 3,
        "summary": {"reanalysed": 3, "labels_changed": 0, "sources_gone": 0},
    }
    page = (await client.get(PAGE)).text
    assert "tagged with other keywords" not in page and "3 items re-tagged" in page
    progress = await client.get(f"{PAGE}/retag", headers={"HX-Request": "true"})
    assert progress.status_code == 200 and "hx-trigger" not in progress.text  # done: no more polling
    assert await AuditEvent.exists().where(AuditEvent.action == "topics.retag_started")


async def test_the_shops_languages_decide_the_next_invitations_language(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    data = {"shop_languages": ["", "en", "de"], "default_language": "de"}
    saved = await client.post(
        "/app/admin/settings", data={**data, "_csrf_token": client.cookies.get("csrftoken", "")}, follow_redirects=False
    )
    assert saved.status_code == 303
    shop = await current_settings()
    assert shop.shop_languages == ("en", "de") and shop.default_language == "de"
    invited = await invite(client, api_headers, shop, locale="fr-FR")
    assert invited.email["subject"].startswith("Wie zufrieden sind Sie"), invited.email["subject"]
    time_machine.move_to(OPEN_AT, tick=True)
    survey = (await client.get(invited.survey_path)).text
    assert '<html lang="de">' in survey


async def test_the_job_stores_its_progress_batch_by_batch_and_the_bar_polls_meanwhile(
    client: AsyncTestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await ingest("suggestion", await suggestion(f"Parcel {n} came late."), datetime.now(UTC))
    written: list[tuple[str, int, int]] = []

    async def recorded(progress: dict[str, Any], by: str, now: datetime) -> None:
        written.append((progress["state"], progress["done"], progress["total"]))
        await record_job(progress, by, now)

    monkeypatch.setattr(retag, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(retag, "record_job", recorded)
    await retag.run_retag(datetime.now(UTC))
    assert written == [("running", 0, 3), ("running", 1, 3), ("running", 2, 3), ("running", 3, 3), ("done", 3, 3)]

    await make_staff()
    assert await sign_in(client, "ada") == 303
    await record_job({"state": "running", "done": 1, "total": 3, "summary": {}}, "", datetime.now(UTC))
    bar = (await client.get(f"{PAGE}/retag", headers={"HX-Request": "true"})).text
    assert 'hx-trigger="every 2s"' in bar and '<progress max="3" value="1">' in bar
    refused = await post(client, f"{PAGE}/retag", {})
    assert "under+way" in refused.headers["location"] or "under%20way" in refused.headers["location"]
