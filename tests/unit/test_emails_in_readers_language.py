"""Every email in its reader's language: the rejection email's common reasons in the customer's, team emails
(urgent, daily digest, test) in the language each staff member chose; English stays English. The language is
chosen on the admin users page (or when the user is invited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from accounts.management import staff_list
from accounts.services import Staff, create_staff, email_languages, staff
from accounts.tables import AuditEvent, StaffProfile
from afterglow.settings import Settings
from feedback.dashboard.digest import claim_due_digests, send_manager_digest
from feedback.services.digests import send_team_digests
from feedback.services.notifications import send_test_email, send_urgent_notification
from feedback.tables import InboxItem
from reviews.services import moderation
from reviews.services.moderation import PRESET_REASONS, reason_in
from reviews.services.rejection_email import send_rejection_email
from surveys.tables import SentEmail
from tests.unit.inbox_fixtures import post
from tests.unit.notify_fixtures import routed_review, routing_rules
from tests.unit.review_fixtures import add_review
from tests.unit.staff_fixtures import PASSWORD, make_staff, sign_in
from tests.unit.test_dashboard_dataset import NOW as DIGEST_MONDAY
from tests.unit.test_dashboard_dataset import TIMEZONE

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TUESDAY_8 = datetime(2026, 3, 10, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
LINKS = PRESET_REASONS[1]  # "Reviews cannot include links to other websites."
LINKS_DE = "Bewertungen dürfen keine Links zu anderen Websites enthalten."
LINKS_HU = "Az értékelések nem tartalmazhatnak más weboldalakra mutató linkeket."
#: What a team email says in English, none of which a German or Hungarian reader should see.
ENGLISH = ("Urgent feedback", "Reply due", "Customer:", "Open in Afterglow", "An admin chooses", "daily digest")


async def sent(purpose: str) -> dict[str, dict[str, Any]]:
    """The emails of this purpose in the log, by address."""
    rows = await SentEmail.select().where(SentEmail.purpose == purpose).output(load_json=True)
    return {row["to"]: row for row in rows}


def no_english(mail: dict[str, Any]) -> list[str]:
    return [words for words in ENGLISH if words in mail["text"] or words in mail["html"] or words in mail["subject"]]


@pytest.fixture
async def moderator() -> Staff:
    found = await staff((await make_staff())["admin"])
    assert found is not None
    return found


# Rejection reasons ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "reason", "subject"),
    [
        ("de-DE", LINKS_DE, "Ihre Bewertung von Wasserkocher wurde nicht veröffentlicht"),
        ("hu_HU", LINKS_HU, "A(z) Wasserkocher termékről írt értékelése nem jelent meg"),
        ("en-GB", LINKS, "Your review of Wasserkocher was not published"),
    ],
)
async def test_the_common_reason_is_in_the_customers_language_and_the_moderators_words_as_written(
    moderator: Staff, settings: Settings, locale: str, reason: str, subject: str
) -> None:
    review_id = await add_review(product_name="Wasserkocher", status="held", held_rule="link", locale=locale)
    await moderation.reject(review_id, f"{LINKS}\n\nThe link to example.com.", moderator, NOW)

    assert await send_rejection_email(review_id, NOW, settings) == "sent"

    mail = (await sent("review-rejected")).popitem()[1]
    assert mail["subject"] == subject
    for body in (mail["text"], mail["html"]):
        assert reason in body and "The link to example.com." in body
    if reason != LINKS:
        assert LINKS not in mail["text"] and LINKS not in mail["html"]


def test_each_common_reason_has_its_translations_and_other_words_stay() -> None:
    for preset in PRESET_REASONS:
        for language in ("de", "hu"):
            assert reason_in(preset, language) != preset, (language, preset)
        assert reason_in(preset, "en") == preset
    assert reason_in(f"{LINKS}\n\nNo links, please.", "de") == f"{LINKS_DE}\n\nNo links, please."
    assert reason_in(f"Own words.\n\n{LINKS}", "hu") == f"Own words.\n\n{LINKS_HU}"
    assert reason_in(f"{LINKS} And more.", "de") == f"{LINKS} And more.", "only a whole common reason is translated"


# Team emails ------------------------------------------------------------------------------------------------------


@pytest.fixture
async def hungarian_member() -> dict[str, int]:
    """Support has sue (English, the default) and hanna, who reads Hungarian; the staff's ids."""
    ids = await make_staff()
    await routing_rules()
    await create_staff("hanna", PASSWORD, "member", email="Hanna@Shop.example", teams=["support"], language="hu")
    return ids


async def test_a_hungarian_member_gets_the_urgent_email_in_hungarian_and_an_english_one_in_english(
    hungarian_member: dict[str, int], settings: Settings
) -> None:
    (item,) = await routed_review(1, "The kettle leaks.", NOW, author_name="Anna Berg", email="anna@example.com")

    assert await send_urgent_notification(item, NOW, settings) == "sent"

    mails = await sent("team-urgent")
    english, hungarian = mails["sue@shop.example"], mails["hanna@shop.example"]
    assert english["subject"].startswith("[Urgent] Support: Product review Stars 1/5")
    assert "Urgent feedback for Support" in english["text"] and "Reply due: 2026-03-10 14:30 CET" in english["text"]
    assert english["headers"]["Content-Language"] == "en"
    assert hungarian["subject"].startswith("[Sürgős] Support: Termékértékelés Csillag 1/5")
    assert hungarian["headers"]["Content-Language"] == "hu"
    for body in (hungarian["text"], hungarian["html"]):
        assert "Sürgős visszajelzés: Support" in body and "· sürgős" in body
        assert "Válaszhatáridő: 2026-03-10 14:30 CET" in body
        assert "The kettle leaks." in body, "the customer's words as they wrote them"
    assert "Vásárló: Anna Berg <anna@example.com>" in hungarian["text"]
    assert "Vásárló: Anna Berg &lt;anna@example.com&gt;" in hungarian["html"]
    assert 'lang="hu"' in hungarian["html"] and "Megnyitás az Afterglow-ban" in hungarian["html"]
    assert not no_english(hungarian)


