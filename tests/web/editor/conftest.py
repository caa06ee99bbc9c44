"""The editor's pages and endpoints use the process editor fixtures of tests/bpmn/editor."""

from tests.bpmn.editor.conftest import fast_password_hashing, prison_content, web

__all__ = ["fast_password_hashing", "prison_content", "web"]
