"""The trainer through the REST API: PPO runs stored, trained, streamed, stopped, resumed,
evaluated, limited, and resumed after the actor is killed mid-run (issue 9).

Why: a training run is long-lived state in a shared engine. These tests check what a learner of
the RL course relies on: a run is accepted only with sensible hyperparameters (400 with the
field otherwise), streams `train.metrics` every update with every figure the course plots, ends
with `train.done` and a final evaluation, can be stopped and resumed from its checkpoint, comes
back after the trainer actor dies, is private to its owner (and their mentor and org admins),
and cannot take more than its fair share.
"""

import json
import time

import msgpack
import zmq

from test_access import PASSWORD, call, unique

METRIC_KEYS = {"step", "episodes", "mean_reward", "min_reward", "max_reward", "policy_loss",
               "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance",
               "steps_per_second", "update", "run_id"}

SMALL = {"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 2, "hidden": [16, 16]}


def user(t):
    email = "%s@example.org" % unique("rl")
    s, _, b = call(t, "POST", "/api/v1/auth/register",
                   body={"email": email, "password": PASSWORD, "name": "RL"})
    assert s == 201, b
    return b["token"], b["user"]["id"]


def create(t, token, total=2048, seed=3, hp=None, env="CartPole-v1", expect=202):
    body = {"env": env, "algo": "ppo", "hyperparameters": dict(SMALL, **(hp or {})),
            "total_steps": total, "seed": seed}
    s, h, b = call(t, "POST", "/api/v1/training/runs", token, body)
    assert s == expect, (s, b)
    return b


def get(t, token, rid):
    s, _, b = call(t, "GET", "/api/v1/training/runs/%s" % rid, token)
    assert s == 200, (s, b)
    return b


def wait_status(t, token, rid, statuses, timeout=120):
    """Poll the run until its status is one of statuses; 503 (the trainer restarting) is waited
    out like any other not-yet."""
    end, b = time.monotonic() + timeout, {"status": None}
    while time.monotonic() < end:
        s, _, got = call(t, "GET", "/api/v1/training/runs/%s" % rid, token)
        assert s in (200, 503), (s, got)
        if s == 200:
            b = got
            if b["status"] in statuses:
                return b
        time.sleep(0.2)
    raise AssertionError("run %s never reached %s: %s" % (rid, statuses, b["status"]))


def strip(metrics):
    """The figures that depend only on the seed (not on the machine's speed)."""
    return [{k: v for k, v in m.items() if k not in ("steps_per_second", "run_id")}
            for m in metrics]


def test_run_streams_metrics_and_finishes(tutord):
    token, uid = user(tutord)
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"train.")
    sub.connect(tutord.events)
    time.sleep(0.5)
    run = create(tutord, token)
    assert run["status"] in ("queued", "running") and run["env"] == "CartPole-v1"
    assert run["hyperparameters"]["n_steps"] == 64 and run["hyperparameters"]["gamma"] == 0.99
    assert run["seed"] == 3 and run["total_steps"] == 2048
    done = wait_status(tutord, token, run["id"], ("done", "failed"))
    assert done["status"] == "done", done
    assert done["step"] == 2048
    assert len(done["metrics"]) == 16                   # 2048 / (64 × 2) updates
    for i, m in enumerate(done["metrics"]):
        assert set(m) >= METRIC_KEYS, set(m) ^ METRIC_KEYS
        assert m["update"] == i + 1 and m["step"] == 128 * (i + 1)
        assert m["entropy"] > 0 and 0 <= m["clip_fraction"] <= 1
    final = done["final"]
    assert final["episodes"] == 20 and len(final["rewards"]) == 20
    assert abs(final["mean_reward"] - sum(final["rewards"]) / 20) < 1e-9
    # the stream: a train.metrics event per update, then train.done, addressed to the owner
    seen, end = [], time.monotonic() + 10
    while time.monotonic() < end and not any(e["type"] == "train.done" for e in seen):
        if sub.poll(200):
            topic, data = sub.recv_multipart()
            ev = msgpack.unpackb(data, raw=False)
            if ev.get("subject") == run["id"]:
                seen.append(ev)
    sub.close(0)
    kinds = [e["type"] for e in seen]
    assert kinds.count("train.metrics") == 16 and kinds[-1] == "train.done", kinds
    assert all(e["user"] == uid for e in seen)
    assert [e["data"]["update"] for e in seen[:-1]] == list(range(1, 17))
    assert seen[-1]["data"]["final"]["mean_reward"] == final["mean_reward"]
    # evaluation plays the trained policy and returns the first episode's states
    s, _, ev = call(tutord, "POST", "/api/v1/training/runs/%s/evaluate" % run["id"], token,
                    {"episodes": 3, "seed": 9})
    assert s == 200, ev
    assert len(ev["rewards"]) == 3 and len(ev["states"]) == ev["rewards"][0] + 1
    assert all(len(f) == 4 for f in ev["states"])
    # listed among the owner's runs
    s, _, lst = call(tutord, "GET", "/api/v1/training/runs", token)
    assert s == 200 and [r["id"] for r in lst["runs"]] == [run["id"]]


