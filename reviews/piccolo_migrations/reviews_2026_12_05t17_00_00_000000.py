from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "survey versions: a number per order that grows when its items' reviews change"

# The survey page shows the customer's own reviews of the order's items, whatever their status, with their photos
# (`reviews.services.collect.item_reviews`). Every write to such a review (any column) or to its photos bumps
# `order:<order id>` in `widget_version`, in the same transaction; catalogue changes already bump `all`.
# On PostgreSQL the triggers run at commit, as the widget's do.
POSTGRES = [
    """
CREATE FUNCTION order_of_review(review_item bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  found bigint;
BEGIN
  SELECT "order" INTO found FROM order_item WHERE id = review_item;
  IF found IS NOT NULL THEN
    PERFORM widget_bump('order:' || found);
  END IF;
END $$""",
    """
CREATE FUNCTION review_survey_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.order_item IS NOT NULL THEN
    PERFORM order_of_review(OLD.order_item);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.order_item IS NOT NULL
     AND (TG_OP = 'INSERT' OR NEW.order_item IS DISTINCT FROM OLD.order_item) THEN
    PERFORM order_of_review(NEW.order_item);
  END IF;
  RETURN NULL;
END $$""",
    """
CREATE CONSTRAINT TRIGGER review_survey_changed AFTER INSERT OR DELETE OR UPDATE ON review
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION review_survey_changed()""",
    """
CREATE FUNCTION review_photo_survey_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  item bigint;
BEGIN
  FOR item IN
    SELECT order_item FROM review WHERE order_item IS NOT NULL AND id IN (
      SELECT (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.review END)
      UNION SELECT (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.review END))
  LOOP
    PERFORM order_of_review(item);
  END LOOP;
  RETURN NULL;
END $$""",
    """
CREATE CONSTRAINT TRIGGER review_photo_survey_changed AFTER INSERT OR DELETE OR UPDATE ON review_photo
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION review_photo_survey_changed()""",
]


def _sqlite_bump(item: str) -> str:
    """Bump the order of the order item `item`, if it has one."""
    return (
        "INSERT INTO widget_version (key, version) "
        f"SELECT 'order:' || \"order\", CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) "
        f"FROM order_item WHERE id = {item} AND \"order\" IS NOT NULL "
        "ON CONFLICT (key) DO UPDATE SET version = max(version + 1, excluded.version);"
    )


def _photo_bump(row: str) -> str:
    return "BEGIN " + _sqlite_bump(f"(SELECT order_item FROM review WHERE id = {row}.review)") + " END"


SQLITE = [
    "CREATE TRIGGER review_survey_insert AFTER INSERT ON review BEGIN " + _sqlite_bump("NEW.order_item") + " END",
    "CREATE TRIGGER review_survey_update AFTER UPDATE ON review BEGIN "
    + _sqlite_bump("OLD.order_item")
    + _sqlite_bump("NEW.order_item")
    + " END",
    "CREATE TRIGGER review_survey_delete AFTER DELETE ON review BEGIN " + _sqlite_bump("OLD.order_item") + " END",
    "CREATE TRIGGER review_photo_survey_insert AFTER INSERT ON review_photo " + _photo_bump("NEW"),
    "CREATE TRIGGER review_photo_survey_delete AFTER DELETE ON review_photo " + _photo_bump("OLD"),
    "CREATE TRIGGER review_photo_survey_update AFTER UPDATE ON review_photo " + _photo_bump("NEW"),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reviews", description=DESCRIPTION)

    async def create_triggers() -> None:
        engine = engine_finder()
        for statement in POSTGRES if engine.engine_type in ("postgres", "cockroach") else SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(create_triggers)
    return manager
