// Studio · Jams: the body of a gr.HTML js_on_load (see studio/ui/jams/).
// `element` is the HTML component, `trigger` sends its Python handler an event.
//
// - Countdowns (.countdown[data-target]) tick from the SERVER's clock. Every
//   [data-now] is the server time when its HTML was made: (data-now - the
//   browser's time when the HTML is first seen) is a sample of the offset
//   between the two clocks, too small by however late it was seen (HTML made
//   while the page was hidden is mounted when it is shown). So the page keeps
//   the largest sample (window.studioJamClock), shared by every jams.js, and
//   the Jams timer sends a fresh one (#jam-server-clock) on each tick.
//   The server decides on time / late / closed anyway; this is only the display.
// - <time class="local-time" datetime data-zone> is shown in the viewer's time
//   zone, named, with the jam's own time beside it when the two differ (the
//   server wrote the jam's; the tooltip keeps it).
// - Links (a.nav-link, addresses of the form /jams?jam=..) belong to
//   studio.js when the page has it (window.studioNav: push + navigate). Until
//   then, jams links are opened here (the address is pushed and the handler
//   given the query); other pages' links load normally.
// - Rows with data-jam / data-entry open that jam / that entry (click or Enter).
// - "Copy link" buttons copy their view's full address.
// - Judge console keys: j / k next / previous entry, Ctrl+Enter submits scores.
const pad = (n) => String(n).padStart(2, "0");
const words = (ms) => {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return d + " d " + h + " h " + pad(m) + " min";
  if (h > 0) return h + " h " + pad(m) + " min " + pad(s % 60) + " s";
  return m + " min " + pad(s % 60) + " s";
};
const formats = {};
const format = (zone, short) => {
  const key = (zone || "") + (short ? ":short" : "");
  if (!formats[key]) {
    const options = short
      ? { hour: "2-digit", minute: "2-digit", timeZoneName: "short" }
      : {
          weekday: "short", day: "2-digit", month: "short", year: "numeric",
          hour: "2-digit", minute: "2-digit", timeZoneName: "short",
        };
    if (zone) options.timeZone = zone;
    try {
      formats[key] = new Intl.DateTimeFormat(undefined, options);
    } catch (e) {
      formats[key] = new Intl.DateTimeFormat(undefined, { ...options, timeZone: undefined });
    }
  }
  return formats[key];
};
// Minutes east of UTC that `zone` has at `date` (undefined zone: the viewer's).
const offsetOf = (date, zone) => {
  const parts = {};
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  });
  for (const p of f.formatToParts(date)) parts[p.type] = p.value;
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  return Math.round((wall - Math.floor(date.getTime() / 60000) * 60000) / 60000);
};
const clock = (window.studioJamClock ??= { offset: -Infinity });
const tick = () => {
  element.querySelectorAll("[data-now]:not([data-sampled])").forEach((el) => {
    el.dataset.sampled = "1";
    clock.offset = Math.max(clock.offset, Number(el.dataset.now) - Date.now());
  });
  const serverNow = Date.now() + (Number.isFinite(clock.offset) ? clock.offset : 0);
  element.querySelectorAll(".countdown[data-target]").forEach((el) => {
    const left = Number(el.dataset.target) - serverNow;
    const text = left > 0 ? "in " + words(left) : el.dataset.done || "now";
    if (el.textContent !== text) el.textContent = text; // else the observer loops
    el.classList.toggle("soon", left > 0 && left < 3600 * 1000);
  });
  element.querySelectorAll("time.local-time:not([data-local])").forEach((el) => {
    el.dataset.local = "1";
    const date = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) return;
    const zone = el.dataset.zone;
    el.title = el.textContent + (zone ? " (" + zone + ")" : "");
    el.textContent = format(undefined, false).format(date);
    let differs = false;
    try {
      differs = !!zone && offsetOf(date, zone) !== offsetOf(date, undefined);
    } catch (e) {
      differs = false;
    }
    if (differs) {
      const jam = document.createElement("span");
      jam.className = "jam-zone";
      const city = zone.split("/").pop().replace(/_/g, " ");
      jam.textContent = " (" + format(zone, true).format(date) + " in " + city + ")";
      el.after(jam);
    }
  });
};
tick();
setInterval(tick, 1000);
new MutationObserver(tick).observe(element, { childList: true, subtree: true });

