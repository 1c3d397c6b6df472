"""WebSocket callers: the token at connect (?token= or Authorization), closing a connection whose
token is revoked (status 4401), and the event filter (who sees which event).

Why: a WebSocket lives for hours while tokens are revoked and memberships change, and events
carry other people's data. The bridge verifies a connection's token when it opens, on every call
op, every ~5 s and at once on identity events about its user; these tests watch that from outside.
"""

import asyncio
import json
import time

import websockets

from test_access import SECRET, World, build_world, call


def ws_url(t, token=None):
    return "ws://%s/ws%s" % (t.http, "?token=" + token if token else "")


async def recv_op(ws, op, timeout=10):
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        assert left > 0, "no %s frame within %ss" % (op, timeout)
        frame = json.loads(await asyncio.wait_for(ws.recv(), left))
        if frame.get("op") == op:
            return frame


async def rpc(ws, method, path, body=None, cid="c"):
    msg = {"op": "call", "id": cid, "method": method, "path": path}
    if body is not None:
        msg["body"] = body
    await ws.send(json.dumps(msg))
    return await recv_op(ws, "reply")


async def closed_with(ws, timeout):
    """The close code once the server closes the connection (None if it stays open)."""
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            await asyncio.wait_for(ws.recv(), end - time.monotonic())
    except websockets.exceptions.ConnectionClosed:
        return ws.close_code
    except asyncio.TimeoutError:
        return None
    return None


def test_token_in_query_or_header(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET)
    w = World(t)
    w.register("wsuser")
    tok, uid = w.tokens["wsuser"], w.ids["wsuser"]

    async def main():
        async with websockets.connect(ws_url(t, tok)) as ws:
            r = await rpc(ws, "GET", "/api/v1/me")
            assert r["status"] == 200 and r["body"]["user"]["id"] == uid, r
        async with websockets.connect(ws_url(t), extra_headers={"Authorization": "Bearer " + tok}) as ws:
            r = await rpc(ws, "GET", "/api/v1/me")
            assert r["status"] == 200 and r["body"]["user"]["id"] == uid, r
        async with websockets.connect(ws_url(t)) as ws:          # anonymous
            r = await rpc(ws, "GET", "/api/v1/me")
            assert r["status"] == 401 and r["body"]["error"]["code"] == "unauthorized", r
            r = await rpc(ws, "GET", "/api/v1/services/identity/ping")
            assert r["status"] == 200, r
            assert await closed_with(ws, 1) is None            # anonymous is not closed
    asyncio.run(main())


def test_invalid_token_closes_4401(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET)

    async def main():
        async with websockets.connect(ws_url(t, "garbage-token")) as ws:
            assert await closed_with(ws, 5) == 4401
    asyncio.run(main())


def test_revoked_token_closes_4401(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET)
    w = World(t)
    w.register("leaver")
    watched = w.login("leaver")["token"]
    caller = w.login("leaver")["token"]
    other = w.tokens["leaver"]

    async def main():
        async with websockets.connect(ws_url(t, watched)) as ws_watched, \
                websockets.connect(ws_url(t, caller)) as ws_caller, \
                websockets.connect(ws_url(t, other)) as ws_other:
            await ws_watched.send(json.dumps({"op": "subscribe", "topics": ["grade."]}))
            await recv_op(ws_watched, "subscribed")
            assert (await rpc(ws_caller, "GET", "/api/v1/me"))["status"] == 200
            # logout elsewhere: the watching connection closes (event-driven, at worst ~5 s)
            start = time.monotonic()
            assert call(t, "POST", "/api/v1/auth/logout", watched)[0] == 204
            assert await closed_with(ws_watched, 8) == 4401
            assert time.monotonic() - start < 8
            # a call with a revoked token: 401 reply, then the connection closes
            assert call(t, "POST", "/api/v1/auth/logout", caller)[0] == 204
            try:
                await ws_caller.send(json.dumps({"op": "call", "id": "x", "method": "GET",
                                                 "path": "/api/v1/me"}))
                frame = await recv_op(ws_caller, "reply", timeout=5)
                assert frame["status"] == 401, frame
            except websockets.exceptions.ConnectionClosed:
                pass                    # already closed by the revocation event: also right
            code = ws_caller.close_code or await closed_with(ws_caller, 8)
            assert code == 4401, code
            # the user's other session is untouched
            assert (await rpc(ws_other, "GET", "/api/v1/me"))["status"] == 200
    asyncio.run(main())


