"""Real-browser tests: Debian's Chromium driven by Playwright (never a downloaded browser)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# Chromium's own background traffic has nowhere to go on a closed network.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture(scope="session")
def live_server(live_server: LiveServer) -> LiveServer:
    """pytest-django's live server, stopping only once its request threads have ended.

    Each connection the browser opens is served by a thread of its own for as long as Chromium
    keeps it open. On SQLite those threads share this thread's connection to the in-memory test
    database, and close it as they end. Daemon threads (the default) can end after stop() has
    withdrawn that sharing, and fail ("DatabaseWrapper objects created in a thread can only be
    used in that same thread"). These are joined by stop() instead, and end as soon as the
    browser, closed first, drops their connections.
    """
    live_server.thread.httpd.daemon_threads = False
    return live_server


# One Chromium for the browser tests, closed when the last of them is done (so before the live
# server stops); each test opens its own pages (and so its own contexts).
@pytest.fixture(scope="package")
def browser(live_server: LiveServer) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it with apt-get.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")
    own_connections = {alias: connections[alias] for alias in connections}
    # While Playwright runs, its sync API marks an asyncio event loop as running in this thread
    # (the loop itself only runs while a Playwright call waits). Django then takes the tests for
    # async code: it refuses their database work, allowed here for as long as Playwright runs, and
    # keeps another set of connections for them; they keep this thread's own, which the test
    # database was set up with (and which the live server shares on SQLite).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            for alias, connection in own_connections.items():
                connections[alias] = connection
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
