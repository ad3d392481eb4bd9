// The class at a glance (drawn from the grid poll's `summary`, classroom.class_summary on the server):
// a bar per step (passed / trying / not started), the students who look stuck with their last failure's
// message, and completions over the session's time. Inline SVG built here; text set with textContent.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const PARTS = [["passed", "passed"], ["trying", "trying"], ["not_started", "not started"]];

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function clock(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function bars(summary) {
    const rowH = 20, labelW = 200, barW = 180, countW = 135;
    const total = Math.max(1, summary.seats);
    const chart = svg("svg", { viewBox: `0 0 ${labelW + barW + countW} ${rowH * summary.steps.length + 4}`,
                               class: "step-bars", role: "img", "aria-label": "Students per step" });
    summary.steps.forEach((step, i) => {
      const y = i * rowH + 2;
      const g = svg("g", { class: "step-bar", "data-step": step.step, "data-passed": step.passed,
                           "data-trying": step.trying, "data-not-started": step.not_started });
      const name = step.number + ". " + step.title;
      const label = svg("text", { x: 0, y: y + 13, class: "bar-label" }, name.length > 30 ? name.slice(0, 29) + "…" : name);
      label.appendChild(svg("title", {}, name));
      g.appendChild(label);
      let x = labelW;
      PARTS.forEach(([key, name]) => {
        const w = (step[key] / total) * barW;
        if (w > 0) {
          const rect = svg("rect", { x: x, y: y + 2, width: w, height: rowH - 6, class: "bar-" + key });
          rect.appendChild(svg("title", {}, step[key] + " " + name));
          g.appendChild(rect);
        }
        x += w;
      });
      g.appendChild(svg("text", { x: labelW + barW + 8, y: y + 13, class: "bar-count" },
                        step.passed + " passed · " + step.trying + " trying"));
      chart.appendChild(g);
    });
    return chart;
  }

  function completions(summary) {
    const W = 420, H = 120, left = 30, bottom = 18, top = 8;
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "completions", role: "img",
                               "aria-label": "Steps completed over the session" });
    const start = summary.start, end = Math.max(summary.now, start + 60);
    const max = Math.max(1, summary.completions.length);
    const px = (t) => left + ((t - start) / (end - start)) * (W - left - 8);
    const py = (n) => H - bottom - (n / max) * (H - bottom - top);
    chart.appendChild(svg("line", { x1: left, y1: H - bottom, x2: W - 8, y2: H - bottom, class: "axis" }));
    chart.appendChild(svg("line", { x1: left, y1: top, x2: left, y2: H - bottom, class: "axis" }));
    const points = [[px(start), py(0)]];
    summary.completions.forEach((c, i) => {
      points.push([px(c.at), py(i)], [px(c.at), py(i + 1)]);
    });
    points.push([px(end), py(summary.completions.length)]);
    chart.appendChild(svg("polyline", { points: points.map((p) => p.map((v) => v.toFixed(1)).join(",")).join(" "),
                                        class: "completion-line" }));
    chart.appendChild(svg("text", { x: left, y: H - 4, class: "axis-label" }, clock(start)));
    chart.appendChild(svg("text", { x: W - 8, y: H - 4, class: "axis-label end" }, clock(end)));
    chart.appendChild(svg("text", { x: left - 4, y: top + 8, class: "axis-label end" }, max));
    chart.appendChild(svg("text", { x: left - 4, y: H - bottom, class: "axis-label end" }, 0));
    return chart;
  }

  function stuckList(summary) {
    if (!summary.stuck.length) return el("p", "muted", "Nobody looks stuck.");
    const list = el("ul", "stuck-list");
    summary.stuck.forEach((s) => {
      const li = el("li", "stuck");
      li.dataset.seat = s.seat;
      li.appendChild(el("strong", "", s.seat));
      li.appendChild(el("span", "", ": " + s.reasons.join("; ")));
      if (s.message) li.appendChild(el("div", "stuck-message", s.message));
      list.appendChild(li);
    });
    return list;
  }

  function draw(summary) {
    const steps = document.getElementById("class-steps");
    if (!steps) return;
    steps.replaceChildren(bars(summary));
    document.getElementById("class-stuck").replaceChildren(stuckList(summary));
    document.getElementById("class-completions").replaceChildren(completions(summary));
    document.getElementById("stuck-rules").textContent =
      "same step failed " + summary.rules.failures + " times, or idle " + summary.rules.idle_minutes +
      " min while behind the class";
  }

  window.dselabClassPicture = { draw: draw };
})();
