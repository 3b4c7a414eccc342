from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T10:00:24:200000"
VERSION = "1.38.0"
DESCRIPTION = "widget versions: the triggers that bump them"

# What the public sees of a product (the widget, the rating API) changes with: its published reviews (any shown
# column, and entering or leaving "published"), their photos, the newest order item of its SKU (which may name it
# by its catalogue entry), and the catalogue (a title, an image, a deleted product, a key, an order's id), which may
# rename any product. Each such write bumps `sku:<sku>` or `all` in its own transaction. A version is never
# smaller than the clock in microseconds: a row created again (an emptied table) never repeats an old number.
#
# On PostgreSQL the review and catalogue triggers are deferred to the commit, so the version rows are locked only
# for that moment.
_SHOWN = (
    "sku, status, rating, title, text, language, author_name, verified, created_at, helpful_count, reply_text, "
    "reply_at, photo_urls, product_name"
)
_PG_BUMP_ALL = """
CREATE FUNCTION widget_bump_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM widget_bump('all');
  RETURN NULL;
END $$"""
POSTGRES = [
    """
CREATE FUNCTION widget_bump(k text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO widget_version AS v (key, version)
  VALUES (k, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
  ON CONFLICT (key) DO UPDATE SET version = greatest(v.version + 1, EXCLUDED.version)
$$""",
    _PG_BUMP_ALL,
    """
CREATE FUNCTION review_widget_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'published' THEN
    PERFORM widget_bump('sku:' || OLD.sku);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = 'published'
     AND (TG_OP = 'INSERT' OR OLD.status <> 'published' OR OLD.sku <> NEW.sku) THEN
    PERFORM widget_bump('sku:' || NEW.sku);
  END IF;
  RETURN NULL;
END $$""",
    f"""
CREATE CONSTRAINT TRIGGER review_widget_changed AFTER INSERT OR DELETE OR UPDATE OF {_SHOWN} ON review
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION review_widget_changed()""",
    """
CREATE FUNCTION review_photo_widget_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  shown text;
BEGIN
  -- Run at commit: the review's status then is the one that counts.
  FOR shown IN
    SELECT sku FROM review WHERE status = 'published' AND id IN (
      SELECT (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.review END)
      UNION SELECT (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.review END))
  LOOP
    PERFORM widget_bump('sku:' || shown);
  END LOOP;
  RETURN NULL;
END $$""",
    """
CREATE CONSTRAINT TRIGGER review_photo_widget_changed AFTER INSERT OR DELETE OR UPDATE ON review_photo
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION review_photo_widget_changed()""",
    # An order's items are one statement: each statement bumps its SKUs in one sorted pass, so two orders of the
    # same products lock their version rows in the same order and never wait for each other in a circle.
    """
CREATE FUNCTION widget_bump_skus(skus text[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO widget_version AS v (key, version)
  SELECT 'sku:' || sku, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
  FROM (SELECT DISTINCT sku FROM unnest(skus) AS sku) AS shown ORDER BY 1
  ON CONFLICT (key) DO UPDATE SET version = greatest(v.version + 1, EXCLUDED.version)
$$""",
    """
CREATE FUNCTION order_items_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM widget_bump_skus(ARRAY(SELECT sku FROM added));
  RETURN NULL;
END $$""",
    """
CREATE FUNCTION order_items_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM widget_bump_skus(ARRAY(SELECT sku FROM removed));
  RETURN NULL;
END $$""",
    """
CREATE FUNCTION order_items_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM widget_bump_skus(ARRAY(
    SELECT unnest(ARRAY[b.sku, a.sku]) FROM before b JOIN after a ON a.id = b.id
    WHERE (a.sku, a.product_ref, a.variant_ref, a.name) IS DISTINCT FROM (b.sku, b.product_ref, b.variant_ref, b.name)));
  RETURN NULL;
END $$""",
    """
CREATE TRIGGER order_items_added AFTER INSERT ON order_item REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION order_items_added()""",
    """
CREATE TRIGGER order_items_removed AFTER DELETE ON order_item REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION order_items_removed()""",
    """
CREATE TRIGGER order_items_changed AFTER UPDATE ON order_item REFERENCING OLD TABLE AS before NEW TABLE AS after
FOR EACH STATEMENT EXECUTE FUNCTION order_items_changed()""",
    """
CREATE CONSTRAINT TRIGGER order_widget_changed AFTER UPDATE OF external_id ON "order"
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.external_id IS DISTINCT FROM NEW.external_id) EXECUTE FUNCTION widget_bump_all()""",
    """
CREATE CONSTRAINT TRIGGER product_widget_changed AFTER UPDATE OF title, image_url, deleted_at ON product
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.image_url IS DISTINCT FROM NEW.image_url
      OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
EXECUTE FUNCTION widget_bump_all()""",
    """
CREATE CONSTRAINT TRIGGER product_key_widget_changed AFTER INSERT OR DELETE OR UPDATE ON product_key
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION widget_bump_all()""",
]


