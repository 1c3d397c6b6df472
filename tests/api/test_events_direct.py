"""The local event path (TUTORD_EVENTS_DIRECT): in a process that runs the broker and the web
bridge, this process's actors hand their events to the bridge without the proxy thread, and the
bridge takes only other processes' events from the proxy.

Why: a tutor's tokens cross one thread fewer on their way to the learner's WebSocket (issue 7's
benchmark), but the split must lose nothing and repeat nothing: every event of this process and
of other processes reaches a WebSocket exactly once, in each publisher's order, and analysts on
TUTORD_EVENTS still see everything. Each test runs with the path on (the default) and off.
"""

import asyncio
import itertools
import json
import os
import time

import msgpack
import pytest
import websockets
import zmq

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def unique(prefix):
    return "%s-%d-%d-%d" % (prefix, os.getpid(), int(time.time() * 1000) % 10 ** 8, next(_seq))


def ok(t, method, path, token=None, body=None, expect=(200, 201, 202)):
    headers = {"Authorization": "Bearer " + token} if token else {}
    s, _, d = t.request(method, path, json.dumps(body).encode() if body is not None else None,
                        headers=dict(headers, **{"Content-Type": "application/json"}))
    b = json.loads(d) if d else None
    assert s in expect, (method, path, s, b)
    return b


def learner(t):
    """A learner in an org of their own: (token, user id, org id)."""
    email = "%s@example.org" % unique("direct")
    b = ok(t, "POST", "/api/v1/auth/register", body={"email": email, "password": PASSWORD,
                                                      "name": "Learner"})
    org = ok(t, "POST", "/api/v1/orgs", b["token"], {"name": "Direct", "slug": unique("direct")})
    tok = ok(t, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})["token"]
    return tok, b["user"]["id"], org["id"]


async def subscribed(t, token, topics):
    ws = await websockets.connect("ws://%s/ws?token=%s" % (t.http, token))
    await ws.send(json.dumps({"op": "subscribe", "topics": topics}))
    while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("op") != "subscribed":
        pass
    return ws


async def events_until(ws, stop, timeout=30):
    """Event envelopes read from ws until stop(envelope) is true."""
    got, end = [], time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        assert left > 0, "stopped waiting; got %r" % [(e["type"], e["id"]) for e in got][-20:]
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        if frame.get("op") == "event":
            got.append(frame["event"])
            if stop(frame["event"]):
                return got


async def late_frame(ws, wait=1.0):
    """A frame that comes within wait seconds (a duplicate would), or None."""
    try:
        return json.loads(await asyncio.wait_for(ws.recv(), wait))
    except asyncio.TimeoutError:
        return None


@pytest.mark.parametrize("direct", ["1", "0"])
def test_local_events_reach_the_websocket_once_and_analysts_too(tutord_factory, direct):
    """A tutor answer (offline provider: several llm.delta, then llm.done) published by this
    process's llm actor: the learner's WebSocket gets each event once, deltas in order, and an
    analyst's SUB on TUTORD_EVENTS gets the same events."""
    t = tutord_factory(TUTORD_EVENTS_DIRECT=direct)
    tok, _, _ = learner(t)
    sid = ok(t, "POST", "/api/v1/tutor/sessions", tok, {"mode": "tutor"}, expect=(201,))["id"]
    ctx = zmq.Context.instance()
    analyst = ctx.socket(zmq.SUB)
    analyst.setsockopt(zmq.LINGER, 0)
    analyst.setsockopt(zmq.SUBSCRIBE, b"llm.")
    analyst.connect(t.events)
    time.sleep(0.3)                 # the slow joiner

    async def main():
        ws = await subscribed(t, tok, ["llm."])
        try:
            answers = []
            for _ in range(3):
                ack = ok(t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, tok, {"text": "Help"})
                mid = ack["message_id"]
                got = await events_until(ws, lambda e, mid=mid: e["type"] == "llm.done"
                                         and e["data"]["message_id"] == mid)
                answers.append((mid, got))
            return answers, await late_frame(ws)
        finally:
            await ws.close()
    try:
        answers, extra = asyncio.run(main())
        assert extra is None, "a frame after the last llm.done: %r" % extra
        ids = [e["id"] for _, got in answers for e in got]
        assert len(ids) == len(set(ids)), "an event reached the WebSocket twice"
        for mid, got in answers:
            mine = [e for e in got if e["data"].get("message_id") == mid]
            deltas = [e for e in mine if e["type"] == "llm.delta"]
            assert len(deltas) >= 2 and mine[-1]["type"] == "llm.done", [e["type"] for e in mine]
            text = "".join(d["data"]["text"] for d in deltas)
            assert text.startswith("[offline tutor"), text     # in order: the text reads whole
        # the analyst saw the same llm.* events of these answers
        want = {e["id"] for mid, got in answers for e in got if e["data"].get("message_id") == mid}
        seen, end = set(), time.monotonic() + 10
        while not want <= seen and time.monotonic() < end:
            if analyst.poll(200):
                env = msgpack.unpackb(analyst.recv_multipart()[-1], raw=False)
                seen.add(env["id"])
        assert want <= seen, "the analyst missed %d events" % len(want - seen)
    finally:
        analyst.close()


@pytest.mark.parametrize("direct", ["1", "0"])
def test_other_processes_events_reach_the_websocket_once(tutord_factory, direct):
    """An event published by another process (a PUB on TUTORD_EVENTS_IN, like a remote actor):
    the learner it is about gets it on their WebSocket exactly once, in order."""
    t = tutord_factory(TUTORD_EVENTS_DIRECT=direct)
    tok, uid, org = learner(t)
    pub = zmq.Context.instance().socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(t.events_in)
    tag = unique("remote")

    def send(i, kind):
        env = {"id": "%s-%s-%d" % (tag, kind, i), "type": "test.remote", "source": "tutord/other",
               "time": "2026-11-22T10:00:00.000Z", "org": org, "user": uid, "subject": None,
               "data": {"i": i, "kind": kind}}
        pub.send_multipart([b"test.remote", msgpack.packb(env, use_bin_type=True)])

    async def main():
        ws = await subscribed(t, tok, ["test."])
        try:
            # until the subscription has reached this publisher, events are dropped at the
            # source: probe until one arrives
            probe = 0
            while True:
                send(probe, "probe")
                probe += 1
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
                    if frame.get("op") == "event":
                        break
                except asyncio.TimeoutError:
                    assert probe < 100, "no remote event arrived"
            for i in range(200):
                send(i, "counted")
            send(0, "end")
            got = await events_until(ws, lambda e: e["data"]["kind"] == "end")
            return got, await late_frame(ws)
        finally:
            await ws.close()
    try:
        got, extra = asyncio.run(main())
    finally:
        pub.close()
    counted = [e["data"]["i"] for e in got if e["data"]["kind"] == "counted"]
    assert counted == list(range(200)), counted[:20]
    assert extra is None or extra.get("event", {}).get("data", {}).get("kind") == "probe", extra
