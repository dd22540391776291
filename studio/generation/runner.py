"""Running one claimed job: the task body shared by Celery workers and the
in-process runner.

Transactions stay short: one to claim, one per progress report (throttled),
one to finish. No transaction is open while the engine or ffmpeg works. A
heartbeat thread extends the lease; if the job stops being ours (reaped and
handed to another worker, or cancelled), the engine is stopped at its next
step and nothing is written, so a job's outputs are written exactly once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from studio.config import Settings
from studio.db.base import utcnow
from studio.db.session import Database
from studio.errors import StudioError
from studio.generation import cleanup, engines, farm, kinds, scheduler
from studio.generation.engines import get_engine, loaded_engine
from studio.generation.engines.base import EngineOutput, GenerationRequest, JobCanceled
from studio.generation.kinds import StoredFile
from studio.generation.kinds import stored as _stored
from studio.generation.models import Job, JobStatus
from studio.generation.registry import ModelSpec, Registry
from studio.media import ffmpeg
from studio.media import service as media
from studio.media.models import Asset
from studio.media.storage import ObjectMissing

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 0.25  # how often a running job reports progress and looks for a cancel


SOUND_MISSING = "The sound file of this job is missing from the media store; choose it again."


class Watch:
    """Shared between the engine's step callback and the watcher thread."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.stop = threading.Event()
        self.lost = threading.Event()
        self.cancel = threading.Event()
        self.done, self.total = 0, 1

    def step(self, done: int, total: int) -> None:
        if self.lost.is_set():
            raise LeaseLost()
        if self.cancel.is_set():
            raise JobCanceled()
        self.done, self.total = done, max(total, 1)

    def fraction(self) -> float:
        # Leave headroom: encoding still follows the last step.
        return round(min(0.95, 0.95 * self.done / self.total), 4)


class LeaseLost(Exception):
    pass


def make_worker_id(kind: str) -> str:
    return f"{kind}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Outcome:
    public_id: str
    status: JobStatus


