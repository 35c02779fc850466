"""Writes the requests of the peer's scenarios, with a signed-in superuser for its admin.

Run by bench/run.py with the peer's settings (bench/peer/settings.py and the peer server's
SECRET_KEY, so that the session made here is the server's). Usage:
    python bench/prepare_peer.py OUTPUT_DIR
writes OUTPUT_DIR/peer_one_query.tsv, peer_form.tsv and peer_changelist.tsv (METHOD, PATH,
COOKIE, BODY per line, as bench/wrk.lua reads).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402


def main(output: Path) -> None:
    requests = {
        "peer_one_query": ("GET", "/one-query/", ""),
        "peer_form": ("GET", "/form/", ""),
        "peer_changelist": ("GET", "/admin/peer/submission/", _superuser_cookie()),
    }
    for scenario, (method, path, cookie) in requests.items():
        line = "\t".join((method, path, cookie, ""))
        (output / f"{scenario}.tsv").write_text(line + "\n", encoding="utf-8")


def _superuser_cookie() -> str:
    """A signed-in superuser's session, as the admin's login page would leave it."""
    user = User.objects.filter(username="bench").first()
    if user is None:
        user = User.objects.create_superuser("bench", "bench@example.com", password=None)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


if __name__ == "__main__":
    main(Path(sys.argv[1]))
