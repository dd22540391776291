// Studio · Workspaces: the body of a gr.HTML js_on_load (see studio/ui/workspaces/).
// "Copy link" buttons copy their view's full address. Links (a.nav-link) are
// ordinary links until studio.js (window.studioNav) opens them without a reload.
element.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy-link[data-href]");
  if (!button) return;
  event.preventDefault();
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
});
