"""Sessions in the database, loaded with one written-out query.

Every patient page loads its session first, and Django's database store composes that query in
the ORM each time, which costs more than running it (bench/notes.md). The query here is the same
one (the key, not expired), written out.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    """Django's database sessions, loaded without composing the query in the ORM."""

    def _get_session_from_db(self) -> Any:
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        quote = connection.ops.quote_name
        table, key, data, expiry = (
            quote(name)
            for name in (model._meta.db_table, "session_key", "session_data", "expire_date")
        )
        sql = (
            f"SELECT {key}, {data}, {expiry} FROM {table} "  # noqa: S608 - the model's own names
            f"WHERE {key} = %s AND {expiry} > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        found = list(model.objects.using(alias).raw(sql, [self.session_key, now]))
        if found:
            return found[0]
        self._session_key = None
        return None
