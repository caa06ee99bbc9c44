from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web pages: their templates, static files (the editor's scripts) and template tags."""

    name = "web"
    verbose_name = "Web pages"

    def ready(self):
        from web import password_reset
        from workflows.jobs import handlers
        from workflows.models import JobKind

        handlers.register(JobKind.PASSWORD_RESET, password_reset.send)
