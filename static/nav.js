// Studio · addresses: the body of the shell's gr.HTML js_on_load (studio/ui/app.py,
// studio/ui/addresses.py). Every view has an address, /?view=<page>&<what it shows>.
// - window.studioNav.push(query) puts a view's address in the bar (a history entry);
//   pages call it after a person opens something (never when a handler or Back
//   changed the view: that would add entries Back then walks through).
// - open(query) pushes and asks the shell's `navigate` handler for that view.
// - Back / Forward (popstate) ask it for the address now in the bar.
// - Links a.nav-link to "/?..." open in place (modifier keys: the browser's way);
//   "Copy link" buttons copy their data-href as a full address.
// Query values travel as data to Python, which checks them; nothing is written
// into the page from here.
const PAGES = ["workspaces", "projects", "generate", "jams", "account"];
const PROJECT_TABS = {
  "tab-board": "board", "tab-list": "list", "tab-shot": "shot",
  "tab-compare": "compare", "tab-activity": "activity", "tab-cut": "cut",
};
const queryOf = (search) => Object.fromEntries(new URLSearchParams(search));
const addressOf = (query) => "/?" + new URLSearchParams(query).toString();
const last = {}; // the latest address of each page, for its button in the sidebar
const remember = (query) => { if (PAGES.includes(query.view)) last[query.view] = query; };
const push = (query) => {
  remember(query);
  const next = addressOf(query);
  if (location.pathname + location.search !== next) history.pushState(null, "", next);
};
const open = (query) => { push(query); trigger("click", query); };
const show = (page) => push(last[page] || { view: page });
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
window.studioNav = { push, open, show, projects };
remember(queryOf(location.search));

window.addEventListener("popstate", () => {
  const query = queryOf(location.search);
  remember(query);
  trigger("click", query);
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
  const link = event.target.closest("a.nav-link[href]");
  if (!link) return;
  const url = new URL(link.href, location.origin);
  if (url.origin !== location.origin || url.pathname !== "/") return;
  event.preventDefault();
  open(queryOf(url.search));
});
// A click on a Projects tab gives that view its address (Gradio's `select` also
// fires when a handler selects a tab, which must not add a history entry).
document.addEventListener("click", (event) => {
  const tab = event.target.closest("#proj-tabs [role=tab]");
  if (!tab) return;
  const now = last.projects || { view: "projects" };
  setTimeout(() => projects(now.project, now.shot, now.take), 50); // once aria-selected moved
});
