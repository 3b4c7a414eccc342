import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=table_finder(modules=["accounts.tables"], exclude_imported=True),
    # PostgreSQL needs piccolo_user before our foreign keys to it (SQLite forgives the order).
    migration_dependencies=["piccolo.apps.user.piccolo_app"],
    commands=[],
)