class JobRunner:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: Registry,
        *,
        queues: Sequence[str],
        worker_id: str,
        on_finished: Callable[[str], None] | None = None,
        on_claimed: Callable[[str], object] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.queues = list(queues)
        self.worker_id = worker_id
        self.storage = media.build_storage(settings)
        self.on_finished = on_finished
        # Celery: wake one more worker after each claim (see tasks.py).
        self.on_claimed = on_claimed
        # Readers count this worker alive until a few of its reports are missed.
        self.presence_seconds = max(30.0, 4 * settings.maintenance_interval_seconds)
        self._last_presence = 0.0
        # Pinned threads: the same seed gives the same frames on every worker.
        engines.configure(
            "diffusers",
            memory_budget_gb=settings.model_memory_budget_gb,
            threads=settings.torch_threads,
        )

    # ------------------------------------------------------------ claiming

    def warm_models(self) -> list[str]:
        warm = []
        for spec in self.registry.all():
            engine = loaded_engine(spec.engine)
            if engine is not None and spec.engine == "diffusers" and engine.is_warm(spec):
                warm.append(spec.key)
        return warm

    def work_once(self) -> Outcome | None:
        """Claim the fairest runnable job and run it; None when there is nothing to run."""
        with self.db.session_scope() as session:
            claim = scheduler.claim_next(
                session,
                queues=self.queues,
                worker_id=self.worker_id,
                lease_seconds=self.settings.job_lease_seconds,
                warm_models=self.warm_models(),
                models=[spec.key for spec in self.registry.all()] + kinds.names_for(self.queues),
            )
        if claim is None:
            return None
        if self.on_claimed is not None:
            self.on_claimed(claim.queue)
        return self.run(claim)

    # ------------------------------------------------------------ running

    def run(self, claim: scheduler.Claim) -> Outcome:
        with self.db.session_scope() as session:
            job = session.get(Job, claim.job_id)
            assert job is not None
            params, model_key, mode = dict(job.params), job.model_key, job.mode
            workspace_id = job.workspace_id
            reference_key = None
            if job.reference_asset_id is not None:
                ref = session.get(Asset, job.reference_asset_id)
                reference_key = ref.storage_key if ref else None
            if params.get("last_frame_asset_id") is not None:
                last = session.get(Asset, int(params["last_frame_asset_id"]))
                params["last_frame_key"] = last.storage_key if last else None
            if params.get("sound_asset_id") is not None:
                sound = session.get(Asset, int(params["sound_asset_id"]))
                params["sound"] = [sound.storage_key, sound.codec] if sound else None
        watch = Watch(claim.job_id)
        watcher = threading.Thread(target=self._watch, args=(watch,), daemon=True, name="job-watch")
        watcher.start()
        written: list[str] = []
        try:
            kind = kinds.find(mode)
            if kind is not None:
                status = self._run_kind(kind, claim, params, workspace_id, watch, written)
            else:
                status = self._generate(
                    claim, model_key, mode, params, workspace_id, reference_key, watch, written
                )
        except JobCanceled:
            status = self._end(claim.job_id, JobStatus.CANCELED)
        except LeaseLost:
            log.warning("job %s is no longer ours; dropping this attempt", claim.public_id)
            self._discard(written)
            return Outcome(claim.public_id, JobStatus.RUNNING)
        except (StudioError, ffmpeg.MediaError) as exc:
            self._discard(written)
            code = getattr(exc, "code", "media_error")
            status = self._end(
                claim.job_id, JobStatus.FAILED, code, getattr(exc, "message", str(exc))
            )
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("job %s failed (reference %s)", claim.public_id, reference)
            self._discard(written)
            status = self._end(
                claim.job_id,
                JobStatus.FAILED,
                "generation_failed",
                f"Generation failed on the worker (reference {reference}). "
                "It cost nothing; try again, or try other settings.",
            )
        finally:
            watch.stop.set()
            watcher.join(timeout=5)
        if status.finished and self.on_finished is not None:
            self.on_finished(claim.public_id)
        return Outcome(claim.public_id, status)

    def _generate(
        self,
        claim: scheduler.Claim,
        model_key: str,
        mode: str,
        params: dict[str, Any],
        workspace_id: int,
        reference_key: str | None,
        watch: Watch,
        written: list[str],
    ) -> JobStatus:
        spec = self.registry.get(model_key)
        engine = get_engine(spec.engine)
        if not engine.weights_present(spec):
            raise StudioError(
                f"The weights for {spec.name} are not installed on this worker.",
                code="weights_missing",
            )
        with (
            self._reference(reference_key) as image_path,
            self._reference(params.get("last_frame_key")) as last_image_path,
            self._given_sound(params) as given,
        ):
            request = self._request(mode, params, image_path, last_image_path)
            started = time.monotonic()
            output = engine.run(spec, request, watch.step)
            seconds = time.monotonic() - started
            load = float(output.extra.get("load_seconds", 0.0) or 0.0)  # type: ignore[arg-type]
            timings = {"load_s": round(load, 4), "generate_s": round(seconds - load, 4)}
            return self._finish(claim, spec, workspace_id, output, seconds, written, timings, given)

    @contextlib.contextmanager
    def _given_sound(self, params: dict[str, Any]) -> Iterator[ffmpeg.SoundFile | None]:
        """The job's sound file (the animatic's voice-over or music) as a scratch file."""
        if "sound_asset_id" in params and params.get("sound_asset_id") is not None:
            if not params.get("sound"):
                raise StudioError(SOUND_MISSING, code="sound_missing")
            key, demuxer = params["sound"]
            with contextlib.ExitStack() as stack:
                try:
                    path = stack.enter_context(self.storage.local_copy(key))
                except ObjectMissing:
                    raise StudioError(SOUND_MISSING, code="sound_missing") from None
                yield ffmpeg.SoundFile(path, demuxer)
            return
        yield None

    @contextlib.contextmanager
    def _reference(self, key: str | None) -> Iterator[Path | None]:
        """The job's reference image as a scratch file while the engine runs."""
        if key is None:
            yield None
            return
        try:
            with self.storage.local_copy(key) as path:
                yield path
        except ObjectMissing:
            raise StudioError(
                "The reference image of this job is missing from the media store; "
                "set the reference again and retry.",
                code="reference_missing",
            ) from None

    @staticmethod
    def _request(
        mode: str, params: dict[str, Any], image_path: Path | None, last_image_path: Path | None
    ) -> GenerationRequest:
        return GenerationRequest(
            mode=mode,  # type: ignore[arg-type]
            prompt=params["prompt"],
            width=int(params["width"]),
            height=int(params["height"]),
            seed=int(params["seed"]),
            steps=int(params["steps"]),
            guidance=float(params["guidance"]),
            num_frames=int(params["num_frames"]),
            fps=int(params["fps"]),
            negative_prompt=params.get("negative_prompt"),
            image_path=image_path,
            last_image_path=last_image_path,
            camera_move=params.get("camera_move"),
            motion_strength=params.get("motion_strength"),
            title=params.get("title"),
            caption=params.get("user_prompt") or params.get("prompt"),
        )

    def _watch(self, watch: Watch) -> None:
        """The job's link to the database while the engine works, off the step loop.

        Every tick: write progress and extend the lease in one conditional
        UPDATE (no row means the job is no longer ours), and read the cancel
        flag. The engine's step callback only looks at in-memory flags, so a
        step costs no database round trip.
        """
        tick = min(WATCH_INTERVAL_S, self.settings.job_heartbeat_seconds)
        while not watch.stop.wait(tick):
            try:
                with self.db.session_scope() as session:
                    mine = scheduler.heartbeat(
                        session,
                        watch.job_id,
                        self.worker_id,
                        self.settings.job_lease_seconds,
                        progress=watch.fraction(),
                    )
                    if not mine:
                        watch.lost.set()
                        return
                    if session.scalar(select(Job.cancel_requested).where(Job.id == watch.job_id)):
                        watch.cancel.set()
                # A long job must not make its worker look gone.
                if time.monotonic() - self._last_presence > self.presence_seconds / 4:
                    self.report_alive()
            except Exception:  # a database blip: try again at the next tick
                log.warning("watch failed for job %s", watch.job_id, exc_info=True)

    def _finish(
        self,
        claim: scheduler.Claim,
        spec: ModelSpec,
        workspace_id: int,
        output: EngineOutput,
        seconds: float,
        written: list[str],
        timings: dict[str, float],
        given: ffmpeg.SoundFile | None = None,
    ) -> JobStatus:
        import numpy as np

        encode_started = time.monotonic()
        array, fps = np.asarray(output.frames), output.fps
        base = f"ws{workspace_id}/jobs/{claim.public_id}/a{claim.attempt}"
        poster_key = f"{base}-poster.jpg"
        video = array.shape[0] > 1
        kind = "video" if video else "image"
        output_key = f"{base}-output.{'mp4' if video else 'png'}"
        # Written through the store's writers: scratch files put into S3 when the block
        # ends, or temporary files renamed into place in the local folder (no copy).
        written.extend([output_key, poster_key])
        with (
            self.storage.writer(output_key) as output_path,
            self.storage.writer(poster_key) as poster_path,
        ):
            if video:
                with _sound(output) as sound:
                    ffmpeg.encode_mp4(array, fps, output_path, audio=given or sound)
            else:
                ffmpeg.write_png(array[0], output_path)
            ffmpeg.write_poster(array[array.shape[0] // 2], poster_path)
            info = ffmpeg.probe(output_path) if video else None
            stored = _stored(output_key, output_path)
            poster = _stored(poster_key, poster_path)
        timings = {**timings, "encode_s": round(time.monotonic() - encode_started, 4)}
        gpu_seconds = round(seconds, 3) if spec.queue == "gpu" else 0.0
        size = (int(array.shape[2]), int(array.shape[1]))
        return self._record(
            claim, workspace_id, stored, kind, poster, info, size, gpu_seconds, timings, written
        )

    def _record(
        self,
        claim: scheduler.Claim,
        workspace_id: int,
        output_file: StoredFile,
        kind: str,
        poster_file: StoredFile,
        info: ffmpeg.Probe | None,
        size: tuple[int, int],
        gpu_seconds: float,
        timings: dict[str, Any],
        written: list[str],
    ) -> JobStatus:
        """Record the outputs (already in the store) and finish the job, only if it is
        still ours."""
        try:
            with self.db.session_scope() as session:
                output = media.record_stored(
                    session,
                    workspace_id=workspace_id,
                    key=output_file.key,
                    kind=kind,
                    size=output_file.size,
                    sha256=output_file.sha256,
                    width=info.width if info else size[0],
                    height=info.height if info else size[1],
                    duration=info.duration if info else None,
                    fps=info.fps if info else None,
                    frame_count=info.frames if info else 1,
                    codec=info.codec if info else None,
                    pix_fmt=info.pix_fmt if info else None,
                    **media.sound_of(info),
                )
                poster = media.record_stored(
                    session,
                    workspace_id=workspace_id,
                    key=poster_file.key,
                    kind="poster",
                    size=poster_file.size,
                    sha256=poster_file.sha256,
                )
                done = session.execute(
                    update(Job)
                    .where(
                        Job.id == claim.job_id,
                        Job.worker_id == self.worker_id,
                        Job.status == JobStatus.RUNNING,
                    )
                    .values(
                        status=JobStatus.SUCCEEDED,
                        progress=1.0,
                        finished_at=utcnow(),
                        output_asset_id=output.id,
                        poster_asset_id=poster.id,
                        gpu_seconds=gpu_seconds,
                        timings=timings,
                        lease_expires_at=None,
                    )
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    raise LeaseLost()
        except LeaseLost:
            self._discard(written)
            raise
        return JobStatus.SUCCEEDED

    def _run_kind(
        self,
        kind: kinds.JobKind,
        claim: scheduler.Claim,
        params: dict[str, Any],
        workspace_id: int,
        watch: Watch,
        written: list[str],
    ) -> JobStatus:
        """A job of a kind another domain registered (a rough cut, an upload's check)."""
        job = kinds.KindJob(
            public_id=claim.public_id,
            attempt=claim.attempt,
            workspace_id=workspace_id,
            params=params,
            session_scope=self.db.session_scope,
            storage=self.storage,
            settings=self.settings,
            step=watch.step,
            written=written,
        )
        made = kind.run(job)
        if made is None:
            return self._end(claim.job_id, JobStatus.SUCCEEDED)
        info = made.info
        return self._record(
            claim,
            workspace_id,
            made.output,
            "video",
            made.poster,
            info,
            (info.width, info.height),
            0.0,
            made.timings,
            written,
        )

    def _end(
        self, job_id: int, status: JobStatus, code: str | None = None, message: str | None = None
    ) -> JobStatus:
        with self.db.session_scope() as session:
            session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.worker_id == self.worker_id,
                    Job.status == JobStatus.RUNNING,
                )
                .values(
                    status=status,
                    finished_at=utcnow(),
                    error_code=code,
                    error_message=message,
                    lease_expires_at=None,
                )
                .execution_options(synchronize_session=False)
            )
        return status

    def _discard(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:  # the store is unreachable: leave it for an operator
                log.warning("could not remove %s", key, exc_info=True)

    # ------------------------------------------------------------ maintenance

    def report_alive(self) -> None:
        with self.db.session_scope() as session:
            farm.report_alive(
                session, self.worker_id, self.queues, next_report_within=self.presence_seconds
            )
        self._last_presence = time.monotonic()

    def forget(self) -> None:
        """A clean shutdown: this worker no longer serves its queues."""
        with self.db.session_scope() as session:
            farm.forget_worker(session, self.worker_id)

    def maintenance(self) -> list[str]:
        """One pass of the loop every worker runs: say we are alive, reap dead
        workers' jobs, retake stale queue snapshots. Returns the queues where a
        job could start now, to be woken (never one message per job)."""
        self.report_alive()
        with self.db.session_scope() as session:
            scheduler.reap_expired(session)
            cleanup.remove_stale_temp_files(session, self.storage)
        cleanup.remove_stale_scratch()
        try:  # a snapshot is a convenience: its failure must not stop the rest
            with self.db.session_scope() as session:
                farm.refresh_snapshots(
                    session, self.settings.maintenance_interval_seconds, self.queues
                )
                if random.random() < 0.01:  # noqa: S311 - housekeeping, now and then
                    farm.forget_gone_workers(session)
        except Exception:
            log.warning("queue snapshot failed; retrying next pass", exc_info=True)
        with self.db.session_scope() as session:
            return sorted(scheduler.claimable_queues(session))


@contextlib.contextmanager
def _sound(output: EngineOutput) -> Iterator[ffmpeg.SoundFile | None]:
    """The engine's sound track (LTX-2) as a scratch WAV while the clip is encoded."""
    if output.audio is None or output.sample_rate <= 0:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="sound-") as scratch:
        yield ffmpeg.write_wav(output.audio, output.sample_rate, Path(scratch) / "sound.wav")