def _sqlite_bump(key: str) -> str:
    return (
        f"INSERT INTO widget_version (key, version) VALUES ({key}, "
        "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) "
        "ON CONFLICT (key) DO UPDATE SET version = max(version + 1, excluded.version);"
    )


def _photo_bump(row: str) -> str:
    return (
        f"WHEN EXISTS (SELECT 1 FROM review WHERE id = {row}.review AND status = 'published') BEGIN "
        + _sqlite_bump(f"(SELECT 'sku:' || sku FROM review WHERE id = {row}.review)")
        + " END"
    )


SQLITE = [
    "CREATE TRIGGER review_widget_insert AFTER INSERT ON review WHEN NEW.status = 'published' BEGIN "
    + _sqlite_bump("'sku:' || NEW.sku")
    + " END",
    f"CREATE TRIGGER review_widget_update AFTER UPDATE OF {_SHOWN} ON review "
    "WHEN OLD.status = 'published' OR NEW.status = 'published' BEGIN "
    + _sqlite_bump("'sku:' || OLD.sku")
    + _sqlite_bump("'sku:' || NEW.sku")
    + " END",
    "CREATE TRIGGER review_widget_delete AFTER DELETE ON review WHEN OLD.status = 'published' BEGIN "
    + _sqlite_bump("'sku:' || OLD.sku")
    + " END",
    "CREATE TRIGGER review_photo_widget_insert AFTER INSERT ON review_photo " + _photo_bump("NEW"),
    "CREATE TRIGGER review_photo_widget_delete AFTER DELETE ON review_photo " + _photo_bump("OLD"),
    "CREATE TRIGGER review_photo_widget_update AFTER UPDATE ON review_photo " + _photo_bump("NEW"),
    "CREATE TRIGGER order_item_widget_insert AFTER INSERT ON order_item BEGIN "
    + _sqlite_bump("'sku:' || NEW.sku")
    + " END",
    "CREATE TRIGGER order_item_widget_update AFTER UPDATE OF sku, product_ref, variant_ref, name ON order_item BEGIN "
    + _sqlite_bump("'sku:' || OLD.sku")
    + _sqlite_bump("'sku:' || NEW.sku")
    + " END",
    "CREATE TRIGGER order_item_widget_delete AFTER DELETE ON order_item BEGIN "
    + _sqlite_bump("'sku:' || OLD.sku")
    + " END",
    'CREATE TRIGGER order_widget_update AFTER UPDATE OF external_id ON "order" '
    "WHEN OLD.external_id IS NOT NEW.external_id BEGIN " + _sqlite_bump("'all'") + " END",
    "CREATE TRIGGER product_widget_update AFTER UPDATE OF title, image_url, deleted_at ON product "
    "WHEN OLD.title IS NOT NEW.title OR OLD.image_url IS NOT NEW.image_url OR OLD.deleted_at IS NOT NEW.deleted_at "
    "BEGIN " + _sqlite_bump("'all'") + " END",
    "CREATE TRIGGER product_key_widget_insert AFTER INSERT ON product_key BEGIN " + _sqlite_bump("'all'") + " END",
    "CREATE TRIGGER product_key_widget_update AFTER UPDATE ON product_key BEGIN " + _sqlite_bump("'all'") + " END",
    "CREATE TRIGGER product_key_widget_delete AFTER DELETE ON product_key BEGIN " + _sqlite_bump("'all'") + " END",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reviews", description=DESCRIPTION)

    async def create_triggers() -> None:
        # After the table's migration: PostgreSQL checks a function's statements when it is created.
        engine = engine_finder()
        for statement in POSTGRES if engine.engine_type in ("postgres", "cockroach") else SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(create_triggers)
    return manager
