#!/usr/bin/python3
"""bench_llm — added latency per token of the llm gateway: N concurrent streamed completions from
a fake OpenAI-compatible upstream read through tutord, against the same streams read straight
from the upstream, in the same run.

    TUTORD_DB=... tools/bench/bench_llm.py [--build build/llm-rel] [-n 1000] [-t 10] [-i 100]
                                           [-c 100] [--plane] [--stagger] [--spread S]
                                           [--rolling S] [--perf FILE] [--dump FILE]

The upstream (a separate asyncio process) holds every stream until all n have connected, then
sends t tokens per stream, one every i ms; each token's text is the CLOCK_MONOTONIC time (ns) at
which it was written. A reader computes, per token, arrival time minus that stamp. Direct: n
asyncio connections read the SSE streams themselves. Through tutord: one learner, n tutor
sessions spread over c learners, n messages posted; the llm actor streams all n upstream calls in
its one thread and publishes every token as llm.delta; the web bridge delivers each to the
learner's WebSocket: c WebSocket clients (one per learner, subscribed to llm.*; a minimal client on
plain sockets on one epoll loop, as lean as the direct reader: frames stamped on arrival, decoded
after the run). --plane also reads the event plane itself (a SUB socket, in its own process) in the
same run, to tell the llm actor's share from the bridge's.
Reported: p50/p99/max per-token latency of each path, the added latency (WebSocket minus direct
at each percentile), tokens lost, connections the bridge closed, CPU seconds used by tutord and
by the upstream (/proc/<pid>/stat before and after the streams), and the WebSocket p99 by the
token's position in its stream (does the tail come from a stream's start, its end, or anywhere).
By default every stream starts together and ends together, so no stream's start or end work lands
among other streams' tokens; --spread S starts the streams over S seconds (ends overlap tokens),
--rolling S posts the n messages evenly over S seconds with each stream starting at once (starts
and ends overlap tokens: a steady state). --perf FILE records tutord with perf (call graphs) from
the first message posted to the last llm.done only, so the logins and session creations (argon2id)
stay out of the profile; the lines "# streaming phase ..." split tutord's CPU between the posts
and the tokens. --dump FILE writes one line per token read over WebSocket: the stamp (ns, when the
upstream wrote it), the latency (ms), the session and the token's position, to tell a tail spread
over the run from a few stalls that delay every stream at once.
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

def upstream_main(port, n, tokens, interval_ms, wait_s, stagger, spread=0.0):
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
            if spread:                  #  streams start (and so end) over spread seconds
                import random
                await asyncio.sleep(random.random() * spread)
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


def start_upstream(n, tokens, interval, wait_s, stagger=False, spread=0.0):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.Popen([sys.executable, __file__, "--upstream", str(port), "-n", str(n), "-t",
                          str(tokens), "-i", str(interval), "--wait", str(wait_s)]
                         + (["--stagger"] if stagger else [])
                         + (["--spread", str(spread)] if spread else []),
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


class WsClient:
    """A minimal WebSocket client on a plain socket (RFC 6455: the handshake, masked client text
    frames, unmasked server frames; no extension offered, so none is used). As lean as the direct
    reader: frames are stamped on arrival and decoded after the run."""

    def __init__(self, hostport, token):
        import base64
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET /ws?token=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n" % (token.encode(), hostport.encode(), key))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("the bridge closed the WebSocket handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError("WebSocket upgrade refused: %r" % status)
        self.buf = head.split(b"\r\n\r\n", 1)[1]
        self.frames = []            # (arrival ns, payload bytes)
        self.closed = False
        self.close_reason = b""

    def send_text(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        assert n < 126
        head = bytes([0x81, 0x80 | n])
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def feed(self, data, now):
        """Split what came into whole frames, stamped now; False once the server closed."""
        buf = self.buf + data
        while len(buf) >= 2:
            op, ln = buf[0] & 0x0F, buf[1] & 0x7F
            off = 2
            if ln == 126:
                if len(buf) < 4:
                    break
                ln, off = int.from_bytes(buf[2:4], "big"), 4
            elif ln == 127:
                if len(buf) < 10:
                    break
                ln, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + ln:
                break
            payload, buf = buf[off:off + ln], buf[off + ln:]
            if op == 0x8:
                self.closed = True
                self.close_reason = payload[2:]
            elif op in (0x0, 0x1):
                self.frames.append((now, payload))
        self.buf = buf
        return not self.closed


def plane_reader(events, n, conn):
    """The event plane's own figure (a SUB socket on TUTORD_EVENTS, in its own process so it does
    not share the WebSocket reader's interpreter): per-token latency before the bridge's hop."""
    import zmq
    import msgpack
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"llm.")
    sub.connect(events)
    conn.send("ready")
    raw, done = [], 0
    while done < n and sub.poll(30000):
        frames = sub.recv_multipart()
        now = time.monotonic_ns()
        if frames[0].startswith(b"llm.done"):
            done += 1
        else:
            raw.append((now, frames[-1]))
    lat = []
    for now, data in raw:
        ev = msgpack.unpackb(data, raw=False)
        if ev["type"] == "llm.delta":
            lat.extend((now - int(w)) / 1e6 for w in ev["data"]["text"].split())
    sub.close()
    ctx.term()
    conn.send(lat)


def start_tutord(build, env, var):
    """Start build/tutord with env (its output in var/tutord.out) and wait, 60 s at most, until
    its /health answers 200; the process, which the caller stops."""
    with open(os.path.join(var, "tutord.out"), "wb") as log:
        proc = subprocess.Popen([os.path.join(build, "tutord")], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if http(env["TUTORD_HTTP"], "GET", "/health")[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.1)
    return proc


def run_tutord(build, port, n, tokens, clients, plane, perf=None, rolling=0.0, dump=None):
    """n streams through tutord to `clients` WebSocket connections (one learner each, the n
    sessions spread over them: the bridge sends a learner's events to that learner's connections;
    a few sessions per connection keep each connection far below the bridge's outbound queue
    limit of 1024 frames)."""
    import multiprocessing
    import selectors
    var = tempfile.mkdtemp(prefix="bench-llm-")
    hp = "127.0.0.1:%d" % free_port()
    events = "tcp://127.0.0.1:%d" % free_port()
    env = dict(os.environ, TUTORD_VAR=var, TUTORD_HTTP=hp, TUTORD_BROKER="tcp://127.0.0.1:%d" % free_port(),
               TUTORD_EVENTS=events, TUTORD_EVENTS_IN="tcp://127.0.0.1:%d" % free_port(),
               TUTORD_LLM_PROVIDER="offline", TUTORD_RATE_PER_TOKEN="1000000",
               TUTORD_RATE_BURST="1000000", TUTORD_LLM_FIRST_TOKEN_TIMEOUT_MS="300000",
               TUTORD_LLM_TOTAL_TIMEOUT_MS="600000", TUTORD_LLM_CONNECT_TIMEOUT_MS="60000",
               TUTORD_LLM_GRADE_MS="0", TUTORD_LOGIN_MAX_PER_IP="100000")
    subprocess.run([os.path.join(build, "tutorctl"), "migrate", os.path.join(SOURCE, "schema")],
                   env=env, check=True, capture_output=True)
    proc = start_tutord(build, env, var)
    try:
        pw = "bench password 123"

        def learner(k):
            """A learner with their own org whose model is the upstream; their token."""
            email = "bench-%d-%d@example.org" % (time.time_ns(), k)
            s, b = http(hp, "POST", "/api/v1/auth/register", body={"email": email, "password": pw, "name": "B"})
            assert s == 201, b
            s, org = http(hp, "POST", "/api/v1/orgs", b["token"],
                          {"name": "Bench", "slug": "bench-%d-%d" % (time.time_ns(), k)})
            tok = http(hp, "POST", "/api/v1/auth/login", body={"email": email, "password": pw})[1]["token"]
            s, b = http(hp, "PUT", "/api/v1/orgs/%s/llm" % org["id"], tok,
                        {"provider": "openai", "base_url": "http://127.0.0.1:%d/v1" % port, "model": "m"})
            assert s == 200, b
            return tok
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            toks = list(ex.map(learner, range(clients)))
            owners = [toks[i % clients] for i in range(n)]
            sids = list(ex.map(lambda tok: http(hp, "POST", "/api/v1/tutor/sessions", tok,
                                                {"mode": "tutor"})[1]["id"], owners))
        # the WebSocket clients, each subscribed to llm.* (the bridge sends its learner's only)
        sel = selectors.DefaultSelector()
        ws = []
        for tok in toks:
            c = WsClient(hp, tok)
            c.send_text('{"op":"subscribe","topics":["llm."]}')
            ws.append(c)
        for c in ws:
            while not c.frames:
                c.feed(c.sock.recv(65536), 0)
            assert b'"subscribed"' in c.frames[0][1], c.frames[0]
            c.frames.clear()
            c.sock.setblocking(False)
            sel.register(c.sock, selectors.EVENT_READ, c)
        pl = parent = None
        if plane:
            parent, child = multiprocessing.Pipe()
            pl = multiprocessing.Process(target=plane_reader, args=(events, n, child))
            pl.start()
            assert parent.recv() == "ready"
            time.sleep(0.5)         # the slow joiner
        prof = None
        if perf:                    # profile the streaming phase only (logins and sessions done)
            prof = subprocess.Popen(["perf", "record", "-q", "-F", "999", "--call-graph", "dwarf,16384",
                                     "-p", str(proc.pid), "-o", perf],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)         # perf attaches to every thread
        print("# streaming phase starts: tutord pid %d, %s" % (proc.pid, time.strftime("%H:%M:%S")),
              flush=True)
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.monotonic()

        def post_one(k, owner, sid):
            if rolling:             # message k at its own time: starts and ends among tokens
                time.sleep(max(0.0, t0 + rolling * k / n - time.monotonic()))
            return http(hp, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, owner, {"text": "go"})

        def post_all():
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                list(ex.map(lambda a: post_one(*a), zip(range(n), owners, sids)))
        poster = threading.Thread(target=post_all)
        poster.start()
        done, deadline = 0, time.monotonic() + 600
        marker = b'"type":"llm.done"'
        cpu_first = None            # tutord's CPU when the first token arrives: the posts are done
        while done < n and time.monotonic() < deadline:
            ready = sel.select(timeout=30)
            if not ready:
                break
            for k, _ in ready:
                c = k.data
                try:
                    data = c.sock.recv(262144)
                except BlockingIOError:
                    continue
                now = time.monotonic_ns()
                before = len(c.frames)
                alive = bool(data) and c.feed(data, now)
                done += sum(1 for _, f in c.frames[before:] if marker in f)
                if cpu_first is None and len(c.frames) > before:
                    cpu_first = cpu_seconds(proc.pid)
                if not alive:
                    sel.unregister(c.sock)
        cpu = cpu_seconds(proc.pid) - cpu0
        print("# streaming phase ends after %.2f s; tutord CPU %.2f s for the %d posts, %.2f s for "
              "the %d tokens and their ends" % (time.monotonic() - t0, (cpu_first or cpu0) - cpu0, n,
                                                 cpu0 + cpu - (cpu_first or cpu0), n * tokens), flush=True)
        if prof:
            prof.send_signal(2)
            prof.wait(60)
        poster.join()
        lat, closed = [], [c.close_reason for c in ws if c.closed]
        per_session = {}            # session -> [(stamp, latency)], for the per-position figure
        for c in ws:
            for now, payload in c.frames:
                ev = json.loads(payload).get("event") or {}
                if ev.get("type") == "llm.delta":
                    for w in ev["data"]["text"].split():
                        lat.append((now - int(w)) / 1e6)
                        per_session.setdefault(ev["data"]["session_id"], []).append((int(w), lat[-1]))
            c.sock.close()
        by_pos = {}
        for toks in per_session.values():
            for i, (_, l) in enumerate(sorted(toks)):
                by_pos.setdefault(i, []).append(l)
        if dump:
            with open(dump, "w") as f:
                for sid, toks in per_session.items():
                    for i, (stamp, l) in enumerate(sorted(toks)):
                        f.write("%d %.4f %s %d\n" % (stamp, l, sid, i))
        print("# p99 ms by the token's position in its stream (WebSocket): %s" % " ".join(
            "%d:%.1f" % (i, pct(by_pos[i], 99)) for i in sorted(by_pos)))
        plat = None
        if pl:
            plat = parent.recv()
            pl.join(30)
        if closed:
            print("# the bridge closed %d WebSocket(s): %r" % (len(closed), closed[:3]))
        return lat, done, cpu, len(closed), plat
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
    ap.add_argument("-c", "--clients", type=int, default=100,
                    help="WebSocket connections (one learner each; the n sessions spread over them)")
    ap.add_argument("--plane", action="store_true",
                    help="also read the event plane (SUB on TUTORD_EVENTS, its own process) in the "
                         "same run: where the added latency is, before or after the bridge")
    ap.add_argument("--spread", type=float, default=0.0, metavar="S",
                    help="each stream starts at a random time within S seconds (so streams end "
                         "while others stream: the ends' work lands on the token path)")
    ap.add_argument("--rolling", type=float, default=0.0, metavar="S",
                    help="post the n messages evenly over S seconds, each stream starting as soon "
                         "as its call arrives (a steady state: turns start and end while others "
                         "stream; the upstream does not gather the n calls first)")
    ap.add_argument("--dump", metavar="FILE",
                    help="write every WebSocket token: stamp ns, latency ms, session, position")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record -g (dwarf) tutord during the streaming phase only, into FILE "
                         "(perf report -i FILE); the logins and session creations are not in it")
    ap.add_argument("--upstream", type=int)
    ap.add_argument("--stagger", action="store_true",
                    help="each stream starts at a random phase of the interval (default: all "
                         "streams write their tokens in the same instant, the worst case)")
    a = ap.parse_args()
    if a.upstream:
        return upstream_main(a.upstream, a.n, a.t, a.i, a.wait, a.stagger, a.spread)
    if a.rolling:
        a.wait = 0                  # no gathering: every stream goes at once
    print("# %s -n %d -t %d -i %d -c %d%s%s%s%s (load %s)" % (
        " ".join(sys.argv[:1]), a.n, a.t, a.i, a.clients, " --stagger" if a.stagger else "",
        " --spread %g" % a.spread if a.spread else "",
        " --rolling %g" % a.rolling if a.rolling else "",
        " --plane" if a.plane else "", " ".join(open("/proc/loadavg").read().split()[:3])))
    up, port = start_upstream(a.n, a.t, a.i, a.wait, a.stagger, a.spread)
    try:
        c0 = cpu_seconds(up.pid)
        direct = run_direct(port, a.n)
        up_direct = cpu_seconds(up.pid) - c0
    finally:
        up.kill()
        up.wait()
    up, port = start_upstream(a.n, a.t, a.i, a.wait, a.stagger, a.spread)
    try:
        c0 = cpu_seconds(up.pid)
        through, done, cpu, closed, plat = run_tutord(a.build, port, a.n, a.t, a.clients, a.plane,
                                                           a.perf, a.rolling, a.dump)
        up_through = cpu_seconds(up.pid) - c0
    finally:
        up.kill()
        up.wait()
    want = a.n * a.t
    print("path     streams  tokens   lost   p50 ms   p99 ms   max ms   cpu s (tutord / upstream)")
    print("direct   %7d %7d %6d %8.3f %8.3f %8.3f   - / %.2f" % (a.n, len(direct), want - len(direct),
          pct(direct, 50), pct(direct, 99), max(direct or [0]), up_direct))
    if plat is not None:
        print("plane    %7s %7d %6d %8.3f %8.3f %8.3f   (the event plane, same run)" % (
              "", len(plat), want - len(plat), pct(plat, 50), pct(plat, 99), max(plat or [0])))
    print("tutord   %7d %7d %6d %8.3f %8.3f %8.3f   %.2f / %.2f   (WebSocket clients: %d, closed by "
          "the bridge: %d)" % (done, len(through), want - len(through), pct(through, 50),
                               pct(through, 99), max(through or [0]), cpu, up_through, a.clients, closed))
    print("added    p50 %.3f ms, p99 %.3f ms per token (tutord over WebSocket minus direct at each "
          "percentile)" % (pct(through, 50) - pct(direct, 50), pct(through, 99) - pct(direct, 99)))
    if plat is not None:
        print("bridge   p50 %.3f ms, p99 %.3f ms of it after the event plane (WebSocket minus plane)"
              % (pct(through, 50) - pct(plat, 50), pct(through, 99) - pct(plat, 99)))


if __name__ == "__main__":
    main()
