// tutord browser client, the Console tab: every WebSocket frame in and out, a subscription to
// any topic prefixes, and any REST route called over the socket ({"op":"call"}, CONTRACT.md §4).
// It shares the live socket app.js opens after sign-in.
"use strict";

(() => {
  const MAX_LOG = 500;
  let callSeq = 0;

  TD.log = (kind, data) => {
    const time = new Date().toISOString().slice(11, 23);
    const li = TD.el("li", { class: kind }, `${time} ${kind} ${typeof data === "string" ? data : JSON.stringify(data)}`);
    const list = TD.$("log");
    list.prepend(li);
    while (list.children.length > MAX_LOG) list.lastChild.remove();
  };

  TD.$("sub-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const topics = TD.$("sub-topics").value.split(/[\s,]+/).filter(Boolean);
    TD.wsSend({ op: "subscribe", topics });
  });

  TD.$("call-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const msg = { op: "call", id: `c${++callSeq}`, method: TD.$("call-method").value, path: TD.$("call-path").value };
    const raw = TD.$("call-body").value.trim();
    if (raw) {
      try { msg.body = JSON.parse(raw); } catch { TD.log("error", "the body is not valid JSON"); return; }
    }
    TD.wsSend(msg);
  });

  TD.$("log-clear").addEventListener("click", () => TD.$("log").replaceChildren());
})();
