// The page terminal: xterm.js attached to this seat's shell on the server, over a websocket.
// The shell lives on the server; when the socket drops (reload, network), this page reconnects and the
// server replays what the shell printed meanwhile. Messages out: {"type":"input"|"resize"}; in: bytes.
"use strict";
(function () {
  // xterm.js builds its colour and size rules as <style> elements; the page's Content-Security-Policy
  // admits style elements carrying this page's nonce, so every new <style> gets it before insertion.
  const nonce = document.currentScript && document.currentScript.nonce;
  if (nonce) {
    const create = Document.prototype.createElement;
    Document.prototype.createElement = function (name, options) {
      const element = create.call(this, name, options);
      if (String(name).toLowerCase() === "style") element.setAttribute("nonce", nonce);
      return element;
    };
  }

  const CLOSE_NO_SHELL = 4001;
  const CLOSE_SESSION_ENDED = 4002;  // the link was rotated or expired: only a new join link helps
  const RETRY_MS = [250, 500, 1000, 2000, 5000];

  function start() {
    const box = document.getElementById("terminal");
    const state = document.getElementById("terminal-state");
    if (!box || !window.Terminal || !window.FitAddon) return;
    const term = new window.Terminal({ cursorBlink: true, scrollback: 5000, convertEol: false,
                                       fontFamily: "ui-monospace, Menlo, Consolas, monospace", fontSize: 14,
                                       lineHeight: 1.2 });
    const fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(box);
    fit.fit();
    term.focus();

    let socket = null;
    let attempt = 0;

    function say(text, kind) {
      state.textContent = text;
      state.className = "terminal-state " + (kind || "");
    }

    function send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    }

    function connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(scheme + "//" + location.host + box.dataset.socketPath);
      socket.binaryType = "arraybuffer";
      socket.onopen = function () {
        attempt = 0;
        term.reset();  // the server replays the shell's scrollback first
        say("connected", "up");
        send({ type: "resize", rows: term.rows, cols: term.cols });
      };
      socket.onmessage = function (event) {
        term.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
      };
      socket.onclose = function (event) {
        socket = null;
        if (event.code === CLOSE_NO_SHELL) {
          say("no shell: " + (event.reason || "it cannot start"), "down");
          return;
        }
        if (event.code === CLOSE_SESSION_ENDED) {
          say(event.reason || "this session ended", "down");
          return;
        }
        const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
        attempt += 1;
        say("reconnecting…", "down");
        setTimeout(connect, wait);
      };
    }

    term.onData(function (data) { send({ type: "input", data: data }); });
    term.onResize(function (size) { send({ type: "resize", rows: size.rows, cols: size.cols }); });
    new ResizeObserver(function () { fit.fit(); }).observe(box);
    connect();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
