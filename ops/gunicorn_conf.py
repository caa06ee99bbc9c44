"""Gunicorn settings for ``manage.py serve`` (``-c python:ops.gunicorn_conf``), from the environment.

WEB_BIND (127.0.0.1:8000), WEB_WORKERS (2: processes), WEB_THREADS (4: threads per
process), WEB_TIMEOUT (30 s: a worker silent that long is killed and replaced),
WEB_MAX_REQUESTS (10000: a process is replaced after 10,000-15,000 requests, which bounds
slow memory growth), WEB_FORWARDED_ALLOW_IPS (127.0.0.1: the proxy allowed to set
X-Forwarded-*), WEB_GC_THRESHOLD (5000: the collector's first threshold in a web process,
``gc.set_threshold``; 0 leaves Python's own, 700). Measured choices: README "Production server".
"""

import gc
import os

from gunicorn.glogging import Logger as GunicornLogger
from prometheus_client import multiprocess

from ops.logs import logging_config


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


wsgi_app = "config.wsgi:application"
bind = os.environ.get("WEB_BIND", "127.0.0.1:8000").split(",")
workers = _int("WEB_WORKERS", 2)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
# A new process imports the application again (1.2 s of CPU here) while its share of the
# requests waits. With 5,000 requests and a jitter of a tenth, both processes were replaced
# inside one 40 s bench-http window: every route's slowest request took 1.6 s, and 46
# completions/s against 54.5 in a window without a replacement. RSS levels off (163 MB
# after about 7,000 requests, 164 MB after about 19,000), so a process can serve longer,
# and a jitter of half keeps the processes from being replaced together.
max_requests = _int("WEB_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 2
forwarded_allow_ips = os.environ.get("WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Several servers may run on one machine (nodes, tests): no shared control socket in $HOME.
control_socket_disable = True
# Requests are logged by ops.middleware (with the route and the request id), not twice.
accesslog = None


class Logger(GunicornLogger):
    """gunicorn's logger, with its access line made only when an access log is asked for.
    gunicorn makes it whenever a ``logconfig_dict`` is given (as here), though no handler
    writes it: every request built a record of all its headers and times for nothing,
    0.1-0.2 ms of a web process's CPU (README "Production server": a completion round).
    ``--access-logfile`` still writes it."""

    def _compute_access_log_enabled(self) -> bool:  # gunicorn 25+: read on every request
        return bool(self.cfg.accesslog)

    def access(self, resp, req, environ, request_time) -> None:
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


logger_class = Logger
logconfig_dict = logging_config(
    json_lines=(os.environ.get("LOG_FORMAT") or "json") == "json", level=os.environ.get("LOG_LEVEL", "INFO")
)
proc_name = "brobygger-web"


def child_exit(server, worker):
    """Drop the dead process's live gauges from the shared metrics directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Import every view now, so that the first request does not pay for it (0.8 s measured),
    then set the garbage collector for serving (``settle_garbage_collector``)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (resolving the URLconf imports the views)
    settle_garbage_collector(_int("WEB_GC_THRESHOLD", 5000))


def settle_garbage_collector(threshold: int) -> None:
    """What a web process has imported (modules, the process models, the compiled
    statements: about 190,000 objects) moved out of the collector's reach (``gc.freeze``), and
    its first threshold raised to ``threshold`` (0: Python's own left as they are).

    Every request leaves its objects in reference cycles (DRF's request, view and response
    point at each other), which only the collector frees. With
    Python's settings a full collection walked everything the process had imported, about
    every 300 completion rounds: 80 ms of CPU in one request. Frozen, a full collection walks
    only what was made since (none was due in 300 rounds); at 5,000 the young collections run
    a sixth as often (their total is about the same: each walks more) and the middle
    generation's a third less. The collector's CPU in the busy web process (``gc.callbacks``,
    ``bench.http.serial_cpu``, README "Production server"): 0.57-0.62 ms a completion round
    before, 0.31-0.34 after. The frozen objects live as long as the process, as they would
    anyway."""
    gc.collect()
    gc.freeze()
    if threshold > 0:
        gc.set_threshold(threshold, *gc.get_threshold()[1:])
