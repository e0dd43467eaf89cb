"""Content guards end to end: the real ``pulp`` CLI creates each guard type and attaches it to a
file distribution; the real ``pulp-content`` process serves with and without the credential.

nginx's part (verifying the TLS client certificate, forwarding it URL-encoded as X-CLIENT-CERT) is
played by the test client, except in the last test, which puts the project's own nginx site (a
real nginx process) in front of the content app.
"""

import json
import subprocess
import time
import uuid

import pytest
import requests

from tests.certs import CA, header
from tests.stack import BIN

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def content(stack):
    stack.start_content()
    yield stack
    stack.stop("content")


def cli(stack, *args):
    out = stack.pulp(*args).stdout
    return json.loads(out) if out.strip() else None


def eventually(fetch, status: int, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        r = fetch()
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


@pytest.fixture(scope="module")
def served(content, workers, tmp_path_factory):
    """A file repository with one file, distributed at guarded/<tag>."""
    stack = content
    tag = uuid.uuid4().hex[:8]
    src = tmp_path_factory.mktemp("guards") / "secret.txt"
    src.write_bytes(b"top secret " + tag.encode())
    cli(stack, "file", "repository", "create", "--name", f"gr-{tag}")
    cli(
        stack, "file", "content", "upload", "--file", str(src), "--relative-path", "secret.txt",
        "--repository", f"gr-{tag}",
    )  # fmt: skip
    cli(
        stack, "file", "distribution", "create", "--name", f"gd-{tag}", "--base-path",
        f"guarded/{tag}", "--repository", f"gr-{tag}",
    )  # fmt: skip
    url = f"{stack.content_origin}/pulp/content/guarded/{tag}/secret.txt"
    assert eventually(lambda: requests.get(url, timeout=10), 200).status_code == 200
    return stack, tag, url, src.read_bytes()


def attach(stack, tag: str, guard: str) -> None:
    cli(stack, "file", "distribution", "update", "--name", f"gd-{tag}", "--content-guard", guard)


def test_header_guard_via_cli(served):
    stack, tag, url, data = served
    g = cli(
        stack, "content-guard", "header", "create", "--name", f"h-{tag}",
        "--header-name", "X-Secret", "--header-value", "open-sesame",
    )  # fmt: skip
    assert g["header_name"] == "X-Secret"
    attach(stack, tag, f"core:header:h-{tag}")
    r = eventually(lambda: requests.get(url, timeout=10), 403)
    assert r.status_code == 403 and data not in r.content
    r = requests.get(url, headers={"X-Secret": "open-sesame"}, timeout=10)
    assert r.status_code == 200 and r.content == data
    listed = cli(stack, "content-guard", "list", "--name", f"h-{tag}")
    assert [x["name"] for x in listed] == [f"h-{tag}"]


def test_x509_and_composite_via_cli(served, tmp_path):
    stack, tag, url, data = served
    ca = CA.create(f"CLI CA {tag}")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(ca.pem)
    cli(stack, "content-guard", "x509", "create", "--name", f"x-{tag}", "--ca-certificate",
        f"@{ca_file}")  # fmt: skip
    attach(stack, tag, f"certguard:x509:x-{tag}")
    good = {"X-CLIENT-CERT": header(ca.issue())}
    r = eventually(lambda: requests.get(url, headers=good, timeout=10), 200)
    assert r.status_code == 200 and r.content == data
    assert requests.get(url, timeout=10).status_code == 403
    foreign = {"X-CLIENT-CERT": header(CA.create("Foreign").issue())}
    assert requests.get(url, headers=foreign, timeout=10).status_code == 403
    assert requests.get(url, headers={"X-CLIENT-CERT": "junk"}, timeout=10).status_code == 403

    # composite of header + x509: either credential opens it, none does not
    cli(
        stack, "content-guard", "header", "create", "--name", f"ch-{tag}",
        "--header-name", "X-Token", "--header-value", "t0k3n",
    )  # fmt: skip
    comp = cli(
        stack, "content-guard", "composite", "create", "--name", f"c-{tag}",
        "--guard", f"core:header:ch-{tag}", "--guard", f"certguard:x509:x-{tag}",
    )  # fmt: skip
    assert len(comp["guards"]) == 2
    attach(stack, tag, f"core:composite:c-{tag}")
    token = {"X-Token": "t0k3n"}
    assert eventually(lambda: requests.get(url, headers=token, timeout=10), 200).status_code == 200
    assert requests.get(url, headers=good, timeout=10).status_code == 200
    assert requests.get(url, timeout=10).status_code == 403
    assert requests.get(url, headers={"X-Token": "nope"}, timeout=10).status_code == 403


def test_rhsm_and_redirect_guards_via_cli(served, tmp_path):
    stack, tag, url, data = served
    ca = CA.create(f"RHSM CA {tag}")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(ca.pem)
    cli(stack, "content-guard", "rhsm", "create", "--name", f"r-{tag}", "--ca-certificate",
        f"@{ca_file}")  # fmt: skip
    attach(stack, tag, f"certguard:rhsm:r-{tag}")
    entitled = {"X-CLIENT-CERT": header(ca.issue(content_paths=[f"/guarded/{tag}"]))}
    elsewhere = {"X-CLIENT-CERT": header(ca.issue(content_paths=["/guarded/other"]))}
    assert eventually(lambda: requests.get(url, headers=entitled, timeout=10), 200).content == data
    assert requests.get(url, headers=elsewhere, timeout=10).status_code == 403

    redirect = cli(stack, "content-guard", "redirect", "create", "--name", f"cr-{tag}")
    assert redirect["name"] == f"cr-{tag}"
    attach(stack, tag, f"core:content_redirect:cr-{tag}")
    assert eventually(lambda: requests.get(url, timeout=10), 403).status_code == 403

    # destroying the guard in use detaches it: the distribution serves openly again
    cli(stack, "content-guard", "redirect", "destroy", "--name", f"cr-{tag}")
    dist = cli(stack, "file", "distribution", "show", "--name", f"gd-{tag}")
    assert dist["content_guard"] is None
    assert eventually(lambda: requests.get(url, timeout=10), 200).content == data


def test_bad_guard_input_via_cli(served, tmp_path):
    stack, tag, _, _ = served
    bad = tmp_path / "bad.pem"
    bad.write_text("this is not PEM")
    res = stack.pulp(
        "content-guard", "x509", "create", "--name", f"bad-{tag}", "--ca-certificate", f"@{bad}",
        check=False,
    )  # fmt: skip
    assert res.returncode != 0 and "PEM" in res.stdout + res.stderr
    res = stack.pulp(
        "content-guard", "header", "create", "--name", f"bad-{tag}", "--header-name", "X",
        "--header-value", "v", "--jq-filter", ".a[[[", check=False,
    )  # fmt: skip
    assert res.returncode != 0 and "jq" in res.stdout + res.stderr


def test_rbac_guard_via_cli_as_three_users(served):
    """alice creates an RBAC guard and lets bob's group download; carol and anonymous can't."""
    stack, tag, url, data = served
    pw = {"alice": "Sunny-Guards-2024", "bob": "Quiet-Downloads-2024", "carol": "Empty-Hands-2024"}
    login = {name: f"{name}-g{tag}" for name in pw}
    for name, user in login.items():
        cli(stack, "user", "create", "--username", user, "--password", pw[name])
    group = f"downloaders-{tag}"
    cli(stack, "group", "create", "--name", group)
    cli(stack, "group", "user", "add", "--group", group, "--username", login["bob"])
    cli(stack, "user", "role-assignment", "add", "--username", login["alice"],
        "--role", "core.rbaccontentguard_creator", "--object", "")  # fmt: skip

    def as_user(name, *args, check=True):
        cmd = [str(BIN / "pulp"), "--base-url", stack.base_url, "--username", login[name],
               "--password", pw[name], *args]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=stack.env)
        assert not check or res.returncode == 0, f"{name}: {args}: {res.stdout}{res.stderr}"
        return res

    made = json.loads(
        as_user("alice", "content-guard", "rbac", "create", "--name", f"rbac-{tag}").stdout
    )
    # The creator owns the guard and may download through it (creation hooks).
    assert [u["username"] for u in made["users"]] == [login["alice"]] and made["groups"] == []
    shown = json.loads(
        as_user(
            "alice", "content-guard", "rbac", "assign", "--name", f"rbac-{tag}", "--group", group
        ).stdout  # fmt: skip
    )
    assert shown["role"] == "core.rbaccontentguard_downloader" and shown["groups"] == [group]
    guard = json.loads(
        as_user("alice", "content-guard", "rbac", "show", "--name", f"rbac-{tag}").stdout
    )
    assert [g["name"] for g in guard["groups"]] == [group]
    assert guard["groups"][0]["pulp_href"].endswith(f"/groups/{guard['groups'][0]['id']}/")
    # carol holds no role on the guard: she can neither see nor change it.
    assert as_user("carol", "content-guard", "rbac", "show", "--name", f"rbac-{tag}",
                   check=False).returncode != 0  # fmt: skip
    assert as_user("carol", "content-guard", "rbac", "assign", "--name", f"rbac-{tag}",
                   "--user", login["carol"], check=False).returncode != 0  # fmt: skip

    attach(stack, tag, f"core:rbac:rbac-{tag}")
    r = eventually(lambda: requests.get(url, timeout=10), 401)
    assert r.status_code == 401 and data not in r.content
    assert r.headers["WWW-Authenticate"].startswith("Basic")

    def fetch(name, password=None):
        return requests.get(url, auth=(login[name], password or pw[name]), timeout=10)

    for name in ("alice", "bob"):
        r = fetch(name)
        assert r.status_code == 200 and r.content == data, (name, r.text)
    r = fetch("carol")
    assert r.status_code == 403 and data not in r.content and login["carol"] in r.text
    assert fetch("bob", "wrong-password").status_code == 401
    # Listings of the guarded distribution are guarded the same way.
    assert requests.get(url.rsplit("/", 1)[0] + "/", timeout=10).status_code == 401
    # The admin downloads as a superuser.
    assert requests.get(url, auth=("admin", stack.admin_password), timeout=10).status_code == 200

    # Taking the role away works on the next request (no cache holds permissions).
    as_user("alice", "content-guard", "rbac", "remove", "--name", f"rbac-{tag}", "--group", group)
    assert fetch("bob").status_code == 403
    assert fetch("alice").status_code == 200
    roles = json.loads(
        as_user("alice", "content-guard", "rbac", "role", "list", "--name", f"rbac-{tag}").stdout
    )
    assert {r["role"] for r in roles["roles"]} == {
        "core.rbaccontentguard_owner",
        "core.rbaccontentguard_downloader",
    }


