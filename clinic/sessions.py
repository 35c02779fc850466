"""Sessions in the database, loaded with one written-out query.

Every request that carries a session cookie loads its session first; Django's database store
composes that query in the ORM each time, which costs more than running it. The query here is
the same (the key, not expired), written out once per process.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

_LOAD_SQL: dict[str, str] = {}


class SessionStore(db.SessionStore):
    """Django's database sessions, loaded without composing the query each time."""

    def _get_session_from_db(self) -> Any:
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        sql = _LOAD_SQL.get(alias)
        if sql is None:
            quote = connection.ops.quote_name
            sql = _LOAD_SQL[alias] = (
                f"SELECT {quote('session_key')}, {quote('session_data')}, "  # noqa: S608
                f"{quote('expire_date')} FROM {quote(model._meta.db_table)} "
                f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
            )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        found = list(model.objects.using(alias).raw(sql, [self.session_key, now]))
        if found:
            return found[0]
        self._session_key = None
        return None
