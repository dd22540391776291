"""A team on the Projects page: UI event latency, before (a git ref) and after (this tree).

    .venv/bin/python bench/ui_load.py [--before main] [--viewers 50] [--generators 5]
        [--seconds 30]

A scratch Postgres database is seeded once (10 workspaces of 5 members, one
project each of 24 shots, 12 with a take) and copied (CREATE DATABASE ...
TEMPLATE, media folder copied) so each side starts from the same data. Each
side in turn runs `studio serve` plus one `studio worker` (Redis,
BENCH_REDIS_URL, default DB 7, a queue prefix per side) from its own source
tree: `--before` exported with git archive, then this checkout.

Load, through Gradio's call protocol (`POST /gradio_api/call/<api_name>`
with a `session_hash` per browser session, then its event stream), each
person with their own API key:
- `--viewers` members, each with a shot of their project open: the page's
  2 s poll, one tick at a time per session (a tick that comes while one
  runs is dropped), in whichever form the side's page uses: `refresh_project`
  on every tick (the whole live view); or `project_changes` (a Gradio event
  reading the stamp) and `refresh_project` only when its fingerprint changed;
  or `GET /ui/projects/<id>/changes` (a plain request for the fingerprint)
  and `refresh_project` only when it changed; or `GET /ui/projects/<id>/
  changes?have=<token>`, which answers the changed parts' HTML itself, and
  `refresh_project` (the take picker and tools) only when the answer asks.
  Renders are timed apart (a tick that carried parts counts as a tick and as
  a render; "every event" counts it once);
- `--generators` more sessions (owners of every other workspace) that also
  press Generate take (`generate_shot_take`, the animatic model) every 10 s;
  their projects' viewers then see takes queue, run and finish.
Each page opens untimed (its Gradio session's first event and, after, its
first poll: bench/first_paint.py measures opening). Every answer is timed
from the POST to the event's `complete`. An error is
an HTTP error, an `error` event or no answer within 30 s. Polls started in
the window and completed are counted too, and the web process's CPU time
(user + system, /proc) per completed event: on a shared, loaded machine the
latencies mostly measure the machine, the CPU time measures the code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ui_stack as stack

POLL_SECONDS = 2.0
GENERATE_SECONDS = 10.0
TIMEOUT = 30.0
SETTLE_SECONDS = 3.0


@dataclass
class Start:
    """Every page opens first (untimed); then, after a settle, the timed window."""

    opened: asyncio.Barrier
    go: asyncio.Event = field(default_factory=asyncio.Event)
    until: float = 0.0


@dataclass
class Tally:
    polls: list[float] = field(default_factory=list)
    generates: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    renders: list[float] = field(default_factory=list)
    # Of `renders`, the ones that were Gradio events (not a tick that carried parts).
    gradio_renders: list[float] = field(default_factory=list)
    started: int = 0
    server_cpu: float = 0.0
    # How the page polls: "render" (a Gradio event that renders, every tick),
    # "check" (a Gradio event that reads the stamp, then a render when it moved), or
    # "http" (GET /ui/projects/<id>/changes, then a render when it moved), or
    # "parts" (the same GET answering the changed parts; a render when it asks).
    mode: str = "render"


async def call(
    client: httpx.AsyncClient,
    key: str,
    api_name: str,
    data: list[object],
    session: str,
    outputs: list[object] | None = None,
) -> float:
    """One event through Gradio's call protocol; seconds until it completed
    (its outputs go to `outputs` when given)."""
    headers = {"Authorization": f"Bearer {key}"}
    start = time.perf_counter()
    answer = await client.post(
        f"/gradio_api/call/{api_name}",
        json={"data": data, "session_hash": session},
        headers=headers,
    )
    answer.raise_for_status()
    event_id = answer.json()["event_id"]
    event = ""
    async with client.stream(
        "GET", f"/gradio_api/call/{api_name}/{event_id}", headers=headers
    ) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "error":
                raise RuntimeError(f"{api_name}: {line[5:200]}")
            elif line.startswith("data:") and event == "complete":
                if outputs is not None:
                    outputs[:] = json.loads(line[5:])
                return time.perf_counter() - start
    raise RuntimeError(f"{api_name}: stream ended without a result")


async def ask(
    client: httpx.AsyncClient, key: str, member: stack.Member, into: list[object]
) -> float:
    """The page's poll as a plain request (after): the fingerprint of the open shot's view."""
    start = time.perf_counter()
    answer = await client.get(
        f"/ui/projects/{member.project_id}/changes",
        params={"shot": member.shot_ids[0]},
        headers={"Authorization": f"Bearer {key}"},
    )
    answer.raise_for_status()
    into.append(answer.json()["seen"])
    return time.perf_counter() - start


async def ask_parts(
    client: httpx.AsyncClient, key: str, member: stack.Member, have: str | None, into: list[object]
) -> float:
    """The page's poll as it is now: the changed parts since `have`, and the new token."""
    start = time.perf_counter()
    params: dict[str, object] = {"shot": member.shot_ids[0]}
    if have is not None:
        params["have"] = have
    answer = await client.get(
        f"/ui/projects/{member.project_id}/changes",
        params=params,  # type: ignore[arg-type]
        headers={"Authorization": f"Bearer {key}"},
    )
    answer.raise_for_status()
    into.append(answer.json())
    return time.perf_counter() - start


