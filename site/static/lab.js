// dselab pages: copy buttons everywhere; in the web lab also Check, answers, cluster status, progress.
// Text from the server is always set with textContent, never parsed as HTML. The server's
// Content-Security-Policy allows no inline script or style: everything the pages run is here.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// -- copy buttons -------------------------------------------------------------------------------

function copyWithTextarea(text) {
  const area = el("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
}

function copyText(text) {
  // The Clipboard API needs a secure context and permission; the old way works elsewhere.
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text).catch(() => copyWithTextarea(text));
  }
  return copyWithTextarea(text);
}

function setupCopyButtons() {
  document.querySelectorAll(".codeblock .copy").forEach((button) => {
    button.addEventListener("click", () => {
      const code = button.parentElement.querySelector("code");
      copyText(code.textContent.replace(/\n$/, "")).then(
        () => flash(button, "Copied", "copied"),
        () => flash(button, "Select + Ctrl+C", ""),
      );
    });
  });
}

function flash(button, label, className) {
  button.textContent = label;
  if (className) button.classList.add(className);
  setTimeout(() => { button.textContent = "Copy"; button.classList.remove("copied"); }, 1500);
}

// -- talking to the lab server ------------------------------------------------------------------

const UNREACHABLE = "Could not reach the lab server. Is `dselab serve` still running?";

async function callJson(url, options) {
  let response;
  try {
    response = await fetch(url, Object.assign({ headers: { Accept: "application/json" } }, options || {}));
  } catch (err) {
    return { status: "error", message: UNREACHABLE, up: false };
  }
  try {
    return await response.json();
  } catch (err) {
    return { status: "error", message: `The lab server answered ${response.status} without a result.`, up: false };
  }
}

// The server takes state changes as same-origin JSON only (a cross-site form cannot send that).
function postJson(url, payload) {
  return callJson(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(payload || {}),
  });
}

// -- check results ------------------------------------------------------------------------------

function showResult(box, result) {
  box.hidden = false;
  box.className = `result ${result.status || "error"}`;
  box.replaceChildren();
  const verdicts = { pass: "Passed", fail: "Not yet", error: "Could not check" };
  box.appendChild(el("p", "verdict", verdicts[result.status] || "Could not check"));
  if (result.message) box.appendChild(withCode(el("p", "message"), result.message));
  if (result.hint) box.appendChild(withCode(el("p", "hint"), `Hint: ${result.hint}`));
  if (result.seconds) box.appendChild(el("p", "muted", `Checked in ${result.seconds.toFixed(1)} s.`));
}

// Messages mark commands with `backticks`: show those as code, still as text nodes only.
function withCode(parent, text) {
  text.split("`").forEach((part, i) => {
    if (part) parent.appendChild(i % 2 ? el("code", "", part) : document.createTextNode(part));
  });
  return parent;
}

function showRunning(box, text) {
  box.hidden = false;
  box.className = "result running";
  box.replaceChildren(el("p", "verdict", text));
}

async function runCheck(button, box, url, payload) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = "Checking…";
  showRunning(box, "Checking the cluster… this takes a few seconds.");
  try {
    showResult(box, await postJson(url, payload));
  } finally {
    button.disabled = false;
    button.textContent = label;
    refreshProgress();
    refreshStatus();
  }
}

function setupCheck() {
  const button = document.getElementById("check-button");
  const box = document.getElementById("check-result");
  if (button && box) button.addEventListener("click", () => runCheck(button, box, button.dataset.url));

  const form = document.getElementById("answer-form");
  if (!form || !box) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    const value = form.querySelector("input[name=value]").value;
    runCheck(submit, box, form.dataset.url, { value: value });
  });
}

// -- cluster status -----------------------------------------------------------------------------

async function refreshStatus() {
  const box = document.getElementById("cluster-status");
  if (!box) return;
  const status = await callJson(box.dataset.url);
  const line = box.querySelector(".status-line");
  const list = box.querySelector(".nodes");
  box.classList.toggle("up", !!status.up);
  box.classList.toggle("down", !status.up);
  list.replaceChildren();
  const nodes = status.nodes || [];
  const upCount = nodes.filter((n) => n.state === "UN").length;
  line.className = "status-line";
  line.textContent = status.up ? `Up: ${upCount} of ${nodes.length} nodes running.` : (status.message || UNREACHABLE);
  const note = box.querySelector(".status-note");
  note.textContent = status.up && status.message ? status.message : "";
  note.hidden = !note.textContent;
  nodes.forEach((node) => {
    const item = el("li");
    item.appendChild(el("span", "", node.name));
    item.appendChild(el("span", "muted", node.address));
    item.appendChild(el("span", `state-${node.state}`, node.state));
    list.appendChild(item);
  });
}

// -- progress -----------------------------------------------------------------------------------

async function refreshProgress() {
  const url = document.body.dataset.progressUrl;
  if (!url) return;
  const progress = await callJson(url);
  if (!progress.steps) return;
  progress.steps.forEach((step) => {
    document.querySelectorAll(`[data-step-id="${CSS.escape(step.id)}"] .mark`).forEach((mark) => {
      mark.className = "mark" + (step.passed ? " passed" : step.last ? " tried" : "");
      mark.textContent = step.passed ? "✓" : step.last ? "•" : "";
      mark.title = step.passed ? "Passed" : step.last ? "Checked, not passed yet" : "Not checked yet";
    });
  });
  const summary = document.getElementById("progress-summary");
  if (summary) summary.textContent = `${progress.passed} of ${progress.total} steps passed`;
}

document.addEventListener("DOMContentLoaded", () => {
  setupCopyButtons();
  if (!document.body.dataset.live) return;
  setupCheck();
  refreshProgress();
  refreshStatus();
  setInterval(refreshStatus, 60000);
});
