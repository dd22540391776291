// Studio · Jams: the body of a gr.HTML js_on_load (see studio/ui/pages/jams.py).
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
// - <time class="local-time" datetime=...> is rewritten in the viewer's time
//   zone, zone named (the server wrote it in the jam's zone).
// - Rows with data-jam / data-entry open that jam / that entry (click or Enter).
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
const local = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "2-digit", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});
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
    el.title = el.textContent;
    el.textContent = local.format(new Date(el.getAttribute("datetime")));
  });
};
tick();
setInterval(tick, 1000);
new MutationObserver(tick).observe(element, { childList: true, subtree: true });

const open = (event) => {
  if (event.target.closest("video, a, button, input, textarea")) return;
  const jam = event.target.closest("[data-jam]");
  if (jam) { trigger("click", { jam: jam.dataset.jam }); return; }
  const entry = event.target.closest("tr[data-entry]");
  if (entry) trigger("click", { entry: entry.dataset.entry });
};
element.addEventListener("click", open);
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
