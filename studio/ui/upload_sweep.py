"""The sweep of the pages' upload folder: uploads older than the TTL go.

It runs in the web process (an asyncio task started by the app's lifespan)
at start-up and then every `STUDIO_UPLOAD_SWEEP_INTERVAL_SECONDS`. Owner rows
go first, so a file about to be removed is already nobody's; then the files
of Gradio's hash-named folders and the temporary files of uploads broken off
mid-way (nothing else in the folder is touched); then the paths Gradio keeps
in memory for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import time
from datetime import UTC, datetime

import anyio
import gradio as gr

from studio.media import page_uploads
from studio.ui.upload_guard import PageFiles

log = logging.getLogger(__name__)

# Gradio's folders under the upload folder: a sha256 (uploads, cached copies)
# or our own random token (downloads); nothing else there is swept.
HEX_FOLDER = re.compile(r"[0-9a-f]{64}")
# An empty folder is removed once it has not changed for this long, so the
# sweep never races an upload that has just made it.
EMPTY_FOLDER_GRACE_SECONDS = 60


class UploadSweeper:
    """Removes page uploads older than the TTL: at start-up, then every interval.

    Only Gradio's hash-named folders (and its broken-off upload temp files)
    are touched; rows of removed files go too, and so do the paths Gradio
    keeps in memory for every upload (which would grow without end).
    """

    def __init__(self, files: PageFiles, interval_seconds: float) -> None:
        self.files = files
        self.interval = interval_seconds
        self.blocks: gr.Blocks | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                removed = await anyio.to_thread.run_sync(self.sweep_once)
                self._forget_in_gradio(removed)
            except Exception:
                log.exception("upload sweep failed; trying again at the next interval")
            await asyncio.sleep(self.interval)

    def sweep_once(self, now: float | None = None) -> list[str]:
        """Remove what is older than the TTL; returns the removed files' paths.

        Rows go first: a file about to be removed has no owner any more, so it
        is refused rather than half there."""
        now = time.time() if now is None else now
        cutoff = now - self.files.ttl_seconds
        with self.files.db.session_scope() as session:
            page_uploads.forget_older_than(session, datetime.fromtimestamp(cutoff, UTC))
        removed: list[str] = []
        folder = self.files.folder
        if not folder.is_dir():
            return removed
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False) and HEX_FOLDER.fullmatch(entry.name):
                removed += _remove_older(entry.path, cutoff)
                _remove_if_empty(entry.path, now - EMPTY_FOLDER_GRACE_SECONDS)
            elif (
                entry.is_file(follow_symlinks=False)
                and entry.name.startswith("tmp")
                and _mtime(entry) < cutoff
            ):
                # An upload broken off mid-way leaves Gradio's temporary file here.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
        if removed:
            log.info(
                "upload sweep removed %d files older than %d s",
                len(removed),
                self.files.ttl_seconds,
            )
        return removed

    def _forget_in_gradio(self, removed: list[str]) -> None:
        """Gradio remembers every upload's path (and every file a component
        handled) in sets that only grow; drop the removed ones (on the event loop)."""
        if not removed or self.blocks is None:
            return
        gone = set(removed)
        self.blocks.upload_file_set.difference_update(gone)
        for block in self.blocks.blocks.values():
            temp_files = getattr(block, "temp_files", None)
            if isinstance(temp_files, set):
                temp_files.difference_update(gone)


def _mtime(entry: os.DirEntry[str]) -> float:
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return math.inf


def _remove_older(folder: str, cutoff: float) -> list[str]:
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.is_file(follow_symlinks=False) and _mtime(entry) < cutoff:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def _remove_if_empty(folder: str, unchanged_since: float) -> None:
    with contextlib.suppress(OSError):  # not empty, or gone already
        if os.stat(folder).st_mtime < unchanged_since:
            os.rmdir(folder)
