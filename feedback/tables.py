"""Feedback of every kind, what Afterglow understood of it, where it was routed, and how the team closed the loop."""

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSON, BigInt, Boolean, Date, Float, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from accounts.tables import Team
from shop.tables import Customer, Order


class Suggestion(Table):
    """A note left in the open suggestion box (`/feedback`): no sign-in, the email is optional."""

    text = Text()
    email = Varchar(length=320, default="")
    name = Varchar(length=100, default="")
    page = Varchar(length=500, default="")  # where the form was embedded, as the browser reported it
    locale = Varchar(length=16, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class FeedbackItem(Table):
    """One piece of feedback from any source (a survey response, a review, a suggestion), copied from its source
    row whenever that changes, with its tags and the routing decision. `source_key` is `<source>:<id>`.

    kind: order (order survey: CSAT and NPS) | support (support CSAT, with the agent) | review | suggestion.
    label: positive | neutral | negative | mixed | "" (nothing to go on); a staff correction replaces the analyser's
    `auto_label` and is never overwritten by a re-analysis. Topics live in FeedbackTopic.
    """

    source = Varchar(length=16)
    source_id = Integer()
    source_key = Varchar(length=48, unique=True)
    kind = Varchar(length=16, index=True)
    customer = ForeignKey(references=Customer, null=True, default=None, index=True)
    order = ForeignKey(references=Order, null=True, default=None, index=True)
    email = Varchar(length=320, default="")  # where a reply goes; empty when we cannot reply
    name = Varchar(length=200, default="")
    csat = Integer(null=True, default=None)
    nps = Integer(null=True, default=None)
    rating = Integer(null=True, default=None)
    title = Varchar(length=150, default="")
    text = Text(default="")
    locale = Varchar(length=16, default="")  # the customer's locale, a hint for the language
    channel = Varchar(length=64, default="", index=True)
    categories = JSON(default=[])  # product categories the feedback is about
    sku = Varchar(length=128, default="", index=True)
    product_name = Varchar(length=300, default="")
    agent = Varchar(length=200, default="", index=True)
    # What the analyser found in `text` (with the score), for `analysed_hash`.
    language = Varchar(length=8, default="", index=True)
    polarity = Float(null=True, default=None)
    subjectivity = Float(null=True, default=None)
    auto_label = Varchar(length=16, default="")
    label_source = Varchar(length=16, default="")  # text+score | text | score | ""
    flagged = Boolean(default=False)
    sentences = JSON(default=[])
    aspects = JSON(default=[])
    auto_topics = JSON(default=[])
    analysed_hash = Varchar(length=64, default="")
    analysed_at = Timestamptz(null=True, default=None)
    # What staff see and filter on: the analyser's label unless a person corrected it.
    label = Varchar(length=16, default="", index=True)
    label_corrected_by = Varchar(length=100, default="")
    label_corrected_at = Timestamptz(null=True, default=None, index=True)
    topics_corrected_by = Varchar(length=100, default="")
    topics_corrected_at = Timestamptz(null=True, default=None, index=True)
    # Routing: every matching rule, or an empty list when none matched (the triage inbox).
    routing = JSON(default=[])
    routed_at = Timestamptz(null=True, default=None, index=True)
    # Closing the loop: the first reply the customer was sent.
    first_reply_at = Timestamptz(null=True, default=None, index=True)
    thread_token = Varchar(length=32, unique=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class FeedbackTopic(Table):
    """A topic a feedback item is about, with the sentiment of where it is mentioned (the analyser's, or set by
    staff: `origin`). One row per (item, topic); `created_at` repeats the item's for counting topics over time."""

    feedback = ForeignKey(references=FeedbackItem, index=True)
    topic = Varchar(length=64, index=True)
    phrase = Varchar(length=200, default="")
    polarity = Float(null=True, default=None)
    origin = Varchar(length=8, default="auto")  # auto | staff
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class RoutingRule(Table):
    """If feedback matches every condition that is set, it goes to `teams` (team ids) with a priority and an SLA.

    Empty conditions match everything. Rules run in `position` order; the first match ends the evaluation unless
    `continue_after` is set. `kind` "" is any kind; the score range applies to that kind's score (CSAT, NPS or
    stars), so it needs a kind. `archive` files the feedback with no inbox item ("no follow-up needed")."""

    name = Varchar(length=120)
    position = Integer(default=0, index=True)
    active = Boolean(default=True)
    kind = Varchar(length=16, default="")
    score_min = Integer(null=True, default=None)
    score_max = Integer(null=True, default=None)
    labels = JSON(default=[])
    flagged_only = Boolean(default=False)
    topics = JSON(default=[])
    categories = JSON(default=[])
    channels = JSON(default=[])
    languages = JSON(default=[])
    teams = JSON(default=[])
    archive = Boolean(default=False)
    priority = Varchar(length=16, default="normal")  # urgent | high | normal | low
    sla_hours = Integer(null=True, default=None)
    continue_after = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class InboxItem(Table):
    """Feedback in front of one team (no team: the triage inbox that managers and admins see), with the team's
    handling of it. One per (feedback, team): `key` is `<feedback id>:<team id or "triage">`.

    status: new → in_progress → resolved | wont_fix. `due_at` comes from the rule's SLA; the item is overdue while
    it is past due and the team has neither replied nor closed it (`responded_at`)."""

    feedback = ForeignKey(references=FeedbackItem, index=True)
    team = ForeignKey(references=Team, null=True, default=None, index=True)
    key = Varchar(length=64, unique=True)
    rule = ForeignKey(references=RoutingRule, null=True, default=None)
    rule_name = Varchar(length=120, default="")  # as it was when it matched
    status = Varchar(length=16, default="new", index=True)
    priority = Varchar(length=16, default="normal", index=True)
    assignee = ForeignKey(references=BaseUser, null=True, default=None, index=True)
    due_at = Timestamptz(null=True, default=None, index=True)
    responded_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    notified_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)


class ThreadEntry(Table):
    """The conversation and history around one feedback item, oldest first.

    kind: note (internal) | reply (to the customer, by email) | customer (their answer, by email or on the page)
    | event (status, assignee, team or tag changes). A reply's `message_id` is its stable Message-ID; `delivery`
    is queued | sent | failed."""

    feedback = ForeignKey(references=FeedbackItem, index=True)
    inbox_item = ForeignKey(references=InboxItem, null=True, default=None)
    kind = Varchar(length=16)
    author = ForeignKey(references=BaseUser, null=True, default=None)
    author_name = Varchar(length=200, default="")
    body = Text(default="")
    message_id = Varchar(length=200, default="", index=True)
    delivery = Varchar(length=16, default="")
    at = Timestamptz(default=TimestamptzNow(), index=True)


class TeamChannel(Table):
    """How a team hears about new feedback: an email address (empty: every member), immediately for urgent items
    and in a daily digest; and an optional outgoing webhook, signed with `webhook_secret`."""

    team = ForeignKey(references=Team, unique=True)
    email = Varchar(length=320, default="")
    digest = Boolean(default=True)
    webhook_url = Varchar(length=500, default="")
    webhook_secret = Varchar(length=64, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class TeamDigest(Table):
    """A team's digest for one day (in the shop's time zone), sent at most once: `key` is `<team id>:<date>`."""

    team = ForeignKey(references=Team, index=True)
    key = Varchar(length=64, unique=True)
    items = Integer(default=0)
    overdue = Integer(default=0)
    sent_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table):
    """One event for a team's webhook. The database says when the next attempt is due; a beat pass claims due
    rows. status: pending | sending | delivered | failed (gave up after the last attempt)."""

    team = ForeignKey(references=Team, index=True)
    inbox_item = ForeignKey(references=InboxItem, null=True, default=None)
    event = Varchar(length=48)
    key = Varchar(length=100, unique=True)  # one delivery per event and item
    payload = JSON(default={})
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    claimed_at = Timestamptz(null=True, default=None)
    last_error = Varchar(length=500, default="")
    response_status = Integer(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class DashboardDay(Table):
    """The managers' dashboard, summed per day (in the shop's time zone) and segment, so a year's trend reads a
    few thousand rows instead of every response. Rebuilt from FeedbackItem and Invitation by
    `feedback.dashboard.rollup`; never written anywhere else.

    segment "" holds everything once; "category" and "team" repeat a day's feedback once per category (team id in
    `value`) it belongs to. Feedback measures count items created that day (what each score counts:
    feedback.dashboard.definitions); the funnel counts each step on the day it happened (`scheduled` planned,
    `sent`, `opened`, `answered`), and `sent_opened` / `sent_answered` the invitations sent that day that have been
    opened / answered since. kind/channel/language are the item's (the invitation's kind, its order's channel and
    the customer's language)."""

    day = Date(index=True)
    kind = Varchar(length=16, default="")
    channel = Varchar(length=64, default="")
    language = Varchar(length=8, default="")
    segment = Varchar(length=16, default="")
    value = Varchar(length=100, default="")
    items = Integer(default=0)
    nps_n = Integer(default=0)
    promoters = Integer(default=0)
    detractors = Integer(default=0)
    csat_n = Integer(default=0)
    csat_ok = Integer(default=0)
    support_csat_n = Integer(default=0)
    support_csat_ok = Integer(default=0)
    rating_n = Integer(default=0)
    rating_sum = Integer(default=0)
    positive = Integer(default=0)
    neutral = Integer(default=0)
    negative = Integer(default=0)
    mixed = Integer(default=0)
    scheduled = Integer(default=0)
    sent = Integer(default=0)
    opened = Integer(default=0)
    answered = Integer(default=0)
    sent_opened = Integer(default=0)
    sent_answered = Integer(default=0)


class DashboardTopicDay(Table):
    """Topic mentions per day, kind and segment (as in DashboardDay), with the sentiment where they were named:
    `positive`/`negative` count mentions with a clear polarity; `polarity_sum`/`polarity_n` give the mean."""

    day = Date(index=True)
    kind = Varchar(length=16, default="")
    segment = Varchar(length=16, default="")
    value = Varchar(length=100, default="")
    topic = Varchar(length=64)
    mentions = Integer(default=0)
    positive = Integer(default=0)
    negative = Integer(default=0)
    polarity_sum = Float(default=0.0)
    polarity_n = Integer(default=0)


class DashboardCloseDay(Table):
    """Loops closed per day of the first reply (in the shop's time zone), kind and segment (as in DashboardDay),
    counted by how long the customer waited: `bucket` n holds waits from CLOSE_EDGES[n-1] to CLOSE_EDGES[n] hours
    (feedback.dashboard.rollup). The median time to close is read from these counts."""

    day = Date(index=True)
    kind = Varchar(length=16, default="")
    segment = Varchar(length=16, default="")
    value = Varchar(length=100, default="")
    bucket = Integer()
    loops = Integer(default=0)


class DashboardRetentionDay(Table):
    """Answers per local day of the answer, kind and segment (as in DashboardDay) and their group (`score` "nps":
    `grp` promoters / passives / detractors; "csat": the order survey's score "1"–"5"), with what their customers
    ordered in the 365 days after the answer (not cancelled): `returned` answers followed by an order, `orders`,
    and `revenue_cents`. Kept by `feedback.dashboard.retention_rollup`; the retention tab sums it."""

    day = Date(index=True)
    kind = Varchar(length=16, default="")
    channel = Varchar(length=64, default="")
    language = Varchar(length=8, default="")
    segment = Varchar(length=16, default="")
    value = Varchar(length=100, default="")
    score = Varchar(length=8)
    grp = Varchar(length=16)
    answers = Integer(default=0)
    returned = Integer(default=0)
    orders = Integer(default=0)
    revenue_cents = BigInt(default=0)


class DashboardSpell(Table):
    """A customer's run of orders (not cancelled) with no gap of more than 365 days between two: they are a
    customer from just after `began` (its first order) up to `ends` (its last order + 365 days). `first_run` is 1 for
    the customer's first run. The days are the shop's local days of both moments."""

    customer = Integer(index=True)
    began = Timestamptz()
    ends = Timestamptz()
    began_day = Date(index=True)
    ends_day = Date(index=True)
    first_run = Integer(default=0)


class DashboardCustomerDay(Table):
    """Per local day, the runs (DashboardSpell) that began and ended on it, and the new customers (first runs that
    began): the monthly retention rate is read from running sums of these."""

    day = Date(unique=True)
    began = Integer(default=0)
    ended = Integer(default=0)
    new_customers = Integer(default=0)


class DashboardValue(Table):
    """A channel, language or category the rollup has seen, for the dashboard's filter menus (`key` is
    `<field>:<value>`). Added by the rollup's refresh; a rebuild starts the list afresh."""

    field = Varchar(length=16)
    value = Varchar(length=100)
    key = Varchar(length=120, unique=True)


class DashboardSweep(Table):
    """Where the rollup's refresh stands: every change stamped before `swept_until` is in the rollup. One row
    (`name` "rollup"); a pass claims it with a conditional update of `claimed_until`, so passes never overlap."""

    name = Varchar(length=32, unique=True)
    swept_until = Timestamptz(null=True, default=None)
    claimed_until = Timestamptz(null=True, default=None)
    rebuilt_at = Timestamptz(null=True, default=None)


class WeeklyDigest(Table):
    """One manager's weekly digest email for one week (Monday, in the shop's time zone): `key` is
    `<user id>:<monday>`. status: due → sending (claimed at `claimed_at`) → sent | skipped (switched off)."""

    user = ForeignKey(references=BaseUser, index=True)
    week = Date()
    key = Varchar(length=64, unique=True)
    status = Varchar(length=16, default="due", index=True)
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    message_id = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class SentimentModel(Table):
    """One version of the text classifier learned from the shop's scored texts (`feedback.analysis.learned`), as
    plain JSON in `data` (weights, intercepts, hashing parameters; never a pickle). At most one row is `active`: the
    analyser uses it; with none, the lexicon decides. `switched_off` on the newest row records that staff turned the
    model off, so the beat's retraining stores new versions without switching it back on. `last_item` is the newest
    feedback item it could learn from: the beat counts scored texts past it to decide when to learn again."""

    version = Integer(unique=True)
    trained_at = Timestamptz(index=True)
    n = Integer(default=0)  # examples it learned from (the held-out slice excluded)
    heldout_n = Integer(default=0)
    languages = JSON(default={})  # language → examples
    accuracy_model = Float(null=True, default=None)  # balanced accuracy on the held-out slice
    accuracy_lexicon = Float(null=True, default=None)
    last_item = Integer(default=0)
    active = Boolean(default=False, index=True)
    switched_off = Boolean(default=False)
    note = Varchar(length=300, default="")  # why it is not in use, when it is not
    data = JSON(default={})
