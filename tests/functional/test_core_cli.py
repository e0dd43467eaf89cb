"""End to end with the real ``pulp`` CLI 0.41.1 against a gunicorn-served stack.

``pulp status``, ``pulp artifact upload/list/show`` and an anonymous call refused with 401. The
uploaded file is far below the CLI's chunk size, so it is sent to ``artifacts/`` directly.
"""

import hashlib
import json
import os
import subprocess

import requests

from tests.stack import BIN


def test_pulp_status(stack):
    body = json.loads(stack.pulp("status").stdout)
    versions = {v["component"]: v["version"] for v in body["versions"]}
    assert versions["core"] == "3.49.0"
    assert body["database_connection"]["connected"] is True


def test_artifact_upload_list_show(stack, tmp_path):
    data = os.urandom(20_000)
    sha256 = hashlib.sha256(data).hexdigest()
    path = tmp_path / "artifact.bin"
    path.write_bytes(data)

    up = stack.pulp("artifact", "upload", "--file", str(path))
    created = json.loads(up.stdout)
    assert created["sha256"] == sha256 and created["size"] == len(data)
    href = created["pulp_href"]
    assert href.startswith("/pulp/api/v3/artifacts/")

    # Stored under MEDIA_ROOT by sha256, byte for byte.
    media = stack.env["PULP_MEDIA_ROOT"]
    with open(os.path.join(media, created["file"]), "rb") as fp:
        assert fp.read() == data

    listed = json.loads(stack.pulp("artifact", "list", "--sha256", sha256).stdout)
    assert [a["pulp_href"] for a in listed] == [href]
    everything = json.loads(stack.pulp("artifact", "list", "--limit", "1000").stdout)
    assert href in {a["pulp_href"] for a in everything}

    shown = json.loads(stack.pulp("artifact", "show", "--href", href).stdout)
    assert shown["sha256"] == sha256 and shown["file"] == created["file"]

    # Uploading the same bytes again finds the existing artifact instead of failing.
    again = stack.pulp("artifact", "upload", "--file", str(path))
    assert "already exists" in again.stderr


def test_artifact_upload_wrong_checksum_over_http(stack, tmp_path):
    data = os.urandom(1000)
    r = stack.post(
        "artifacts/",
        files={"file": ("x.bin", data)},
        data={"sha256": hashlib.sha256(b"something else").hexdigest()},
    )
    assert r.status_code == 400 and "sha256" in r.json()
    assert r.headers["Content-Type"] == "application/json"
    listing = stack.get("artifacts/", params={"sha256": hashlib.sha256(data).hexdigest()})
    assert listing.json()["count"] == 0


