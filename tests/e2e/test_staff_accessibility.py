"""Every staff page in Chromium at 320 px (a small phone), 390 px (a phone) and 1280 px (a laptop): axe-core's WCAG
2.1 AA rules find no serious or critical violation, headings go down one level at a time under a single h1, and on
the phones nothing scrolls the whole page sideways (wide tables scroll inside their own labelled box or become cards).
A page of the inbox is a few phone screens tall.

axe-core is vendored in tests/e2e/vendor/axe.min.js (npm axe-core 4.14.1, MPL-2.0, licence beside it).
The pages are filled by `afterglow demo` (orders, answers, reviews, suggestions, staff, routing rules)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.harness import run_python
from tests.e2e.conftest import LiveApp, running_app

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SMALL_PHONE = {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
DEMO_ADMIN, DEMO_PASSWORD = "admin", "afterglow-demo"  # operations/demo.py: DEMO_USERS, DEMO_PASSWORD

#: Staff pages by path (the admin section's own tabs are added from its navigation, so new admin pages are checked
#: as soon as they are linked there); an inbox item, a routing rule and each dashboard tab too.
PAGES = [
    "/app/inbox",
    "/app/inbox?kind=suggestion",
    "/app/inbox/agents",
    "/app/dashboard",
    "/app/dashboard/compare",
    "/app/dashboard/responses",
    "/app/dashboard/retention",
    "/app/dashboard/trend/nps",
    "/app/reviews",
    "/app/reviews?status=published",
    "/app/admin/users",
    "/app/admin/teams",
    "/app/admin/api-keys",
    "/app/admin/audit",
    "/app/admin/notifications",
    "/app/admin/routing",
    "/app/admin/routing/new",
    "/app/admin/learning",
    "/app/admin/catalogue",
    "/app/admin/privacy",
    "/app/admin/tasks",
    "/app/admin/settings",
    "/app/admin/templates",
]

#: Pages kept as screenshots in test-artifacts/e2e/ (a11y-<page>-<width>.png) to look at.
SHOTS = {"login", "app-inbox", "app-dashboard", "app-dashboard-retention", "app-admin-users", "app-reviews"}

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4)
      .map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
}"""
SCROLL_WIDTH = "document.scrollingElement.scrollWidth"
#: Headings that skip a level on the way down (h1 then h3), and whether the page has exactly one h1.
HEADINGS = """() => {
  const shown = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].filter(h => h.getClientRects().length);
  const jumps = [];
  let last = 0;
  for (const h of shown) {
    const level = Number(h.tagName[1]);
    if (level > last + 1) jumps.push(`h${last} → ${h.tagName.toLowerCase()} “${h.textContent.trim().slice(0, 40)}”`);
    last = level;
  }
  return {jumps, h1: shown.filter(h => h.tagName === 'H1').length};
}"""
#: The widest elements sticking out of the viewport, to say why a page scrolls sideways.
WIDE = """(limit) => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > limit + 1)
  .filter(e => !e.closest('.table-scroll')).slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
    + ' right=' + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture(scope="module")
def demo_app() -> Iterator[LiveApp]:
    """An app of its own filled by `afterglow demo`: the shared app's teams and users are not the demo's. The demo's
    year ends at noon today (UTC) whenever the tests run: which answers it holds follows the send window's hours."""
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with running_app("demo-server") as app:
        run_python("-m", "operations.cli", "demo", "--now", noon.isoformat(), env=app.env)
        yield app


def sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", DEMO_ADMIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/app/inbox")


