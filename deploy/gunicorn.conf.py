"""gunicorn's settings for the portal (``gunicorn -c deploy/gunicorn.conf.py portal.wsgi``).

Threaded workers: DICOMweb and uploads mostly wait on Orthanc or the client while streaming,
and OHIF sends many requests at once. Every value can be set from the environment.
"""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

SHARE_TOKEN = re.compile(r"/s/[A-Za-z0-9_-]{16,}")


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# Two per core, plus one: the usual start for I/O-bound work; at least two, so one can restart.
workers = _int("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count() * 2 + 1))
threads = _int("GUNICORN_THREADS", 6)
# Long enough for a multi-gigabyte upload batch or a zip of a large study on a slow link; a
# worker silent this long is restarted.
timeout = _int("GUNICORN_TIMEOUT", 300)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # SIGHUP: a graceful reload
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after this many requests (0: never), staggered by the jitter.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
accesslog = "-"  # stdout, where the container's or the supervisor's log collection reads


class PortalLogger(Logger):
    """Share-link tokens never reach the access log (the portal keeps only their hash)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U"):  # the request line, the path
            atoms[key] = SHARE_TOKEN.sub("/s/<token>", atoms.get(key) or "")
        return atoms


logger_class = PortalLogger
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Nginx in front sets these; only it is trusted to (TRUSTED_PROXY_COUNT does the same for Django).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
