"""The `studio` command: serve, worker, status, db, storage, users, workspaces, apikeys, demo.

Bad input exits non-zero with one line on stderr and writes nothing: each
command runs in one transaction that rolls back on any error.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from studio.config import ConfigError, Settings, get_settings
from studio.errors import StudioError

DEMO_EMAIL = "demo@studio.example"
DEMO_WORKSPACE = "Demo Studio"


class CommandError(Exception):
    """A one-line message for the person at the terminal."""


def _db(settings: Settings):  # type: ignore[no-untyped-def]
    from studio.db.session import Database

    return Database(settings.database_url)


def check_storage(settings: Settings) -> str:
    """Prove this host can write, read and delete in the media store; its description."""
    from studio.media.service import build_storage
    from studio.media.storage import StorageError

    try:
        storage = build_storage(settings)
        storage.check()
    except (StorageError, ValueError) as exc:
        raise CommandError(
            f"The media store ({settings.storage_url or settings.media_path}) is not usable "
            f"from this host: {exc}"
        ) from None
    return storage.describe()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from studio.app import create_app
    from studio.db import migrate

    if settings.storage_check_on_start:
        check_storage(settings)
    if not args.no_migrate:
        migrate.upgrade(settings.database_url)  # under a lock: many hosts may start at once
    app = create_app(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"Studio is running on {settings.base_url}  (listening on {host}:{port})", flush=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    import studio.worker  # noqa: F401  (its signals: maintenance loop, leaving the farm)
    from studio.job_kinds import register_all
    from studio.queue import create_celery

    register_all()  # before the pool starts: forked children inherit the kinds

    if not settings.redis_url:
        raise CommandError(
            "STUDIO_REDIS_URL is not set: separate workers need Redis. Without it, "
            "`studio serve` runs jobs in-process."
        )
    from studio.generation import tasks
    from studio.queue import celery_queue

    if settings.storage_check_on_start:
        check_storage(settings)
    if not args.no_migrate:
        from studio.db import migrate

        # Under the same lock as the web app's: whoever starts first migrates.
        migrate.upgrade(settings.database_url)

    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    tasks.configure([q for q in queues if q in ("gpu", "cpu")])
    celery = create_celery(settings)
    # "gpu"/"cpu" are logical queues; Celery's names carry the install's prefix.
    names = [celery_queue(settings, q) if q in ("gpu", "cpu") else q for q in queues]
    celery.worker_main(
        [
            "worker",
            "--queues",
            ",".join(names),
            "--pool",
            args.pool,
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            args.loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
    )


def cmd_worker_health(args: argparse.Namespace, settings: Settings) -> None:
    """A container healthcheck: this host's worker answers a ping through the broker."""
    import socket

    from studio.queue import create_celery

    if not settings.redis_url:
        raise CommandError("STUDIO_REDIS_URL is not set: there is no broker to ping through.")
    node = args.node or f"celery@{socket.gethostname()}"
    replies = create_celery(settings).control.ping(destination=[node], timeout=args.timeout)
    if not any(node in reply for reply in replies):
        raise CommandError(f"No answer from {node} through the broker.")
    print(f"{node} answered.")


def cmd_db(args: argparse.Namespace, settings: Settings) -> None:
    from studio.db import migrate

    if args.db_command == "upgrade":
        changed = migrate.upgrade(settings.database_url)
        print("Database migrated to the latest schema." if changed else "Database is up to date.")
    elif args.db_command == "check":
        migrate.check(settings.database_url)
        print("Models and migrations agree.")


def cmd_storage(args: argparse.Namespace, settings: Settings) -> None:
    if args.storage_command == "check":
        where = check_storage(settings)
        print(f"Media store OK: this host can write, read and delete in {where}.")


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> None:
    from studio.accounts import service as accounts

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CommandError("No password on standard input.")
    with _db(settings).session_scope() as session:
        user = accounts.create_user(
            session,
            email=args.email,
            display_name=args.name,
            password=password,
            is_admin=args.admin,
        )
        print(f"Created user {user.email}" + (" (site admin)" if user.is_admin else ""))


def cmd_workspaces_create(args: argparse.Namespace, settings: Settings) -> None:
    from studio.accounts import service as accounts
    from studio.accounts.access import Actor

    with _db(settings).session_scope() as session:
        owner = accounts.get_user_by_email(session, args.owner)
        if owner is None:
            raise CommandError(
                f"No user with email {args.owner}: create it with `studio users create`."
            )
        workspace = accounts.create_workspace(
            session, Actor(user=owner), name=args.name, slug=args.slug
        )
        print(f"Created workspace '{workspace.name}' (slug {workspace.slug}), owner {owner.email}")