def test_same_seed_same_metrics(tutord):
    token, _ = user(tutord)
    a = create(tutord, token, total=1024, seed=11)
    b = create(tutord, token, total=1024, seed=11)
    ma = wait_status(tutord, token, a["id"], ("done",))["metrics"]
    mb = wait_status(tutord, token, b["id"], ("done",))["metrics"]
    assert strip(ma) == strip(mb) and len(ma) == 8
    token2, _ = user(tutord)
    c = create(tutord, token2, total=1024, seed=12)
    mc = wait_status(tutord, token2, c["id"], ("done",))["metrics"]
    assert strip(mc) != strip(ma)


SILLY = [
    ({"hyperparameters": {"learning_rate": -1}}, "hyperparameters.learning_rate"),
    ({"hyperparameters": {"learning_rate": 0}}, "hyperparameters.learning_rate"),
    ({"hyperparameters": {"gamma": 1.5}}, "hyperparameters.gamma"),
    ({"hyperparameters": {"clip_range": 0}}, "hyperparameters.clip_range"),
    ({"hyperparameters": {"batch_size": 100000}}, "hyperparameters.batch_size"),
    ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs"),
    ({"hyperparameters": {"n_steps": "64"}}, "hyperparameters.n_steps"),
    ({"hyperparameters": {"n_steps": 64.5}}, "hyperparameters.n_steps"),
    ({"hyperparameters": {"hidden": [0]}}, "hyperparameters.hidden"),
    ({"hyperparameters": {"hidden": [64, 64, 64, 64, 64]}}, "hyperparameters.hidden"),
    ({"hyperparameters": {"hidden": "big"}}, "hyperparameters.hidden"),
    ({"hyperparameters": {"max_grad_norm": 0}}, "hyperparameters.max_grad_norm"),
    ({"hyperparameters": {"warp_speed": 9}}, "hyperparameters.warp_speed"),
    ({"hyperparameters": []}, "hyperparameters"),
    ({"env": "Breakout-v5"}, "env"),
    ({"env": None}, "env"),
    ({"algo": "dqn"}, "algo"),
    ({"total_steps": 0}, "total_steps"),
    ({"total_steps": 10 ** 12}, "total_steps"),
    ({"total_steps": "many"}, "total_steps"),
    ({"seed": -1}, "seed"),
    ({"colour": "blue"}, "colour"),
]


def test_silly_hyperparameters_are_explained(tutord):
    token, _ = user(tutord)
    for change, field in SILLY:
        body = {"env": "CartPole-v1", "algo": "ppo", "hyperparameters": {}, "total_steps": 1000}
        body.update(change)
        s, _, b = call(tutord, "POST", "/api/v1/training/runs", token, body)
        assert s == 400, (change, s, b)
        assert b["error"]["code"] == "invalid_input" and b["error"]["field"] == field, (change, b)
        assert len(b["error"]["message"]) > 20, b
    for raw in ["", "not json", "[]", "{\"env\": \"CartPole-v1\"", "\"text\""]:
        s, _, b = call(tutord, "POST", "/api/v1/training/runs", token, raw=raw)
        assert s == 400, (raw, s, b)
    s, _, b = call(tutord, "GET", "/api/v1/training/runs", token)
    assert s == 200 and b["runs"] == []                 # nothing was stored
    assert tutord.get("/health")[0] == 200


