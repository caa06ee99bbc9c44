"""WhiteNoise, with the static files its finders give found once per process.

WhiteNoise builds its table of files (an ``os.stat`` and a header set for each of them) in
its constructor. A server builds its middleware once per process, but Django's test client
builds a new handler, and so every middleware, for each client: in CI that scan was most of
the time of the suites that make a client per request (py-spy of the hostile walk: 5 samples
in 6 inside ``add_files_from_finders``). Without ``WHITENOISE_AUTOREFRESH`` WhiteNoise never
looks at the files again after that scan, so a table shared by the instances of one process
serves exactly what each instance's own scan would have.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    # (the static prefix, the finders' settings) -> the files the finders added
    _found: ClassVar[dict[tuple, dict[str, Any]]] = {}

    def add_files_from_finders(self) -> None:
        key = (
            self.static_prefix,
            repr(settings.STATICFILES_DIRS),
            tuple(settings.STATICFILES_FINDERS),
            tuple(settings.INSTALLED_APPS),
        )
        found = self._found.get(key)
        if found is None:
            before = dict(self.files)
            super().add_files_from_finders()
            found = {url: entry for url, entry in self.files.items() if before.get(url) is not entry}
            self._found[key] = found
        self.files.update(found)
