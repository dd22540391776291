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


def signing_window(ttl: int, spread: int = 0) -> int:
    """A window of the signer's bucket length: a page re-renders its media when
    this moves, so its links never expire (they live `ttl`, at least four buckets).
    `spread` (any stable number, e.g. from the person and the project) shifts
    where the window starts: without it every open page of the whole server
    re-rendered its media at the same moment, every bucket (a 50-page render
    burst in bench/ui_load.py)."""
    bucket = _bucket(ttl)
    return int((time.time() - spread % bucket) // bucket)


def stable_signer(secret: str, ttl: int) -> Callable[[int], str]:
    bucket = _bucket(ttl)

    def url(asset_id: int) -> str:
        now = time.time() // bucket * bucket
        return signing.signed_path(asset_id, secret, now=now, ttl_seconds=ttl)

    return url
