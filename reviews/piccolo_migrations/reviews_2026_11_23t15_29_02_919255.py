from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Review(Table, tablename="review", schema=None):
    pass

ID = "2026-11-23T15:29:02:919255"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="reviews", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Review",
        tablename="review",
        column_name="category",
        db_column_name="category",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 100,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    # What the public API and the widget read: one product's published reviews, counted by rating and listed
    # newest or most helpful first. Both SQLite and PostgreSQL accept this CREATE INDEX.
    async def product_indexes():
        for name, columns in PRODUCT_INDEXES.items():
            await Review.raw(f"CREATE INDEX IF NOT EXISTS {name} ON review ({columns})")

    async def drop_product_indexes():
        for name in PRODUCT_INDEXES:
            await Review.raw(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(product_indexes)
    manager.add_raw_backwards(drop_product_indexes)
    return manager


PRODUCT_INDEXES = {
    "review_product_rating": "sku, status, rating",
    "review_product_newest": "sku, status, created_at",
    "review_product_helpful": "sku, status, helpful_count",
}
