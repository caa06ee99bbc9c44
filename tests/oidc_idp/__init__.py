"""A real OpenID Connect provider for the tests: django-oidc-provider in its own tiny
Django project, run as a separate process on 127.0.0.1 (``provider.OidcProvider``)."""
