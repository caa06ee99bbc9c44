"""``make bench-http``: what an agency's client gets from the production server.

The server is started as ``make serve`` starts it (``manage.py serve``: gunicorn and a job
worker) on a throw-away PostgreSQL database; locust drives it with concurrent clients,
each working whole prison-release cases over the REST API (``clients.py``). The figures
come out as JSON: requests and task completions per second, p50/p95/p99 per route, errors,
and the resident memory of every server process at the end.
"""
