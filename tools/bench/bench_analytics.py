#!/usr/bin/python3
"""bench_analytics — issue 8's benchmark: events per second the analytics actor absorbs with every
rule on, and leaderboard / heatmap / stats p99 with BENCH_LEARNERS learners (default 100,000) and
a year of history.

Why: every learner event passes through analytics (log insert + figures in one transaction), and
the leaderboard and heatmap are read on every dashboard view; this says what both cost.

What it does: starts tutord (TUTORD_BUILD_DIR, default build/ana-rel) on free ports against
TUTORD_DB (an existing, migrated database; the analytics tables are emptied first), then
  1. absorb: publishes BENCH_EVENTS events (default 20000; a mix of accepted/failed submissions,
     reviews, lessons and conversation turns over 1000 learners of one org) on TUTORD_EVENTS_IN as
     fast as the socket takes them, then a sentinel, and measures until the sentinel is in the log;
     in the same run, the floor: the same number of bare log inserts, one transaction each, from
     one psql session (what exactly-once costs at the least);
  2. bulk-loads by SQL BENCH_LEARNERS learners in one org with a year of daily activity (one day in
     BENCH_DENSITY, default 7) and boards for this week, this month and all time, plus a cohort of
     30 real users (registered through the API) active every day of the year;
  3. times BENCH_CALLS (default 400) sequential GETs of each read route over HTTP, p50/p99.
Usage: TUTORD_DB=... tools/bench/bench_analytics.py

`bench_analytics.py plane` measures instead what the event journal (issue 8 point 5,
actors/core/td_evjournal.c) costs the event plane, in one run: a tutord with only the broker and
the bridge (TUTORD_ACTORS=broker,web) is started twice, with the journal off
(TUTORD_EVENTS_JOURNAL=0) and on; each time BENCH_PLANE_EVENTS (default 100000) envelopes of a
realistic size are published as fast as the socket takes them, and a subscriber counts what
comes out of the proxy: events/s through the plane before and after, events lost, and (journal
on) how long until every event is in events_journal, i.e. the journal's own rate.
"""

import http.client as hc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import msgpack
import zmq

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TUTORD_BUILD_DIR") or os.path.join(ROOT, "build", "ana-rel")
DB = os.environ.get("TUTORD_DB")
EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
LEARNERS = int(os.environ.get("BENCH_LEARNERS", "100000"))
DENSITY = int(os.environ.get("BENCH_DENSITY", "7"))
CALLS = int(os.environ.get("BENCH_CALLS", "400"))
# the events' times spread over this many days back: 300 (default) is a history; 1 is live traffic,
# where every XP event of an org also lands in this week's league (td_analytics_league.c)
SPREAD = max(1, int(os.environ.get("BENCH_SPREAD_DAYS", "300")))


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def server_env(prefix, **extra):
    """The environment of a tutord on free ports with a TUTORD_VAR of its own."""
    p_http, p_broker, p_ev, p_evin = free_ports(4)
    var = tempfile.mkdtemp(prefix=prefix)
    env = dict(os.environ, TUTORD_VAR=var, TUTORD_DB=DB, TUTORD_HTTP="127.0.0.1:%d" % p_http,
               TUTORD_BROKER="tcp://127.0.0.1:%d" % p_broker,
               TUTORD_EVENTS="tcp://127.0.0.1:%d" % p_ev,
               TUTORD_EVENTS_IN="tcp://127.0.0.1:%d" % p_evin, TUTORD_LOG_LEVEL="warn", **extra)
    return env, var


def start_server(env, var, healthy=(200,)):
    """Start tutord and wait (30 s at most) until /health answers one of healthy."""
    log = open(os.path.join(var, "tutord.out"), "wb")
    proc = subprocess.Popen([os.path.join(BUILD, "tutord")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=var)
    log.close()                         # the child has its own copy
    for _ in range(300):
        try:
            if request(env["TUTORD_HTTP"], "GET", "/health")[0] in healthy:
                break
        except OSError:
            pass
        time.sleep(0.1)
    return proc


def psql(sql):
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", DB, "-c", sql],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("psql failed: %s" % res.stderr)
    return res.stdout.strip()


def request(http, method, path, token=None, body=None):
    host, port = http.split(":")
    conn = hc.HTTPConnection(host, int(port), timeout=30)
    hdrs = {"Authorization": "Bearer " + token} if token else {}
    data = json.dumps(body) if body is not None else None
    if data:
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    out = r.read()
    conn.close()
    return r.status, (json.loads(out) if out else None)


def now_iso(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + offset))


