"""The dashboard bench's hand-written queries (asyncpg, PostgreSQL): the same figures as the pages show, over the
tables the pages read (the rollup) and over the feedback, invitations and orders themselves. What each score counts
comes from feedback.dashboard.definitions, written into the SQL on the same `feedback_item AS f`."""

from __future__ import annotations

from afterglow.kinds import DETRACTOR_UP_TO, PROMOTER_FROM
from feedback.dashboard.definitions import ORDER_CSAT, PUBLISHED_REVIEW, SATISFIED, SUPPORT_CSAT
from feedback.dashboard.retention_rollup import nps_group

#: The main page's figures as one query over the tables the page reads: the rollup, the inbox ($1 start of the
#: period before, $2 start of the period, $3 its end, as local days; $4 now).
ROLLUP_PAGE_SQL = """
WITH kpi AS (
  SELECT CASE WHEN day >= $2 THEN 1 ELSE 0 END AS period, SUM(items) items, SUM(nps_n) nps_n, SUM(promoters) p,
         SUM(detractors) d, SUM(csat_n) csat_n, SUM(csat_ok) csat_ok,
         SUM(support_csat_n) support_csat_n, SUM(support_csat_ok) support_csat_ok, SUM(rating_n) rating_n,
         SUM(rating_sum) rs, SUM(positive) pos, SUM(neutral) neu, SUM(negative) neg, SUM(mixed) mix,
         SUM(scheduled) sch, SUM(sent) sent, SUM(opened) opened, SUM(answered) answered, SUM(sent_opened) sent_opened,
         SUM(sent_answered) sent_answered
  FROM dashboard_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $3 GROUP BY 1),
weeks AS (
  SELECT date_trunc('week', day)::date AS week, SUM(items) items, SUM(nps_n) nps_n, SUM(promoters) p,
         SUM(detractors) d, SUM(csat_n) csat_n, SUM(csat_ok) csat_ok,
         SUM(support_csat_n) support_csat_n, SUM(support_csat_ok) support_csat_ok, SUM(rating_n) rating_n,
         SUM(rating_sum) rs, SUM(positive) pos, SUM(neutral) neu, SUM(negative) neg, SUM(mixed) mix,
         SUM(scheduled) sch, SUM(sent) sent, SUM(opened) opened, SUM(answered) answered, SUM(sent_opened) sent_opened,
         SUM(sent_answered) sent_answered
  FROM dashboard_day WHERE segment = '' AND value = '' AND day BETWEEN $2 AND $3 GROUP BY 1),
topics AS (
  SELECT topic, CASE WHEN day >= $2 THEN 1 ELSE 0 END AS period, SUM(mentions) m, SUM(positive) pos,
         SUM(negative) neg, SUM(polarity_sum) ps, SUM(polarity_n) pn
  FROM dashboard_topic_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $3 GROUP BY 1, 2),
inbox AS (
  SELECT COUNT(*) open, COUNT(*) FILTER (WHERE due_at < $4 AND responded_at IS NULL) overdue
  FROM inbox_item WHERE status IN ('new', 'in_progress')),
closing AS (
  SELECT CASE WHEN day >= $2 THEN 1 ELSE 0 END AS period, bucket, SUM(loops) loops
  FROM dashboard_close_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $3 GROUP BY 1, 2),
menus AS (SELECT field, value FROM dashboard_value ORDER BY value)
SELECT (SELECT json_agg(kpi) FROM kpi), (SELECT json_agg(weeks) FROM weeks), (SELECT json_agg(topics) FROM topics),
       (SELECT row_to_json(inbox) FROM inbox), (SELECT json_agg(closing) FROM closing),
       (SELECT json_agg(menus) FROM menus)
"""
#: NPS by week for a year over the rollup ($1, $2: the first and last local day).
ROLLUP_TREND_SQL = """
SELECT date_trunc('week', day)::date AS week, SUM(nps_n) AS n, SUM(promoters) AS p, SUM(detractors) AS d
FROM dashboard_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1
"""
#: The same figures straight from the feedback, invitations, topics and inbox, with no rollup ($1 start of the
#: period before, $2 start of the period, $3 its end, as UTC instants; $4 now). Weeks and days in the shop's zone;
#: each score as feedback.dashboard.definitions counts it, each funnel step on the day it happened.
FACTS_SQL = f"""
WITH f AS (
  SELECT f.created_at, f.created_at >= $2 AS current, f.nps, f.label, f.channel, f.language,
         {ORDER_CSAT} AS csat, {ORDER_CSAT} AND {SATISFIED} AS csat_ok,
         {SUPPORT_CSAT} AS support_csat, {SUPPORT_CSAT} AND {SATISFIED} AS support_csat_ok,
         CASE WHEN {PUBLISHED_REVIEW} THEN f.rating END AS rating
  FROM feedback_item AS f WHERE f.created_at >= $1 AND f.created_at < $3),
kpi AS (
  SELECT current, COUNT(*) items, COUNT(nps) nps_n, COUNT(*) FILTER (WHERE nps >= {PROMOTER_FROM:d}) p,
         COUNT(*) FILTER (WHERE nps <= {DETRACTOR_UP_TO:d}) d, COUNT(*) FILTER (WHERE csat) csat_n,
         COUNT(*) FILTER (WHERE csat_ok) csat_ok, COUNT(*) FILTER (WHERE support_csat) support_csat_n,
         COUNT(*) FILTER (WHERE support_csat_ok) support_csat_ok, COUNT(rating) rating_n, SUM(rating) rating_sum,
         COUNT(*) FILTER (WHERE label = 'positive') pos, COUNT(*) FILTER (WHERE label = 'neutral') neu,
         COUNT(*) FILTER (WHERE label = 'negative') neg, COUNT(*) FILTER (WHERE label = 'mixed') mix
  FROM f GROUP BY 1),
weeks AS (
  SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/Berlin') week, COUNT(*) items, COUNT(nps) nps_n,
         COUNT(*) FILTER (WHERE nps >= {PROMOTER_FROM:d}) p, COUNT(*) FILTER (WHERE nps <= {DETRACTOR_UP_TO:d}) d,
         COUNT(*) FILTER (WHERE csat) csat_n, COUNT(*) FILTER (WHERE csat_ok) csat_ok,
         COUNT(*) FILTER (WHERE support_csat) support_csat_n, COUNT(*) FILTER (WHERE support_csat_ok) support_csat_ok,
         COUNT(rating) rating_n, SUM(rating) rs, COUNT(*) FILTER (WHERE label = 'positive') pos,
         COUNT(*) FILTER (WHERE label = 'neutral') neu, COUNT(*) FILTER (WHERE label = 'negative') neg,
         COUNT(*) FILTER (WHERE label = 'mixed') mix
  FROM f WHERE current GROUP BY 1),
steps AS (
  SELECT created_at AS at, 1 AS sch, 0 AS sent, 0 AS sent_answered, 0 AS opened, 0 AS answered FROM invitation
  WHERE created_at >= $1 AND created_at < $3
  UNION ALL SELECT sent_at, 0, 1, (answered_at IS NOT NULL)::int, 0, 0 FROM invitation
  WHERE sent_at >= $1 AND sent_at < $3
  UNION ALL SELECT opened_at, 0, 0, 0, 1, 0 FROM invitation WHERE opened_at >= $1 AND opened_at < $3
  UNION ALL SELECT answered_at, 0, 0, 0, 0, 1 FROM invitation WHERE answered_at >= $1 AND answered_at < $3),
funnel AS (
  SELECT at >= $2 AS current, date_trunc('week', at AT TIME ZONE 'Europe/Berlin') week, SUM(sch) sch,
         SUM(sent) sent, SUM(sent_answered) sent_answered, SUM(opened) opened, SUM(answered) answered
  FROM steps GROUP BY 1, 2),
topics AS (
  SELECT topic, created_at >= $2 AS current, COUNT(*) m, COUNT(*) FILTER (WHERE polarity > 0) pos,
         COUNT(*) FILTER (WHERE polarity < 0) neg, AVG(NULLIF(polarity, 0)) polarity
  FROM feedback_topic WHERE created_at >= $1 AND created_at < $3 GROUP BY 1, 2),
inbox AS (
  SELECT COUNT(*) open, COUNT(*) FILTER (WHERE due_at < $4 AND responded_at IS NULL) overdue
  FROM inbox_item WHERE status IN ('new', 'in_progress')),
closing AS (
  SELECT first_reply_at >= $2 AS current, COUNT(*) n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply_at - created_at)) median
  FROM feedback_item WHERE first_reply_at >= $1 AND first_reply_at < $3 GROUP BY 1),
menus AS (
  SELECT DISTINCT channel, language FROM f)
SELECT (SELECT json_agg(kpi) FROM kpi), (SELECT json_agg(weeks) FROM weeks), (SELECT json_agg(funnel) FROM funnel),
       (SELECT json_agg(topics) FROM topics), (SELECT row_to_json(inbox) FROM inbox),
       (SELECT json_agg(closing) FROM closing), (SELECT json_agg(menus) FROM menus)
"""
#: NPS by week for a year straight from the feedback ($1, $2: the year as UTC instants; cut-offs from afterglow.kinds).
TREND_SQL = f"""
SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/Berlin') AS week, COUNT(nps) AS n,
       COUNT(*) FILTER (WHERE nps >= {PROMOTER_FROM:d}) AS p, COUNT(*) FILTER (WHERE nps <= {DETRACTOR_UP_TO:d}) AS d
FROM feedback_item WHERE created_at >= $1 AND created_at < $2 AND nps IS NOT NULL GROUP BY 1 ORDER BY 1
"""
#: The retention tab's figures as one query over the tables it reads: the answers' rollup of the period ($1, $2
#: its first and last local day), the answers of the day a year before now ($3, from $4 its start to $5 now − 365
#: days) that have had their year, the runs of orders per day summed before each month bound ($6 date[], with
#: today last), the runs ending today before now ($7 today, $8 now), and whether an order lies at or after now.
RETENTION_ROLLUP_SQL = f"""
WITH groups AS (
  SELECT score, grp, SUM(answers) answers, SUM(returned) returned, SUM(orders) orders, SUM(revenue_cents) cents,
         SUM(answers) FILTER (WHERE day < $3) full_year
  FROM dashboard_retention_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $2 GROUP BY 1, 2),
edge AS (
  SELECT score, grp, COUNT(*) full_year FROM (
    SELECT 'nps' AS score, {nps_group("f.nps")} AS grp FROM feedback_item AS f
    WHERE $3 BETWEEN $1 AND $2 AND f.created_at >= $4 AND f.created_at <= $5 AND f.nps IS NOT NULL
      AND f.customer IS NOT NULL
    UNION ALL SELECT 'csat', f.csat::text FROM feedback_item AS f
    WHERE $3 BETWEEN $1 AND $2 AND f.created_at >= $4 AND f.created_at <= $5 AND {ORDER_CSAT}
      AND f.customer IS NOT NULL) AS a GROUP BY 1, 2),
runs AS (
  SELECT b.day, SUM(c.began) FILTER (WHERE c.day < b.day) began, SUM(c.ended) FILTER (WHERE c.day < b.day) ended,
         SUM(c.new_customers) FILTER (WHERE c.day < b.day) new
  FROM unnest($6::date[]) AS b(day) CROSS JOIN dashboard_customer_day AS c GROUP BY b.day)
SELECT (SELECT json_agg(groups) FROM groups), (SELECT json_agg(edge) FROM edge), (SELECT json_agg(runs) FROM runs),
       (SELECT SUM(began) FROM dashboard_customer_day),
       (SELECT COUNT(*) FROM dashboard_spell WHERE ends_day = $7 AND ends < $8),
       (SELECT MAX(placed_at) FROM "order" WHERE cancelled_at IS NULL) >= $8
"""
