"""Many rows in one INSERT, passed as one JSON parameter: SQLite reads it with `json_each`, PostgreSQL with
`json_populate_recordset`. Piccolo's query builder spent more time composing a few hundred rows (and hashing its
column objects) than the database took to store them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.columns import JSON
from piccolo.engine.sqlite import convert_datetime_in
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from afterglow.db import is_postgres


def _plain(value: Any, is_json: bool, postgres: bool) -> Any:
    """A value as a JSON value: a time as the database stores it as text; a JSON column's value as text on
    SQLite (as it is stored), as itself on PostgreSQL."""
    if isinstance(value, datetime):
        return value.isoformat() if postgres else convert_datetime_in(value)
    if is_json and not postgres:
        return dump_json(value)
    return value


async def insert_rows(
    table: type[Table], rows: list[dict[str, Any]], *, on_conflict: str = "", returning: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Insert `rows` (column name → value; every row with the same names) into `table`; `on_conflict` is the
    statement's ON CONFLICT clause, if any. Returns the `returning` columns of the rows inserted (or updated)."""
    if not rows:
        return []
    tablename = table._meta.tablename
    names = list(rows[0])
    json_columns = {c._meta.db_column_name for c in table._meta.columns if isinstance(c, JSON)}
    postgres = is_postgres(table._meta.db)
    quoted = ", ".join(f'"{name}"' for name in names)
    if postgres:
        source = f'SELECT {quoted} FROM json_populate_recordset(NULL::"{tablename}", {{}}::json)'
        payload = dump_json([{n: _plain(row[n], n in json_columns, True) for n in names} for row in rows])
    else:
        picked = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(names)))
        source = f"SELECT {picked} FROM json_each({{}}) WHERE true"  # WHERE: SQLite's parser needs it before ON
        payload = dump_json([[_plain(row[n], n in json_columns, False) for n in names] for row in rows])
    sql = f'INSERT INTO "{tablename}" ({quoted}) {source} {on_conflict}'
    if returning:
        sql += " RETURNING " + ", ".join(f'"{name}"' for name in returning)
    return list(await table.raw(sql, payload))
