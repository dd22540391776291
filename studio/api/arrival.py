"""When a request reached this web process: the moment a jam entry is dated by.

At a jam's deadline hundreds of teams press Submit in the same second. Their
requests then wait, for the admission queue (`deps.TransactionRoute`), for a
database connection and for their jam's and team's locks, and a request that
arrived at 23:59:59.6 can reach the clock-reading statement seconds later. A
team must not lose its place because others pressed the button at the same
moment, so the entry is dated by when the request arrived, read by this
middleware before anything else runs (it is the outermost one).

The database clock still rules (`jams.clock.arrival_clock`): an arrival time
is never later than the database's now and never more than a short tolerance
before it, so a web host's drifting clock cannot date entries into the past.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

STATE_KEY = "received_at"


class RecordArrival:
    """Stamps every HTTP request with the time it reached this process."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[STATE_KEY] = datetime.now(UTC)
        await self.app(scope, receive, send)


def received_at(request: Request) -> datetime | None:
    """When this request arrived (None when the app runs without the middleware)."""
    value = getattr(request.state, STATE_KEY, None)
    return value if isinstance(value, datetime) else None
