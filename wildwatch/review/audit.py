"""The append-only audit trail (the database refuses to change it: migration 003)."""
from __future__ import annotations

import json

from psycopg2.extras import Json


def record(conn, user: str, action: str, entity: str, entity_id, before, after) -> None:
    def jsonable(value):
        return None if value is None else json.loads(json.dumps(value, default=str))

    with conn.cursor() as cur:
        cur.execute("""INSERT INTO audit_log (user_name, action, entity, entity_id, before, after)
                       VALUES (%s, %s, %s, %s, %s, %s)""",
                    (user, action, entity, None if entity_id is None else str(entity_id),
                     Json(jsonable(before)) if before is not None else None,
                     Json(jsonable(after)) if after is not None else None))


def entries(conn, user: str | None = None, action: str | None = None, entity: str | None = None,
            limit: int = 200) -> list[dict]:
    from wildwatch.db import dict_cursor

    with dict_cursor(conn) as cur:
        cur.execute("""SELECT id, at, user_name, action, entity, entity_id, before, after FROM audit_log
                       WHERE (%(user)s::text IS NULL OR user_name = %(user)s)
                         AND (%(action)s::text IS NULL OR action = %(action)s)
                         AND (%(entity)s::text IS NULL OR entity = %(entity)s)
                       ORDER BY id DESC LIMIT %(limit)s""",
                    {"user": user, "action": action, "entity": entity, "limit": limit})
        return cur.fetchall()
