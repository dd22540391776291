"""Which navigation each browser session is at, so that a late result never
overwrites a newer view (docs/ARCHITECTURE.md, "Addresses").

Gradio serves a session's events side by side (ui/app.EVENT_CONCURRENCY), so
when Back or Forward is pressed while a view is still loading, results of the
view being left can arrive after the next view's. Every navigation carries a
number that static/nav.js raises by one each time (Back, Forward, a link):

- a route (the shell's `open_address` / `navigate`) calls `begin` first and
  `finish` last: when a newer navigation reached the server meanwhile, the
  route answers with skips and the page keeps what the newer one shows;
- `finish` also records, per page, the number of the view now on its way to
  the screen; the page writes that number into a hidden input, which the
  events a view sets off (the Projects page's shot form, its polls) read when
  they start; `superseded` tells them a newer view of their page was sent
  since, and they answer with skips instead of overwriting it.

Numbers come from the browser: a made-up one can only stall that person's own
session, as the entries are keyed by the signed-in user and Gradio's
session_hash. Requests without a session (API calls) are never held back.
Entries are a few integers per open page, the oldest dropped past `limit`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_SEQ = 2**53  # what a browser counts exactly


@dataclass
class _Session:
    newest: int = 0  # the newest navigation that reached the server
    landed: dict[str, int] = field(default_factory=dict)  # page -> its view's number


def seq_of(value: Any) -> int:
    """The number a browser sent (a hidden input's value); anything else is 0."""
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return 0
    return min(max(number, 0), MAX_SEQ)


class Navigation:
    def __init__(self, limit: int = 20_000) -> None:
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._limit = limit

    @staticmethod
    def _key(request: Any) -> str | None:
        session = getattr(request, "session_hash", None)
        if not session:
            return None
        return f"{getattr(request, 'username', None)}\x00{session}"

    def _session(self, key: str) -> _Session:
        found = self._sessions.get(key)
        if found is None:
            found = self._sessions[key] = _Session()
            while len(self._sessions) > self._limit:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return found

    def begin(self, request: Any, seq: int) -> bool:
        """A route starts: False when a newer navigation already reached the server."""
        key = self._key(request)
        if key is None:
            return True
        with self._lock:
            session = self._session(key)
            if seq < session.newest:
                return False
            session.newest = seq
            return True

    def newest(self, request: Any) -> int:
        """The number of the newest navigation of this session (0: none yet)."""
        key = self._key(request)
        if key is None:
            return 0
        with self._lock:
            found = self._sessions.get(key)
            return found.newest if found else 0

    def finish(self, request: Any, seq: int, page: str) -> bool:
        """A route of `page` is done: False (send nothing) when a newer navigation
        reached the server meanwhile; else `page`'s view is now number `seq`."""
        key = self._key(request)
        if key is None:
            return True
        with self._lock:
            session = self._session(key)
            if seq < session.newest:
                return False
            session.landed[page] = seq
            return True

    def superseded(self, request: Any, page: str, seq: Any) -> bool:
        """True when a view of `page` newer than number `seq` was sent to this
        session: an event started for the older view must not overwrite it."""
        key = self._key(request)
        if key is None:
            return False
        with self._lock:
            found = self._sessions.get(key)
            return found is not None and found.landed.get(page, 0) > seq_of(seq)


# One per process: Gradio's sessions (and their events) live in this process.
NAVIGATION = Navigation()
