"""Whole patient pages that are the same for every patient at the same point of a version.

A step whose questions are all unanswered looks the same to every patient of a published version
who sees the same questions (which follow-ups show depends on earlier answers, so that is part of
the key). Such a page is rendered once per process and served again with this request's CSRF token
and CSP nonce put in place of stand-ins: no answer, token or nonce is ever kept. Published
versions never change, and a version's content hash is in every key, so an entry never goes stale;
the cache is bounded, and entries go oldest first.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from django.contrib import messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

# Stand-ins made afresh in each process: nothing a patient or an author writes can contain them.
_CSRF_TOKEN = f"csrf{secrets.token_hex(16)}"
_CSP_NONCE = f"nonce{secrets.token_hex(16)}"
PER_REQUEST: Mapping[str, str] = {"csrf_token": _CSRF_TOKEN, "csp_nonce": _CSP_NONCE}

# Steps × the follow-ups shown on them, over the versions in use: a few hundred pages at most
# in practice, each some tens of kB.
MAX_PAGES = 256

_pages: dict[Hashable, str] = {}
_lock = threading.Lock()


def can_share(request: HttpRequest) -> bool:
    """Whether this request's page may come from the shared pages (a plain GET, no messages)."""
    return request.method in ("GET", "HEAD") and not len(messages.get_messages(request))


def shared_page(
    request: HttpRequest, key: Hashable, render: Callable[[Mapping[str, Any]], str]
) -> HttpResponse:
    """The page for `key`, rendered by `render(extra_context)` the first time it is asked for.

    `render` is given the stand-ins to render with in place of the CSRF token and the nonce.
    """
    html = _pages.get(key)
    if html is None:
        html = render(PER_REQUEST)
        with _lock:
            while len(_pages) >= MAX_PAGES:
                _pages.pop(next(iter(_pages)))
            _pages[key] = html
    html = html.replace(_CSRF_TOKEN, get_token(request))
    if _CSP_NONCE in html:
        html = html.replace(_CSP_NONCE, str(getattr(request, "_csp_nonce", "")))
    return HttpResponse(html)


@receiver(setting_changed)
def forget_pages(**kwargs: Any) -> None:
    """Empty the cache when a setting changes (as tests do): pages may show settings."""
    with _lock:
        _pages.clear()