const pushAddress = (query) => {
  if (window.studioNav) { window.studioNav.push(query); return; }
  const rest = { ...query };
  delete rest.view;
  const next = "/jams?" + new URLSearchParams(rest).toString();
  if (location.pathname + location.search !== next) history.pushState(null, "", next);
};
const copy = (button) => {
  const href = new URL(button.dataset.href, location.origin).href;
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
const open = (event) => {
  const copyButton = event.target.closest("button.copy-link[data-href]");
  if (copyButton) { event.preventDefault(); copy(copyButton); return; }
  const link = event.target.closest("a.nav-link[href]");
  if (link) {
    if (window.studioNav || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href, location.origin);
    if (url.pathname !== "/jams") return; // another page: an ordinary link
    const query = { view: "jams", ...Object.fromEntries(url.searchParams) };
    event.preventDefault();
    pushAddress(query);
    trigger("click", query);
    return;
  }
  if (event.target.closest("video, a, button, input, textarea")) return;
  const jam = event.target.closest("[data-jam]");
  if (jam) {
    pushAddress({ view: "jams", jam: jam.dataset.jam });
    trigger("click", { jam: jam.dataset.jam });
    return;
  }
  const entry = event.target.closest("tr[data-entry]");
  if (entry) trigger("click", { entry: entry.dataset.entry });
};
element.addEventListener("click", open);
// Back and Forward between jams views, until studio.js (window.studioNav) owns
// them: the jam list's instance asks its handler for the view of the address.
// A click on a tab puts that view's address in the bar (&tab=judge...); the jam is
// the one the Jam tab shows.
const TAB_KEYS = {
  "tab-jam-list": "list", "tab-jam": null, "tab-jam-submit": "submit",
  "tab-jam-judge": "judge", "tab-jam-organize": "organize", "tab-jam-results": "results",
  "tab-jam-new": "new",
};
if ((element.id === "jam-list" || element.closest("#jam-list")) && !window.studioJamsHistory) {
  window.studioJamsHistory = true;
  window.addEventListener("popstate", () => {
    if (window.studioNav) return;
    const query = { view: "jams", ...Object.fromEntries(new URLSearchParams(location.search)) };
    if (location.pathname === "/jams") trigger("click", query);
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("#jam-tabs [role=tab]");
    if (!button) return;
    const panel = button.getAttribute("aria-controls") || "";
    if (!(panel in TAB_KEYS)) return;
    const shown = document.querySelector("#jam-overview .jam-page[data-slug]");
    const query = { view: "jams" };
    if (shown) query.jam = shown.dataset.slug;
    if (TAB_KEYS[panel]) query.tab = TAB_KEYS[panel];
    pushAddress(query);
  });
}
element.addEventListener("keydown", (e) => { if (e.key === "Enter") open(e); });

document.addEventListener("keydown", (e) => {
  const queue = element.querySelector(".judge-queue");
  if (!queue || queue.offsetParent === null) return;
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    const submit = document.querySelector("#judge-submit");
    if (submit) { e.preventDefault(); submit.click(); }
    return;
  }
  if (e.key !== "j" && e.key !== "k") return;
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("textarea, input[type=text]")) return;
  const rows = [...queue.querySelectorAll("tr[data-entry]")];
  const at = rows.findIndex((r) => r.classList.contains("picked"));
  const next = rows[e.key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0)];
  if (next && next !== rows[at]) { e.preventDefault(); trigger("click", { entry: next.dataset.entry }); }
});