def main():
    if not DB:
        sys.exit("set TUTORD_DB to a migrated database (its analytics tables are emptied)")
    for b in ("tutord", "tutorctl"):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            sys.exit("%s/%s is missing: cmake --build %s" % (BUILD, b, BUILD))
    env, var = server_env("tutord-bench-ana-", TUTORD_RATE_PER_TOKEN="1000000",
                          TUTORD_RATE_BURST="1000000", TUTORD_ARGON2_OPSLIMIT="1",
                          TUTORD_ARGON2_MEMLIMIT_KIB="8192")
    env.pop("TUTORD_ACTORS", None)
    http = env["TUTORD_HTTP"]
    psql("TRUNCATE analytics_events, analytics_learners, analytics_activity, analytics_counters, "
         "analytics_days, analytics_board, analytics_unlocks, analytics_meta, "
         "analytics_league_members, analytics_league_tiers, analytics_league_weeks, "
         "analytics_league_fill, events_journal")
    proc = start_server(env, var)
    try:
        print("# bench_analytics: %s, load average %s" % (BUILD, open("/proc/loadavg").read().split()[0]))

        # 1. absorb
        ctx = zmq.Context.instance()
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)
        pub.connect(env["TUTORD_EVENTS_IN"])
        time.sleep(0.8)
        org = str(uuid.uuid4())
        kinds = []
        for i in range(EVENTS):
            user = "bench-u%d" % (i % 1000)
            k = i % 10
            if k < 4:
                kinds.append(("grade.result", user, {"submission_id": "s%d" % i, "item_id": "i%d" % (i % 50),
                                                     "verdict": "accepted" if k < 3 else "wrong_answer",
                                                     "score": 1.0, "passed": k < 3, "kind": "exercise"}))
            elif k < 7:
                kinds.append(("srs.reviewed", user, {"card_id": "c%d" % i, "rating": 3}))
            elif k < 8:
                kinds.append(("catalog.lesson_completed", user, {"lesson_id": "l%d" % (i % 40)}))
            else:
                kinds.append(("llm.done", user, {"tokens": 100}))
        frames = []
        for i, (t, user, data) in enumerate(kinds):
            env_ = {"id": uuid.uuid4().hex, "type": t, "source": "tutord/bench",
                    "time": now_iso(-86400 * (i % SPREAD)), "org": org, "user": user, "subject": None,
                    "data": data}
            frames.append((t.encode(), msgpack.packb(env_, use_bin_type=True)))
        sentinel = {"id": uuid.uuid4().hex, "type": "session.sentinel", "source": "tutord/bench",
                    "time": now_iso(), "org": None, "user": "bench-sentinel", "subject": None,
                    "data": {}}
        t0 = time.monotonic()
        for f in frames:
            pub.send_multipart(f)
        pub.send_multipart([b"session.sentinel", msgpack.packb(sentinel, use_bin_type=True)])
        sent = time.monotonic() - t0
        q = "SELECT count(*) FROM analytics_events WHERE source = 'tutord/bench' AND id = '%s'" % sentinel["id"]
        while psql(q) != "1":
            time.sleep(0.05)
        took = time.monotonic() - t0
        applied = int(psql("SELECT count(*) FROM analytics_events WHERE source = 'tutord/bench'"))
        print("absorb: %d events (%d logged) in %.2f s = %.0f events/s (published in %.2f s)"
              % (EVENTS, applied - 1, took, EVENTS / took, sent))
        # the floor: bare log inserts, one transaction each, from one session
        n_floor = min(EVENTS, 20000)
        script = "\n".join("INSERT INTO analytics_events (source, id, type, at, data) VALUES "
                           "('tutord/floor', '%s', 'x.y', now (), '{}');" % uuid.uuid4().hex
                           for _ in range(n_floor))
        t1 = time.monotonic()
        res = subprocess.run(["psql", "-X", "-q", DB], input=script, capture_output=True, text=True)
        floor = time.monotonic() - t1
        assert res.returncode == 0, res.stderr
        print("floor:  %d bare log inserts (autocommit, one psql session) in %.2f s = %.0f inserts/s;"
              " analytics / floor = %.2f" % (n_floor, floor, n_floor / floor,
                                            (EVENTS / took) / (n_floor / floor)))
        psql("DELETE FROM analytics_events WHERE source = 'tutord/floor'")

        # 2. bulk load: LEARNERS learners of one org with a year of history
        t2 = time.monotonic()
        toks, ids = [], []
        s, b = request(http, "POST", "/api/v1/auth/register",
                       body={"email": "admin-%s@example.org" % uuid.uuid4().hex[:8],
                             "password": "bench password 1", "name": "Admin"})
        admin = b["token"]
        s, o = request(http, "POST", "/api/v1/orgs", admin, {"name": "Bench", "slug": "bench-" + uuid.uuid4().hex[:8]})
        borg = o["id"]
        s, c = request(http, "POST", "/api/v1/orgs/%s/cohorts" % borg, admin, {"name": "C"})
        cohort = c["id"]
        for i in range(30):
            email = "l%d-%s@example.org" % (i, uuid.uuid4().hex[:8])
            s, b = request(http, "POST", "/api/v1/auth/register",
                           body={"email": email, "password": "bench password 1", "name": "L%d" % i})
            toks.append(b["token"])
            ids.append(b["user"]["id"])
            request(http, "POST", "/api/v1/orgs/%s/members" % borg, admin, {"email": email, "role": "learner"})
            request(http, "POST", "/api/v1/cohorts/%s/members" % cohort, admin, {"email": email, "role": "learner"})
        real = ",".join("'%s'" % u for u in ids)
        psql("""
        INSERT INTO analytics_learners (user_id, xp, longest_streak)
          SELECT 'bulk-' || u, (u * 7919) %% 5000, 0 FROM generate_series (1, %d) u;
        INSERT INTO analytics_learners (user_id, xp) SELECT x, 3650 FROM unnest (ARRAY[%s]) x;
        INSERT INTO analytics_days (user_id, day, count, xp)
          SELECT 'bulk-' || u, current_date - d, 1 + (u + d) %% 9, 10
          FROM generate_series (1, %d) u, generate_series (0, 364) d WHERE (u + d) %% %d = 0;
        INSERT INTO analytics_days (user_id, day, count, xp)
          SELECT x, current_date - d, 1 + d %% 12, 10 FROM unnest (ARRAY[%s]) x, generate_series (0, 364) d;
        INSERT INTO analytics_board (org_id, kind, start, user_id, xp)
          SELECT '%s', k.kind, CASE k.kind WHEN 'w' THEN date_trunc ('week', now () AT TIME ZONE 'UTC')::date
                                    WHEN 'm' THEN date_trunc ('month', now () AT TIME ZONE 'UTC')::date
                                    ELSE date '1970-01-01' END,
                 'bulk-' || u, (u * 7919) %% (CASE k.kind WHEN 'w' THEN 300 WHEN 'm' THEN 1200 ELSE 5000 END)
          FROM generate_series (1, %d) u, (VALUES ('w'), ('m'), ('a')) k (kind);
        INSERT INTO analytics_board (org_id, kind, start, user_id, xp)
          SELECT '%s', k.kind, CASE k.kind WHEN 'w' THEN date_trunc ('week', now () AT TIME ZONE 'UTC')::date
                                    WHEN 'm' THEN date_trunc ('month', now () AT TIME ZONE 'UTC')::date
                                    ELSE date '1970-01-01' END, x, 100
          FROM unnest (ARRAY[%s]) x, (VALUES ('w'), ('m'), ('a')) k (kind);
        """ % (LEARNERS, real, LEARNERS, DENSITY, real, borg, LEARNERS, borg, real))
        for table in ("analytics_days", "analytics_board", "analytics_learners"):
            psql("VACUUM ANALYZE " + table)       # as autovacuum would: index-only rank counts
        days = psql("SELECT count(*) FROM analytics_days")
        boards = psql("SELECT count(*) FROM analytics_board")
        print("bulk:   %d learners, %s day rows, %s board rows, loaded in %.1f s"
              % (LEARNERS + 30, days, boards, time.monotonic() - t2))
        tok = toks[0]

        # 3. reads
        routes = [("cohort board (week)", "/api/v1/cohorts/%s/leaderboard?period=week" % cohort, tok),
                  ("org board (all), top 20 + my rank", "/api/v1/orgs/%s/leaderboard?period=all" % borg, tok),
                  ("org board (week), top 20 + my rank", "/api/v1/orgs/%s/leaderboard?period=week" % borg, tok),
                  ("org board (all), top 20 (admin)", "/api/v1/orgs/%s/leaderboard?period=all" % borg, admin),
                  ("heatmap (365 days)", "/api/v1/me/heatmap", tok),
                  ("stats", "/api/v1/me/stats", tok),
                  ("achievements", "/api/v1/me/achievements", tok)]
        print("%-36s %8s %8s %8s" % ("route (%d sequential calls)" % CALLS, "p50 ms", "p99 ms", "req/s"))
        host, port = http.split(":")
        for name, path, token in routes:
            conn = hc.HTTPConnection(host, int(port), timeout=30)
            lat = []
            tstart = time.monotonic()
            for _ in range(CALLS):
                a = time.monotonic()
                conn.request("GET", path, headers={"Authorization": "Bearer " + token})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    sys.exit("%s answered %d" % (path, r.status))
                lat.append((time.monotonic() - a) * 1000)
            total = time.monotonic() - tstart
            conn.close()
            lat.sort()
            print("%-36s %8.2f %8.2f %8.0f" % (name, lat[len(lat) // 2], lat[int(len(lat) * 0.99)],
                                               CALLS / total))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        psql("TRUNCATE analytics_events, analytics_learners, analytics_activity, analytics_counters, "
             "analytics_days, analytics_board, analytics_unlocks, analytics_meta, "
         "analytics_league_members, analytics_league_tiers, analytics_league_weeks, "
         "analytics_league_fill, events_journal")


def cpu_s(pid):
    """User + system CPU seconds a process has used (every thread), from /proc."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plane():
    if not DB:
        sys.exit("set TUTORD_DB to a migrated database (events_journal is emptied)")
    n = int(os.environ.get("BENCH_PLANE_EVENTS", "100000"))
    print("# bench_analytics plane: %s, %d events, load average %s" % (
        BUILD, n, open("/proc/loadavg").read().split()[0]))
    org = str(uuid.uuid4())
    frames = []
    for i in range(n):
        env_ = {"id": uuid.uuid4().hex, "type": "bench.event", "source": "tutord/bench",
                "time": now_iso(), "org": org, "user": "bench-u%d" % (i % 1000), "subject": None,
                "data": {"submission_id": "s%d" % i, "item_id": "i%d" % (i % 50),
                         "verdict": "accepted", "score": 1.0, "passed": True, "kind": "exercise"}}
        frames.append((b"bench.event", msgpack.packb(env_, use_bin_type=True)))
    results = {}
    for journal in ("0", "1"):
        psql("TRUNCATE events_journal")
        env, var = server_env("tutord-bench-plane-", TUTORD_ACTORS="broker,web",
                              TUTORD_EVENTS_JOURNAL=journal)
        # only the broker and the bridge: /health says 503 (degraded), which is enough here
        proc = start_server(env, var, healthy=(200, 503))
        try:
            ctx = zmq.Context.instance()
            sub = ctx.socket(zmq.SUB)
            sub.setsockopt(zmq.RCVHWM, 0)
            sub.setsockopt(zmq.SUBSCRIBE, b"bench.")
            sub.connect(env["TUTORD_EVENTS"])
            pub = ctx.socket(zmq.PUB)
            pub.setsockopt(zmq.SNDHWM, 0)
            pub.connect(env["TUTORD_EVENTS_IN"])
            # wait until the subscription has travelled upstream
            probe = (b"bench.probe", b"x")
            while True:
                pub.send_multipart(probe)
                if sub.poll(100):
                    while sub.poll(50):
                        sub.recv_multipart()
                    break
            got = 0
            cpu0 = cpu_s(proc.pid)
            t0 = time.monotonic()
            last = t0
            for i, f in enumerate(frames):
                pub.send_multipart(f)
                while sub.poll(0):
                    sub.recv_multipart()
                    got += 1
                    last = time.monotonic()
            while sub.poll(2000):
                sub.recv_multipart()
                got += 1
                last = time.monotonic()
            rate = got / (last - t0) if last > t0 else 0
            line = "journal %-3s: %7d events/s through the plane, %d of %d received" % (
                "on" if journal == "1" else "off", rate, got, n)
            if journal == "1":
                end = time.monotonic() + 120
                while True:
                    rows = int(psql("SELECT count(*) FROM events_journal WHERE topic = 'bench.event'"))
                    if rows >= n or time.monotonic() > end:
                        break
                    time.sleep(0.05)
                line += "; %d journaled in %.2f s (%d events/s)" % (rows, time.monotonic() - t0,
                                                                    rows / (time.monotonic() - t0))
            cpu = cpu_s(proc.pid) - cpu0
            line += "; tutord CPU %.2f s = %.1f us/event" % (cpu, 1e6 * cpu / n)
            print(line)
            results[journal] = rate
            results["cpu" + journal] = cpu
            pub.close(0)
            sub.close(0)
        finally:
            proc.terminate()
            proc.wait(30)
    if results.get("0"):
        print("journal cost on the plane: %.1f %% of events/s (the publisher, one Python thread, "
              "is usually the limit: compare the CPU)" % (
                  100.0 * (results["0"] - results["1"]) / results["0"]))
        print("journal cost in CPU: %.1f us/event more in the broker's process (proxy copy + "
              "writer thread + libpq)" % (1e6 * (results["cpu1"] - results["cpu0"]) / n))
    psql("TRUNCATE events_journal")


if __name__ == "__main__":
    plane() if sys.argv[1:2] == ["plane"] else main()