def test_stop_and_resume(tutord_factory):
    t = tutord_factory(TUTORD_TRAIN_CHECKPOINT_MS="100")
    token, _ = user(t)
    run = create(t, token, total=400000, seed=5)
    end = time.monotonic() + 60
    while time.monotonic() < end and not get(t, token, run["id"])["has_checkpoint"]:
        time.sleep(0.1)
    s, _, b = call(t, "POST", "/api/v1/training/runs/%s/stop" % run["id"], token)
    assert s == 200 and b["status"] in ("stopping", "stopped"), b
    stopped = wait_status(t, token, run["id"], ("stopped",), timeout=30)
    assert 0 < stopped["step"] < 400000 and stopped["has_checkpoint"]
    n = len(stopped["metrics"])
    time.sleep(1)
    assert len(get(t, token, run["id"])["metrics"]) == n       # nothing runs while stopped
    # stopping again changes nothing; a done/queued run cannot be resumed
    assert call(t, "POST", "/api/v1/training/runs/%s/stop" % run["id"], token)[0] == 200
    s, _, b = call(t, "POST", "/api/v1/training/runs/%s/resume" % run["id"], token)
    assert s == 202 and b["status"] == "queued", b
    s, _, b = call(t, "POST", "/api/v1/training/runs/%s/resume" % run["id"], token)
    assert s == 409 and b["error"]["field"] == "status", b
    end = time.monotonic() + 60
    while time.monotonic() < end and len(get(t, token, run["id"])["metrics"]) <= n + 2:
        time.sleep(0.1)
    again = get(t, token, run["id"])
    assert again["status"] == "running" and len(again["metrics"]) > n + 2
    # the history goes on where it stopped: one record per update, no gap, no repeat
    ups = [m["update"] for m in again["metrics"]]
    assert ups == list(range(1, len(ups) + 1))
    assert call(t, "POST", "/api/v1/training/runs/%s/stop" % run["id"], token)[0] == 200
    wait_status(t, token, run["id"], ("stopped",), timeout=30)


def test_killed_trainer_resumes_from_checkpoint(tutord_factory):
    """The trainer actor dies mid-run; the supervisor restarts it, the run continues from its
    checkpoint, and -- training being deterministic -- its metrics equal those of a run that
    was never interrupted."""
    t = tutord_factory(TUTORD_TRAIN_CHECKPOINT_MS="50")
    token, _ = user(t)
    ref = create(t, token, total=8192, seed=21)
    ref_metrics = wait_status(t, token, ref["id"], ("done",))["metrics"]
    run = create(t, token, total=8192, seed=21)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        b = get(t, token, run["id"])
        if b["has_checkpoint"] and len(b["metrics"]) >= 8:
            break
        time.sleep(0.05)
    assert b["status"] == "running", b
    s, _, _ = call(t, "POST", "/api/v1/_call/train/fault.exit", None, {})
    assert s in (200, 202, 503), s
    done = wait_status(t, token, run["id"], ("done",), timeout=120)
    assert strip(done["metrics"]) == strip(ref_metrics)
    log = t.log_text()
    assert "actor trainer restarted" in log or "actor trainer started" in log, log[-2000:]
    assert "run %s on worker" % run["id"] in log and "from its checkpoint" in log, log[-2000:]


def test_access_and_limits(tutord_factory):
    t = tutord_factory(TUTORD_TRAIN_USER_RUNS="1", TUTORD_TRAIN_MAX_STEPS="500000")
    owner, _ = user(t)
    other, _ = user(t)
    run = create(t, owner, total=400000, seed=1)
    # a second active run of the same user is over the fair share: 429 with Retry-After
    s, h, b = call(t, "POST", "/api/v1/training/runs", owner,
                   {"env": "CartPole-v1", "total_steps": 1000})
    assert s == 429 and b["error"]["code"] == "rate_limited" and int(h["retry-after"]) > 0, b
    # the cap on steps
    s, _, b = call(t, "POST", "/api/v1/training/runs", other,
                   {"env": "CartPole-v1", "total_steps": 500001})
    assert s == 400 and b["error"]["field"] == "total_steps"
    # someone else may not know it exists, nor stop, resume or evaluate it
    for method, path in [("GET", ""), ("POST", "/stop"), ("POST", "/resume"),
                         ("POST", "/evaluate")]:
        s, _, b = call(t, method, "/api/v1/training/runs/%s%s" % (run["id"], path), other,
                       {} if method == "POST" else None)
        assert s == 404, (path, s, b)
    s, _, b = call(t, "GET", "/api/v1/training/runs/not-a-uuid", owner)
    assert s == 404
    s, _, _ = call(t, "GET", "/api/v1/training/runs", None)
    assert s == 401
    s, _, b = call(t, "POST", "/api/v1/training/runs/%s/evaluate" % run["id"], owner,
                   {"episodes": 0})
    assert s == 400 and b["error"]["field"] == "episodes"
    assert call(t, "POST", "/api/v1/training/runs/%s/stop" % run["id"], owner)[0] == 200
    wait_status(t, owner, run["id"], ("stopped",), timeout=30)
    # stopped: the user may start another
    create(t, owner, total=1000, seed=2)


