from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web pages: their templates, static files (the editor's scripts) and template tags."""

    name = "web"
    verbose_name = "Web pages"

    def ready(self):
        from web import password_reset
        from workflows.jobs import handlers, queue
        from workflows.models import JobKind

        # Anyone can queue it: it waits for the case work's jobs (``handlers.register``).
        handlers.register(JobKind.PASSWORD_RESET, password_reset.send, last=True)
        # Failed for good, its incident is open until retried: the typed address goes at once
        # (the page's counts read the digests).
        queue.PAYLOAD_KEPT_WHEN_FAILED[JobKind.PASSWORD_RESET] = ("address", "client")
        # Each request's mail refused the same way: one incident, counted.
        queue.FOLDED.add(JobKind.PASSWORD_RESET)
