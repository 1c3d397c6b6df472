"""Two graders in two tutord processes on one database: they share the load, each submission is
run to its end exactly once, and one grader dying mid-run loses nothing.

Why: issue 5 asks that a second grader in another process joins through the broker and shares
the load. The queue is the submissions table (FOR UPDATE SKIP LOCKED claims, an advisory lock per
grader), so the test looks at what both processes did: every submission was finished by exactly
one of them, both took a share, and the submissions the killed one held were run again by the
survivor. ?wait=true callers are answered even when the other process ran their submission.
"""

import json
import re
import signal
import threading
import time

from conftest import wait_for

SYSTEM = json.dumps({"kind": "system", "user": "u-grader-scale"})
DONE = re.compile(r"submission ([0-9a-f-]{36}) done: (\w+)")


def call(t, verb, body, timeout_ms=30000):
    res = t.tutorctl("call", "--timeout", str(timeout_ms), "--auth", SYSTEM, "grade", verb,
                     json.dumps(body), timeout=timeout_ms / 1000 + 30)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def slow(i):
    return {"language": "python", "code": "import time\ntime.sleep(0.4)\nprint(int(input()) + 1)",
            "tests": [{"stdin": str(i), "expected_stdout": "%d\n" % (i + 1)}]}


def done_by(t):
    """submission id -> verdicts this process logged as finished."""
    out = {}
    for sid, verdict in DONE.findall(t.log_text()):
        out.setdefault(sid, []).append(verdict)
    return out


def test_two_graders_share_the_queue_and_run_each_once(tutord_factory):
    main = tutord_factory(TUTORD_GRADER_WORKERS="1", TUTORD_HEARTBEAT_MS="200")
    extra = tutord_factory(TUTORD_ACTORS="web,grader", TUTORD_BROKER=main.broker,
                           TUTORD_EVENTS_IN=main.events_in, TUTORD_EVENTS=main.events,
                           TUTORD_GRADER_WORKERS="1", TUTORD_HEARTBEAT_MS="200")
    metric = re.compile(r'^tutord_broker_workers\{service="grade"\} (\d+)$', re.M)

    def workers():
        m = metric.search(main.request("GET", "/metrics")[2].decode())
        return int(m.group(1)) if m else None
    assert wait_for(lambda: workers() == 2, 20), "the second grader did not register"

    # a waiting caller is answered whichever process runs its submission
    waited = {}

    def wait_one():
        waited["reply"] = call(main, "submit", {"wait": "true", "body": slow(100)}, 60000)
    th = threading.Thread(target=wait_one)
    th.start()
    ids = []
    for i in range(12):
        reply = call(main, "submit", {"body": slow(i)})
        assert reply["status"] == 202, reply
        ids.append(reply["body"]["id"])
    th.join(90)
    assert waited["reply"]["status"] == 200 and waited["reply"]["body"]["verdict"] == "accepted", waited

    def all_done():
        states = [call(main, "get", {"id": i}) for i in ids]
        if any(s["status"] != 200 or s["body"]["status"] != "done" for s in states):
            return None
        return [s["body"] for s in states]
    states = wait_for(all_done, 120, 0.3)
    assert states, "not every submission finished"
    assert all(s["verdict"] == "accepted" for s in states), [s["verdict"] for s in states]
    a, b = done_by(main), done_by(extra)
    for sid in ids:
        assert len(a.get(sid, [])) + len(b.get(sid, [])) == 1, (sid, a.get(sid), b.get(sid))
    assert any(sid in a for sid in ids) and any(sid in b for sid in ids), \
        "one grader did all the work: %d / %d" % (len(a), len(b))

    # the second grader dies while it holds a submission: the survivor runs it again, once
    more = []
    for i in range(6):
        reply = call(main, "submit", {"body": slow(20 + i)})
        more.append(reply["body"]["id"])

    def running_on_extra():
        """ids of `more` the second grader started and has not finished."""
        text = extra.log_text()
        started = set(re.findall(r"runner 0 grades (%s)" % "|".join(more), text))
        return started - set(done_by(extra))
    assert wait_for(running_on_extra, 20, 0.02), "the second grader took none of the new ones"
    extra.proc.send_signal(signal.SIGKILL)
    extra.proc.wait()
    extra.check_exit = False
    victims = running_on_extra()        # what it held when it died (its log ends there)
    assert victims

    def more_done():
        states = [call(main, "get", {"id": i}) for i in more]
        ok = all(s["status"] == 200 and s["body"]["status"] == "done" for s in states)
        return states if ok else None
    states = wait_for(more_done, 120, 0.3)
    assert states, "submissions held by the dead grader were not run again"
    assert all(s["body"]["verdict"] == "accepted" for s in states)
    a, b = done_by(main), done_by(extra)
    for victim in victims:
        assert victim in a and victim not in b, "the survivor did not finish the dead grader's run"
    for sid in more:
        assert len(a.get(sid, [])) + len(b.get(sid, [])) == 1, (sid, a.get(sid), b.get(sid))
    assert "requeued: its grader died" in main.log_text()