def org_with_members(t, n):
    """An org made by a fresh admin, with n fresh learners: (admin token, [learner tokens])."""
    admin, _ = user(t)
    s, _, org = call(t, "POST", "/api/v1/orgs", admin, {"name": "RL org", "slug": unique("rl-org")})
    assert s == 201, org
    tokens = []
    for _ in range(n):
        email = "%s@example.org" % unique("rlm")
        s, _, b = call(t, "POST", "/api/v1/auth/register",
                       body={"email": email, "password": PASSWORD, "name": "RL member"})
        assert s == 201, b
        s, _, m = call(t, "POST", "/api/v1/orgs/%s/members" % org["id"], admin,
                       {"email": email, "role": "learner"})
        assert s == 201, m
        tokens.append(b["token"])
    return admin, tokens


def test_org_monthly_step_cap(tutord_factory):
    """TUTORD_TRAIN_ORG_MONTH_STEPS caps the environment steps an org's runs may use in a
    calendar month, counted from the stored runs: active runs count their total_steps, ended or
    stopped ones the steps they made. A create or a resume beyond it is 429 with a message that
    says how much is used and what to do, and Retry-After until next month; other orgs and
    people in no org are not affected."""
    t = tutord_factory(TUTORD_TRAIN_ORG_MONTH_STEPS="1000000", TUTORD_TRAIN_USER_RUNS="5",
                       TUTORD_TRAIN_ORG_RUNS="10", TUTORD_TRAIN_CHECKPOINT_MS="100",
                       TUTORD_TRAIN_WORKERS="1")
    _, (m1, m2) = org_with_members(t, 2)
    _, (other_org,) = org_with_members(t, 1)
    loner, _ = user(t)
    a = create(t, m1, total=900000, seed=1)
    # the org has 900,000 of its 1,000,000 reserved: 100,001 more is refused, for anybody in it
    s, h, b = call(t, "POST", "/api/v1/training/runs", m2,
                   {"env": "CartPole-v1", "total_steps": 100001})
    assert s == 429 and b["error"]["code"] == "rate_limited", (s, b)
    msg = b["error"]["message"]
    assert "900000 of its 1000000" in msg and "100001" in msg and "month" in msg, msg
    assert 0 < int(h["retry-after"]) <= 31 * 86400, h
    # another org and a user in no org are not counted against it
    create(t, other_org, total=1000000, seed=2)
    create(t, loner, total=1000001, seed=3)
    # stop the run once it has made a few steps: it now counts only those
    end = time.monotonic() + 60
    while time.monotonic() < end and not get(t, m1, a["id"])["has_checkpoint"]:
        time.sleep(0.1)
    assert call(t, "POST", "/api/v1/training/runs/%s/stop" % a["id"], m1)[0] == 200
    a_steps = wait_status(t, m1, a["id"], ("stopped",), timeout=30)["step"]
    assert 0 < a_steps < 100000, a_steps
    b_run = create(t, m2, total=1000000 - a_steps, seed=4)       # exactly at the cap
    s, _, b = call(t, "POST", "/api/v1/training/runs", m2, {"env": "CartPole-v1", "total_steps": 1})
    assert s == 429 and "month" in b["error"]["message"], (s, b)
    # resuming the stopped run would need its remaining steps on top: refused, and it stays stopped
    s, h, b = call(t, "POST", "/api/v1/training/runs/%s/resume" % a["id"], m1)
    assert s == 429 and b["error"]["code"] == "rate_limited", (s, b)
    assert str(900000 - a_steps) in b["error"]["message"] and int(h["retry-after"]) > 0, b
    assert get(t, m1, a["id"])["status"] == "stopped"
    # stop the other run before it starts (the one worker is busy with the older runs): the
    # month frees what it will not use, and the resume fits
    assert call(t, "POST", "/api/v1/training/runs/%s/stop" % b_run["id"], m2)[0] == 200
    assert wait_status(t, m2, b_run["id"], ("stopped",), timeout=30)["step"] == 0
    s, _, b = call(t, "POST", "/api/v1/training/runs/%s/resume" % a["id"], m1)
    assert s == 202 and b["status"] == "queued", (s, b)
    # resuming a run that is not stopped is still a conflict, not the cap
    s, _, b = call(t, "POST", "/api/v1/training/runs/%s/resume" % a["id"], m1)
    assert s == 409 and b["error"]["field"] == "status", (s, b)
