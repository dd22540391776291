"""A rough cut's music or voice bed (worker side): read from the database and the
store. Laying it and each take's own sound under the picture is
`media.assemble`'s work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from studio.media.assemble import AssemblyFailed, Bed
from studio.media.models import Asset
from studio.media.storage import ObjectMissing, Storage


def bed_row(session: Session, music: dict[str, Any] | None) -> tuple[str, str, float] | None:
    """The bed's (storage key, demuxer, level in dB), read while the session is open."""
    if not music:
        return None
    asset = session.get(Asset, int(music["asset_id"]))
    if asset is None or asset.codec is None:
        raise AssemblyFailed("The music under the cut no longer exists; choose it again.")
    return asset.storage_key, asset.codec, float(music["gain_db"])


def fetch_bed(storage: Storage, row: tuple[str, str, float] | None, work: Path) -> Bed | None:
    """The bed into scratch; a missing one fails the cut with a readable message."""
    if row is None:
        return None
    key, demuxer, gain = row
    (work / "bed").mkdir()
    try:
        path = storage.fetch_all([key], work / "bed")[key]
    except ObjectMissing:
        raise AssemblyFailed(
            "The music under the cut is missing from the media store; upload it again."
        ) from None
    return Bed(path, demuxer, gain)
