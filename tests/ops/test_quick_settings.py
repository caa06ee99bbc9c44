"""Settings read through Python's own attribute lookup (``ops.quick_settings``, README
"Production server", h-perf17): no Python code runs for a setting read again, and every
read still answers what Django's ``LazySettings`` answers, under ``override_settings`` and
after a setting is changed or deleted."""

import sys

import pytest
from django.conf import settings
from django.test import override_settings


def _python_calls(read) -> list[str]:
    calls = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename != __file__:  # the reading lambda itself
            calls.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        read()
    finally:
        sys.setprofile(None)
    return calls


def test_a_setting_read_again_runs_no_python_code():
    assert settings.LANGUAGE_CODE  # read once: kept in the settings object's __dict__
    assert _python_calls(lambda: settings.LANGUAGE_CODE) == []


def test_reads_follow_override_settings_and_come_back():
    before = settings.WEB_RATE_LIMIT
    with override_settings(WEB_RATE_LIMIT="7/minute"):
        assert settings.WEB_RATE_LIMIT == "7/minute"
        with override_settings(WEB_RATE_LIMIT="8/minute"):
            assert settings.WEB_RATE_LIMIT == "8/minute"
        assert settings.WEB_RATE_LIMIT == "7/minute"
    assert before == settings.WEB_RATE_LIMIT


def test_a_setting_set_or_deleted_is_read_anew():
    # On Django's settings object itself (``LazySettings.__setattr__`` and ``__delattr__``),
    # not through override_settings.
    try:
        settings.BROBYGGER_QUICK_SETTINGS_PROBE = "first"
        assert settings.BROBYGGER_QUICK_SETTINGS_PROBE == "first"
        settings.BROBYGGER_QUICK_SETTINGS_PROBE = "second"
        assert settings.BROBYGGER_QUICK_SETTINGS_PROBE == "second"
    finally:
        del settings.BROBYGGER_QUICK_SETTINGS_PROBE
    with pytest.raises(AttributeError):
        settings.BROBYGGER_QUICK_SETTINGS_PROBE


def test_the_lazy_object_still_answers_as_before():
    from django.conf import LazySettings

    assert isinstance(settings, LazySettings)
    assert settings.configured
    assert settings.__class__ is type(settings._wrapped)  # LazyObject's own __class__
    assert repr(settings).startswith("<LazySettings ")
    assert settings.SECRET_KEY
    assert settings.STATIC_URL.startswith("/")  # LazySettings.__getattr__'s script prefix
    with pytest.raises(AttributeError):
        settings.NO_SUCH_SETTING
