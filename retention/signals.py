"""Signals of the retention app, for the layers above it that keep copies of case data.

``case_erased`` is sent inside the erasure's transaction, after the case's own rows were
scrubbed and before the person becomes a tombstone, with ``case`` (still naming the
person). A receiver removes what its layer keeps of the case and returns how many rows it
removed, by kind (``{kind: count}``); the counts go into the erasure record. The API's
stored ``Idempotency-Key`` answers are such a copy (``api.idempotency.forget_erased_case``)."""

from django.dispatch import Signal

case_erased = Signal()
