"""Piccolo engine and app registry: SQLite file by default, PostgreSQL when a URL is given."""

from piccolo.conf.apps import AppRegistry

from afterglow.db import make_engine
from afterglow.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(
    apps=[
        "piccolo.apps.user.piccolo_app",
        "accounts.piccolo_app",
        "shop.piccolo_app",
        "surveys.piccolo_app",
        "reviews.piccolo_app",
        "feedback.piccolo_app",
        "afterglow.piccolo_app",
    ]
)
