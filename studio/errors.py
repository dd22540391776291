"""One error vocabulary for the whole studio.

Each StudioError carries an HTTP status, a short machine code and a message
a person can read. The API renders them as {"error": code, "message": text},
the UI as gr.Error, workers as a job's error code and message.
"""

from __future__ import annotations


class StudioError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(StudioError):
    status = 422
    code = "invalid_input"


class BadRequest(StudioError):
    status = 400
    code = "bad_request"


class NotAuthenticated(StudioError):
    status = 401
    code = "unauthorized"


class Forbidden(StudioError):
    status = 403
    code = "forbidden"


class NotFound(StudioError):
    status = 404
    code = "not_found"


class Conflict(StudioError):
    status = 409
    code = "conflict"


class PayloadTooLarge(StudioError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(StudioError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
