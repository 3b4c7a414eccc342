from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T14:27:29:057091"
VERSION = "1.38.0"
DESCRIPTION = "dashboard: composite indexes on the rollups, a partial index of open inbox items"

# The dashboard reads one segment's days in a range, and counts open inbox items; Piccolo declares only
# single-column indexes.
INDEXES = {
    "dashboard_day_segment_value_day": "dashboard_day (segment, value, day)",
    "dashboard_topic_day_segment_value_day": "dashboard_topic_day (segment, value, day)",
    "dashboard_close_day_segment_value_day": "dashboard_close_day (segment, value, day)",
    # open inbox items only: how many are open and overdue, per team, without reading the table
    "inbox_item_open": "inbox_item (team, due_at, responded_at) WHERE status IN ('new', 'in_progress')",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="feedback", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    async def drop() -> None:
        engine = engine_finder()
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
