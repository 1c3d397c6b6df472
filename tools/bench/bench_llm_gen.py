#!/usr/bin/python3
"""bench_llm_gen — what a generation job adds per piece (LLM.md §8): J jobs of P grammar exercises
each, run at once through tutord against a fake OpenAI-compatible upstream, against the same
J x P model requests sent straight to the same upstream (J at a time, each job's in sequence), in
the same run.

    TUTORD_DB=... tools/bench/bench_llm_gen.py [--build build/llmgen-rel] [-j 8] [-p 20]

The upstream is tests/api/fake_llm.py (a threaded HTTP server) answering every request at once
with one valid exercise as an OpenAI stream of 4 chunks. **direct**: J threads, each sending its P
requests in turn and reading each stream to its end; time per request. **tutord**: J orgs (each
its own model name on the fake), a draft course with a grammar item each; J jobs posted at once;
a SUB socket on the event plane stamps each llm.job_progress on arrival: a piece's time is the gap
since the job's previous event (the first since its POST). A piece is: the model stream, the JSON
check, the catalog's item.create as the creator (through the broker), the row's update, the event.
Reported: p50/p99 per piece and per direct request, the difference, throughput, and the CPU
seconds tutord used while the jobs ran (/proc/<pid>/stat).
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
import http.client as httpc

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "api"))
from bench_llm import cpu_seconds, free_port, http, pct, start_tutord  # noqa: E402
from fake_llm import FakeLLM, openai_stream                   # noqa: E402

EXERCISE = json.dumps({"type": "single", "prompt": "Ich gebe ___ Mann das Buch.",
                       "choices": ["der", "dem", "den"], "answer": 1, "explanation": "Dative."})


def answer():
    step = len(EXERCISE) // 4 + 1
    return {"events": openai_stream([EXERCISE[i:i + step] for i in range(0, len(EXERCISE), step)])}


def run_direct(fake, jobs, pieces):
    body = json.dumps({"model": "direct", "stream": True,
                       "messages": [{"role": "user", "content": "Write exercise 1."}]})
    fake.script("direct", *[answer() for _ in range(jobs * pieces)])
    port = fake.port

    def one_job(_):
        times = []
        for _ in range(pieces):
            t0 = time.monotonic()
            c = httpc.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", "/v1/chat/completions", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            c.close()
            assert r.status == 200 and b"[DONE]" in data
            times.append((time.monotonic() - t0) * 1000)
        return times
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        times = [t for ts in ex.map(one_job, range(jobs)) for t in ts]
    return times, time.monotonic() - t0


def run_tutord(build, fake, jobs, pieces):
    import msgpack
    import zmq
    var = tempfile.mkdtemp(prefix="bench-gen-")
    hp = "127.0.0.1:%d" % free_port()
    events = "tcp://127.0.0.1:%d" % free_port()
    env = dict(os.environ, TUTORD_VAR=var, TUTORD_HTTP=hp,
               TUTORD_BROKER="tcp://127.0.0.1:%d" % free_port(), TUTORD_EVENTS=events,
               TUTORD_EVENTS_IN="tcp://127.0.0.1:%d" % free_port(), TUTORD_RATE_PER_TOKEN="1000000",
               TUTORD_RATE_BURST="1000000", TUTORD_LLM_GRADE_MS="0", TUTORD_LLM_GEN_JOBS=str(jobs),
               TUTORD_LOGIN_MAX_PER_IP="100000")
    res = subprocess.run([os.path.join(build, "tutorctl"), "migrate", os.path.join(SOURCE, "schema")],
                         env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("tutorctl migrate failed (use a fresh TUTORD_DB): %s" % res.stderr.strip())
    proc = start_tutord(build, env, var)
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    try:
        pw = "bench password 123"

        def org(k):
            """An admin, an org whose model is the fake's "gen-<k>", a draft course with a grammar
            item; the job's request body."""
            email = "gen-%d-%d@example.org" % (time.time_ns(), k)
            s, b = http(hp, "POST", "/api/v1/auth/register", body={"email": email, "password": pw, "name": "B"})
            assert s == 201, b
            s, o = http(hp, "POST", "/api/v1/orgs", b["token"], {"name": "G", "slug": "gen-%d-%d" % (time.time_ns(), k)})
            tok = http(hp, "POST", "/api/v1/auth/login", body={"email": email, "password": pw})[1]["token"]
            s, b = http(hp, "PUT", "/api/v1/orgs/%s/llm" % o["id"], tok,
                        {"provider": "openai", "base_url": fake.url + "/v1", "model": "gen-%d" % k})
            assert s == 200, b
            c = http(hp, "POST", "/api/v1/orgs/%s/courses" % o["id"], tok, {"slug": "course", "title": "C"})[1]
            m = http(hp, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})[1]
            l = http(hp, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})[1]
            g = http(hp, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
                     {"slug": "dativ", "kind": "grammar", "title": "Dativ",
                      "content": {"level": "A2", "explanation": "dem"}})[1]
            fake.script("gen-%d" % k, *[answer() for _ in range(pieces)])
            return tok, {"kind": "grammar_exercises", "org_id": o["id"], "course_id": c["id"],
                         "target_id": g["id"], "count": pieces}
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            setups = list(ex.map(org, range(jobs)))
        sub.setsockopt(zmq.SUBSCRIBE, b"llm.job")
        sub.connect(events)
        time.sleep(0.5)                  # the slow joiner
        c0 = cpu_seconds(proc.pid)
        t0 = time.monotonic()
        posted = {}
        for tok, body in setups:
            s, job = http(hp, "POST", "/api/v1/generation/jobs", tok, body)
            assert s == 202, job
            posted[job["id"]] = time.monotonic()
        last = dict(posted)
        gaps, ended, failed = [], 0, 0
        deadline = time.monotonic() + 300
        while ended < jobs and time.monotonic() < deadline:
            if not sub.poll(1000):
                continue
            now = time.monotonic()
            ev = msgpack.unpackb(sub.recv_multipart()[-1], raw=False)
            jid = ev["data"]["job_id"]
            if jid not in last:
                continue
            if ev["type"] == "llm.job_progress":
                gaps.append((now - last[jid]) * 1000)
                last[jid] = now
                failed += 0 if ev["data"]["piece"]["ok"] else 1
            elif ev["type"] == "llm.job_done":
                ended += 1
        wall = time.monotonic() - t0
        cpu = cpu_seconds(proc.pid) - c0
        return gaps, wall, cpu, ended, failed
    finally:
        sub.close()
        ctx.term()
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build", "llmgen-rel"))
    ap.add_argument("-j", "--jobs", type=int, default=8)
    ap.add_argument("-p", "--pieces", type=int, default=20)
    a = ap.parse_args()
    print("# %s -j %d -p %d (load %s)" % (sys.argv[0], a.jobs, a.pieces,
          " ".join(open("/proc/loadavg").read().split()[:3])))
    fake = FakeLLM().start()
    try:
        direct, dwall = run_direct(fake, a.jobs, a.pieces)
        gaps, wall, cpu, ended, failed = run_tutord(a.build, fake, a.jobs, a.pieces)
    finally:
        fake.stop()
    n = a.jobs * a.pieces
    print("path     pieces   failed   p50 ms   p99 ms   max ms   wall s   pieces/s   cpu s")
    print("direct   %6d %8d %8.2f %8.2f %8.2f %8.2f %10.1f       -" % (
        len(direct), 0, pct(direct, 50), pct(direct, 99), max(direct), dwall, len(direct) / dwall))
    print("tutord   %6d %8d %8.2f %8.2f %8.2f %8.2f %10.1f   %5.2f   (jobs ended: %d of %d)" % (
        len(gaps), failed, pct(gaps, 50), pct(gaps, 99), max(gaps or [0]), wall, len(gaps) / wall,
        cpu, ended, a.jobs))
    print("added    p50 %.2f ms, p99 %.2f ms per piece (tutord minus direct at each percentile); "
          "%.2f ms of tutord CPU per piece" % (pct(gaps, 50) - pct(direct, 50),
                                              pct(gaps, 99) - pct(direct, 99), cpu * 1000 / max(1, len(gaps))))
    print("load after: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    if len(gaps) != n or failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
