"""API error bodies carry the request's id (ops, issue 12); tests that compare a whole error
body compare it without the id, after checking it is the answer's X-Request-ID."""


def without_request_id(response) -> dict:
    body = response.json()
    assert body.pop("request_id") == response["X-Request-ID"]
    return body
