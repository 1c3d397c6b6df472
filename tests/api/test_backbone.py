"""The backbone as a client sees it: HTTP errors, health, metrics, OpenAPI, WebSocket, faults.

Every test starts a real tutord (conftest.py) on free ports against the test database and talks
to it only over HTTP, WebSocket and ZeroMQ, as users, browsers and analysts do.
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import websockets

from conftest import free_ports, wait_for

ACTORS = ["identity", "catalog", "session", "grader", "llm", "srs", "analytics", "trainer"]


def error_of(status, hdrs, data, code):
    """Assert the CONTRACT error shape with the given code; return the error object."""
    assert hdrs.get("content-type", "").startswith("application/json"), hdrs
    body = json.loads(data)
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code, (status, body)
    assert isinstance(err["message"], str) and len(err["message"]) > 5, body
    assert "x-request-id" in hdrs
    return err


def test_health_reports_every_actor(tutord):
    status, hdrs, body = tutord.get("/health")
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["db"] == "ok" and body["broker"] == "ok"
    assert body["actors"] == {name: "up" for name in ACTORS}
    assert body["llm"] == "offline"


def test_every_actor_answers_ping(tutord):
    for name, service in zip(ACTORS, ["identity", "catalog", "session", "grade", "llm", "srs",
                                      "analytics", "train"]):
        status, _, body = tutord.get("/api/v1/services/%s/ping" % service)
        assert status == 200, (service, body)
        assert body["actor"] == name and body["service"] == service and body["db"] == "ok"


def test_http_errors_have_the_contract_shape(tutord):
    s, h, d = tutord.request("GET", "/api/v1/no/such/route")
    assert s == 404
    error_of(s, h, d, "not_found")
    s, h, d = tutord.request("DELETE", "/health")
    assert s == 405
    error_of(s, h, d, "method_not_allowed")
    # unknown service: nothing serves it
    s, h, d = tutord.request("GET", "/api/v1/services/nosuchservice/ping")
    assert s == 503
    error_of(s, h, d, "unavailable")
    assert "retry-after" in h
    # wrong content type, bad JSON, too large, bad UTF-8
    s, h, d = tutord.request("POST", "/api/v1/_call/identity/ping", body=b"x=1",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert s == 415
    error_of(s, h, d, "unsupported_media_type")
    s, h, d = tutord.request("POST", "/api/v1/_call/identity/ping", body=b'{"a": [1, 2',
                             headers={"Content-Type": "application/json"})
    assert s == 400
    error_of(s, h, d, "invalid_input")
    s, h, d = tutord.request("POST", "/api/v1/_call/identity/ping", body=b'{"a": "\xff\xfe"}',
                             headers={"Content-Type": "application/json"})
    assert s == 400
    error_of(s, h, d, "invalid_input")
    big = b'{"a": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    s, h, d = tutord.request("POST", "/api/v1/_call/identity/ping", body=big,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert s == 413
    error_of(s, h, d, "too_large")
    deep = b"[" * 200 + b"]" * 200
    s, h, d = tutord.request("POST", "/api/v1/_call/identity/ping", body=deep,
                             headers={"Content-Type": "application/json"})
    assert s == 400
    error_of(s, h, d, "invalid_input")
    # an operation the service does not have
    s, h, d = tutord.request("POST", "/api/v1/_call/identity/no.such.verb", body={})
    assert s == 404
    error_of(s, h, d, "not_found")
    # and after all that, the server is still fine
    assert tutord.get("/health")[0] == 200


def test_static_client_and_traversal(tutord):
    s, h, d = tutord.request("GET", "/")
    assert s == 200 and h["content-type"].startswith("text/html")
    assert b"<html" in d.lower()
    for path in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc/passwd"]:
        s, h, d = tutord.request("GET", path)
        assert s in (400, 404), (path, s)
        assert b"root:" not in d


def test_openapi_describes_the_routes(tutord):
    s, h, body = tutord.get("/api/v1/openapi.json")
    assert s == 200
    assert body["openapi"].startswith("3.")
    for path in ["/health", "/metrics", "/api/v1/openapi.json", "/ws"]:
        assert path in body["paths"], path


def test_metrics_count_requests(tutord):
    for _ in range(3):
        tutord.get("/health")
    tutord.request("GET", "/api/v1/definitely/missing")
    s, h, d = tutord.request("GET", "/metrics")
    assert s == 200 and h["content-type"].startswith("text/plain")
    text = d.decode()
    counts = [float(m.group(1)) for m in re.finditer(
        r'^tutord_http_requests_total\{[^}]*route="/health"[^}]*status="200"[^}]*\} (\S+)$', text, re.M)]
    assert counts and sum(counts) >= 3, text[:2000]
    assert re.search(r'status="404"', text)
    assert "tutord_http_request_duration_seconds_bucket" in text
    assert re.search(r'^tutord_broker_workers\{service="grade"\} 1$', text, re.M), text[:3000]
    assert "tutord_broker_queue_depth" in text


def _pipelined(hostport, request, n, timeout=5):
    """Send n copies of request at once on one connection; the answers read back (count, closed)."""
    host, port = hostport.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(request * n)
        data, closed = b"", False
        end = time.monotonic() + timeout
        while data.count(b"HTTP/1.1 ") < n and time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    return data.count(b"HTTP/1.1 "), closed


def test_pipelined_requests_never_hang_the_bridge(tutord):
    """HTTP/1.1 pipelining: 40 GETs sent at once on one connection are all answered, in order;
    pipelined POSTs (whose bodies lws kept offering back while the first one was pending, which
    spun the lws thread at 100 % and ignored SIGTERM) get the connection closed, and the server
    keeps answering everyone else at once. The fixture's stop then checks a clean exit."""
    ping = b"GET /api/v1/services/grade/ping HTTP/1.1\r\nHost: t\r\n\r\n"
    assert _pipelined(tutord.http, ping, 40) == (40, False)
    post = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{}")
    for _ in range(3):
        answered, closed = _pipelined(tutord.http, post, 5)
        assert answered == 5 or closed, (answered, closed)
        t0 = time.monotonic()
        assert tutord.get("/health")[0] == 200
        assert time.monotonic() - t0 < 2
    assert _pipelined(tutord.http, post, 1) == (1, False)
    # a pipelined request behind one that takes long: the connection is closed at once, and
    # the server keeps answering
    slow = b'{"ms": 4000}'
    slow_post = (b"POST /api/v1/_call/identity/fault.slow HTTP/1.1\r\nHost: t\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(slow)) + slow
    t0 = time.monotonic()
    answered, closed = _pipelined(tutord.http, slow_post, 2, timeout=15)
    assert closed and answered == 0 and time.monotonic() - t0 < 3.5, (answered, closed)
    assert wait_for(lambda: tutord.get("/health")[0] == 200, 10)


def test_request_id_is_carried_to_the_actor(tutord_factory):
    t = tutord_factory(TUTORD_LOG_LEVEL="debug")
    rid = "trace-4711-abc"
    s, h, d = t.request("GET", "/api/v1/services/srs/ping", headers={"X-Request-Id": rid})
    assert s == 200 and h["x-request-id"] == rid
    log = os.path.join(t.var_dir, "log", "tutord.log")
    line = wait_for(lambda: [l for l in open(log).read().splitlines()
                             if "actor=srs" in l and "rid=" + rid in l], 5)
    assert line, "the srs actor logged nothing with rid=%s" % rid
    # a hostile request id is replaced, not echoed
    s, h, d = t.request("GET", "/health", headers={"X-Request-Id": "a b\"c<script>"})
    assert h["x-request-id"] != "a b\"c<script>" and re.fullmatch(r"[A-Za-z0-9._-]+", h["x-request-id"])


async def _ws_session(tutord, actions):
    async with websockets.connect("ws://%s/ws" % tutord.http, max_size=2 ** 22) as ws:
        return await actions(ws)


async def _recv_op(ws, op, timeout=10):
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        assert left > 0, "no %s frame within %ss" % (op, timeout)
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        if frame.get("op") == op:
            return frame


def test_websocket_operations(tutord):
    async def actions(ws):
        await ws.send(json.dumps({"op": "subscribe", "topics": ["system."]}))
        frame = await _recv_op(ws, "subscribed")
        assert frame["topics"] == ["system."]
        await ws.send(json.dumps({"op": "call", "id": "c1", "method": "GET",
                                  "path": "/api/v1/services/catalog/ping"}))
        frame = await _recv_op(ws, "reply")
        assert frame["id"] == "c1" and frame["status"] == 200 and frame["body"]["actor"] == "catalog"
        await ws.send(json.dumps({"op": "call", "id": "c2", "method": "GET", "path": "/nope"}))
        frame = await _recv_op(ws, "reply")
        assert frame["id"] == "c2" and frame["status"] == 404
        assert frame["body"]["error"]["code"] == "not_found"
        # bad frames: an error op each, and the connection lives on
        for bad in ["not json", "[1,2,3]", json.dumps({"op": "fly"}), json.dumps({"op": "subscribe"}),
                    json.dumps({"op": "call", "id": 5}), "{" * 100]:
            await ws.send(bad)
            frame = await _recv_op(ws, "error")
            assert frame["error"]["code"] == "invalid_input", (bad, frame)
        await ws.send(json.dumps({"op": "call", "id": "c3", "method": "GET", "path": "/health"}))
        frame = await _recv_op(ws, "reply")
        assert frame["id"] == "c3" and frame["status"] == 200
    asyncio.run(_ws_session(tutord, actions))


def test_crashed_actor_is_restarted_and_health_shows_it(tutord):
    """fault.exit ends the grader as a crash would; the supervisor restarts it and says so."""
    async def actions(ws):
        await ws.send(json.dumps({"op": "subscribe", "topics": ["system.actor_restarted"]}))
        await _recv_op(ws, "subscribed")
        s, h, d = tutord.request("POST", "/api/v1/_call/grade/fault.exit", body={})
        assert s == 202, d
        frame = await _recv_op(ws, "event", timeout=15)
        ev = frame["event"]
        assert ev["type"] == "system.actor_restarted" and ev["subject"] == "grader"
        assert ev["data"]["actor"] == "grader" and ev["data"]["restarts"] >= 1
        for key in ["id", "type", "source", "time", "org", "user", "subject", "data"]:
            assert key in ev, key
    asyncio.run(_ws_session(tutord, actions))
    assert wait_for(lambda: tutord.get("/health")[2]["actors"]["grader"] == "up", 10)
    text = tutord.request("GET", "/metrics")[2].decode()
    assert re.search(r'^tutord_actor_restarts_total\{actor="grader"\} [1-9]', text, re.M), text[:3000]


def test_database_down_is_degraded(tutord_factory):
    t = tutord_factory(wait_s=8, TUTORD_DB="host=/nonexistent-dir dbname=nothing connect_timeout=1")
    status, _, body = t.get("/health")
    assert status == 503
    assert body["status"] == "degraded" and body["db"] == "down"
    assert body["actors"]["identity"] == "up"       # the actor lives and says its db is down


def test_bad_configuration_names_the_variable(tutord_factory, harness):
    exe = os.path.join(harness.build_dir(), "tutord")
    for name, value in [("TUTORD_HTTP", "nonsense"), ("TUTORD_ACTORS", "grader,dragon"),
                        ("TUTORD_BROKER", "udp://x:1"), ("TUTORD_PYTHON", "python3"),
                        ("TUTORD_SRS_WORKERS", "0"), ("TUTORD_SRS_WORKERS", "17"),
                        ("TUTORD_MALLOC", "fast"), ("TUTORD_IO_THREADS", "0"),
                        ("TUTORD_IO_THREADS", "many"),
                        ("TUTORD_EVENTS_DIRECT", "yes"), ("TUTORD_EVENTS_DIRECT", "2"),
                        ("TUTORD_EVENTS_JOURNAL_SKIP", "LLM.delta"),
                        ("TUTORD_EVENTS_JOURNAL_SKIP", "llm.delta,"),
                        ("TUTORD_EVENTS_JOURNAL_SKIP", "a,,b"),
                        ("TUTORD_EVENTS_JOURNAL_SKIP", "llm delta"),
                        ("TUTORD_EVENTS_JOURNAL_SKIP", "x" * 65),
                        ("TUTORD_EVENTS_JOURNAL_SKIP", ",".join("t%d" % i for i in range(17)))]:
        env = dict(os.environ, TUTORD_VAR="/tmp/tutord-badcfg", **{name: value})
        res = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=30)
        assert res.returncode == 2, (name, res.returncode, res.stderr)
        lines = [l for l in res.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and name in lines[0], (name, res.stderr)
    res = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and "TUTORD_ACTORS" in res.stdout and "TUTORD_DB" in res.stdout
    assert "TUTORD_SRS_WORKERS" in res.stdout and "TUTORD_MALLOC" in res.stdout
    assert "TUTORD_IO_THREADS" in res.stdout and "TUTORD_EVENTS_JOURNAL_SKIP" in res.stdout
    assert "TUTORD_EVENTS_DIRECT" in res.stdout
    example = open(os.path.join(harness.source_dir, "deploy", "tutord.env.example")).read()
    for name in ("TUTORD_IO_THREADS", "TUTORD_EVENTS_DIRECT", "TUTORD_EVENTS_JOURNAL_SKIP"):
        assert name in example, name


def test_port_in_use_stops_start_up(tutord_factory, harness):
    first = tutord_factory()
    exe = os.path.join(harness.build_dir(), "tutord")
    b, e, ei = free_ports(3)
    env = dict(first.env, TUTORD_VAR=first.var_dir + "-2", TUTORD_BROKER="tcp://127.0.0.1:%d" % b,
               TUTORD_EVENTS="tcp://127.0.0.1:%d" % e, TUTORD_EVENTS_IN="tcp://127.0.0.1:%d" % ei)
    res = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stderr[-2000:]
    assert "TUTORD_HTTP" in res.stderr or first.http.split(":")[1] in res.stderr
    assert first.get("/health")[0] == 200


def test_sigterm_drains_in_flight_requests(tutord):
    """A request in flight when SIGTERM comes is still answered; then the process exits 0."""
    result = {}

    def slow():
        result["reply"] = tutord.request("POST", "/api/v1/_call/catalog/fault.slow",
                                         body={"ms": 1500}, timeout=20)
    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.4)
    tutord.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    # new work is refused while draining
    try:
        s, h, d = tutord.request("GET", "/api/v1/services/srs/ping", timeout=5)
        assert s == 503
        error_of(s, h, d, "unavailable")
    except OSError:
        pass                    # or the listener is already closed: also a refusal
    th.join(20)
    s, h, d = result["reply"]
    assert s == 200, d
    assert tutord.proc.wait(15) == 0
    assert "requests still in flight" not in tutord.log_text()