def test_event_filter(tutord_factory):
    w = build_world(tutord_factory, TUTORD_LOGIN_MAX_PER_ACCOUNT=100)
    t = w.t
    watchers = ["anon", "learner", "learner2", "mentor", "admin_a", "admin_b", "key_a", "key_b"]
    tokens = dict(w.tokens)
    tokens["learner2"] = w.login("learner2")["token"]

    async def watch(name, ws, got, stop):
        try:
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
                except asyncio.TimeoutError:
                    continue
                if frame.get("op") == "event":
                    got[name].append(frame["event"])
        except websockets.exceptions.ConnectionClosed:
            got[name].append({"type": "closed %s" % ws.close_code})

    async def main():
        conns = {}
        for name in watchers:
            conns[name] = await websockets.connect(ws_url(t, tokens.get(name)))
        try:
            for name, ws in conns.items():
                await ws.send(json.dumps({"op": "subscribe", "topics": ["identity."]}))
                await recv_op(ws, "subscribed")
                # a call after connect: the connection's own verification is done by then
                await rpc(ws, "GET", "/api/v1/services/identity/ping")
            got = {name: [] for name in watchers}
            stop = asyncio.Event()
            tasks = [asyncio.create_task(watch(n, ws, got, stop)) for n, ws in conns.items()]
            # 1. about learner2 only (no org): a failed login of learner2
            s = call(t, "POST", "/api/v1/auth/login",
                     body={"email": w.emails["learner2"], "password": "wrong password!"})[0]
            assert s == 401
            # 2. about org A: a new member
            newbie, email = w.register()
            s = call(t, "POST", "/api/v1/orgs/%s/members" % w.ids["A"], w.tokens["admin_a"],
                     {"email": email, "role": "learner"})[0]
            assert s == 201
            new_id = newbie["user"]["id"]
            await asyncio.sleep(2.0)
            stop.set()
            await asyncio.gather(*tasks)
            return got, new_id
        finally:
            for ws in conns.values():
                await ws.close()

    got, new_id = asyncio.run(main())

    def saw(name, type_, user):
        return any(e.get("type") == type_ and e.get("user") == user for e in got[name])
    l2 = w.ids["learner2"]
    expect_failed = {"learner2": True, "mentor": True, "learner": False, "admin_a": False,
                     "admin_b": False, "key_a": False, "key_b": False, "anon": False}
    expect_added = {"admin_a": True, "key_a": True, "learner": False, "learner2": False,
                    "mentor": False, "admin_b": False, "key_b": False, "anon": False}
    wrong = []
    for name in watchers:
        if saw(name, "identity.login_failed", l2) != expect_failed[name]:
            wrong.append("%s login_failed(learner2): want %s" % (name, expect_failed[name]))
        if saw(name, "identity.member_added", new_id) != expect_added[name]:
            wrong.append("%s member_added(org A): want %s" % (name, expect_added[name]))
    # nobody sees anything of org B or about users they may not see
    for name in ["learner", "learner2", "mentor", "admin_a", "key_a"]:
        for e in got[name]:
            if e.get("org") == w.ids["B"]:
                wrong.append("%s saw an org B event %s" % (name, e))
    assert not got["anon"], got["anon"]
    assert not wrong, "\n".join(wrong) + "\n" + json.dumps(
        {n: [(e.get("type"), e.get("user"), e.get("org")) for e in v] for n, v in got.items()},
        indent=1)


def test_new_mentee_is_seen_after_reverification(tutord_factory):
    """The connection's caller is verified again every ~5 s: a learner who joins the mentor's
    cohort after the mentor connected becomes visible without reconnecting."""
    w = build_world(tutord_factory, TUTORD_LOGIN_MAX_PER_ACCOUNT=100)
    t = w.t

    async def main():
        async with websockets.connect(ws_url(t, w.tokens["mentor"])) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topics": ["identity.login_failed"]}))
            await recv_op(ws, "subscribed")
            await rpc(ws, "GET", "/api/v1/services/identity/ping")
            uid, email = w.member("A")
            assert call(t, "POST", "/api/v1/cohorts/%s/members" % w.ids["A1"], w.tokens["admin_a"],
                        {"user_id": uid, "role": "learner"})[0] == 201
            await asyncio.sleep(6.5)            # one periodic verification later
            assert call(t, "POST", "/api/v1/auth/login",
                        body={"email": email, "password": "wrong password!"})[0] == 401
            frame = await recv_op(ws, "event", timeout=5)
            assert frame["event"]["user"] == uid, frame
    asyncio.run(main())
