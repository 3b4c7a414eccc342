"""What the task queue could not do: tasks retrying after a failure, and those that gave up (dead letters)."""

from piccolo.columns import JSON, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TaskFailure(Table):
    """One Celery task that failed at least once. state: retrying (Celery will try again at `next_retry_at`) |
    dead (gave up: an admin may requeue it) | recovered (a retry succeeded) | requeued (an admin sent it again)."""

    task_id = Varchar(length=64, unique=True)
    task_name = Varchar(length=100, index=True)
    args = JSON(default=[])
    kwargs = JSON(default={})
    state = Varchar(length=16, index=True)
    attempts = Integer(default=1)
    error = Varchar(length=1000, default="")
    next_retry_at = Timestamptz(null=True, default=None)
    first_failed_at = Timestamptz(default=TimestamptzNow())
    last_failed_at = Timestamptz(default=TimestamptzNow(), index=True)
    requeued_at = Timestamptz(null=True, default=None)
    requeued_by = Varchar(length=100, default="")


class SettingOverride(Table):
    """One setting an admin changed in the browser (afterglow/editable.py): it replaces the environment's value
    from the next pass or request on. Without a row, the environment's value (or its default) holds."""

    key = Varchar(length=64, unique=True)
    value = JSON()
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = Varchar(length=100, default="")
