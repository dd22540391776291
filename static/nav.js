// Studio · addresses: the body of each page's gr.HTML js_on_load (studio/ui/app.py,
// studio/ui/addresses.py). Each page has its own path (/, /projects, /generate,
// /jams, /account) and each view within it an address, <path>?<what it shows>.
// Views are named here as query objects whose `view` is the page.
// - window.studioNav.push(query) puts a view's address in the bar (a history entry);
//   pages call it after a person opens something (never when a handler or Back
//   changed the view: that would add entries Back then walks through).
// - open(query) pushes and asks this page's `navigate` handler for that view; a view
//   of another page is a page load.
// - show(page): a sidebar link (a.nav-item), that page at its latest address in this tab.
// - Back / Forward (popstate) within this page ask `navigate` for the address now in
//   the bar (history entries of other pages are page loads: the browser's own).
// - Every navigation within this page raises `seq`; `navigate` reads the bar and seq
//   when it runs (NAVIGATE_JS), and the server sends nothing for a navigation older
//   than one it has seen (studio/ui/navigation.py): the last one pressed shows.
// - Links a.nav-link open in place when they name this page (modifier keys: the
//   browser's way); "Copy link" buttons copy their data-href as a full address.
// Query values travel as data to Python, which checks them; nothing is written
// into the page from here.
const PATHS = {
  workspaces: "/", projects: "/projects", generate: "/generate", jams: "/jams",
  account: "/account",
};
const pageOfPath = (path) => {
  const trimmed = path.replace(/\/+$/, "") || "/";
  return Object.keys(PATHS).find((page) => PATHS[page] === trimmed) || "workspaces";
};
const HERE = pageOfPath(location.pathname);
const PROJECT_TABS = {
  "tab-board": "board", "tab-list": "list", "tab-shot": "shot",
  "tab-compare": "compare", "tab-activity": "activity", "tab-cut": "cut",
};
// The view an address names: {view: <its page>, ...its query}.
const queryOf = (path, search) => {
  const query = Object.fromEntries(new URLSearchParams(search));
  delete query.view;
  return { view: pageOfPath(path), ...query };
};
const addressOf = (query) => {
  const rest = { ...query };
  const page = PATHS[rest.view] ? rest.view : HERE;
  delete rest.view;
  const search = new URLSearchParams(rest).toString();
  return PATHS[page] + (search ? "?" + search : "");
};
// The latest address of each page in this tab, for its sidebar button.
const LAST_KEY = "studio.lastAddress"; // the sign-in page forgets it (studio/auth/pages.py)
const last = (() => {
  try { return JSON.parse(sessionStorage.getItem(LAST_KEY) || "{}"); } catch (e) { return {}; }
})();
const remember = (query) => {
  if (!PATHS[query.view]) return;
  last[query.view] = query;
  try { sessionStorage.setItem(LAST_KEY, JSON.stringify(last)); } catch (e) { /* private mode */ }
};
const push = (query) => {
  const view = { ...query, view: PATHS[query.view] ? query.view : HERE };
  remember(view);
  const next = addressOf(view);
  if (view.view !== HERE) { location.assign(next); return; }
  if (location.pathname + location.search !== next) history.pushState(null, "", next);
};
let seq = 0; // navigations within this page asked for since it loaded
let started = false; // the first view (the load event's) is on screen
const go = () => { seq += 1; if (started) trigger("click"); };
const open = (query) => {
  const view = { ...query, view: PATHS[query.view] ? query.view : HERE };
  if (view.view !== HERE) { remember(view); location.assign(addressOf(view)); return; }
  push(view);
  go();
};
const show = (page) => {
  if (page === HERE) return;
  location.assign(addressOf(last[page] || { view: page }));
};
// The Projects page's address from its pickers (ids) and the tab on screen.
const projects = (project, shot, take) => {
  const query = { view: "projects" };
  if (project) query.project = String(project);
  if (project && shot) query.shot = String(shot);
  if (project && shot && take) query.take = String(take);
  const picked = document.querySelector("#proj-tabs [role=tab][aria-selected=true]");
  const tab = picked ? PROJECT_TABS[picked.getAttribute("aria-controls")] : null;
  if (tab && tab !== (query.shot ? "shot" : "board")) query.tab = tab;
  push(query);
};
// The first view landed; Back or a link pressed before it are routed now.
const start = () => {
  if (started) return;
  started = true;
  if (seq > 0) { seq += 1; trigger("click"); }
};
window.studioNav = { push, open, show, projects, here: HERE, seq: () => seq, started: start };
remember(queryOf(location.pathname, location.search));

window.addEventListener("popstate", () => {
  const query = queryOf(location.pathname, location.search);
  if (query.view !== HERE) { location.reload(); return; }
  remember(query);
  go();
});

const copy = (button) => {
  const href = new URL(button.dataset.href, location.origin).href;
  button.dataset.copied = href; // what was copied, for whoever cannot read the clipboard
  const done = () => {
    button.textContent = "Link copied";
    setTimeout(() => { button.textContent = "Copy link"; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(href).then(done, () => prompt("Copy this link:", href));
  } else {
    prompt("Copy this link:", href);
  }
};

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return; // a page's own script had it
  const button = event.target.closest("button.copy-link[data-href]");
  if (button) { event.preventDefault(); copy(button); return; }
  if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  const item = event.target.closest("a.nav-item[href]");
  if (item) { // the sidebar: that page at its latest address in this tab
    event.preventDefault();
    show(pageOfPath(new URL(item.href, location.origin).pathname));
    return;
  }
  const link = event.target.closest("a.nav-link[href]");
  if (!link) return;
  const url = new URL(link.href, location.origin);
  if (url.origin !== location.origin) return;
  const query = queryOf(url.pathname, url.search);
  if (query.view !== HERE) return; // another page: the browser loads it
  event.preventDefault();
  open(query);
});
// A click on a Projects tab gives that view its address (Gradio's `select` also
// fires when a handler selects a tab, which must not add a history entry).
document.addEventListener("click", (event) => {
  const tab = event.target.closest("#proj-tabs [role=tab]");
  if (!tab) return;
  const now = last.projects || { view: "projects" };
  setTimeout(() => projects(now.project, now.shot, now.take), 50); // once aria-selected moved
});