async def timed(tally: Tally, into: list[float], coro: object, *also: list[float]) -> None:
    try:
        took = await asyncio.wait_for(coro, TIMEOUT)  # type: ignore[arg-type]
    except Exception as exc:  # every failure is counted, none stops the run
        tally.errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
        return
    for where in (into, *also):
        where.append(took)


async def viewer(
    client: httpx.AsyncClient, member: stack.Member, tally: Tally, start: Start, delay: float
) -> None:
    """What the page's timer does: before, `refresh_project` on every tick; after,
    `project_changes` on every tick and `refresh_project` when its fingerprint
    changed (the page's change event)."""
    session = secrets.token_hex(6)
    data: list[object] = [member.project_id, member.shot_ids[0], None, None]
    key = member.api_key
    shown: object = None
    have: str | None = None
    # The page as it opens (untimed: bench/first_paint.py measures that): its
    # Gradio session starts with the page's first event, and (after) its first
    # poll answers every part and the token.
    await timed(tally, [], call(client, key, "refresh_project", data, session))
    if tally.mode == "parts":
        opened: list[object] = []
        await timed(tally, [], ask_parts(client, key, member, None, opened))
        have = opened[0]["have"] if opened else None  # type: ignore[index]
    await start.opened.wait()
    await start.go.wait()
    await asyncio.sleep(delay)
    while time.monotonic() < start.until:
        tick = time.monotonic()
        tally.started += 1
        if tally.mode == "parts":
            answers: list[object] = []
            took: list[float] = []
            await timed(tally, tally.polls, ask_parts(client, key, member, have, answers), took)
            if answers:
                body: dict[str, object] = answers[0]  # type: ignore[assignment]
                have = str(body["have"])
                if body["parts"] and took:
                    tally.renders.append(took[0])
                if body["render"]:
                    await timed(
                        tally,
                        tally.renders,
                        call(client, key, "refresh_project", data, session),
                        tally.gradio_renders,
                    )
        elif tally.mode == "render":
            await timed(tally, tally.polls, call(client, key, "refresh_project", data, session))
        elif tally.mode == "http":
            seen: list[object] = []
            await timed(tally, tally.polls, ask(client, key, member, seen))
            if seen and shown is None:
                shown = seen[0]  # what the page was sent when it opened
            elif seen and seen[0] != shown:
                shown = seen[0]
                await timed(
                    tally,
                    tally.renders,
                    call(client, key, "refresh_project", data, session),
                    tally.gradio_renders,
                )
        else:
            got: list[object] = []
            await timed(
                tally, tally.polls, call(client, key, "project_changes", data, session, got)
            )
            if got and isinstance(got[0], str) and got[0] != shown:
                shown = got[0]
                await timed(
                    tally,
                    tally.renders,
                    call(client, key, "refresh_project", data, session),
                    tally.gradio_renders,
                )
        await asyncio.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - tick)))


async def generator(
    client: httpx.AsyncClient, member: stack.Member, tally: Tally, start: Start, delay: float
) -> None:
    session = secrets.token_hex(6)
    number = 0
    poller = asyncio.create_task(viewer(client, member, tally, start, delay))
    await start.go.wait()
    await asyncio.sleep(delay)
    while time.monotonic() < start.until:
        tick = time.monotonic()
        shot = member.shot_ids[number % len(member.shot_ids)]
        data: list[object] = [member.project_id, shot, None, "animatic", str(number)]
        number += 1
        await timed(
            tally,
            tally.generates,
            call(client, member.api_key, "generate_shot_take", data, session),
        )
        await asyncio.sleep(max(0.0, GENERATE_SECONDS - (time.monotonic() - tick)))
    await poller