def test_second_process_joins_as_grader(tutord_factory):
    """A grader in another process registers with the broker; killing it loses no request."""
    main = tutord_factory()
    extra = tutord_factory(TUTORD_ACTORS="web,grader", TUTORD_BROKER=main.broker,
                           TUTORD_EVENTS_IN=main.events_in, TUTORD_EVENTS=main.events,
                           TUTORD_HEARTBEAT_MS="200")
    metric = re.compile(r'^tutord_broker_workers\{service="grade"\} (\d+)$', re.M)

    def workers():
        m = metric.search(main.request("GET", "/metrics")[2].decode())
        return int(m.group(1)) if m else None
    assert wait_for(lambda: workers() == 2, 15), "the second grader did not register"
    for _ in range(20):
        assert main.get("/api/v1/services/grade/ping")[0] == 200
    extra.proc.kill()
    extra.check_exit = False
    extra.proc.wait()
    # requests keep being answered (200, or 503 for one caught on the dead worker); none hangs
    for _ in range(20):
        s = main.request("GET", "/api/v1/services/grade/ping", timeout=10)[0]
        assert s in (200, 503)
    assert wait_for(lambda: workers() == 1, 15), "the dead grader was not dropped"
    assert all(main.get("/api/v1/services/grade/ping")[0] == 200 for _ in range(10))


