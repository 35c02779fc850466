"""Abuse limits on the public pages, counted per client address per clock hour in the cache.

The cache is shared by every web process (a database table, or Redis), so a limit holds however
many web containers run; Redis counts exactly, the database cache may let a few extra through
under heavy parallel load (its increments are read-then-write). Addresses are stored hashed, and
IPv6 clients are counted per /64 network, the block one household or phone is given.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time

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


def _key(request: HttpRequest, scope: str, window: int) -> str:
    client = hashlib.sha256(_bucket(client_address(request)).encode()).hexdigest()[:32]
    return f"rate:{scope}:{client}:{window}"


def over_limit(request: HttpRequest, scope: str, per_hour: int) -> int | None:
    """Count one attempt; return the seconds until the next hour if the limit is passed."""
    if per_hour <= 0:
        return None
    now = time.time()
    window = int(now // HOUR)
    key = _key(request, scope, window)
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
