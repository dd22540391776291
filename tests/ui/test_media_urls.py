"""Signed media URLs on polling pages (ui/media_urls.py): stable within a bucket,
and the re-render that renews them spread over the bucket, not all at once."""

from __future__ import annotations

import itertools

import pytest

from studio.ui import media_urls

TTL = 3600  # a bucket of 300 s


def windows(monkeypatch: pytest.MonkeyPatch, spread: int, times: range) -> list[int]:
    seen = []
    for now in times:
        monkeypatch.setattr(media_urls.time, "time", lambda now=now: float(now))
        seen.append(media_urls.signing_window(TTL, spread=spread))
    return seen


def test_each_page_renews_its_links_once_a_bucket_at_its_own_moment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = 3_000_000  # a bucket boundary
    times = range(start, start + 900, 10)
    moves = {}
    for spread in (0, 100, 7919 * 3 + 12):
        seen = windows(monkeypatch, spread, times)
        steps = [
            t
            for t, before, after in zip(times[1:], seen, seen[1:], strict=False)
            if after != before
        ]
        assert len(steps) in (2, 3), (spread, steps)  # once per 300 s
        assert all(b - a == 300 for a, b in itertools.pairwise(steps))
        moves[spread] = steps[0] % 300
    assert len(set(moves.values())) == 3, moves  # not all pages at the same moment
    # The links a render makes stay the same within a bucket (no video reloads per poll).
    monkeypatch.setattr(media_urls.time, "time", lambda: float(start + 10))
    sign = media_urls.stable_signer("k" * 40, TTL)
    first = sign(7)
    monkeypatch.setattr(media_urls.time, "time", lambda: float(start + 290))
    assert sign(7) == first