def test_metrics_show_the_event_journal(tutord):
    """The broker's event journal (TUTORD_DB set) on /metrics: written moves by what is
    published, the queue empties, nothing dropped, no write error (issue 8; PostgreSQL stopped
    under the journal is in test_analytics_journal.py)."""
    import msgpack
    import zmq

    def figures():
        text = tutord.request("GET", "/metrics")[2].decode()
        assert re.search(r"^tutord_events_journal_up 1$", text, re.M), text[-3000:]
        assert "# TYPE tutord_events_journal_written_total counter" in text
        assert "# TYPE tutord_events_journal_queued gauge" in text
        return {k: int(v) for k, v in re.findall(
            r"^tutord_events_journal_(written|dropped|write_errors|queued)(?:_total)? (\d+)$",
            text, re.M)}

    pub = zmq.Context.instance().socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(tutord.events_in)

    def send(n):
        for _ in range(n):
            env = {"id": os.urandom(16).hex(), "type": "test.journal",
                   "source": "tutord/test", "time": "2026-11-22T10:00:00.000Z", "org": None,
                   "user": None, "subject": None, "data": {"n": 1}}
            pub.send_multipart([b"test.journal", msgpack.packb(env, use_bin_type=True)])
    try:
        start = figures()
        assert start["write_errors"] == 0 and start["dropped"] == 0, start
        # the proxy's upstream subscription reaches this publisher some time after it connects
        assert wait_for(lambda: send(1) or figures()["written"] > start["written"], 15)
        base = figures()
        send(300)
        assert wait_for(lambda: figures()["written"] >= base["written"] + 300, 15), figures()
        end = figures()
        assert wait_for(lambda: figures()["queued"] == 0, 10), figures()
        assert end["dropped"] == 0 and end["write_errors"] == 0, end
    finally:
        pub.close()