def cmd_apikeys_create(args: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy import select

    from studio.accounts import apikeys
    from studio.accounts import service as accounts
    from studio.accounts.access import Actor
    from studio.accounts.models import Workspace

    with _db(settings).session_scope() as session:
        user = accounts.get_user_by_email(session, args.user)
        if user is None:
            raise CommandError(f"No user with email {args.user}.")
        workspace = session.scalar(select(Workspace).where(Workspace.slug == args.workspace))
        if workspace is None:
            raise CommandError(f"No workspace with slug {args.workspace}.")
        created = apikeys.create_key(
            session, Actor(user=user), workspace_id=workspace.id, name=args.name
        )
        secret = created.secret
    print(secret)
    print("Keep this key safe: it is shown only once.", file=sys.stderr)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy import select

    from studio.accounts import service as accounts
    from studio.accounts.access import Actor
    from studio.accounts.models import Membership
    from studio.db import migrate

    migrate.upgrade(settings.database_url)
    with _db(settings).session_scope() as session:
        user = accounts.get_user_by_email(session, DEMO_EMAIL)
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = accounts.create_user(
                session,
                email=DEMO_EMAIL,
                display_name="Demo Director",
                password=password,
                is_admin=True,
            )
        elif args.reset:
            password = secrets.token_urlsafe(12)
            accounts.set_password(session, user, password)
        has_workspace = session.scalar(select(Membership.id).where(Membership.user_id == user.id))
        if has_workspace is None:
            workspace = accounts.create_workspace(session, Actor(user=user), name=DEMO_WORKSPACE)
            _demo_project(session, Actor(user=user), workspace.id)
    print(f"Open {settings.base_url} and sign in as {DEMO_EMAIL}")
    if password:
        print(f"One-time demo password: {password}")
    else:
        print(
            "The demo password was printed when it was made; "
            "`studio demo --reset` prints a new one."
        )


DEMO_SHOTS = [
    ("Wide: a lighthouse on a rock at dusk, waves breaking below", 4),
    ("Close: the keeper's hands strike a match and light the lamp", 2),
    ("Wide: the beam sweeps across the fog towards a small boat", 4),
]


def _demo_project(session: Any, actor: Any, workspace_id: int) -> None:
    """A sample project with three shots, so the first visit has something to work on."""
    from studio.projects import service as projects

    project = projects.create_project(
        session,
        actor,
        workspace_id=workspace_id,
        title="The Lighthouse",
        logline="A keeper's last night on the rock.",
    )
    for description, seconds in DEMO_SHOTS:
        projects.add_shot(
            session,
            actor,
            project.id,
            projects.ShotFields(description=description, target_duration=seconds),
        )


def cmd_status(args: argparse.Namespace, settings: Settings) -> None:
    """The job farm: each queue's jobs and live workers, then the workers."""
    import datetime as dt

    from studio.generation import farm

    with _db(settings).session_scope() as session:
        queues = farm.queue_health(session)
        workers = farm.workers(session)
    print(f"{'QUEUE':12} {'WAITING':>8} {'THROTTLED':>9} {'RUNNING':>8} {'WORKERS':>8}")
    for q in queues:
        print(f"{q.queue:12} {q.waiting:>8} {q.throttled:>9} {q.running:>8} {q.workers:>8}")
    now = dt.datetime.now(dt.UTC)
    print()
    print(f"{'WORKER':48} {'QUEUES':10} {'LAST SEEN':>10}  STATE")
    for w in workers:
        seen = f"{(now - w.last_seen_at).total_seconds():.0f} s ago"
        state = "alive" if w.alive else "gone"
        print(f"{w.id[:48]:48} {','.join(w.queues):10} {seen:>10}  {state}")
    if not workers:
        print(
            "(no worker has reported yet"
            + (": jobs run inside `studio serve`)" if not settings.redis_url else ")")
        )
    problems = [farm.unserved_text(q) for q in queues if q.unserved]
    for problem in problems:
        print(f"\nPROBLEM: {problem}")


def cmd_models(args: argparse.Namespace, settings: Settings) -> None:
    from studio.generation import registry as reg

    try:
        registry = reg.load_registry(settings.models_file)
    except reg.RegistryError as exc:
        raise CommandError(str(exc)) from None
    if args.models_command == "list":
        print(f"Models from {registry.source}")
        print(f"{'KEY':24} {'ENGINE':10} {'WEIGHTS':9} MODES")
        for spec in registry.all():
            present = "present" if reg.weights_available(spec) else "missing"
            print(f"{spec.key:24} {spec.engine:10} {present:9} {', '.join(spec.modes)}")
    elif args.models_command == "check":
        _check_model(registry, args.key, settings)
    elif args.models_command == "make-tiny":
        from studio.generation.engines.diffusers_tiny import make_tiny

        path = make_tiny(Path(args.directory))
        print(f"Wrote tiny random-weight pipelines and {path}")
        print(f"Use them with: STUDIO_MODELS_FILE={path}")


def _check_model(registry: Any, key: str, settings: Settings) -> None:
    """Load a model and run it once at its smallest settings, reporting the timings."""
    import tempfile
    import time

    from studio.generation import engines
    from studio.generation.engines.base import GenerationRequest
    from studio.media import ffmpeg

    try:
        spec = registry.get(key)
    except StudioError as exc:
        raise CommandError(exc.message) from None
    engines.configure("diffusers", threads=settings.torch_threads)
    engine = engines.get_engine(spec.engine)
    if not engine.weights_present(spec):
        raise CommandError(f"The weights for {spec.key} ({spec.weights}) are not on this machine.")
    mode = spec.modes[0]
    width, height = min(spec.ratios.values(), key=lambda size: size[0] * size[1])
    image_path = None
    workdir = Path(tempfile.mkdtemp(prefix="studio-check-"))
    if mode == "image_to_video":
        from PIL import Image

        image_path = workdir / "reference.png"
        Image.new("RGB", (width, height), (90, 120, 160)).save(image_path)
    request = GenerationRequest(
        mode=mode,
        prompt="a test shot of a lighthouse at dusk",
        width=width,
        height=height,
        seed=0,
        steps=min(spec.default_steps, 4),
        guidance=spec.default_guidance,
        num_frames=min(spec.durations.values()) if mode != "text_to_image" else 1,
        fps=spec.fps,
        image_path=image_path,
    )
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 5) == 0:
            print(f"  step {done}/{total}")

    output = engine.run(spec, request, progress)
    took = time.monotonic() - started
    target = workdir / ("check.mp4" if output.is_video else "check.png")
    if output.is_video:
        ffmpeg.encode_mp4(output.frames, output.fps, target)
    else:
        ffmpeg.write_png(output.frames[0], target)
    load = output.extra.get("load_seconds")
    print(
        f"{spec.key}: {mode} {width}x{height}, {output.frames.shape[0]} frame(s) in {took:.1f} s"
        + (f" (loading {load:.1f} s)" if isinstance(load, int | float) else "")
    )
    print(f"Output: {target}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio", description="Studio: a self-hosted AI film studio."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app (migrates first)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-migrate", action="store_true")
    serve.set_defaults(run=cmd_serve)

    worker = sub.add_parser("worker", help="run a Celery worker (needs STUDIO_REDIS_URL)")
    worker.add_argument("--queues", default="gpu,cpu")
    worker.add_argument("--pool", default="solo")
    worker.add_argument("--concurrency", type=int, default=1)
    worker.add_argument("--loglevel", default="info")
    worker.add_argument("--no-migrate", action="store_true")
    worker.set_defaults(run=cmd_worker)

    health = sub.add_parser(
        "worker-health", help="exit 0 when this host's worker answers a ping through the broker"
    )
    health.add_argument("--node", help="the worker's node name (default celery@<hostname>)")
    health.add_argument("--timeout", type=float, default=5.0)
    health.set_defaults(run=cmd_worker_health)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("db_command", choices=["upgrade", "check"])
    db.set_defaults(run=cmd_db)

    storage = sub.add_parser("storage", help="the media store (local folder or S3)")
    storage.add_argument("storage_command", choices=["check"])
    storage.set_defaults(run=cmd_storage)

    users = sub.add_parser("users", help="user accounts").add_subparsers(dest="sub", required=True)
    create_user = users.add_parser("create", help="create a user")
    create_user.add_argument("email")
    create_user.add_argument("--name")
    create_user.add_argument("--admin", action="store_true", help="make a site admin")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user.set_defaults(run=cmd_users_create)

    workspaces = sub.add_parser("workspaces", help="workspaces").add_subparsers(
        dest="sub", required=True
    )
    create_ws = workspaces.add_parser("create", help="create a workspace")
    create_ws.add_argument("name")
    create_ws.add_argument("--owner", required=True, metavar="EMAIL")
    create_ws.add_argument("--slug")
    create_ws.set_defaults(run=cmd_workspaces_create)

    keys = sub.add_parser("apikeys", help="API keys").add_subparsers(dest="sub", required=True)
    create_key = keys.add_parser("create", help="create a key and print it once")
    create_key.add_argument("--user", required=True, metavar="EMAIL")
    create_key.add_argument("--workspace", required=True, metavar="SLUG")
    create_key.add_argument("--name", default="cli")
    create_key.set_defaults(run=cmd_apikeys_create)

    models = sub.add_parser("models", help="the model registry")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="each model and whether its weights are present")
    check = models_sub.add_parser("check", help="load a model and run it once")
    check.add_argument("key")
    tiny = models_sub.add_parser("make-tiny", help="write tiny random-weight pipelines + registry")
    tiny.add_argument("directory")
    models.set_defaults(run=cmd_models)

    status = sub.add_parser(
        "status", help="the job queues and workers; says when a queue has no live worker"
    )
    status.set_defaults(run=cmd_status)

    demo = sub.add_parser("demo", help="create a demo admin and workspace, print a login")
    demo.add_argument("--reset", action="store_true", help="set and print a new demo password")
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace, Settings], None] = args.run
    try:
        run(args, get_settings())
    except (CommandError, ConfigError) as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return 2
    except StudioError as exc:
        print(f"studio: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
