#!/usr/bin/python3
"""bench_llm — added latency per token of the llm gateway: N concurrent streamed completions from
a fake OpenAI-compatible upstream read through tutord, against the same streams read straight
from the upstream, in the same run.

    TUTORD_DB=... tools/bench/bench_llm.py [--build build/llm-rel] [-n 1000] [-t 10] [-i 100]

The upstream (a separate asyncio process) holds every stream until all n have connected, then
sends t tokens per stream, one every i ms; each token's text is the CLOCK_MONOTONIC time (ns) at
which it was written. A reader computes, per token, arrival time minus that stamp. Direct: n
asyncio connections read the SSE streams themselves. Through tutord: one learner, n tutor
sessions, n messages posted; the llm actor streams all n upstream calls in its one thread and
publishes every token as llm.delta; the reader is a SUB socket on TUTORD_EVENTS (the event plane
the bridge's WebSocket feeds from; the bridge's own WebSocket hop is not in this figure).
Reported: p50/p99/max per-token latency of both paths, the added latency (tutord minus direct
at each percentile), tokens lost, and CPU seconds used by tutord and by the upstream.
"""

import argparse
import asyncio
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client as httpc

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))


# -- the upstream --------------------------------------------------------------------------------

def upstream_main(port, n, tokens, interval_ms, wait_s, stagger):
    arrived = 0
    go = None

    async def handle(reader, writer):
        nonlocal arrived
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            await writer.drain()
            arrived += 1
            if arrived >= n:
                go.set()
            try:
                await asyncio.wait_for(go.wait(), wait_s)
            except asyncio.TimeoutError:
                go.set()
            if stagger:                 #  each stream at its own phase within the interval
                import random
                await asyncio.sleep(random.random() * interval_ms / 1000.0)
            for _ in range(tokens):
                stamp = time.monotonic_ns()
                data = ('data: {"choices":[{"index":0,"delta":{"content":"%d "}}]}\n\n' % stamp).encode()
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                await writer.drain()
                await asyncio.sleep(interval_ms / 1000.0)
            tail = (b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":%d}}\n\n'
                    b"data: [DONE]\n\n" % tokens)
            writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main():
        nonlocal go
        go = asyncio.Event()
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()
    asyncio.run(main())


