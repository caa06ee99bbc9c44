from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web pages: their templates, static files (the editor's scripts) and template tags."""

    name = "web"
    verbose_name = "Web pages"
