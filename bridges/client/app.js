// tutord browser client: plain JavaScript, no framework, no build step.
// It polls GET /health, signs in (POST /api/v1/auth/login or register) for a token, and drives
// the WebSocket protocol of CONTRACT.md §4: subscribe to topic prefixes, call REST routes over
// the socket, print every frame (a revoked token closes the socket with 4401).
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_LOG = 500;
let ws = null;
let callSeq = 0;

function log(kind, data) {
  const li = document.createElement("li");
  li.className = kind;
  const time = new Date().toISOString().slice(11, 23);
  li.textContent = `${time} ${kind} ${typeof data === "string" ? data : JSON.stringify(data)}`;
  const list = $("log");
  list.prepend(li);
  while (list.children.length > MAX_LOG) list.lastChild.remove();
}

async function refreshHealth() {
  const badge = $("health-badge");
  const body = $("health-table").tBodies[0];
  try {
    const res = await fetch("/health", { headers: { Accept: "application/json" } });
    const h = await res.json();
    badge.textContent = `health: ${h.status || (h.error && h.error.code) || res.status}`;
    badge.className = "badge " + (res.ok ? "ok" : "bad");
    body.replaceChildren();
    const rows = [["db", h.db], ["broker", h.broker], ["llm", h.llm]];
    for (const [name, state] of Object.entries(h.actors || {})) rows.push([name, state]);
    for (const [name, value] of rows) {
      if (value === undefined) continue;
      const tr = document.createElement("tr");
      const a = document.createElement("td");
      const b = document.createElement("td");
      a.textContent = name;
      b.textContent = value;
      b.className = value === "ok" || value === "up" ? "ok" : value === "down" ? "bad" : "";
      tr.append(a, b);
      body.append(tr);
    }
  } catch (err) {
    badge.textContent = "health: unreachable";
    badge.className = "badge bad";
  }
}

function setState(text, open) {
  $("ws-state").textContent = text;
  $("ws-state").className = "badge " + (open ? "ok" : "");
  $("ws-open").disabled = open;
  $("ws-close").disabled = !open;
}

function send(obj) {
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    log("error", "the WebSocket is not open");
    return;
  }
  ws.send(JSON.stringify(obj));
  log("sent", obj);
}

$("ws-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const token = $("ws-token").value.trim();
  const url = `${scheme}//${location.host}/ws` + (token ? `?token=${encodeURIComponent(token)}` : "");
  ws = new WebSocket(url);
  setState("connecting", true);
  ws.onopen = () => { setState("open", true); log("info", "connected"); };
  ws.onmessage = (m) => {
    let frame;
    try { frame = JSON.parse(m.data); } catch { log("error", m.data); return; }
    log(frame.op || "frame", frame);
  };
  ws.onclose = (e) => {
    setState("closed", false);
    log("info", `closed ${e.code}${e.reason ? " " + e.reason : ""}`);
    ws = null;
  };
  ws.onerror = () => log("error", "WebSocket error");
});

$("ws-close").addEventListener("click", () => { if (ws) ws.close(1000, "bye"); });

$("sub-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const topics = $("sub-topics").value.split(/[\s,]+/).filter(Boolean);
  send({ op: "subscribe", topics });
});

$("call-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const msg = { op: "call", id: `c${++callSeq}`, method: $("call-method").value, path: $("call-path").value };
  const raw = $("call-body").value.trim();
  if (raw) {
    try { msg.body = JSON.parse(raw); } catch { log("error", "the body is not valid JSON"); return; }
  }
  send(msg);
});

// Sign in (or register) over REST; the access token goes into the WebSocket's token field.
// Nothing is stored: a reload signs out.
async function signIn(route, body) {
  const state = $("login-state");
  try {
    const res = await fetch(route, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) {
      state.textContent = (data.error && data.error.message) || `error ${res.status}`;
      state.className = "badge bad";
      log("error", data);
      return;
    }
    $("ws-token").value = data.token;
    state.textContent = `signed in: ${data.user.email}`;
    state.className = "badge ok";
    log("info", `signed in as ${data.user.email}; connect to use the token`);
  } catch (err) {
    state.textContent = "sign-in failed";
    state.className = "badge bad";
  }
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  signIn("/api/v1/auth/login", { email: $("login-email").value, password: $("login-password").value });
});

$("register").addEventListener("click", () => {
  const email = $("login-email").value;
  signIn("/api/v1/auth/register",
         { email, password: $("login-password").value, name: email.split("@")[0] || "learner" });
});

$("health-refresh").addEventListener("click", refreshHealth);
$("log-clear").addEventListener("click", () => $("log").replaceChildren());
refreshHealth();
setInterval(refreshHealth, 10000);
