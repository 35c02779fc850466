"""Abuse limits on the public pages, counted per client address per clock hour in the cache.

The cache is shared by every web process (a database table, or Redis), so a limit holds however
many web containers run. Addresses are stored hashed.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

from clinic.addresses import client_address

HOUR = 3600


def over_limit(request: HttpRequest, scope: str, per_hour: int) -> int | None:
    """Count one attempt; return the seconds until the next hour if the limit is passed."""
    if per_hour <= 0:
        return None
    now = time.time()
    window = int(now // HOUR)
    client = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    key = f"rate:{scope}:{client}:{window}"
    cache.add(key, 0, timeout=HOUR + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # the entry expired between add() and incr()
        cache.set(key, 1, timeout=HOUR + 60)
        count = 1
    if count > per_hour:
        return int((window + 1) * HOUR - now) + 1
    return None
