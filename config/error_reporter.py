"""An exception reporter that shows where an error happened, never the data it happened on.

Django's debug page (DEBUG on, as under `make run`) and its error e-mails list every
frame's local variables, the request's body and the settings: a failing step would show
the whole workflow state, categories the reader may not see among them. This reporter
keeps the exception class and the stack (file, line, function, source line), and drops
the exception's message (it may quote a value), the locals, the request data and settings.
"""

from __future__ import annotations

import html

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter

from ops.logs import mask_secrets, stack_lines


class StatelessExceptionReporter(ExceptionReporter):
    def _summary(self) -> str:
        name = self.exc_type.__name__ if self.exc_type else "Error"
        # The path with an enrolment or reset link's secret masked (``ops.logs.mask_secrets``).
        where = f"{self.request.method} {mask_secrets(self.request.path)}" if self.request is not None else ""
        return f"{name} at {where}".strip()

    def get_traceback_text(self) -> SafeString:
        lines = [self._summary(), "", "Traceback (values left out):", *stack_lines(self.tb)]
        # Plain text, as Django's own (which marks it safe too): never put into HTML unescaped.
        return mark_safe("\n".join(lines) + "\n")  # noqa: S308

    def get_traceback_html(self) -> SafeString:
        body = html.escape(self.get_traceback_text())
        return mark_safe(  # noqa: S308 - every value in it is escaped above
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Server error</title></head>'
            f"<body><h1>Server error (500)</h1><p>{html.escape(self._summary())}</p>"
            f"<pre>{body}</pre></body></html>"
        )
