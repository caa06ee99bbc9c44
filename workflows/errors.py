"""Domain errors raised by services. The API's one exception handler maps them to HTTP;
the web views to messages. Each carries what the user needs to fix the request."""


class ServiceError(Exception):
    """Base class; ``detail`` is safe to show to the caller."""

    def __init__(self, detail: str, *, errors: list[dict] | None = None):
        self.detail = detail
        self.errors = errors or []
        super().__init__(detail)


class NotFound(ServiceError):
    """The object does not exist or is invisible to the caller (no existence leak)."""


class Forbidden(ServiceError):
    """The caller sees the object but may not do this to it."""


class Conflict(ServiceError):
    """The object is no longer in a state that allows this (completed, claimed by another)."""


class InvalidInput(ServiceError):
    """The request data is wrong; ``errors`` lists ``{"field": ..., "message": ...}``."""


class IncidentRaised(ServiceError):
    """The action was saved but the process stopped on an error that needs a fix."""
