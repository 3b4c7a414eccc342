from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T06:38:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "imported reviews: the import key is unique"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="reviews", description=DESCRIPTION)

    async def unique_import_key() -> None:
        # SQLite cannot add a UNIQUE column; a unique index does the same on both engines (NULLs may repeat).
        await engine_finder().run_ddl('CREATE UNIQUE INDEX review_import_key_unique ON "review" ("import_key")')

    manager.add_raw(unique_import_key)
    return manager