def start_upstream(n, tokens, interval, wait_s, stagger=False):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.Popen([sys.executable, __file__, "--upstream", str(port), "-n", str(n), "-t",
                          str(tokens), "-i", str(interval), "--wait", str(wait_s)]
                         + (["--stagger"] if stagger else []),
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p, port


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


# -- direct ----------------------------------------------------------------------------------------

def run_direct(port, n):
    """n plain non-blocking sockets on one epoll loop (the cheapest reader Python has, so the
    baseline is not the reader's own overhead); a stamp is read wherever it appears in the bytes."""
    import selectors
    sel = selectors.DefaultSelector()
    body = b'{"model":"m","stream":true,"messages":[]}'
    req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(req)
        c.setblocking(False)
        sel.register(c, selectors.EVENT_READ, [b""])
    lat, open_ = [], n
    key = b'"content":"'
    while open_:
        for k, _ in sel.select(timeout=60):
            data = k.fileobj.recv(65536)
            now = time.monotonic_ns()
            if not data:
                sel.unregister(k.fileobj)
                k.fileobj.close()
                open_ -= 1
                continue
            buf = k.data[0] + data
            while True:
                i = buf.find(key)
                if i < 0:
                    break
                j = buf.find(b" ", i + len(key))
                if j < 0:
                    break
                lat.append((now - int(buf[i + len(key):j])) / 1e6)
                buf = buf[j:]
            k.data[0] = buf[-64:]
            if b"0\r\n\r\n" in data:
                sel.unregister(k.fileobj)
                k.fileobj.close()
                open_ -= 1
    return lat


# -- through tutord ------------------------------------------------------------------------------------

def http(hostport, method, path, token=None, body=None):
    host, port = hostport.split(":")
    c = httpc.HTTPConnection(host, int(port), timeout=60)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_tutord(build, port, n, tokens):
    import zmq
    import msgpack
    var = tempfile.mkdtemp(prefix="bench-llm-")
    hp = "127.0.0.1:%d" % free_port()
    events = "tcp://127.0.0.1:%d" % free_port()
    env = dict(os.environ, TUTORD_VAR=var, TUTORD_HTTP=hp, TUTORD_BROKER="tcp://127.0.0.1:%d" % free_port(),
               TUTORD_EVENTS=events, TUTORD_EVENTS_IN="tcp://127.0.0.1:%d" % free_port(),
               TUTORD_LLM_PROVIDER="offline", TUTORD_RATE_PER_TOKEN="1000000",
               TUTORD_RATE_BURST="1000000", TUTORD_LLM_FIRST_TOKEN_TIMEOUT_MS="300000",
               TUTORD_LLM_TOTAL_TIMEOUT_MS="600000", TUTORD_LLM_CONNECT_TIMEOUT_MS="60000")
    subprocess.run([os.path.join(build, "tutorctl"), "migrate", os.path.join(SOURCE, "schema")],
                   env=env, check=True, capture_output=True)
    log = open(os.path.join(var, "tutord.out"), "wb")
    proc = subprocess.Popen([os.path.join(build, "tutord")], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if http(hp, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        pw = "bench password 123"
        email = "bench-%d@example.org" % time.time_ns()
        s, b = http(hp, "POST", "/api/v1/auth/register", body={"email": email, "password": pw, "name": "B"})
        tok = b["token"]
        s, org = http(hp, "POST", "/api/v1/orgs", tok, {"name": "Bench", "slug": "bench-%d" % time.time_ns()})
        tok = http(hp, "POST", "/api/v1/auth/login", body={"email": email, "password": pw})[1]["token"]
        s, b = http(hp, "PUT", "/api/v1/orgs/%s/llm" % org["id"], tok,
                    {"provider": "openai", "base_url": "http://127.0.0.1:%d/v1" % port, "model": "m"})
        assert s == 200, b
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            sids = list(ex.map(lambda _: http(hp, "POST", "/api/v1/tutor/sessions", tok,
                                              {"mode": "tutor"})[1]["id"], range(n)))
        ctx = zmq.Context()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"llm.")
        sub.connect(events)
        time.sleep(0.5)
        lat, done, raw = [], [0], []

        def reader():
            #  stamp on arrival and keep the bytes: decoding waits until the streams are over, so
            #  the reader's own work does not queue the next tokens (the direct reader is as lean)
            while done[0] < n:
                if not sub.poll(30000):
                    break
                frames = sub.recv_multipart()
                now = time.monotonic_ns()
                if frames[0].startswith(b"llm.done"):
                    done[0] += 1
                else:
                    raw.append((now, frames[-1]))
            for now, data in raw:
                ev = msgpack.unpackb(data, raw=False)
                if ev["type"] == "llm.delta":
                    for word in ev["data"]["text"].split():
                        lat.append((now - int(word)) / 1e6)
        th = threading.Thread(target=reader)
        th.start()
        cpu0 = cpu_seconds(proc.pid)
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            list(ex.map(lambda sid: http(hp, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, tok,
                                         {"text": "go"}), sids))
        th.join()
        cpu = cpu_seconds(proc.pid) - cpu0
        sub.close()
        ctx.term()
        return lat, done[0], cpu
    finally:
        proc.terminate()
        proc.wait(30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SOURCE, "build", "llm-rel"))
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("-t", type=int, default=10)
    ap.add_argument("-i", type=int, default=100)
    ap.add_argument("--wait", type=float, default=60)
    ap.add_argument("--upstream", type=int)
    ap.add_argument("--stagger", action="store_true",
                    help="each stream starts at a random phase of the interval (default: all "
                         "streams write their tokens in the same instant, the worst case)")
    a = ap.parse_args()
    if a.upstream:
        return upstream_main(a.upstream, a.n, a.t, a.i, a.wait, a.stagger)
    print("# %s -n %d -t %d -i %d%s (load %s)" % (" ".join(sys.argv[:1]), a.n, a.t, a.i,
                                                    " --stagger" if a.stagger else "",
                                                    open("/proc/loadavg").read().split()[0]))
    up, port = start_upstream(a.n, a.t, a.i, a.wait, a.stagger)
    try:
        c0 = cpu_seconds(up.pid)
        direct = run_direct(port, a.n)
        up_direct = cpu_seconds(up.pid) - c0
    finally:
        up.kill()
        up.wait()
    up, port = start_upstream(a.n, a.t, a.i, a.wait, a.stagger)
    try:
        c0 = cpu_seconds(up.pid)
        through, done, cpu = run_tutord(a.build, port, a.n, a.t)
        up_through = cpu_seconds(up.pid) - c0
    finally:
        up.kill()
        up.wait()
    want = a.n * a.t
    print("path     streams  tokens   lost   p50 ms   p99 ms   max ms   cpu s (tutord / upstream)")
    print("direct   %7d %7d %6d %8.3f %8.3f %8.3f   - / %.2f" % (a.n, len(direct), want - len(direct),
          pct(direct, 50), pct(direct, 99), max(direct or [0]), up_direct))
    print("tutord   %7d %7d %6d %8.3f %8.3f %8.3f   %.2f / %.2f" % (done, len(through), want - len(through),
          pct(through, 50), pct(through, 99), max(through or [0]), cpu, up_through))
    print("added    p50 %.3f ms, p99 %.3f ms per token (tutord minus direct at each percentile)"
          % (pct(through, 50) - pct(direct, 50), pct(through, 99) - pct(direct, 99)))


if __name__ == "__main__":
    main()
