// tutord browser client, the Train tab: start a PPO run, watch its mean reward climb as the
// train.metrics events arrive (one per update), stop it, and once it has a checkpoint, watch the
// trained policy play one episode drawn from the states the evaluation route returns.
"use strict";

(() => {
  const el = TD.el;
  let run = null;
  let points = [];            // [{step, mean}]
  const early = [];           // metrics that overtook the 202
  let anim = null;

  function statusText(text) { TD.$("train-status").textContent = text; }

  function drawChart() {
    const cv = TD.$("train-chart");
    const g = cv.getContext("2d");
    g.clearRect(0, 0, cv.width, cv.height);
    g.strokeStyle = "#999";
    g.strokeRect(0.5, 0.5, cv.width - 1, cv.height - 1);
    const pts = points.filter((p) => typeof p.mean === "number");
    cv.dataset.points = String(pts.length);
    if (pts.length < 2) return;
    const maxStep = Math.max(...pts.map((p) => p.step));
    const lo = Math.min(...pts.map((p) => p.mean));
    const hi = Math.max(...pts.map((p) => p.mean));
    const span = hi - lo || 1;
    g.strokeStyle = "#2a6";
    g.lineWidth = 2;
    g.beginPath();
    pts.forEach((p, i) => {
      const x = 6 + (cv.width - 12) * (p.step / maxStep);
      const y = cv.height - 6 - (cv.height - 12) * ((p.mean - lo) / span);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
    g.fillStyle = "#333";
    g.fillText(`mean reward ${hi.toFixed(1)}`, 10, 14);
    g.fillText(`${lo.toFixed(1)}`, 10, cv.height - 10);
  }

  function showLast(d) {
    const body = TD.$("train-last").tBodies[0];
    const keys = ["step", "episodes", "mean_reward", "policy_loss", "value_loss", "entropy",
                  "approx_kl", "clip_fraction", "explained_variance", "steps_per_second"];
    body.replaceChildren(...keys.map((k) => el("tr", {}, el("td", {}, k),
      el("td", {}, typeof d[k] === "number" ? (Number.isInteger(d[k]) ? d[k] : d[k].toFixed(4)) : String(d[k])))));
  }

  function onTrain(e) {
    const d = e.data || {};
    if (!run) { early.push(e); return; }
    if (d.run_id !== run.id) return;
    if (e.type === "train.metrics") {
      points.push({ step: d.step, mean: d.mean_reward });
      drawChart();
      showLast(d);
      statusText(`training: step ${d.step} of ${run.total_steps}`);
    } else if (e.type === "train.done") {
      const f = d.final || {};
      statusText(`done at step ${d.step}: evaluation mean reward ${typeof f.mean_reward === "number" ? f.mean_reward.toFixed(1) : "?"}` +
                 (f.solved ? " — solved!" : ""));
      TD.$("train-status").dataset.done = "1";
      TD.$("train-stop").disabled = true;
      TD.$("train-eval").disabled = false;
    }
  }
  TD.on("train.", onTrain);

  TD.$("train-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    points = [];
    drawChart();
    run = null;
    early.length = 0;
    delete TD.$("train-status").dataset.done;
    const body = {
      env: TD.$("train-env").value, algo: "ppo",
      hyperparameters: { learning_rate: Number(TD.$("train-lr").value) },
      total_steps: Number(TD.$("train-steps").value), seed: Number(TD.$("train-seed").value),
    };
    const r = await TD.api("POST", "/api/v1/training/runs", body);
    if (r.status !== 202) { statusText(TD.errorText(r)); return; }
    run = r.body;
    statusText(`queued: ${run.env}, ${run.total_steps} steps`);
    TD.$("train-stop").disabled = false;
    TD.$("train-eval").disabled = true;
    for (const e of early.splice(0)) onTrain(e);
  });

  TD.$("train-stop").addEventListener("click", async () => {
    if (!run) return;
    const r = await TD.api("POST", `/api/v1/training/runs/${run.id}/stop`, {});
    statusText(r.status === 200 ? "stopping…" : TD.errorText(r));
    if (r.status === 200) TD.$("train-eval").disabled = false;
  });

  // One frame of an episode, per environment (states as TRAINER.md §3 describes them).
  function drawState(g, w, h, env, s) {
    g.clearRect(0, 0, w, h);
    g.strokeStyle = "#333";
    g.fillStyle = "#36c";
    g.lineWidth = 4;
    if (env === "CartPole-v1") {
      const x = w / 2 + (s[0] / 2.4) * (w / 2 - 40), y = h - 40;
      g.beginPath(); g.moveTo(0, y + 15); g.lineTo(w, y + 15); g.stroke();
      g.fillRect(x - 30, y - 10, 60, 25);
      g.beginPath(); g.moveTo(x, y - 10); g.lineTo(x + 120 * Math.sin(s[2]), y - 10 - 120 * Math.cos(s[2])); g.stroke();
    } else if (env === "Acrobot-v1") {
      const cx = w / 2, cy = h / 3, l = 60;
      const x1 = cx + l * Math.sin(s[0]), y1 = cy + l * Math.cos(s[0]);
      const x2 = x1 + l * Math.sin(s[0] + s[1]), y2 = y1 + l * Math.cos(s[0] + s[1]);
      g.beginPath(); g.moveTo(cx, cy); g.lineTo(x1, y1); g.lineTo(x2, y2); g.stroke();
      g.beginPath(); g.moveTo(cx - 80, cy - l); g.lineTo(cx + 80, cy - l); g.strokeStyle = "#aaa"; g.stroke();
    } else if (env === "MountainCar-v0") {
      const X = (p) => ((p + 1.2) / 1.8) * (w - 20) + 10, Y = (p) => h - 30 - (Math.sin(3 * p) + 1) * (h - 60) / 2;
      g.beginPath();
      for (let p = -1.2; p <= 0.6; p += 0.02) { if (p === -1.2) g.moveTo(X(p), Y(p)); else g.lineTo(X(p), Y(p)); }
      g.stroke();
      g.beginPath(); g.arc(X(s[0]), Y(s[0]) - 8, 8, 0, 2 * Math.PI); g.fill();
    } else {
      const cx = w / 2, cy = h / 2, l = 90;
      g.beginPath(); g.moveTo(cx, cy); g.lineTo(cx + l * Math.sin(s[0]), cy - l * Math.cos(s[0])); g.stroke();
    }
  }

  TD.$("train-eval").addEventListener("click", async () => {
    if (!run) return;
    const r = await TD.api("POST", `/api/v1/training/runs/${run.id}/evaluate`, { episodes: 1, seed: 7 });
    if (r.status !== 200) { statusText(TD.errorText(r)); return; }
    const states = r.body.states || [];
    const cv = TD.$("train-anim");
    const g = cv.getContext("2d");
    let i = 0;
    if (anim) clearInterval(anim);
    cv.dataset.frames = "0";
    anim = setInterval(() => {
      if (i >= states.length) { clearInterval(anim); anim = null; return; }
      drawState(g, cv.width, cv.height, run.env, states[i]);
      cv.dataset.frames = String(++i);
    }, 20);
    statusText(`playing one episode: reward ${r.body.rewards[0]}`);
  });
})();
