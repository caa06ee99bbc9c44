"""``settings.NAME`` read at the cost of a plain attribute.

Django's ``settings`` is a ``LazySettings``, a ``LazyObject``. ``LazySettings.__getattr__``
keeps each setting's value in the object's ``__dict__`` once read, but every read still
goes through ``LazyObject.__getattribute__``, a Python method (a frame, ``super()``, a
``getattr`` of ``_mask_wrapped`` on the value): about 3,800 instructions a read here, and a
request to the API reads settings some 70 times (``get_host``, ``timezone.now``, the cursor's
``queries_logged``, the middleware). With Python's own attribute lookup instead (C, no
frame) a read costs about 900.

The same values come back: a setting read once is in ``__dict__``, which Django keeps
right (``override_settings`` assigns ``_wrapped``, and ``LazySettings.__setattr__`` then
empties it; setting or deleting one setting drops that one), and a setting not read yet
falls through to ``LazySettings.__getattr__`` as before. What ``LazyObject.__getattribute__``
did besides: hide its proxy methods (``__str__``, ``__len__``, ``__iter__``, ...) when they
are asked for by name, so that ``hasattr(settings, "__len__")`` answers for the settings
object and not for the proxy. No code here or in the libraries asks that of ``settings``
(``str(settings)``, ``settings == x`` and the like go through the type and are unchanged).
"""

from __future__ import annotations

from django.conf import LazySettings


def install() -> None:
    """Settings read through Python's own attribute lookup (``OpsConfig.ready``)."""
    LazySettings.__getattribute__ = object.__getattribute__  # type: ignore[method-assign]
