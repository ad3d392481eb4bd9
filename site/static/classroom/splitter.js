// The seat page's splitter: drag it (or focus it and press the arrow keys) to widen the step pane; the
// width is kept in localStorage for the next page. Sizes are set through the CSSOM (allowed by the CSP).
"use strict";
(function () {
  const KEY = "dselab.stepPaneWidth";
  const STEP_PX = 24;

  function start() {
    const layout = document.querySelector(".seat-layout");
    const pane = document.getElementById("seat-steps");
    const bar = document.getElementById("seat-splitter");
    if (!layout || !pane || !bar) return;

    function apply(px) {
      const width = Math.round(px);
      pane.style.flexBasis = width + "px";
      bar.setAttribute("aria-valuenow", String(width));
      return width;
    }

    function keep(px) {
      try { localStorage.setItem(KEY, String(apply(px))); } catch (err) { /* storage off: this page only */ }
    }

    let kept = null;
    try { kept = parseInt(localStorage.getItem(KEY) || "", 10); } catch (err) { kept = null; }
    if (kept > 0) apply(kept);

    bar.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      bar.setPointerCapture(event.pointerId);
      const from = event.clientX;
      const width = pane.getBoundingClientRect().width;
      layout.classList.add("dragging");
      bar.classList.add("dragging");
      function move(e) { apply(width + e.clientX - from); }
      function up(e) {
        bar.removeEventListener("pointermove", move);
        bar.removeEventListener("pointerup", up);
        bar.removeEventListener("pointercancel", up);
        layout.classList.remove("dragging");
        bar.classList.remove("dragging");
        keep(pane.getBoundingClientRect().width);
      }
      bar.addEventListener("pointermove", move);
      bar.addEventListener("pointerup", up);
      bar.addEventListener("pointercancel", up);
    });

    bar.addEventListener("keydown", (event) => {
      const delta = { ArrowLeft: -STEP_PX, ArrowRight: STEP_PX }[event.key];
      if (!delta) return;
      event.preventDefault();
      keep(pane.getBoundingClientRect().width + delta);
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
