"""Sign-in to a usable Projects page in Chromium, before (a git ref) and after (this tree).

    .venv/bin/python bench/first_paint.py [--before main] [--runs 5]

One scratch Postgres database, seeded once (a team of 3, a project of 24
shots, 12 with a take); two `studio serve` processes on it: the `--before`
ref (exported with git archive) and this checkout. For each run, alternating
sides, a fresh Chromium context (cold cache) signs in from a link to the
Projects page (`/login?next=<its address>`) and waits for the storyboard's
cards; then, in the same context (warm cache), signs out and in again and
does the same; then signs in to the home page and, once it has loaded,
clicks Projects in the sidebar. Reported: median and max
of sign-in -> Projects usable, the page HTML's size, the number of requests
and bytes of a cold load, and every answer >= 400. The machine's load
(`uptime`) is printed with the figures: it is shared, so absolute times vary.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Browser, BrowserContext, Response, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ui_stack as stack

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@dataclass
class Side:
    name: str
    server: stack.Process
    projects: str = "/projects"
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    home: list[float] = field(default_factory=list)
    requests: int = 0
    transferred: int = 0
    errors: list[str] = field(default_factory=list)


def projects_address(side: Side, email: str) -> str:
    """Where this side's Projects page lives: its own path, or (one-page trees)
    `/?view=projects`."""
    client = stack.sign_in(side.server.url, email)
    try:
        own = client.get("/projects", headers={"accept": "text/html"})
        return "/projects" if own.status_code == 200 else "/?view=projects"
    finally:
        client.close()


def usable(
    context: BrowserContext, side: Side, email: str, *, count: bool, via_home: bool = False
) -> float:
    """Seconds from pressing "Sign in" to the Projects storyboard showing its cards:
    signing in from a link to Projects, or (`via_home`) landing on the home page
    and clicking Projects in the sidebar once the home page has loaded."""
    page = context.new_page()
    answers: list[Response] = []
    if count:
        page.on("response", lambda answer: answers.append(answer))
    page.goto(side.server.url + ("/login" if via_home else f"/login?next={quote(side.projects)}"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", stack.PASSWORD)
    start = time.perf_counter()
    page.click("button[type=submit]")
    if via_home:
        page.wait_for_url(side.server.url + "/")
        page.locator("#signed-in-as", has_text="Signed in as").wait_for(timeout=60_000)
        page.locator("#nav-projects").click()
    page.locator("#proj-storyboard [data-shot]").first.wait_for(timeout=60_000)
    took = time.perf_counter() - start
    if count:
        side.errors += [f"{a.status} {a.url}" for a in answers if a.status >= 400]
        side.requests = len(answers)
        side.transferred = sum(int(a.headers.get("content-length") or 0) for a in answers)
    page.goto(side.server.url + "/logout")
    page.click("button[type=submit]")  # sign out: the warm run signs in again
    page.wait_for_url("**/login**")
    page.close()
    return took


def run(browser: Browser, side: Side, email: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    side.cold.append(usable(context, side, email, count=not side.cold))
    side.warm.append(usable(context, side, email, count=False))
    side.home.append(usable(context, side, email, count=False, via_home=True))
    context.close()


def page_html_size(side: Side, email: str) -> int:
    """The Projects page's HTML (a one-page tree sends all pages)."""
    client = stack.sign_in(side.server.url, email)
    try:
        page = client.get(side.projects, headers={"accept": "text/html"}, follow_redirects=True)
        return len(page.content)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="main")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    scratch = stack.scratch_database("paint")
    before_tree = stack.export_tree(args.before)
    sides: list[Side] = []
    try:
        members = stack.seed(scratch, workspaces=1, members=3, shots=24, taken=12)
        email = members[0].email
        sides = [
            Side(f"before ({args.before})", stack.serve(before_tree, scratch)),
            Side("after (this tree)", stack.serve(stack.ROOT, scratch)),
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for side in sides:  # one untimed load each: both servers warm
                side.projects = projects_address(side, email)
                run(browser, side, email)
                side.cold.clear()
                side.warm.clear()
                side.home.clear()
                side.errors.clear()
            for _ in range(args.runs):
                for side in sides:
                    run(browser, side, email)
            browser.close()
        load = os.getloadavg()
        print(
            f"machine load (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
            f"{os.cpu_count()} CPUs"
        )
        print(
            "| side | sign-in -> Projects usable, cold cache: median / max "
            "| warm cache: median / max | via the home page, warm: median / max "
            "| page HTML | cold load: requests, bytes with a Content-Length | answers >= 400 |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for side in sides:
            html = page_html_size(side, email)
            print(
                f"| {side.name} | {statistics.median(side.cold):.2f} s / {max(side.cold):.2f} s "
                f"| {statistics.median(side.warm):.2f} s / {max(side.warm):.2f} s "
                f"| {statistics.median(side.home):.2f} s / {max(side.home):.2f} s "
                f"| {html / 1024:.0f} KB | {side.requests}, {side.transferred / 1024:.0f} KB "
                f"| {len(side.errors)} {sorted(set(side.errors))[:3]} |"
            )
    finally:
        for side in sides:
            side.server.stop()
        scratch.drop()
        shutil.rmtree(before_tree, ignore_errors=True)


if __name__ == "__main__":
    main()
