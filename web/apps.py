from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web pages: their templates, static files (the editor's scripts) and template tags."""

    name = "web"
    verbose_name = "Web pages"

    def ready(self):
        from web import password_reset
        from workflows.jobs import handlers
        from workflows.models import JobKind

        # Anyone can queue it: it waits for the case work's jobs (``handlers.register``).
        handlers.register(JobKind.PASSWORD_RESET, password_reset.send, last=True)
