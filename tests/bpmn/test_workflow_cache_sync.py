"""The workflow cache drops what other processes evicted (``WorkflowCache.sync``): on a
first look everything (nothing of it is known), then only the keys evicted since."""

from types import SimpleNamespace

from bpmn.engine.workflow_cache import WorkflowCache


def _workflow():
    return SimpleNamespace(spec=object())


def test_sync_drops_everything_at_a_first_look_then_only_what_was_evicted_since():
    cache = WorkflowCache()
    for key in (1, 2, 3):
        cache.put(key, f"state {key}", _workflow())
    asked = []
    cache.sync(None, asked.append)  # no eviction anywhere yet: nothing to do
    assert len(cache) == 3 and asked == []
    cache.sync(5, asked.append)  # a first look: whatever is cached may predate the evictions
    assert len(cache) == 0 and asked == []

    for key in (1, 2, 3):
        cache.put(key, f"state {key}", _workflow())
    cache.sync(5, lambda since: [1])  # the mark has not moved: nothing read, nothing dropped
    assert len(cache) == 3
    cache.sync(7, lambda since: [2] if since == 5 else [1, 2, 3])
    assert sorted(cache._items) == [1, 3]
    cache.forget([3])
    assert sorted(cache._items) == [1]


def test_sync_drops_everything_when_the_evictions_since_its_last_look_are_no_longer_known():
    """The rows after this process's mark were pruned (``evicted_since`` answers None): what it
    keeps may have been evicted by one of them, so all of it goes."""
    cache = WorkflowCache()
    cache.put(1, "state 1", _workflow())
    cache.sync(5, lambda since: [])  # a first look
    for key in (1, 2, 3):
        cache.put(key, f"state {key}", _workflow())
    cache.sync(9, lambda since: None)
    assert len(cache) == 0
    cache.put(4, "state 4", _workflow())
    cache.sync(11, lambda since: [] if since == 9 else None)  # the mark moved on to 9
    assert len(cache) == 1
