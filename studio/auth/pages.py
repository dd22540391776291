"""The sign-in and sign-out pages: plain HTML forms, no browser auth dialogs."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from studio.auth.oidc import Provider


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Studio</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/login.css">
</head><body><main class="card">
<div class="brand"><img src="/static/logo.svg" alt="" width="36" height="36">
<span>Studio</span></div>
{body}
</main></body></html>"""


# The pages' sidebar links go to each page's latest address in this tab
# (static/nav.js keeps them in sessionStorage): whoever signs in next in this
# tab starts from each page's own default, not the last person's views.
FORGET_LAST_ADDRESSES = 'try { sessionStorage.removeItem("studio.lastAddress"); } catch (e) {}'


def login_page(
    *,
    providers: list[Provider],
    next_path: str = "/",
    email: str = "",
    error: str | None = None,
    notice: str | None = None,
) -> str:
    alert = ""
    if error:
        alert = f'<p class="alert error" role="alert">{escape(error)}</p>'
    elif notice:
        alert = f'<p class="alert notice" role="status">{escape(notice)}</p>'
    after = "" if next_path == "/" else "?" + urlencode({"next": next_path})
    buttons = "".join(
        f'<a class="button secondary" href="/auth/{escape(p.key)}/login{escape(after)}">'
        f"Sign in with {escape(p.label)}</a>"
        for p in providers
    )
    sso = (
        f'<div class="divider"><span>or</span></div><div class="sso">{buttons}</div>'
        if buttons
        else ""
    )
    body = f"""<h1>Sign in</h1>
<p class="lede">Your shots, takes and jams, in one place.</p>
{alert}
<form method="post" action="/login" class="stack">
  <input type="hidden" name="next" value="{escape(next_path)}">
  <label>Email<input name="email" type="email" autocomplete="username" required
    value="{escape(email)}" autofocus></label>
  <label>Password<input name="password" type="password" autocomplete="current-password"
    required></label>
  <button type="submit" class="button">Sign in</button>
</form>
{sso}
<p class="hint">No account? Ask a workspace owner,
or run <code>studio demo</code> on the server.</p>
<script>{FORGET_LAST_ADDRESSES}</script>"""
    return _page("Sign in", body)


def logout_page() -> str:
    body = """<h1>Sign out</h1>
<p class="lede">This signs you out on every device.</p>
<form method="post" action="/logout" class="stack">
  <button type="submit" class="button">Sign out</button>
  <a class="button secondary" href="/">Back to the studio</a>
</form>"""
    return _page("Sign out", body)