async def drive(
    url: str,
    viewers: list[stack.Member],
    makers: list[stack.Member],
    seconds: float,
    server_pid: int | None = None,
) -> Tally:
    """The load; `server_pid`: the web process, whose CPU time in the timed
    window goes to `tally.server_cpu`."""
    tally = Tally()
    info = httpx.get(
        url + "/gradio_api/info", headers={"Authorization": f"Bearer {viewers[0].api_key}"}
    ).json()
    probe = httpx.get(
        f"{url}/ui/projects/{viewers[0].project_id}/changes",
        headers={"Authorization": f"Bearer {viewers[0].api_key}"},
    )
    if probe.status_code == 200:
        tally.mode = "parts" if "parts" in probe.json() else "http"
    elif "/project_changes" in info["named_endpoints"]:
        tally.mode = "check"
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT, limits=limits) as client:
        start = Start(opened=asyncio.Barrier(len(viewers) + len(makers) + 1))
        tasks = [
            asyncio.create_task(viewer(client, m, tally, start, POLL_SECONDS * i / len(viewers)))
            for i, m in enumerate(viewers)
        ] + [
            asyncio.create_task(
                generator(client, m, tally, start, GENERATE_SECONDS * i / max(1, len(makers)))
            )
            for i, m in enumerate(makers)
        ]
        await start.opened.wait()  # every page open: let the server settle, then time
        await asyncio.sleep(SETTLE_SECONDS)
        start.until = time.monotonic() + seconds
        spent = cpu_seconds(server_pid) if server_pid else 0.0
        start.go.set()
        await asyncio.gather(*tasks)
        if server_pid:
            tally.server_cpu = cpu_seconds(server_pid) - spent
    return tally


def copy_scratch(source: stack.Scratch, label: str) -> stack.Scratch:
    name = f"bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(stack.PG_ADMIN, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source.name)
            )
        )
    data_dir = Path(str(source.data_dir) + f"-{label}")
    shutil.copytree(source.data_dir, data_dir)
    return stack.Scratch(name, source.url.rsplit("/", 1)[0] + f"/{name}", data_dir, source.members)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc): what the server spent,
    whatever else the machine was doing."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_side(
    tree: Path, scratch: stack.Scratch, args: argparse.Namespace, label: str
) -> tuple[Tally, int]:
    prefix = f"bench-{label}-{secrets.token_hex(3)}"
    server = stack.serve(tree, scratch, redis_prefix=prefix)
    worker = stack.worker(tree, scratch, redis_prefix=prefix)
    try:
        people = scratch.members
        viewers = people[: args.viewers]
        makers = [people[i * 10] for i in range(args.generators) if i * 10 < len(people)]
        tally = asyncio.run(drive(server.url, viewers, makers, args.seconds, server.proc.pid))
        with psycopg.connect(scratch.url) as conn:
            done = conn.execute("SELECT count(*) FROM jobs WHERE status = 'succeeded'").fetchone()
        return tally, int(done[0]) if done else 0
    finally:
        worker.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="main")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--generators", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    seed = stack.scratch_database("load")
    copies: list[stack.Scratch] = []
    before_tree = stack.export_tree(args.before)
    results: list[tuple[str, Tally, int]] = []
    try:
        workspaces = max(1, (args.viewers + 4) // 5)
        stack.seed(seed, workspaces=workspaces, members=5, shots=24, taken=12)
        for label, tree in (("before", before_tree), ("after", stack.ROOT)):
            copy = copy_scratch(seed, label)
            copies.append(copy)
            tally, done = run_side(tree, copy, args, label)
            name = f"before ({args.before})" if label == "before" else "after (this tree)"
            results.append((name, tally, done))
        load = os.getloadavg()
        print(
            f"{args.viewers} viewers + {args.generators} generating, "
            f"{args.seconds:.0f} s per side, "
            f"Postgres; machine load (1/5/15 min) after the run: "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"
        )
        print(
            "| side | ticks started / completed | tick p50 | tick p95 | tick max "
            "| renders: count, p50 / p95 | generate p50 / p95 | every event p95 | errors "
            "| takes finished | web CPU per event |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, t, done in results:
            every = t.polls + t.gradio_renders + t.generates
            events = len(every)
            print(
                f"| {name} | {t.started} / {len(t.polls)} | {pct(t.polls, 0.5) * 1000:.0f} ms "
                f"| {pct(t.polls, 0.95) * 1000:.0f} ms | {max(t.polls, default=0) * 1000:.0f} ms "
                f"| {len(t.renders)}, {pct(t.renders, 0.5) * 1000:.0f} / "
                f"{pct(t.renders, 0.95) * 1000:.0f} ms "
                f"| {pct(t.generates, 0.5) * 1000:.0f} / {pct(t.generates, 0.95) * 1000:.0f} ms "
                f"| {pct(every, 0.95) * 1000:.0f} ms "
                f"| {len(t.errors)} | {done} "
                f"| {t.server_cpu / max(1, events) * 1000:.1f} ms |"
            )
        for name, t, _ in results:
            if t.errors:
                print(f"{name} errors (first 3):", json.dumps(sorted(set(t.errors))[:3]))
        if len(results) == 2 and results[1][1].polls and results[0][1].polls:
            ratio = statistics.median(results[0][1].polls) / statistics.median(results[1][1].polls)
            print(f"poll p50 before / after: {ratio:.1f}x")
    finally:
        for scratch in [*copies, seed]:
            scratch.drop()
        shutil.rmtree(before_tree, ignore_errors=True)


if __name__ == "__main__":
    main()