async def test_a_hungarian_member_gets_the_daily_digest_in_hungarian(
    hungarian_member: dict[str, int], settings: Settings
) -> None:
    monday = TUESDAY_8 - timedelta(hours=17)
    (urgent,) = await routed_review(1, "Leaks everywhere.", monday)
    await InboxItem.update({InboxItem.notified_at: monday}).where(InboxItem.id == urgent)
    await routed_review(3, "Works, but the lid is loose.", monday)

    assert await send_team_digests(TUESDAY_8 + timedelta(minutes=5), settings) == {"sent": 1, "empty": 1}

    mails = await sent("team-digest")
    assert mails["sue@shop.example"]["subject"] == "Support daily digest 2026-03-10: 1 new, 1 overdue"
    hungarian = mails["hanna@shop.example"]
    assert hungarian["subject"] == "Support napi összesítő, 2026-03-10: 1 új, 1 lejárt"
    text = hungarian["text"]
    assert text.index("LEJÁRT: letelt a válaszidő") < text.index("Leaks everywhere.")
    assert text.index("ÚJ az előző összesítő óta") < text.index("Works, but the lid is loose.")
    assert "Új az előző összesítő óta" in hungarian["html"] and "normál" in text
    assert not no_english(hungarian)


async def test_the_test_email_reaches_each_member_in_their_language(
    hungarian_member: dict[str, int], settings: Settings
) -> None:
    ada = await staff(hungarian_member["admin"])
    assert ada is not None

    await send_test_email(ada, "support", NOW, settings)

    mails = await sent("team-test")
    assert mails["sue@shop.example"]["subject"] == "Afterglow test: notifications for Support"
    assert "This is a test from Afterglow, sent by ada." in mails["sue@shop.example"]["text"]
    assert mails["hanna@shop.example"]["subject"] == "Afterglow-teszt: értesítések – Support"
    assert "Ez egy tesztüzenet az Afterglow-tól, ada küldte." in mails["hanna@shop.example"]["text"]


async def test_a_german_manager_gets_the_weekly_digest_in_german(settings: Settings) -> None:
    ids = await make_staff()
    await StaffProfile.update({StaffProfile.language: "de"}).where(StaffProfile.user == ids["manager"])

    for digest_id in await claim_due_digests(DIGEST_MONDAY, TIMEZONE):
        assert await send_manager_digest(digest_id, DIGEST_MONDAY, settings) == "sent"

    mails = await sent("weekly-digest")
    english, german = mails["ada@shop.example"], mails["max@shop.example"]
    assert "week of 9 Mar 2026" in english["subject"] and "Response rate" in english["text"]
    assert german["subject"].endswith("– Woche vom 9. März 2026")
    assert german["headers"]["Content-Language"] == "de" and 'lang="de"' in german["html"]
    assert "Ihre Woche im Feedback, 9. März bis 15. März 2026" in german["text"]
    assert "Antwortquote" in german["text"] and "Antwortquote" in german["html"]
    for english_words in ("Response rate", "week before", "Topics", "switch the weekly digest off"):
        assert english_words not in german["text"] and english_words not in german["html"], english_words


async def test_languages_are_found_by_address_in_any_case(hungarian_member: dict[str, int]) -> None:
    found = await email_languages(["HANNA@shop.example", "sue@shop.example", "team@shop.example", ""])
    assert found == {"hanna@shop.example": "hu", "sue@shop.example": "en"}, "a shared address is nobody's"
    assert await email_languages([]) == {}


# Choosing the language -----------------------------------------------------------------------------------------


async def test_an_admin_chooses_the_language_of_a_users_emails(client: AsyncTestClient) -> None:
    ids = await make_staff()
    assert await sign_in(client, "ada") == 303
    page = (await client.get("/app/admin/users")).text
    assert 'aria-label="Language of the emails sue gets"' in page and '<option value="hu">Magyar</option>' in page

    changed = await post(client, f"/app/admin/users/{ids['support']}/language", {"language": "de"})
    swapped = await post(client, f"/app/admin/users/{ids['support']}/language", {"language": "hu"}, htmx=True)
    refused = await post(client, f"/app/admin/users/{ids['support']}/language", {"language": "fr"})

    assert changed.status_code == 303 and "Email+language+changed+to+Deutsch" in changed.headers["location"]
    assert swapped.status_code == 200 and '<option value="hu" selected>Magyar</option>' in swapped.text
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    languages = {row["username"]: row["language"] for row in await staff_list()}
    assert languages == {"ada": "en", "leo": "en", "max": "en", "sue": "hu"}
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.action == "staff_language_changed"
    )
    assert len(events) == 2


async def test_an_invited_user_gets_the_language_chosen_for_them(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303

    response = await post(
        client,
        "/app/admin/users",
        {"username": "dora", "email": "dora@shop.example", "role": "member", "language": "de"},
    )

    assert response.status_code == 200
    assert {row["username"]: row["language"] for row in await staff_list()}["dora"] == "de"
