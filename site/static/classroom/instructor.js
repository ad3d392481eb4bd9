// The instructor's grid: polls /instructor/api/grid, shows evidence per cell, resets a seat after a
// confirmation (a same-origin JSON POST). Server text is always set with textContent.
"use strict";
(function () {
  const POLL_MS = 4000;
  const MARKS = { passed: "\u2713", failed: "\u2717", "not tried": "" };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function when(seconds) {
    return seconds ? new Date(seconds * 1000).toLocaleTimeString() : "–";
  }

  async function showEvidence(table, seat, step) {
    const box = document.getElementById("evidence");
    const response = await fetch(table.dataset.evidenceUrl + encodeURIComponent(seat) + "/steps/" + encodeURIComponent(step),
                                 { headers: { Accept: "application/json" } });
    const data = await response.json();
    box.hidden = false;
    document.getElementById("evidence-title").textContent =
      seat + ", step " + (data.number || step) + (data.title ? ": " + data.title : "");
    const body = document.getElementById("evidence-body");
    const attempts = (data.attempts || []).slice().reverse();  // the latest first
    if (!attempts.length) body.replaceChildren(el("p", "muted", data.message || "No attempts yet."));
    else body.replaceChildren(...attempts.map(window.dselabEvidence.attempt));
    box.scrollIntoView({ block: "nearest" });
  }

  async function reset(table, seat) {
    const typed = window.prompt("Reset seat " + seat + "? Its cluster and its lab run start afresh. Type the seat id to confirm:");
    if (typed !== seat) return;
    const response = await fetch(table.dataset.resetUrl + encodeURIComponent(seat) + "/reset", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ confirm: typed }),
    });
    if (!response.ok) window.alert("Reset refused: " + response.status);
    refresh(table);
  }

  function row(table, seat, lastActivity) {
    const tr = el("tr");
    tr.dataset.seat = seat.seat;
    tr.appendChild(el("th", "", seat.seat));
    let passed = 0;
    seat.steps.forEach((cell) => {
      const td = el("td", cell.state.replace(" ", "-"));
      td.dataset.step = cell.step;
      td.dataset.state = cell.state;
      if (cell.state === "passed") passed += 1;
      const button = el("button", "link", MARKS[cell.state] + (cell.attempts ? " (" + cell.attempts + ")" : ""));
      button.type = "button";
      button.title = "step " + cell.number + ": " + cell.state + ", " + cell.attempts + " attempt(s), last " + when(cell.last);
      button.addEventListener("click", () => showEvidence(table, seat.seat, cell.step));
      td.appendChild(button);
      tr.appendChild(td);
    });
    tr.appendChild(el("td", "", passed + "/" + seat.steps.length));
    tr.appendChild(el("td", "", when(lastActivity)));
    const health = el("td", "health " + (seat.health.up ? "up" : "down"));
    health.textContent = (seat.health.nodes || []).map((n) => n.name.replace("dse-", "") + ":" + n.state).join(" ")
      + (seat.health.message ? " " + seat.health.message : "");
    tr.appendChild(health);
    const action = el("td");
    if (seat.reset) action.appendChild(el("span", "muted", seat.reset));
    else {
      const button = el("button", "", "Reset");
      button.type = "button";
      button.addEventListener("click", () => reset(table, seat.seat));
      action.appendChild(button);
    }
    tr.appendChild(action);
    return tr;
  }

  async function refresh(table) {
    let data;
    try {
      const response = await fetch(table.dataset.url, { headers: { Accept: "application/json" } });
      data = await response.json();
    } catch (err) {
      document.getElementById("grid-updated").textContent = "server not reachable";
      return;
    }
    const body = table.querySelector("tbody");
    body.replaceChildren(...data.seats.map((seat) => {
      const times = seat.steps.map((c) => c.last || 0);
      return row(table, seat, Math.max(0, ...times));
    }));
    document.getElementById("grid-updated").textContent = "updated " + when(data.at);
    if (data.summary && window.dselabClassPicture) {
      window.dselabClassPicture.draw(data.summary);
      const stuck = new Set(data.summary.stuck.map((s) => s.seat));
      body.querySelectorAll("tr").forEach((tr) => tr.classList.toggle("stuck", stuck.has(tr.dataset.seat)));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.getElementById("grid");
    if (!table) return;
    refresh(table);
    setInterval(() => refresh(table), POLL_MS);
  });
})();
