// tutord browser client, the shell: REST calls with the signed-in token, one WebSocket that
// carries every live event (grading, tutor, training, reviews) to whichever page listens, the
// tabs, sign-in and the health badge. The pages (learn.js, practice.js, train.js, console.js)
// use only the TD object defined here.
// Why one socket: the bridge filters events per caller (CONTRACT.md §4), so a single
// subscription to the learner's topics serves every page; a page subscribes to a type prefix
// with TD.on and gets the events as they arrive.
"use strict";

const TD = {
  token: null,
  user: null,
  ws: null,
  listeners: [],          // [{prefix, fn}]
  signedInHooks: [],
  topics: ["grade.", "llm.", "train.", "srs.", "session.", "analytics.", "catalog."],
};

TD.$ = (id) => document.getElementById(id);

// An element with attributes and children (strings become text nodes, never HTML).
TD.el = (tag, attrs, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
};

TD.log = () => {};        // console.js replaces it

// A REST call: {status, body}; the body is parsed JSON (or null). Never throws on HTTP errors.
TD.api = async (method, path, body) => {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (TD.token) headers.Authorization = "Bearer " + TD.token;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { status: 0, body: { error: { code: "unavailable", message: "tutord is unreachable" } } };
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: { code: "bad_reply", message: text.slice(0, 200) } }; }
  }
  return { status: res.status, body: data };
};

// The message of an error reply, for the person looking at the page.
TD.errorText = (r) => {
  const e = r.body && r.body.error;
  if (!e) return `error ${r.status}`;
  return e.field ? `${e.message} (${e.field})` : e.message;
};

TD.on = (prefix, fn) => { TD.listeners.push({ prefix, fn }); };
TD.onSignedIn = (fn) => { TD.signedInHooks.push(fn); if (TD.token) fn(); };

function dispatch(event) {
  for (const l of TD.listeners) {
    if (event.type && event.type.startsWith(l.prefix)) {
      try { l.fn(event); } catch (err) { TD.log("error", String(err)); }
    }
  }
}

function setLive(text, ok) {
  const b = TD.$("ws-state");
  b.textContent = "live: " + text;
  b.className = "badge " + (ok ? "ok" : "");
}

// The live socket: opened after sign-in, subscribed to the learner's topics, reopened after a
// drop (with backoff) unless the server closed it for a revoked token (4401) or we signed out.
let wsBackoff = 500;
TD.connect = () => {
  if (!TD.token) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/ws?token=${encodeURIComponent(TD.token)}`);
  TD.ws = ws;
  setLive("connecting", false);
  ws.onopen = () => {
    wsBackoff = 500;
    ws.send(JSON.stringify({ op: "subscribe", topics: TD.topics }));
  };
  ws.onmessage = (m) => {
    let frame;
    try { frame = JSON.parse(m.data); } catch { TD.log("error", m.data); return; }
    TD.log(frame.op || "frame", frame);
    if (frame.op === "subscribed") setLive("on", true);
    else if (frame.op === "event" && frame.event) dispatch(frame.event);
    else if (frame.op === "reply" && TD.wsReply) TD.wsReply(frame);
  };
  ws.onclose = (e) => {
    if (TD.ws !== ws) return;
    TD.ws = null;
    setLive(e.code === 4401 ? "token refused" : "off", false);
    if (TD.token && e.code !== 4401) {
      setTimeout(() => { if (TD.token && !TD.ws) TD.connect(); }, wsBackoff);
      wsBackoff = Math.min(wsBackoff * 2, 10000);
    }
  };
};

TD.wsSend = (obj) => {
  if (!TD.ws || TD.ws.readyState !== WebSocket.OPEN) { TD.log("error", "the WebSocket is not open"); return false; }
  TD.ws.send(JSON.stringify(obj));
  TD.log("sent", obj);
  return true;
};

// ---- tabs -----------------------------------------------------------------------------------
for (const b of document.querySelectorAll("#tabs button")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll("#tabs button")) o.classList.toggle("active", o === b);
    for (const s of document.querySelectorAll("main .tab")) s.hidden = s.id !== "tab-" + b.dataset.tab;
  });
}

// ---- health ---------------------------------------------------------------------------------
async function refreshHealth() {
  const badge = TD.$("health-badge");
  const body = TD.$("health-table").tBodies[0];
  const r = await TD.api("GET", "/health");
  const h = r.body || {};
  badge.textContent = `health: ${h.status || (h.error && h.error.code) || r.status || "unreachable"}`;
  badge.className = "badge " + (r.status === 200 ? "ok" : "bad");
  body.replaceChildren();
  const rows = [["db", h.db], ["broker", h.broker], ["llm", h.llm]];
  for (const [name, state] of Object.entries(h.actors || {})) rows.push([name, state]);
  for (const [name, value] of rows) {
    if (value === undefined) continue;
    const cls = value === "ok" || value === "up" ? "ok" : value === "down" ? "bad" : "";
    body.append(TD.el("tr", {}, TD.el("td", {}, name),
                      TD.el("td", { class: cls }, typeof value === "string" ? value : JSON.stringify(value))));
  }
}

// ---- sign in --------------------------------------------------------------------------------
// The access token lives in memory only: a reload signs out.
async function signIn(route, body) {
  const state = TD.$("login-state");
  const r = await TD.api("POST", route, body);
  if (r.status !== 200 && r.status !== 201) {
    state.textContent = TD.errorText(r);
    state.className = "badge bad";
    return;
  }
  TD.token = r.body.token;
  TD.user = r.body.user;
  state.textContent = `signed in: ${TD.user.email}`;
  state.className = "badge ok";
  TD.$("logout").hidden = false;
  TD.connect();
  for (const fn of TD.signedInHooks) fn();
}

TD.$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  signIn("/api/v1/auth/login", { email: TD.$("login-email").value, password: TD.$("login-password").value });
});

TD.$("register").addEventListener("click", () => {
  const email = TD.$("login-email").value;
  signIn("/api/v1/auth/register",
         { email, password: TD.$("login-password").value, name: email.split("@")[0] || "learner" });
});

TD.$("logout").addEventListener("click", async () => {
  await TD.api("POST", "/api/v1/auth/logout", {});
  TD.token = null;
  TD.user = null;
  if (TD.ws) { const ws = TD.ws; TD.ws = null; ws.close(1000, "signed out"); }
  setLive("off", false);
  TD.$("logout").hidden = true;
  TD.$("login-state").textContent = "signed out";
  TD.$("login-state").className = "badge";
});

refreshHealth();
setInterval(refreshHealth, 10000);
