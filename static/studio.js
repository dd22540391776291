// Studio's small browser helpers, loaded in the page head.
// Event delegation on document: Gradio re-renders HTML blocks on every poll,
// so listeners on the elements themselves would be lost.
(function () {
  "use strict";

  // Put a value into a hidden Gradio textbox and fire its input event, so a
  // Python handler runs (open a shot, pick a take). A counter makes a second
  // click on the same card still count as a change.
  let clicks = 0;
  function send(elemId, value) {
    const box = document.querySelector("#" + elemId + " textarea, #" + elemId + " input");
    if (!box) return;
    clicks += 1;
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), "value").set;
    setter.call(box, value + "|" + clicks);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function activate(target) {
    const stamp = target.closest("a.timecode[data-t]");
    if (stamp) {
      const video = document.querySelector(
        '.take-card[data-take="' + stamp.dataset.take + '"] video'
      );
      if (video) {
        video.preload = "auto";
        video.currentTime = parseFloat(stamp.dataset.t);
        video.pause();
        video.scrollIntoView({ block: "nearest" });
      }
      return true;
    }
    if (target.closest("video, a, button")) return false;
    const shot = target.closest("[data-shot]");
    if (shot && shot.dataset.shot && shot.closest("#proj-storyboard, #shot-table")) {
      send("open-shot", shot.dataset.shot);
      return true;
    }
    const take = target.closest(".take-card[data-take]");
    if (take) {
      send("pick-take", take.dataset.take);
      return true;
    }
    return false;
  }

  document.addEventListener("click", function (event) {
    if (activate(event.target)) event.preventDefault();
  });
  document.addEventListener("keydown", function (event) {
    if ((event.key === "Enter" || event.key === " ") && activate(event.target)) {
      event.preventDefault();
    }
  });

  // Compare: whatever one player does, the other follows.
  let syncing = false;
  function partner(video) {
    const view = video.closest("#compare-view");
    if (!view) return null;
    const other = video.classList.contains("compare-left") ? ".compare-right" : ".compare-left";
    return view.querySelector("video" + other);
  }
  function follow(event) {
    const video = event.target;
    if (!(video instanceof HTMLVideoElement) || syncing) return;
    const other = partner(video);
    if (!other) return;
    syncing = true;
    try {
      if (Math.abs(other.currentTime - video.currentTime) > 0.05) {
        other.currentTime = video.currentTime;
      }
      other.playbackRate = video.playbackRate;
      if (event.type === "play" && other.paused) other.play().catch(function () {});
      if (event.type === "pause" && !other.paused) other.pause();
    } finally {
      setTimeout(function () { syncing = false; }, 0);
    }
  }
  ["play", "pause", "seeked", "ratechange"].forEach(function (type) {
    document.addEventListener(type, follow, true); // media events don't bubble: capture
  });
})();
