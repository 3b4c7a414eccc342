from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-05T06:54:16:803812"
VERSION = "1.38.0"
DESCRIPTION = "dashboard: Support CSAT apart from CSAT, and the invitations sent that day that were opened / answered"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="feedback", description=DESCRIPTION)

    manager.add_column(
        table_class_name="DashboardDay",
        tablename="dashboard_day",
        column_name="sent_answered",
        db_column_name="sent_answered",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="DashboardDay",
        tablename="dashboard_day",
        column_name="sent_opened",
        db_column_name="sent_opened",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="DashboardDay",
        tablename="dashboard_day",
        column_name="support_csat_n",
        db_column_name="support_csat_n",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="DashboardDay",
        tablename="dashboard_day",
        column_name="support_csat_ok",
        db_column_name="support_csat_ok",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    # The rollup's figures are counted anew (CSAT of order surveys only, published reviews, each funnel step on its
    # own day): forgetting where the sweep stands makes its next pass rebuild every day.
    async def rebuild_next() -> None:
        await engine_finder().run_ddl("UPDATE dashboard_sweep SET swept_until = NULL")

    manager.add_raw(rebuild_next)
    return manager
