"""Gunicorn settings for production, from the environment (see .env.example)."""

import os

from clinic.logs import JSON_TO_STDOUT

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads let a worker wait on the database for one request while serving another.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Restart workers now and then so memory never creeps up over weeks. A new worker spends about
# half a second of CPU starting (bench/notes.md), and a worker holds at about 65 MB, so not
# more often than this.
max_requests = 20000
max_requests_jitter = 2000
# No access log: paths of patient links carry tokens; clinic.logs logs each request safely.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's own messages (start-up, worker restarts, timeouts) as JSON lines too.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    **JSON_TO_STDOUT,
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
