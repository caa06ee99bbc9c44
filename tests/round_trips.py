"""Round trips to PostgreSQL as the wire sees them: libpq's trace of the protocol's messages
(``PQtrace``), each run of the client's messages answered by the server's being one wait.
Django's execute wrappers do not see BEGIN and COMMIT (psycopg sends them itself), nor tell
one pipelined batch from several statements; the trace counts both as the server does: one
wait for each ``Sync`` (the end of a pipeline or of an extended-protocol statement) and each
simple ``Query``, after which the client waits for the server's ``ReadyForQuery``."""

from __future__ import annotations

import contextlib
import tempfile

import psycopg
from django.db import connection


class Trips:
    count = 0
    messages: list[str]


@contextlib.contextmanager
def counted_round_trips():
    """``with counted_round_trips() as trips:`` ... ``trips.count``; ``trips.messages``: the
    client's messages of each round trip (``Query "BEGIN"``, ``Parse``, ``Sync`` ...)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    trips = Trips()
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield trips
        finally:
            pgconn.untrace()
            trace.seek(0)
            lines = trace.read().decode(errors="replace").splitlines()
    sent: list[str] = []
    messages = []
    for line in lines:
        direction, *rest = line.split("\t")
        if direction != "F" or len(rest) < 2:  # the server's, or a message's text going on
            continue
        rest = rest[1:]
        message = " ".join(rest).strip()
        sent.append(message[:80])
        if message == "Sync" or message.startswith("Query"):
            messages.append(" | ".join(sent))
            sent = []
    trips.messages = messages
    trips.count = len(messages)