def run_cli(stack, *args: str) -> subprocess.CompletedProcess:
    """The pulp CLI with only the options given (no credentials added)."""
    return subprocess.run(
        [str(BIN / "pulp"), "--base-url", stack.base_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=stack.env,
    )


def test_anonymous_call_is_refused_with_401(stack):
    # Without credentials pulp-glue refuses to call an operation that declares basic/cookie auth.
    res = run_cli(stack, "artifact", "list")
    assert res.returncode != 0 and "auth" in res.stderr.lower()
    # Status declares no security: anonymous is fine.
    assert json.loads(run_cli(stack, "status").stdout)["database_connection"]["connected"]
    # Wrong credentials reach the server, which answers 401.
    log_start = len(stack.log("api"))
    res = run_cli(stack, "--username", "admin", "--password", "wrong", "artifact", "list")
    assert res.returncode != 0
    # pulp-glue turns an HTTP 401 into this message; the access log shows the server's answer.
    assert "Authentication failed for artifacts_list" in res.stderr, res.stderr
    assert any(
        '"GET /pulp/api/v3/artifacts/' in line and '" 401 ' in line
        for line in stack.log("api")[log_start:].splitlines()
    )
    # An anonymous HTTP call gets 401 with a Basic challenge, in Pulp's error shape.
    r = requests.get(stack.url("artifacts/"), timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic")
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Authentication credentials were not provided."}


def test_correlation_id_through_gunicorn(stack):
    good = "5f0c3a1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
    r = stack.get("artifacts/", headers={"Correlation-ID": good})
    assert r.status_code == 200 and r.headers["Correlation-ID"] == good
    for bad in ("bad id", "deadbeefdeadbeefdeadbeefdeadxxxx"):
        r = requests.get(stack.url("artifacts/"), headers={"Correlation-ID": bad}, timeout=10)
        assert r.status_code == 401 and r.headers["Correlation-ID"] != bad


def test_correlation_id_through_the_cli(stack):
    """pulp-glue checks the echoed id: a malformed one is replaced, so the CLI refuses, as with
    Pulp; a well-formed one is kept for every request of the command."""
    good = "0123456789abcdef0123456789abcdef"
    body = json.loads(stack.pulp("--cid", good, "status").stdout)
    assert body["database_connection"]["connected"] is True
    res = stack.pulp("--cid", "deadbeefdeadbeefdeadbeefdeadxxxx", "status", check=False)
    assert res.returncode != 0
    assert "Correlation ID returned from server did not match" in res.stderr


def test_concurrent_uploads_of_the_same_bytes(stack):
    """Racing uploads: one artifact whose file is intact, the others a clear 400, no stray files.

    Several rounds, because which request loses (in validation or at the unique index) and
    whether its file lands before or after the winner's varies from run to run.
    """
    import concurrent.futures

    workdir = stack.env["PULP_WORKING_DIRECTORY"]
    before = set(os.listdir(workdir))
    for _ in range(4):
        data = os.urandom(300_000)
        sha256 = hashlib.sha256(data).hexdigest()

        def post(_, data=data):
            return stack.post("artifacts/", files={"file": ("same.bin", data)})

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(post, range(6)))
        codes = sorted(r.status_code for r in responses)
        assert codes.count(201) == 1, [(r.status_code, r.text[:200]) for r in responses]
        assert set(codes) == {201, 400}
        for r in responses:
            if r.status_code == 400:
                assert "already exists" in r.json()["non_field_errors"][0], r.text
        listing = stack.get("artifacts/", params={"sha256": sha256}).json()
        assert listing["count"] == 1
        path = os.path.join(stack.env["PULP_MEDIA_ROOT"], listing["results"][0]["file"])
        with open(path, "rb") as f:
            assert f.read() == data
    assert set(os.listdir(workdir)) == before


def test_password_change_is_honoured_by_every_api_worker_at_once(stack):
    """Each gunicorn worker caches verified credentials; none may keep accepting an old one."""
    create = (
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user('carol', password='carol-old')"
    )
    stack.manage("shell", "-c", create)
    url = stack.url("artifacts/?limit=1")
    # Enough requests that every worker has verified (and cached) the old password.
    for _ in range(8):
        assert requests.get(url, auth=("carol", "carol-old"), timeout=30).status_code == 200
    change = (
        "from django.contrib.auth import get_user_model; "
        "u = get_user_model().objects.get(username='carol'); "
        "u.set_password('carol-new'); u.save()"
    )
    stack.manage("shell", "-c", change)
    for _ in range(8):
        assert requests.get(url, auth=("carol", "carol-old"), timeout=30).status_code == 401
    assert requests.get(url, auth=("carol", "carol-new"), timeout=30).status_code == 200


def test_reset_admin_password_command(stack):
    """The real ``pulpcore-manager reset-admin-password --random`` against the running API."""
    original = stack.admin_password
    url = stack.url("artifacts/?limit=1")
    try:
        res = stack.manage("reset-admin-password", "--random")
        line = next(x for x in res.stdout.splitlines() if "Generated password" in x)
        new = line.split(": ", 1)[1].strip()
        assert requests.get(url, auth=("admin", new), timeout=30).status_code == 200
        assert requests.get(url, auth=("admin", original), timeout=30).status_code == 401
        res = stack.manage("reset-admin-password", "--password", "x", "--random", check=False)
        assert res.returncode != 0 and "not allowed with argument" in res.stderr
    finally:
        stack.manage("reset-admin-password", f"--password={original}")
    assert requests.get(url, auth=("admin", original), timeout=30).status_code == 200
