"""Which feedback a figure is about: the filters every chart takes (kind, channel, language, category, team,
product), read from a request, and turned into SQL conditions on the rollup or on the feedback itself.

The rollup answers any mix of kind, channel and language with at most one of category or team. A product, or a
category and a team together, is answered from the feedback rows (the same sums, computed on the fly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from piccolo.querystring import QueryString

from afterglow.kinds import FEEDBACK_KINDS
from afterglow.kinds import KIND_NAMES as KIND_NAMES  # what the dashboard controller names kinds with
from afterglow.numbers import whole_number

KINDS = FEEDBACK_KINDS
FIELDS = ("kind", "channel", "language", "category", "team", "product")
#: What the compare view may put side by side.
COMPARABLE = ("kind", "channel", "language", "category", "team")
LIMITS = {"channel": 64, "language": 8, "category": 100, "product": 128}


class InvalidSegment(ValueError):
    """A filter value the dashboard cannot use; the message says which."""


@dataclass(frozen=True)
class Segment:
    kind: str = ""
    channel: str = ""
    language: str = ""
    category: str = ""
    team: int | None = None
    product: str = ""  # a SKU: its reviews and the surveys of orders that contained it

    @property
    def rollup(self) -> tuple[str, str] | None:
        """The rollup's (segment, value) rows that hold this selection, or None when only the feedback can say."""
        if self.product or (self.category and self.team is not None):
            return None
        if self.category:
            return "category", self.category
        if self.team is not None:
            return "team", str(self.team)
        return "", ""

    @property
    def funnel_applies(self) -> bool:
        """Invitations are not routed and have no written language: the funnel is shown without team."""
        return self.team is None and self.kind in {"", "order", "support"}

    @property
    def support_applies(self) -> bool:
        """Support contacts are about the help, not a product: Support CSAT is shown without category or product."""
        return not self.category and not self.product and self.kind in {"", "support"}

    def params(self) -> dict[str, str]:
        """The non-empty filters, as a query string takes them."""
        return {name: str(value) for name, value in asdict(self).items() if value not in ("", None)}

    def with_value(self, field: str, value: str | int | None) -> Segment:
        return replace(self, **{field: value})

    def is_everything(self) -> bool:
        return not self.params()


def parse_segment(values: Mapping[str, Any], team_ids: set[int] | None = None, prefix: str = "") -> Segment:
    """A Segment from query parameters (`prefix` + field name); InvalidSegment names a value we cannot use."""
    found: dict[str, Any] = {}
    for name in FIELDS:
        raw = values.get(prefix + name, "")
        raw = str(raw[-1] if isinstance(raw, list) else raw).strip()
        if not raw:
            continue
        if name == "kind" and raw not in KINDS:
            raise InvalidSegment(f"Unknown kind {raw!r}; choose one of {', '.join(KINDS)}.")
        if name == "team":
            team = whole_number(raw)
            if team is None or (team_ids is not None and team not in team_ids):
                raise InvalidSegment("There is no such team.")
            found[name] = team
            continue
        if len(raw) > LIMITS.get(name, 16):
            raise InvalidSegment(f"The {name} is longer than {LIMITS[name]} characters.")
        found[name] = raw.lower() if name == "language" else raw
    return Segment(**found)


# SQL --------------------------------------------------------------------------------------------------------------


def category_elements(engine: str, column: str) -> str:
    """A FROM item listing the categories in a JSON array column as `cat.value`."""
    if engine == "sqlite":
        return f"json_each({column}) AS cat"
    return f"json_array_elements_text({column}) AS cat(value)"


def feedback_conditions(segment: Segment, engine: str) -> list[QueryString]:
    """Conditions on `feedback_item AS f` for this selection."""
    found = []
    for name in ("kind", "channel", "language"):
        if getattr(segment, name):
            found.append(QueryString(f"f.{name} = {{}}", getattr(segment, name)))
    if segment.category:
        elements = category_elements(engine, "f.categories")
        found.append(QueryString(f"EXISTS (SELECT 1 FROM {elements} WHERE cat.value = {{}})", segment.category))
    if segment.team is not None:
        found.append(
            QueryString("EXISTS (SELECT 1 FROM inbox_item AS t WHERE t.feedback = f.id AND t.team = {})", segment.team)
        )
    if segment.product:
        found.append(
            QueryString(
                "(f.sku = {} OR (f.kind = 'order' AND f.\"order\" IN "
                '(SELECT oi."order" FROM order_item AS oi WHERE oi.sku = {})))',
                segment.product,
                segment.product,
            )
        )
    return found


#: The customer's language as the funnel groups it: the first two letters of their locale.
INVITATION_LANGUAGE = "lower(substr(c.locale, 1, 2))"


def invitation_conditions(segment: Segment) -> list[QueryString]:
    """Conditions on `invitation AS i JOIN "order" AS o JOIN customer AS c` (only when `funnel_applies`)."""
    found = []
    if segment.kind:
        found.append(QueryString("i.kind = {}", segment.kind))
    if segment.channel:
        found.append(QueryString("o.channel = {}", segment.channel))
    if segment.language:
        found.append(QueryString(f"{INVITATION_LANGUAGE} = {{}}", segment.language))
    for column, value in (("category", segment.category), ("sku", segment.product)):
        if value:
            found.append(
                QueryString(
                    f"i.kind = 'order' AND EXISTS (SELECT 1 FROM order_item AS oi "
                    f'WHERE oi."order" = i."order" AND oi.{column} = {{}})',
                    value,
                )
            )
    return found


def joined(conditions: list[QueryString], glue: str = " AND ") -> QueryString:
    """Conditions joined into one (TRUE when there are none)."""
    if not conditions:
        return QueryString("1 = 1")
    return QueryString(glue.join("({})" for _ in conditions), *conditions)