def staff_pages(page: Any, base_url: str) -> list[str]:
    """PAGES that exist, the admin tabs, the first inbox item and the first routing rule."""
    page.goto(f"{base_url}/app/admin/users")
    admin_tabs = page.eval_on_selector_all("nav.tabs a", "links => links.map(a => a.getAttribute('href'))")
    page.goto(f"{base_url}/app/inbox")
    items = page.eval_on_selector_all("#inbox-list a[href^='/app/inbox/']", "links => links.map(a => a.pathname)")
    page.goto(f"{base_url}/app/admin/routing")
    rules = page.eval_on_selector_all("a[href^='/app/admin/routing/']", "links => links.map(a => a.pathname)")
    assert items and rules, "the demo shop has feedback in the inbox and routing rules"
    paths = [*PAGES, *admin_tabs, items[0], *[r for r in rules if not r.endswith("/new")][:1]]
    found: list[str] = []
    for path in dict.fromkeys(p for p in paths if p):
        response = page.request.get(f"{base_url}{path}")
        if response.status == 404 and path in ("/app/admin/settings", "/app/admin/templates"):
            continue  # not built (yet)
        assert response.ok, f"{path} answered {response.status}"
        found.append(path)
    return found


def check(page: Any, url: str, width: int, artifacts: Path, name: str) -> list[str]:
    """What is wrong with one page at one width, as lines of a report (none when all is well)."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    problems: list[str] = []
    if name in SHOTS or name.startswith("app-inbox-"):
        page.screenshot(path=str(artifacts / f"a11y-{name}-{width}.png"), full_page=True)
    if width <= 390:
        scroll = page.evaluate(SCROLL_WIDTH)
        if scroll > width + 1:
            wide = page.evaluate(WIDE, width)
            problems.append(f"scrolls sideways: scrollWidth {scroll} > {width}; sticking out: {wide}")
            page.screenshot(path=str(artifacts / f"a11y-{name}-{width}.png"), full_page=True)
    headings = page.evaluate(HEADINGS)
    if headings["jumps"] or headings["h1"] != 1:
        problems.append(f"headings out of order: {headings['h1']} h1, skipped levels {headings['jumps']}")
    page.add_script_tag(path=str(AXE))
    for violation in page.evaluate(AXE_RUN, AXE_TAGS):
        if violation["impact"] in BLOCKING:
            nodes = json.dumps(violation["nodes"])
            problems.append(f"{violation['impact']} {violation['id']}: {violation['help']} {nodes}")
    return problems


@pytest.mark.parametrize("device", [SMALL_PHONE, PHONE, LAPTOP], ids=["320px", "390px", "1280px"])
def test_every_staff_page_passes_axe_and_fits_a_phone(
    demo_app: LiveApp, browser: Any, artifacts: Path, device: dict[str, Any]
) -> None:
    width = device["viewport"]["width"]
    report: list[str] = []
    anonymous = browser.new_context(**device, bypass_csp=True)  # axe is injected inline
    try:
        page = anonymous.new_page()
        report += [f"/login: {p}" for p in check(page, f"{demo_app.base_url}/login", width, artifacts, "login")]
    finally:
        anonymous.close()
    context = browser.new_context(**device, bypass_csp=True)
    try:
        page = context.new_page()
        sign_in(page, demo_app.base_url)
        paths = staff_pages(page, demo_app.base_url)
        assert len(paths) >= 20, paths
        for path in paths:
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
            report += [f"{path}: {p}" for p in check(page, f"{demo_app.base_url}{path}", width, artifacts, name)]
    finally:
        context.close()
    (artifacts / f"a11y-report-{width}.txt").write_text("\n".join(report) + "\n")
    assert not report, f"{len(report)} problems at {width} px:\n" + "\n".join(report)


def test_the_inbox_is_compact_on_a_phone(demo_app: LiveApp, browser: Any, artifacts: Path) -> None:
    """A page of the inbox (25 items) is a few screens of a 390 × 844 phone (it was 17 for 20 items): compact cards."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        sign_in(page, demo_app.base_url)
        page.goto(f"{demo_app.base_url}/app/inbox?status=")
        rows = page.locator("#inbox-list tbody tr").count()
        assert rows >= 10, "the demo shop fills at least half a page of the inbox"
        height = page.locator("#inbox-list table").bounding_box()["height"]
        page.screenshot(path=str(artifacts / "a11y-inbox-phone.png"), full_page=True)
        assert height / rows <= 170, f"{rows} items take {height:.0f} px: {height / rows:.0f} px each"
        assert height <= 844 * 5, f"a page of the inbox ({rows} items) is {height / 844:.1f} screens tall"
    finally:
        context.close()
