"""The grader through a running tutord: durability across a crash, hostile code, events.

Submissions are made through the broker with tutorctl (as a trusted script would); the REST
routes of issue 5 come with the bridge's identity work. Every server here is a real tutord with
the real sandbox and the test database.
"""

import json
import signal
import time

from conftest import wait_for

SYSTEM = json.dumps({"kind": "system", "user": "u-grader-test"})


def call(t, verb, body, timeout_ms=30000):
    res = t.tutorctl("call", "--timeout", str(timeout_ms), "--auth", SYSTEM, "grade", verb,
                     json.dumps(body), timeout=timeout_ms / 1000 + 30)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def submission(code, tests):
    return {"language": "python", "code": code, "tests": tests}


def test_queued_submissions_survive_a_crash(tutord_factory):
    """SIGKILL with submissions queued and running; after a restart each finishes exactly once."""
    first = tutord_factory(TUTORD_GRADER_WORKERS="1")
    slow = submission("import time\ntime.sleep(0.3)\nprint(int(input()) * 2)",
                      [{"stdin": str(i), "expected_stdout": str(2 * i) + "\n"} for i in range(3)])
    ids = []
    for _ in range(6):
        reply = call(first, "submit", {"body": slow})
        assert reply["status"] == 202, reply
        ids.append(reply["body"]["id"])
    time.sleep(0.5)                         # the first is running, the rest are queued
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    first.check_exit = False

    second = tutord_factory(TUTORD_GRADER_WORKERS="2")

    def all_done():
        replies = [call(second, "get", {"id": i}) for i in ids]
        if any(r["status"] != 200 for r in replies):    # e.g. 503 while the grader registers
            return None
        states = [r["body"] for r in replies]
        return states if all(s["status"] == "done" for s in states) else None
    states = wait_for(all_done, 90, 0.5)
    assert states, "not every submission finished after the restart"
    for s in states:
        assert s["verdict"] == "accepted" and s["score"] == 100, s
        assert len(s["tests"]) == 3
    # exactly once: each finished submission has one result, and the log says each was done once
    log = second.log_text()
    for i in ids:
        assert log.count("submission %s done" % i) <= 1


def test_hostile_code_and_server_health(tutord):
    cases = [
        ("import os\nwhile True: os.fork()", {"runtime_error", "security_violation", "time_limit",
                                               "memory_limit"}),
        ("x = bytearray(1 << 30)", {"memory_limit", "runtime_error"}),
        ("print(open('/etc/shadow').read())", {"runtime_error"}),
        ("import socket\nsocket.create_connection(('127.0.0.1', %s))" % tutord.http.split(":")[1],
         {"runtime_error", "security_violation"}),
        ("import sys\nwhile True: sys.stdout.write('x' * 65536)", {"output_limit"}),
        ("def f(n): return f(n + 1)\nf(0)", {"runtime_error"}),
    ]
    for code, expected in cases:
        reply = call(tutord, "submit", {"wait": "true",
                                        "body": submission(code, [{"expected_stdout": "never"}])},
                     timeout_ms=60000)
        assert reply["status"] == 200, reply
        verdict = reply["body"]["verdict"]
        assert verdict in expected, (code, verdict, reply["body"]["tests"][0].get("message"))
    # the server is fine and the next submission is graded normally
    status, _, body = tutord.get("/health")
    assert status == 200, body
    ok = call(tutord, "submit", {"wait": "true", "body": submission(
        "print('fine')", [{"expected_stdout": "fine\n"}])})
    assert ok["body"]["verdict"] == "accepted"


def test_execute_and_bad_input(tutord):
    reply = call(tutord, "execute", {"body": {"language": "c", "code":
        "#include <stdio.h>\nint main(void){puts(\"hi\");return 3;}"}})
    assert reply["status"] == 200, reply
    body = reply["body"]
    assert body["stdout"] == "hi\n" and body["exit_code"] == 3 and body["verdict"] == "runtime_error"
    for bad, field in [({"language": "cobol", "code": "x"}, "language"),
                       ({"language": "python", "code": ""}, "code"),
                       ({"language": "python", "code": "x", "stdin": 5}, "stdin")]:
        reply = call(tutord, "execute", {"body": bad})
        assert reply["status"] == 400 and reply["error"]["field"] == field, reply
    big = call(tutord, "execute", {"body": {"language": "python", "code": "#" * 70000}})
    assert big["status"] == 413
