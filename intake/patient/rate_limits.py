"""Abuse limits on the public pages, counted per clock hour in the cache: per client address
(`over_limit`) for what anyone may do (start a questionnaire, ask for an email, try a link), and
per questionnaire (`over_draft_limit`) for what only its patient can (send it), so that a patient
is never stopped by others on the same connection.

The cache is shared by every web process (a database table, or Redis), so a limit holds however
many web containers run; Redis counts exactly, the database cache may let a few extra through
under heavy parallel load (its increments are read-then-write). Addresses are stored hashed, and
IPv6 clients are counted per /64 network, the block one household or phone is given.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
import uuid

from django.core.cache import cache
from django.http import HttpRequest

from clinic.addresses import client_address

HOUR = 3600


def _bucket(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def over_limit(request: HttpRequest, scope: str, per_hour: int) -> int | None:
    """Count one attempt from the request's address; return the seconds until the next hour if
    the limit is passed."""
    client = hashlib.sha256(_bucket(client_address(request)).encode()).hexdigest()[:32]
    return _count(f"rate:{scope}:{client}", per_hour)


def over_draft_limit(draft_id: uuid.UUID, scope: str, per_hour: int) -> int | None:
    """Count one attempt on a questionnaire, wherever it comes from; as `over_limit`."""
    return _count(f"rate:{scope}:draft:{draft_id.hex}", per_hour)


def _count(subject: str, per_hour: int) -> int | None:
    if per_hour <= 0:
        return None
    now = time.time()
    window = int(now // HOUR)
    key = f"{subject}:{window}"
    # The count lives until just after its hour ends, however long the client waits in between.
    lasts = int((window + 1) * HOUR - now) + 60
    cache.add(key, 0, timeout=lasts)
    try:
        count = cache.incr(key)
    except ValueError:  # the entry expired between add() and incr()
        cache.set(key, 1, timeout=lasts)
        count = 1
    else:
        # Redis keeps an entry's expiry on an increment; the database cache's increment writes
        # the value again with the default five-minute timeout, which would let a client start
        # counting afresh after five idle minutes. Set it back.
        cache.touch(key, timeout=lasts)
    if count > per_hour:
        return int((window + 1) * HOUR - now) + 1
    return None
