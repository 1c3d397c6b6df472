"""The bridge's principal cache (bridges/web/td_authcache.c, IDENTITY.md §1): a repeated request
with the same credential skips auth.verify, yet every revocation is still refused at once.

Why: the cache is only allowed because PostgreSQL tells every tutord process what changed
(schema/0012 triggers -> NOTIFY tutord_auth -> each bridge's LISTEN connection drops the entries),
and identity answers a revoking write only after its own barrier notification came back. These
tests try to catch the cache answering with a stale map:
- two tutord processes on one database: a logout, a password change, a role change, a cohort
  removal and an API-key revocation made through one are seen through the other on the very next
  request, each repeated ~30 times (with the credential freshly cached each time) to catch races;
- PostgreSQL restarted while tokens are cached (a private cluster, so the shared one is not
  disturbed): a session revoked just before or just after the restart is still refused;
- the cache stays within TUTORD_AUTHCACHE_MAX with many tokens; an expired token is refused and
  leaves the cache at its exp.
The cache's state is read from /metrics (tutord_authcache_*).
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import Tutord, wait_for

SECRET = "auth-cache-test-secret-4b1d6f0e9a2c"
FAST = {"TUTORD_ARGON2_OPSLIMIT": "1", "TUTORD_ARGON2_MEMLIMIT_KIB": "8", "TUTORD_SECRET": SECRET,
        "TUTORD_RATE_PER_TOKEN": "100000", "TUTORD_RATE_BURST": "100000",
        "TUTORD_LOGIN_MAX_PER_IP": "100000", "TUTORD_LOGIN_MAX_PER_ACCOUNT": "100000"}
ROUNDS = 30
PG_BIN = "/usr/lib/postgresql/15/bin"


def req(t, method, path, token=None, body=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    status, hdrs, data = t.request(method, path, body=body, headers=headers)
    ctype = hdrs.get("content-type", "")
    return status, (json.loads(data) if data and ctype.startswith("application/json") else None)


def expect(t, method, path, token, status, body=None):
    got, out = req(t, method, path, token, body)
    assert got == status, (method, path, got, out)
    return out


def metrics(t):
    status, _, data = t.request("GET", "/metrics")
    assert status == 200
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("tutord_authcache"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def uniq(prefix):
    return "%s-%s@example.org" % (prefix, uuid.uuid4().hex[:10])


def register(t, prefix, password="correct horse battery"):
    email = uniq(prefix)
    out = expect(t, "POST", "/api/v1/auth/register", None, 201,
                 {"email": email, "password": password, "name": prefix})
    return email, out["user"]["id"], out["token"]


def login(t, email, password="correct horse battery"):
    return expect(t, "POST", "/api/v1/auth/login", None, 200,
                  {"email": email, "password": password})["token"]


def cached_on(t, token, path="/api/v1/me", status=200):
    """Ask until an answer comes from the cache (checked on the hit counter). A verdict is not
    stored when any invalidation arrived while it was fetched (other tests write to the same
    database), so allow a few tries."""
    for _ in range(20):
        before = metrics(t).get('tutord_authcache_lookups_total{result="hit"}', 0)
        expect(t, "GET", path, token, status)
        expect(t, "GET", path, token, status)
        if metrics(t).get('tutord_authcache_lookups_total{result="hit"}', 0) >= before + 1:
            return
    pytest.fail("the credential never came from the cache")


@pytest.fixture
def pair(tutord_factory):
    one = tutord_factory(**FAST)
    two = tutord_factory(**FAST)
    for t in (one, two):
        assert wait_for(lambda t=t: metrics(t).get("tutord_authcache_live") == 1, 20), metrics(t)
    return one, two


def test_cache_answers_repeated_requests(pair):
    one, _ = pair
    _, uid, token = register(one, "hit")
    cached_on(one, token)
    m = metrics(one)
    assert m["tutord_authcache_entries"] >= 1
    assert m['tutord_authcache_lookups_total{result="miss"}'] >= 1
    assert expect(one, "GET", "/api/v1/me", token, 200)["user"]["id"] == uid
    # A tampered token is another credential: never the cached answer
    expect(one, "GET", "/api/v1/me", token[:-2] + ("AA" if not token.endswith("AA") else "BB"), 401)


def test_logout_through_one_is_refused_by_the_other(pair):
    one, two = pair
    email, _, _ = register(one, "logout")
    for i in range(ROUNDS):
        token = login(one if i % 2 else two, email)
        cached_on(two, token)
        cached_on(one, token)
        expect(one, "POST", "/api/v1/auth/logout", token, 204)
        expect(two, "GET", "/api/v1/me", token, 401)
        expect(one, "GET", "/api/v1/me", token, 401)


def test_password_change_through_one_is_refused_by_the_other(pair):
    one, two = pair
    email, _, token = register(one, "pw", password="password number 0")
    for i in range(ROUNDS):
        other = login(one, email, "password number %d" % i)     # a second session
        cached_on(two, token)
        cached_on(two, other)
        out = expect(one, "PUT", "/api/v1/me/password", token, 200,
                     {"current_password": "password number %d" % i,
                      "new_password": "password number %d" % (i + 1)})
        expect(two, "GET", "/api/v1/me", token, 401)
        expect(two, "GET", "/api/v1/me", other, 401)
        token = out["token"]
        expect(two, "GET", "/api/v1/me", token, 200)


def _org(t, admin_token, prefix):
    slug = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
    return expect(t, "POST", "/api/v1/orgs", admin_token, 201, {"name": prefix, "slug": slug})["id"]


def test_role_change_through_one_is_seen_by_the_other(pair):
    one, two = pair
    _, _, admin = register(one, "radmin")
    member_email, member_id, member = register(one, "rmember")
    org = _org(one, admin, "roles")
    # A freshly created org is usable at once by its creator through the other process
    expect(two, "GET", "/api/v1/orgs/%s/members" % org, admin, 200)
    expect(one, "POST", "/api/v1/orgs/%s/members" % org, admin, 201,
           {"email": member_email, "role": "learner"})
    path = "/api/v1/orgs/%s/members" % org
    for i in range(ROUNDS):
        promote = i % 2 == 0
        cached_on(two, member, path, 403 if promote else 200)
        expect(one, "PUT", "/api/v1/orgs/%s/members/%s" % (org, member_id), admin, 200,
               {"role": "admin" if promote else "learner"})
        expect(two, "GET", path, member, 200 if promote else 403)


def test_cohort_removal_through_one_is_seen_by_the_other(pair):
    one, two = pair
    _, _, admin = register(one, "cadmin")
    member_email, member_id, member = register(one, "cmember")
    org = _org(one, admin, "cohorts")
    expect(one, "POST", "/api/v1/orgs/%s/members" % org, admin, 201,
           {"email": member_email, "role": "learner"})
    cohort = expect(one, "POST", "/api/v1/orgs/%s/cohorts" % org, admin, 201, {"name": "C"})["id"]
    path = "/api/v1/cohorts/%s" % cohort
    for _ in range(ROUNDS):
        expect(one, "POST", path + "/members", admin, 201, {"user_id": member_id, "role": "learner"})
        cached_on(two, member, path, 200)
        expect(one, "DELETE", "%s/members/%s" % (path, member_id), admin, 204)
        expect(two, "GET", path, member, 404)


def test_api_key_revoke_through_one_is_refused_by_the_other(pair):
    one, two = pair
    _, _, admin = register(one, "kadmin")
    org = _org(one, admin, "keys")
    for _ in range(ROUNDS):
        key = expect(one, "POST", "/api/v1/orgs/%s/api-keys" % org, admin, 201, {"name": "k"})
        cached_on(two, key["key"], "/api/v1/orgs/%s" % org, 200)
        expect(one, "DELETE", "/api/v1/orgs/%s/api-keys/%s" % (org, key["id"]), admin, 204)
        expect(two, "GET", "/api/v1/orgs/%s" % org, key["key"], 401)


def test_cache_is_bounded(tutord_factory):
    t = tutord_factory(TUTORD_AUTHCACHE_MAX="20", **FAST)
    assert wait_for(lambda: metrics(t).get("tutord_authcache_live") == 1, 20)
    email, _, first = register(t, "many")
    tokens = [first] + [login(t, email) for _ in range(59)]
    for tok in tokens:
        expect(t, "GET", "/api/v1/me", tok, 200)
    m = metrics(t)
    assert m["tutord_authcache_capacity"] == 20
    # Full (a store can be refused when an invalidation raced it, never exceeded)
    assert 10 <= m["tutord_authcache_entries"] <= 20, m
    # Evicted ones are simply verified again
    for tok in tokens[:5]:
        expect(t, "GET", "/api/v1/me", tok, 200)
    assert metrics(t)["tutord_authcache_entries"] <= 20


def test_expired_token_leaves_the_cache(tutord_factory):
    t = tutord_factory(TUTORD_ACCESS_TTL_S="3", **FAST)
    assert wait_for(lambda: metrics(t).get("tutord_authcache_live") == 1, 20)
    _, _, token = register(t, "expiry")
    cached_on(t, token)
    exp = json.loads(_b64(token.split(".")[1]))["exp"]
    assert metrics(t)["tutord_authcache_entries"] == 1
    while time.time() < exp - 0.3:
        expect(t, "GET", "/api/v1/me", token, 200)
        time.sleep(0.1)
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    expect(t, "GET", "/api/v1/me", token, 401)
    assert wait_for(lambda: metrics(t)["tutord_authcache_entries"] == 0, 3)


def _b64(part):
    import base64
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- PostgreSQL restarted ---------------------------------------------------------------------

def _pg(*args, check=True):
    res = subprocess.run(["runuser", "-u", "postgres", "--"] + list(args),
                         capture_output=True, text=True, timeout=120)
    if check:
        assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res


@pytest.fixture
def private_pg(harness):
    """A PostgreSQL cluster of this test's own, so restarting it disturbs no other test."""
    root = tempfile.mkdtemp(prefix="tutord-authpg-")
    os.chmod(root, 0o755)
    data, sock = os.path.join(root, "data"), os.path.join(root, "run")
    os.mkdir(sock)
    shutil.chown(root, "postgres")
    shutil.chown(sock, "postgres")
    _pg(PG_BIN + "/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    opts = "-k %s -c listen_addresses=''" % sock
    _pg(PG_BIN + "/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(root, "log"), "-w", "start")
    conninfo = "host=%s user=postgres dbname=postgres" % sock
    env = dict(os.environ, TUTORD_DB=conninfo)
    res = subprocess.run([os.path.join(harness.build_dir(), "tutorctl"), "migrate",
                          os.path.join(harness.source_dir, "schema")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr

    def restart(sql_before=None, sql_after=None):
        if sql_before:
            psql(sql_before)
        _pg(PG_BIN + "/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(root, "log"),
            "-w", "-m", "fast", "restart")
        if sql_after:
            psql(sql_after)

    def psql(sql):
        res = subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()

    yield type("PG", (), {"conninfo": conninfo, "restart": staticmethod(restart),
                          "psql": staticmethod(psql)})
    _pg(PG_BIN + "/pg_ctl", "-D", data, "-m", "immediate", "stop", check=False)
    shutil.rmtree(root, ignore_errors=True)


def _session_of(token):
    return json.loads(_b64(token.split(".")[1]))["sid"]


def test_postgres_restart_keeps_revocation_strict(tutord_factory, private_pg):
    one = tutord_factory(TUTORD_DB=private_pg.conninfo, **FAST)
    two = tutord_factory(TUTORD_DB=private_pg.conninfo, **FAST)
    for t in (one, two):
        assert wait_for(lambda t=t: metrics(t).get("tutord_authcache_live") == 1, 20)
    email, _, keep = register(one, "restart")
    before, after = login(one, email), login(one, email)
    for tok in (keep, before, after):
        cached_on(one, tok)
        cached_on(two, tok)
    revoke = "UPDATE identity_sessions SET revoked_at = now() WHERE id = '%s'"
    # One session revoked just before the restart, one just after it (before the bridges are
    # back on LISTEN: the notification for it is sent to nobody)
    private_pg.restart(sql_before=revoke % _session_of(before),
                       sql_after=revoke % _session_of(after))
    for t in (one, two):
        for tok in (before, after):
            # 401 once identity is reconnected; 503 while it is not; never 200
            got = wait_for(lambda t=t, tok=tok: (lambda s: s if s != 503 else None)(
                req(t, "GET", "/api/v1/me", tok)[0]), 20)
            assert got == 401, got
        assert wait_for(lambda t=t: req(t, "GET", "/api/v1/me", keep)[0] == 200, 20)
    # Listening again: the cache comes back, empty at first, and still honours revocations
    for t in (one, two):
        assert wait_for(lambda t=t: metrics(t).get("tutord_authcache_live") == 1, 20)
        assert metrics(t)["tutord_authcache_listen_connects_total"] >= 2
        cached_on(t, keep)
    expect(one, "POST", "/api/v1/auth/logout", keep, 204)
    expect(two, "GET", "/api/v1/me", keep, 401)


def test_cache_off_without_listen(tutord_factory):
    """TUTORD_AUTHCACHE_MAX=0: no cache at all; everything still works."""
    t = tutord_factory(TUTORD_AUTHCACHE_MAX="0", **FAST)
    _, _, token = register(t, "nocache")
    expect(t, "GET", "/api/v1/me", token, 200)
    assert "tutord_authcache_live" not in metrics(t)
    expect(t, "POST", "/api/v1/auth/logout", token, 204)
    expect(t, "GET", "/api/v1/me", token, 401)


# -- identity's `me` cache (actors/identity/td_identity_notify.c) ------------------------------

def _psql(sql):
    res = subprocess.run(["psql", os.environ["TUTORD_TEST_DB"], "-v", "ON_ERROR_STOP=1", "-At",
                          "-c", sql], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_me_is_cached_and_dropped_on_notification(tutord_factory):
    t = tutord_factory(**FAST)
    _, uid, token = register(t, "mecache")
    # A write that sends no notification (triggers off in that session) is not seen: the
    # answer comes from the cache (a store may be refused when an invalidation raced it, as
    # other tests write to this database: then try again)
    shown = "mecache"
    for attempt in range(10):
        expect(t, "GET", "/api/v1/me", token, 200)
        _psql("SET session_replication_role = replica; "
              "UPDATE identity_users SET name = 'silent%d' WHERE id = '%s'" % (attempt, uid))
        name = expect(t, "GET", "/api/v1/me", token, 200)["user"]["name"]
        if name == shown:
            break
        shown = name
    else:
        pytest.fail("`me` never came from the cache")
    # ... and a normal write is, as soon as its notification arrives
    _psql("UPDATE identity_users SET name = 'loud' WHERE id = '%s'" % uid)
    assert wait_for(lambda: expect(t, "GET", "/api/v1/me", token, 200)["user"]["name"] == "loud", 5)
    # Org names too
    org = _org(t, token, "meorg")
    assert [o["name"] for o in expect(t, "GET", "/api/v1/me", token, 200)["orgs"]] == ["meorg"]
    _psql("UPDATE identity_orgs SET name = 'renamed' WHERE id = '%s'" % org)
    assert wait_for(lambda: [o["name"] for o in expect(t, "GET", "/api/v1/me", token,
                                                       200)["orgs"]] == ["renamed"], 5)


def test_me_through_the_other_process_shows_changes_at_once(pair):
    one, two = pair
    _, _, admin = register(one, "meadmin")
    member_email, member_id, member = register(one, "memember")
    org = _org(one, admin, "meroles")
    expect(one, "POST", "/api/v1/orgs/%s/members" % org, admin, 201,
           {"email": member_email, "role": "learner"})
    cohort = expect(one, "POST", "/api/v1/orgs/%s/cohorts" % org, admin, 201, {"name": "MC"})["id"]
    for i in range(ROUNDS):
        role = "mentor" if i % 2 == 0 else "learner"
        expect(two, "GET", "/api/v1/me", member, 200)          # cached in two's identity
        expect(one, "PUT", "/api/v1/orgs/%s/members/%s" % (org, member_id), admin, 200,
               {"role": role})
        me = expect(two, "GET", "/api/v1/me", member, 200)
        assert [o["role"] for o in me["orgs"]] == [role], (i, me)
        expect(one, "POST", "/api/v1/cohorts/%s/members" % cohort, admin, 201,
               {"user_id": member_id, "role": "learner"})
        assert [c["id"] for c in expect(two, "GET", "/api/v1/me", member, 200)["cohorts"]] == [cohort]
        expect(one, "DELETE", "/api/v1/cohorts/%s/members/%s" % (cohort, member_id), admin, 204)
        assert expect(two, "GET", "/api/v1/me", member, 200)["cohorts"] == []
