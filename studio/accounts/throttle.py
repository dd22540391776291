"""Sign-in throttling by email and by client address.

Both keys are counted whether or not the account exists, so a 429 reveals
nothing about which emails have accounts.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.orm import Session

from studio.accounts.models import LoginThrottle
from studio.db.base import utcnow
from studio.errors import TooManyRequests


def keys_for(email: str, client_ip: str | None) -> list[str]:
    keys = [f"email:{email.strip().lower()[:280]}"]
    if client_ip:
        keys.append(f"ip:{client_ip}")
    return keys


def check(session: Session, keys: list[str], *, max_failures: int, window_seconds: int) -> None:
    now = utcnow()
    window = timedelta(seconds=window_seconds)
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row and row.failures >= max_failures and now - row.window_started_at < window:
            wait = window - (now - row.window_started_at)
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            raise TooManyRequests(
                f"Too many failed sign-in attempts. Wait {minutes} min and try again.",
                retry_after=math.ceil(wait.total_seconds()),
            )


def record_failure(session: Session, keys: list[str], *, window_seconds: int) -> None:
    now = utcnow()
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is None:
            session.add(LoginThrottle(key=key, failures=1, window_started_at=now))
        elif (now - row.window_started_at).total_seconds() >= window_seconds:
            row.failures = 1
            row.window_started_at = now
        else:
            row.failures += 1
    session.flush()


def clear(session: Session, keys: list[str]) -> None:
    for key in keys:
        row = session.get(LoginThrottle, key)
        if row is not None:
            session.delete(row)
    session.flush()
