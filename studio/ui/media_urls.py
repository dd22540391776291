"""Signed media URLs for pages that poll.

A page that re-renders every few seconds must produce identical HTML when
nothing changed, or the browser reloads every <video> on each poll. So the
signing clock is rounded down to a bucket: the URL stays the same for a few
minutes and is still valid for at least `ttl - bucket` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from studio.media import signing

BUCKET_SECONDS = 300


def _bucket(ttl: int) -> int:
    return max(1, min(BUCKET_SECONDS, ttl // 4))


def signing_window(ttl: int) -> int:
    """Which bucket the signer is in now: URLs it makes change when this does."""
    return int(time.time() // _bucket(ttl))


def stable_signer(secret: str, ttl: int) -> Callable[[int], str]:
    bucket = _bucket(ttl)

    def url(asset_id: int) -> str:
        now = time.time() // bucket * bucket
        return signing.signed_path(asset_id, secret, now=now, ttl_seconds=ttl)

    return url
