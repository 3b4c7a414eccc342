"""The managers' dashboard: the overview, one trend chart, two segments compared, the responses behind any number
(and their CSV), feedback against retention, and the weekly digest switch.

Every page reads its selection (period, grain, filters) from the query string, so a URL is a shareable view. With
htmx the filters swap only the figures (`#dash-body`); without it the same URL returns the whole page. A selection
that cannot be shown comes back with the message and the typed values (400)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Stream, Template

from accounts.auth import require_roles
from accounts.services import Staff, team_names
from afterglow.numbers import whole_number
from afterglow.settings import Settings
from afterglow.web import AppSettings, Form, Now, form_field
from feedback.dashboard.compare import compared, comparison
from feedback.dashboard.digest import set_weekly_digest, weekly_digest_on
from feedback.dashboard.export import response_csv
from feedback.dashboard.figures import NPS_INTERVAL
from feedback.dashboard.overview import CHARTS, SPECS, ChartSet, DrillLink, chart, overview, trend
from feedback.dashboard.periods import (
    PRESETS,
    Bucket,
    InvalidPeriod,
    Period,
    check_grain,
    choose_period,
    shop_day,
)
from feedback.dashboard.responses import MEASURES, Drill, InvalidDrill, ResponsePage, check_drill, response_page
from feedback.dashboard.retention import retention
from feedback.dashboard.segments import COMPARABLE, KIND_NAMES, KINDS, InvalidSegment, Segment, parse_segment
from feedback.dashboard.totals import choices

#: The query parameters a selection is made of, as the filter form names them.
SELECTION = ("period", "from", "to", "grain", "kind", "channel", "language", "category", "team", "product")
TABS = (
    ("overview", "feedback:dashboard", "Overview"),
    ("compare", "feedback:dashboard-compare", "Compare"),
    ("responses", "feedback:dashboard-responses", "Responses"),
    ("retention", "feedback:dashboard-retention", "Retention"),
)


@dataclass
class Selection:
    """What a request asked to see, as typed, and what it means (unless `error`)."""

    typed: dict[str, str]
    teams: dict[int, str]
    segment: Segment = field(default_factory=Segment)
    preset: str = ""
    period: Period | None = None
    grain: str = "week"
    error: str = ""

    @property
    def query(self) -> dict[str, str]:
        """The selection as query parameters (for links that keep it)."""
        return {name: self.typed[name] for name in SELECTION if self.typed.get(name)}


def _default_grain(period: Period) -> str:
    return "day" if period.days <= 31 else "week" if period.days <= 400 else "month"


def _query(request: HTMXRequest, name: str) -> str:
    return str(request.query_params.get(name, "")).strip()


async def _selection(request: HTMXRequest, settings: Settings, now: datetime) -> Selection:
    typed = {name: _query(request, name) for name in SELECTION}
    if typed["period"] == "dates":
        typed["period"] = ""  # the from–to dates decide
    elif request.htmx and request.htmx.trigger_name == "period":
        typed["from"] = typed["to"] = ""  # a preset just chosen replaces the dates
    teams = await team_names()
    selection = Selection(typed=typed, teams=teams)
    try:
        selection.segment = parse_segment(typed, set(teams))
        selection.preset, period = choose_period(
            shop_day(now, settings.shop_timezone), typed["period"], typed["from"], typed["to"]
        )
        selection.grain = check_grain(period, typed["grain"] or _default_grain(period))
        selection.period = period
    except (InvalidSegment, InvalidPeriod) as exc:
        selection.error = str(exc)
    return selection


def _url(request: HTMXRequest, route: str, params: dict[str, str], **path: Any) -> str:
    base = request.app.route_reverse(route, **path)
    return f"{base}?{urlencode(params)}" if params else base


def _drill_link(request: HTMXRequest, segment: Segment) -> DrillLink:
    def link(bucket: Bucket, measure: str) -> str:
        params = {**segment.params(), "from": bucket.first.isoformat(), "to": bucket.last.isoformat()}
        return _url(request, "feedback:dashboard-responses", {**params, "measure": measure} if measure else params)

    return link


def _context(request: HTMXRequest, selection: Selection, tab: str, **extra: Any) -> dict[str, Any]:
    """What every dashboard page shows around its figures: tabs, filters, and the links that keep the selection."""
    period = selection.period

    def drill_url(measure: str = "", which: str = "now", topic: str = "", segment: Segment | None = None) -> str:
        if period is None:
            return ""
        chosen = period.previous() if which == "before" else period
        params = {**(segment or selection.segment).params(), "from": chosen.start.isoformat()}
        params |= {"to": chosen.end.isoformat()}
        params |= {"measure": measure} if measure else {}
        params |= {"topic": topic} if topic else {}
        return _url(request, "feedback:dashboard-responses", params)

    return {
        "language": "en",
        "user": request.user,
        "sel": selection,
        "tab": tab,
        "tabs": [(key, _url(request, route, selection.query), label) for key, route, label in TABS],
        "presets": PRESETS,
        "kinds": [(kind, KIND_NAMES[kind]) for kind in KINDS],
        "comparable": COMPARABLE,
        "drill_url": drill_url,
        "team_name": lambda team_id: selection.teams.get(team_id, f"team {team_id}"),
        "nps_interval_method": NPS_INTERVAL,
        "oob": False,
        **extra,
    }


def _page(request: HTMXRequest, page: str, partial: str, context: dict[str, Any], status: int = 200) -> Template:
    """The whole page, or for htmx the figures the filters swap, with the tabs (and dates) to refresh out of band."""
    if not request.htmx:
        return Template(template_name=page, context=context, status_code=status)
    chosen = request.htmx.trigger_name == "period" and request.query_params.get("period") != "dates"
    context |= {"oob": True, "preset_chosen": chosen}
    headers = {}
    if chosen:  # the address bar must not keep the dates the preset replaced
        kept = {name: value for name, value in request.query_params.items() if name not in ("from", "to") and value}
        headers["HX-Push-Url"] = f"{request.url.path}?{urlencode(kept)}"
    return Template(template_name=partial, context=context, status_code=status, headers=headers)


class DashboardController(Controller):
    path = "/app/dashboard"
    guards = [require_roles("admin", "manager")]
    include_in_schema = False

    @get("/", name="feedback:dashboard")
    async def dashboard(self, request: HTMXRequest, settings: AppSettings, now: Now) -> Template:
        """Headline figures against the period before, the trend charts, topics on the move, the inbox now."""
        selection = await _selection(request, settings, now)
        figures = (
            overview(selection.segment, selection.period, selection.grain, settings.shop_timezone, now,
                     _drill_link(request, selection.segment))
            if selection.period is not None
            else _nothing()
        )  # fmt: skip
        # The menus and the digest switch are outside what htmx swaps: a full page only.
        found, options, digest_on = await asyncio.gather(
            figures,
            _menus(request),
            _nothing() if request.htmx else weekly_digest_on(request.user.id),
        )
        csv_query = {name: value for name, value in selection.query.items() if name != "grain"}
        context = _context(
            request,
            selection,
            "overview",
            ov=found,
            options=options,
            digest_on=digest_on,
            csv_url=_url(request, "feedback:dashboard-csv", csv_query),
        )
        status = 400 if selection.error else 200
        return _page(request, "feedback/pages/dashboard.html", "feedback/partials/dash_overview.html", context, status)

    @get("/trend/{chart_key:str}", name="feedback:dashboard-trend")
    async def trend_chart(
        self, request: HTMXRequest, settings: AppSettings, now: Now, chart_key: FromPath[str]
    ) -> Template:
        """One trend chart on its own (NPS by week for a year: `/trend/nps?period=365d&grain=week`)."""
        if chart_key not in CHARTS:
            raise NotFoundException(detail="no such chart")
        selection = await _selection(request, settings, now)
        shown = None
        timezone, measures = settings.shop_timezone, SPECS[chart_key].measures
        data, options = await asyncio.gather(
            trend(selection.segment, selection.period, selection.grain, timezone, measures)
            if selection.period is not None
            else _nothing(),
            _menus(request),
        )
        if data is not None:
            sets = [ChartSet("", [t for _, t in data], _drill_link(request, selection.segment))]
            shown = chart(chart_key, [b for b, _ in data], sets, selection.grain)
        context = _context(request, selection, "overview", chart=shown, chart_key=chart_key, options=options)
        status = 400 if selection.error else 200
        page, partial = "feedback/pages/dashboard_trend.html", "feedback/partials/dash_trend.html"
        return _page(request, page, partial, context, status)

    @get("/compare", name="feedback:dashboard-compare")
    async def compare(self, request: HTMXRequest, settings: AppSettings, now: Now) -> Template:
        """Two values of one dimension side by side (`by=channel&a=web&b=app`), with the other filters shared."""
        selection = await _selection(request, settings, now)
        by = _query(request, "by") or "channel"
        raw = {"a": _query(request, "a"), "b": _query(request, "b")}
        found = None
        if selection.period is not None and (raw["a"] or raw["b"]):
            try:
                values = [parse_segment({by: raw[side]}, set(selection.teams)) for side in ("a", "b")]
                a, b = compared(selection.segment, by, getattr(values[0], by, None), getattr(values[1], by, None))
                labels = [self._side_label(selection, by, raw[side]) for side in ("a", "b")]
                found = await comparison(
                    by,
                    ((labels[0], a), (labels[1], b)),
                    selection.period,
                    selection.grain,
                    settings.shop_timezone,
                    lambda segment: _drill_link(request, segment),
                )
            except InvalidSegment as exc:
                selection.error = str(exc)
        context = _context(request, selection, "compare", cmp=found, by=by, sides=raw, options=await _menus(request))
        status = 400 if selection.error else 200
        return _page(
            request, "feedback/pages/dashboard_compare.html", "feedback/partials/dash_compare.html", context, status
        )

    @staticmethod
    def _side_label(selection: Selection, by: str, value: str) -> str:
        if by == "team" and (team := whole_number(value)) is not None:
            return selection.teams.get(team, value)
        return KIND_NAMES.get(value, value) if by == "kind" else value

    @get("/responses", name="feedback:dashboard-responses")
    async def responses(self, request: HTMXRequest, settings: AppSettings, now: Now) -> Template:
        """The responses behind a number: the selection, a period (`from`–`to`), what was counted (`measure`)."""
        selection, drill = await _drill_selection(request, settings, now)
        found = None
        if drill is not None:
            page_number = _query(request, "page")
            number = whole_number(page_number) or 1
            found = await response_page(drill, number, settings.shop_timezone, now)
        return await _responses_page(request, selection, found)

    @get("/responses.csv", name="feedback:dashboard-csv")
    async def responses_csv(self, request: HTMXRequest, settings: AppSettings, now: Now) -> Stream | Template:
        """Every response of the list as CSV (with the customer's name and email, the order, teams and statuses),
        streamed in batches."""
        selection, drill = await _drill_selection(request, settings, now)
        if drill is None:
            return await _responses_page(request, selection, None)  # the list page says what is wrong
        period, measure = drill.period, drill.measure
        name = f"responses-{period.start}-{period.end}{'-' + measure if measure else ''}.csv"
        return Stream(
            _encoded(response_csv(drill, settings.shop_timezone, now)),
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to a text type
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @get("/retention", name="feedback:dashboard-retention")
    async def retention_page(self, request: HTMXRequest, settings: AppSettings, now: Now) -> Template:
        """What feedback is worth: repeat purchases and revenue in the 12 months after an answer, by NPS group and
        by CSAT, and the customer retention rate per month."""
        selection = await _selection(request, settings, now)
        found = None
        if selection.period is not None:
            found = await retention(selection.segment, selection.period, now, settings.shop_timezone)
        context = _context(request, selection, "retention", ret=found, options=await _menus(request))
        status = 400 if selection.error else 200
        return _page(
            request, "feedback/pages/dashboard_retention.html", "feedback/partials/dash_retention.html", context, status
        )

    @post("/digest", name="feedback:dashboard-digest", status_code=303)
    async def digest(self, request: HTMXRequest, data: Form, now: Now) -> Template | Redirect:
        """Switch one's own weekly digest email on (`on=1`) or off."""
        user: Staff = request.user
        on = form_field(data, "on") == "1"
        await set_weekly_digest(user, on, now)
        if request.htmx:
            context = {"digest_on": on, "saved": True}
            return Template(template_name="feedback/partials/dash_digest.html", context=context)
        return Redirect(path=request.app.route_reverse("feedback:dashboard") + "#weekly-digest", status_code=303)


async def _drill_selection(request: HTMXRequest, settings: Settings, now: datetime) -> tuple[Selection, Drill | None]:
    """The selection with what was counted (`measure`) and an optional `topic`; no Drill when it is refused."""
    selection = await _selection(request, settings, now)
    measure, topic = _query(request, "measure"), _query(request, "topic")
    try:
        check_drill(measure, topic)
    except InvalidDrill as exc:
        selection.error = selection.error or str(exc)
    selection.typed |= {"measure": measure, "topic": topic}
    if selection.error or selection.period is None:
        return selection, None
    return selection, Drill(selection.segment, selection.period, measure, topic)


async def _responses_page(request: HTMXRequest, selection: Selection, found: ResponsePage | None) -> Template:
    query = {name: value for name, value in selection.typed.items() if value}
    context = _context(
        request,
        selection,
        "responses",
        found=found,
        measure=selection.typed["measure"],
        topic=selection.typed["topic"],
        measure_title=MEASURES.get(selection.typed["measure"], ("", ""))[0],
        measures=[(key, title) for key, (title, _) in MEASURES.items()],
        csv_url=_url(request, "feedback:dashboard-csv", query),
        page_url=lambda n: _url(request, "feedback:dashboard-responses", {**query, "page": str(n)}),
        options=await _menus(request),
    )
    page, partial = "feedback/pages/dashboard_responses.html", "feedback/partials/dash_responses.html"
    return _page(request, page, partial, context, 400 if selection.error else 200)


async def _nothing() -> None:
    return None


async def _menus(request: HTMXRequest) -> dict[str, list[str]] | None:
    """The filter menus' values; htmx answers leave the form alone and need none."""
    return None if request.htmx else await choices()


async def _encoded(lines: Any) -> Any:
    async for line in lines:
        yield line.encode("utf-8")
