"""WSGI entry point of the stock peer (`gunicorn bench.peer.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")

application = get_wsgi_application()