def test_nginx_forwards_client_certificates_and_guard_headers(served, tmp_path):
    """The project's nginx site (as roles/pulp_webserver renders it) in front of the content app:
    a TLS client certificate reaches the x509 guard as X-CLIENT-CERT, a client can't forge that
    header, and a header guard's header (with '_') passes through."""
    from pathlib import Path

    from tests.bench.harness import Nginx, free_port

    stack, tag, url, data = served
    ca = CA.create(f"nginx CA {tag}")
    nginx = Nginx(
        checkout=Path(__file__).resolve().parents[3],
        directory=tmp_path,
        api_bind=f"127.0.0.1:{stack.api_port}",
        content_bind=f"127.0.0.1:{stack.content_port}",
        media_root=str(stack.root / "media"),
        static_root=str(stack.root / "assets"),
        ports=(free_port(), free_port(), free_port()),
        workers=1,
        site_vars={
            "pulp_webserver_client_cert_verify": "optional_no_ca",
            "pulp_webserver_content_guard_headers": ["X_Team_Token"],
        },
    ).start()
    try:
        path = url.split("/pulp/content/", 1)[1]
        via_nginx = f"https://127.0.0.1:{nginx.https_port}/pulp/content/{path}"
        cli(stack, "content-guard", "x509", "create", "--name", f"nx-{tag}",
            "--ca-certificate", ca.pem)  # fmt: skip
        attach(stack, tag, f"certguard:x509:nx-{tag}")
        cert, key = ca.issue_pair(cn="nginx-client")
        (tmp_path / "client.pem").write_text(cert)
        (tmp_path / "client.key").write_text(key)
        tls = (str(tmp_path / "client.pem"), str(tmp_path / "client.key"))

        r = eventually(lambda: requests.get(via_nginx, cert=tls, verify=False, timeout=10), 200)
        assert r.status_code == 200 and r.content == data
        assert requests.get(via_nginx, verify=False, timeout=10).status_code == 403
        # A certificate sent as a header by the client is dropped: nginx sets X-CLIENT-CERT itself.
        forged = {"X-CLIENT-CERT": header(cert)}
        r = requests.get(via_nginx, headers=forged, verify=False, timeout=10)
        assert r.status_code == 403 and data not in r.content

        cli(stack, "content-guard", "header", "create", "--name", f"nh-{tag}",
            "--header-name", "X_Team_Token", "--header-value", "team-secret")  # fmt: skip
        attach(stack, tag, f"core:header:nh-{tag}")
        token = {"X_Team_Token": "team-secret"}
        r = eventually(
            lambda: requests.get(via_nginx, headers=token, verify=False, timeout=10), 200
        )
        assert r.status_code == 200 and r.content == data
        assert requests.get(via_nginx, verify=False, timeout=10).status_code == 403
    finally:
        nginx.stop()
