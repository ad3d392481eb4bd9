// One attempt's evidence as a person reads it: the verdict and hint on top, then each block the server
// made (grading.evidence_view: command, listing, text, facts), the raw JSON one click away.
// Every string is the student's: it is set with textContent, never parsed as HTML.
"use strict";
(function () {
  const VERDICT = { pass: "passed", fail: "not yet", error: "could not check" };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function head(block, ...parts) {
    const line = el("div", "ev-head");
    if (block.node) line.appendChild(el("span", "ev-node", block.node));
    parts.forEach((part) => line.appendChild(part));
    return line;
  }

  function table(header, rows, className) {
    const t = el("table", className);
    if (header) {
      const tr = el("tr");
      header.forEach((name) => tr.appendChild(el("th", "", name)));
      t.appendChild(tr);
    }
    rows.forEach((cells) => {
      const tr = el("tr");
      cells.forEach((cell, i) => tr.appendChild(el(!header && i === 0 ? "th" : "td", "", cell)));
      t.appendChild(tr);
    });
    return t;
  }

  function block(b) {
    const box = el("div", "ev ev-" + b.kind);
    if (b.kind === "command") {
      box.appendChild(head(b, el("code", "ev-command-line", "$ " + b.command),
                           el("span", "ev-exit " + (b.exit === 0 ? "ok" : "bad"), "exit " + b.exit)));
      box.appendChild(el("pre", "ev-term", b.output || "(no output)"));
    } else if (b.kind === "listing") {
      box.appendChild(head(b, el("span", "", "files in "), el("code", "", b.folder),
                           el("span", "", " (" + b.files.length + ")")));
      box.appendChild(table(["Path", "Size (bytes)", "Links"],
                            b.files.map((f) => [f.path, f.size === null ? "" : f.size, f.links === null ? "" : f.links]),
                            "ev-files"));
    } else if (b.kind === "text") {
      box.appendChild(head(b, el("span", "", b.title)));
      box.appendChild(el("pre", "ev-term", b.text));
    } else {
      if (b.node) box.appendChild(head(b));
      box.appendChild(table(null, b.rows || [], "ev-rows"));
    }
    return box;
  }

  function attempt(a) {
    const box = el("div", "attempt");
    const at = a.at ? new Date(a.at * 1000).toLocaleTimeString() : "";
    box.appendChild(el("p", "verdict " + a.status, (VERDICT[a.status] || a.status) + ": " + a.message));
    box.appendChild(el("p", "muted when", at + (a.source ? " · " + a.source : "")));
    if (a.hint && a.status !== "pass") box.appendChild(el("p", "hint", "Hint: " + a.hint));
    (a.blocks || []).forEach((b) => box.appendChild(block(b)));
    const raw = el("details", "raw");
    raw.appendChild(el("summary", "", "raw JSON"));
    raw.appendChild(el("pre", "", JSON.stringify(a.evidence, null, 2)));
    box.appendChild(raw);
    return box;
  }

  window.dselabEvidence = { attempt: attempt, block: block };
})();
