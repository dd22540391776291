"""Call a Gradio handler over HTTP and read its outputs by name (the components'
elem_id), never by position: the same binding the pages use.

`/config` says which components an event reads and writes; `call(...)` sends
inputs given by elem_id (the rest None) and returns {elem_id: value}.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from functools import lru_cache
from typing import Any

import httpx

from tests.factories import UIError, call_ui


@lru_cache(maxsize=8)
def _config(base_url: str, cookie: str) -> dict[str, Any]:
    response = httpx.get(base_url + "/config", headers={"cookie": cookie}, timeout=30)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def config(http: httpx.Client) -> dict[str, Any]:
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    return _config(str(http.base_url).rstrip("/"), cookie)


def _names(cfg: dict[str, Any]) -> dict[int, str]:
    return {
        c["id"]: (c.get("props", {}).get("elem_id") or f"#{c['id']}") for c in cfg["components"]
    }


def dependency(http: httpx.Client, api_name: str) -> dict[str, Any]:
    cfg = config(http)
    (dep,) = [d for d in cfg["dependencies"] if d.get("api_name") == api_name]
    return dep


def input_names(http: httpx.Client, api_name: str) -> list[str]:
    names = _names(config(http))
    return [names[i] for i in dependency(http, api_name)["inputs"]]


def output_names(http: httpx.Client, api_name: str) -> list[str]:
    names = _names(config(http))
    return [names[i] for i in dependency(http, api_name)["outputs"]]


def call(http: httpx.Client, api_name: str, **inputs: Any) -> dict[str, Any]:
    """Inputs by elem_id (dashes as underscores work too); outputs by elem_id."""
    wanted = {k.replace("_", "-"): v for k, v in inputs.items()}
    order = input_names(http, api_name)
    unknown = set(wanted) - set(order)
    assert not unknown, f"{api_name} reads no {sorted(unknown)}; it reads {order}"
    values = call_ui(http, api_name, *(wanted.get(name) for name in order), errors_in_place=True)
    names = output_names(http, api_name)
    assert len(values) == len(names), (api_name, len(values), len(names))
    return dict(zip(names, values, strict=True))


def call_event(
    http: httpx.Client, api_name: str, event_data: dict[str, Any], *args: Any
) -> dict[str, Any]:
    """Run an event the way the page's JavaScript does (`trigger(name, data)` in a
    gr.HTML): through the queue, with event data, which /gradio_api/call cannot
    carry. Returns {elem_id: output}; a refusal is a UIError."""
    dep = dependency(http, api_name)
    session = secrets.token_hex(8)
    body = {
        "data": list(args),
        "event_data": event_data,
        "fn_index": dep["id"],
        "trigger_id": dep["targets"][0][0],
        "session_hash": session,
    }
    joined = http.post("/gradio_api/queue/join", json=body)
    if joined.status_code != 200:
        raise UIError(f"HTTP {joined.status_code}: {joined.text}")
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line.split(":", 1)[1])
            if message.get("msg") != "process_completed":
                continue
            output = message.get("output") or {}
            if not message.get("success"):
                raise UIError(str(output.get("error") or output))
            names = output_names(http, api_name)
            return dict(zip(names, output["data"], strict=True))
    raise UIError("stream ended without a result")


def value(out: dict[str, Any], name: str) -> Any:
    """A component's new value (plain, or from a gr.update)."""
    got = out[name]
    if isinstance(got, dict) and got.get("__type__") == "update":
        return got.get("value")
    return got


def visible(out: dict[str, Any], name: str) -> bool | None:
    got = out[name]
    return got.get("visible") if isinstance(got, dict) else None


def error(out: dict[str, Any], line: str) -> str:
    """The text an action's error line shows ('' when it was cleared)."""
    got = out[line]
    assert isinstance(got, dict) and got.get("__type__") == "update", got
    if not got.get("visible"):
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", str(got.get("value") or "")))


def table(rows: list[list[Any]], headers: list[str]) -> dict[str, Any]:
    """A Dataframe's value as the API takes it."""
    return {"headers": headers, "data": rows, "metadata": None}


def rows(out: dict[str, Any], name: str) -> list[list[Any]]:
    """A Dataframe's rows from an event's outputs."""
    got = value(out, name)
    return list(got["data"]) if isinstance(got, dict) else list(got or [])


def untouched(out: dict[Any, Any], *names: Any) -> bool:
    """gr.skip() for each: the browser keeps what it shows (fields stay as typed)."""

    def kept(got: Any) -> bool:
        if not isinstance(got, dict) or got.get("__type__") != "update":
            return False
        props = got.get("props", {})  # gr.HTML wraps its (empty) update in props
        return set(got) <= {"__type__", "props"} and set(props) <= {"__type__"}

    return all(kept(out[n]) for n in names)
