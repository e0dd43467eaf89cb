"""RBAC end to end with the real ``pulp`` CLI 0.41.1 as admin, alice, bob and carol.

admin creates alice (repository and remote creator), bob (viewer of alice's repository through a
group) and carol (no roles). alice syncs, publishes and distributes; bob can look but not touch;
carol sees nothing; role assignments, roles and access policies are managed through the CLI.
"""

import json
import subprocess
import uuid

import pytest
import requests

from tests.fixtures import FixtureServer, make_file_fixture
from tests.stack import BIN

pytestmark = pytest.mark.functional

PASSWORDS = {
    "alice": "Alice-Sees-Far-2024",
    "bob": "Bob-Reads-Much-2024",
    "carol": "Carol-Has-Nil-24",
}


def as_user(stack, user: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [
        str(BIN / "pulp"),
        "--base-url",
        stack.base_url,
        "--username",
        user,
        "--password",
        PASSWORDS[user],
        *args,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=stack.env)
    if check and res.returncode != 0:
        raise AssertionError(f"{user}: pulp {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}")
    return res


def out(res: subprocess.CompletedProcess):
    return json.loads(res.stdout) if res.stdout.strip() else None


def admin(stack, *args: str):
    return out(stack.pulp(*args))


def refused(stack, user: str, *args: str) -> str:
    res = as_user(stack, user, *args, check=False)
    assert res.returncode != 0, f"{user}: pulp {' '.join(args)} should fail:\n{res.stdout}"
    return res.stdout + res.stderr


@pytest.fixture(scope="module")
def people(stack):
    suffix = uuid.uuid4().hex[:6]
    names = {}
    for user in list(PASSWORDS):
        login = f"{user}-{suffix}"
        names[user] = login
        PASSWORDS[login] = PASSWORDS[user]
    weak = stack.pulp(
        "user", "create", "--username", f"weak-{suffix}", "--password", "123", check=False
    )
    assert weak.returncode != 0 and "password" in (weak.stdout + weak.stderr).lower()
    for user, login in names.items():
        made = admin(stack, "user", "create", "--username", login, "--password", PASSWORDS[user])
        assert made["username"] == login and "password" not in made
    creators = ("filerepository", "fileremote", "filepublication", "filedistribution")
    for role in (f"file.{model}_creator" for model in creators):
        admin(stack, "user", "role-assignment", "add", "--username", names["alice"],
              "--role", role, "--object", "")  # fmt: skip
    admin(stack, "group", "create", "--name", f"readers-{suffix}")
    admin(stack, "group", "user", "add", "--group", f"readers-{suffix}", "--username", names["bob"])
    names["group"] = f"readers-{suffix}"
    return names


def test_three_users(stack, workers, people, tmp_path):
    alice, bob, carol, group = people["alice"], people["bob"], people["carol"], people["group"]
    tree = make_file_fixture(tmp_path / "origin", count=3, size=500)
    repo, remote, dist = (f"{p}-{uuid.uuid4().hex[:6]}" for p in ("repo", "remote", "dist"))
    with FixtureServer(tree.root) as server:
        out(as_user(stack, alice, "file", "remote", "create", "--name", remote,
                    "--url", server.url + "PULP_MANIFEST"))  # fmt: skip
        created = out(as_user(stack, alice, "file", "repository", "create", "--name", repo))
        as_user(stack, alice, "file", "repository", "sync", "--name", repo, "--remote", remote)
    repo_href = created["pulp_href"]
    shown = out(as_user(stack, alice, "file", "repository", "show", "--name", repo))
    assert shown["latest_version_href"].endswith("/versions/1/")
    as_user(stack, alice, "file", "publication", "create", "--repository", repo)
    as_user(stack, alice, "file", "distribution", "create", "--name", dist,
            "--base-path", dist, "--repository", repo)  # fmt: skip
    assert (
        out(as_user(stack, alice, "file", "distribution", "show", "--name", dist))["name"] == dist
    )

    perms = out(
        as_user(stack, alice, "file", "repository", "role", "my-permissions", "--name", repo)
    )
    assert "file.sync_filerepository" in perms["permissions"]

    # bob sees the repository through his group, and nothing more.
    admin(stack, "group", "role-assignment", "add", "--group", group,
          "--role", "file.filerepository_viewer", "--object", repo_href)  # fmt: skip
    listed = out(as_user(stack, bob, "file", "repository", "list"))
    assert [r["name"] for r in listed] == [repo]
    assert out(as_user(stack, bob, "file", "repository", "show", "--name", repo))["name"] == repo
    # pulp-glue reports a 403 as "not authorized"; bob can't even see the remote to sync with.
    for args in (
        ("file", "repository", "update", "--name", repo, "--description", "bob was here"),
        ("file", "repository", "destroy", "--name", repo),
    ):
        assert "not authorized" in refused(stack, bob, *args)
    text = refused(stack, bob, "file", "repository", "sync", "--name", repo, "--remote", remote)
    assert "could not find file remote" in text.lower(), text
    # Over HTTP, with the remote's href: the sync itself is refused.
    remote_href = admin(stack, "file", "remote", "show", "--name", remote)["pulp_href"]
    r = requests.post(
        stack.url(f"{repo_href}sync/"),
        json={"remote": remote_href},
        auth=(bob, PASSWORDS[bob]),
        timeout=30,
    )
    assert r.status_code == 403, r.text
    assert out(as_user(stack, bob, "file", "remote", "list")) == []

    # carol holds nothing: empty lists, and alice's objects don't exist for her.
    assert out(as_user(stack, carol, "file", "repository", "list")) == []
    assert out(as_user(stack, carol, "file", "distribution", "list")) == []
    assert out(as_user(stack, carol, "task", "list")) == []
    refused(stack, carol, "file", "repository", "show", "--href", repo_href)
    refused(stack, carol, "file", "repository", "create", "--name", f"carol-{repo}")

    # alice sees her own tasks only.
    alice_tasks = out(as_user(stack, alice, "task", "list", "--limit", "100"))
    assert alice_tasks and all(
        t["created_by"].endswith(f"/users/{_uid(stack, alice)}/") for t in alice_tasks
    )

    # Object roles through the CLI: alice lets carol view, then takes it back.
    as_user(stack, alice, "file", "repository", "role", "add", "--name", repo,
            "--role", "file.filerepository_viewer", "--user", carol)  # fmt: skip
    roles = out(as_user(stack, alice, "file", "repository", "role", "list", "--name", repo))
    viewer = next(r for r in roles["roles"] if r["role"] == "file.filerepository_viewer")
    assert carol in viewer["users"] and group in viewer["groups"]
    assert (
        out(as_user(stack, carol, "file", "repository", "show", "--href", repo_href))["name"]
        == repo
    )
    as_user(stack, alice, "file", "repository", "role", "remove", "--name", repo,
            "--role", "file.filerepository_viewer", "--user", carol)  # fmt: skip
    refused(stack, carol, "file", "repository", "show", "--href", repo_href)

    assignments = admin(stack, "user", "role-assignment", "list", "--username", alice)
    assert {"file.filerepository_creator", "file.filerepository_owner"} <= {
        a["role"] for a in assignments
    }
    admin(stack, "user", "role-assignment", "remove", "--username", alice,
          "--role", "file.filerepository_creator", "--object", "")  # fmt: skip
    refused(stack, alice, "file", "repository", "create", "--name", f"second-{repo}")


def _uid(stack, username: str) -> int:
    return admin(stack, "user", "show", "--username", username)["id"]


def test_roles_and_access_policies(stack, people):
    carol = people["carol"]
    name = f"my.reader-{uuid.uuid4().hex[:6]}"
    made = admin(
        stack, "role", "create", "--name", name, "--permission", "file.view_filerepository"
    )
    assert made["permissions"] == ["file.view_filerepository"] and made["locked"] is False
    assert admin(stack, "role", "show", "--name", name)["name"] == name
    bad = stack.pulp(
        "role", "create", "--name", f"{name}-x", "--permission", "file.fly", check=False
    )
    assert bad.returncode != 0 and "file.fly" in bad.stdout + bad.stderr
    locked = stack.pulp(
        "role", "update", "--name", "core.task_owner", "--description", "x", check=False
    )
    assert locked.returncode != 0
    admin(stack, "role", "destroy", "--name", name)

    policy = admin(stack, "access-policy", "show", "--viewset-name", "remotes/file/file")
    assert policy["customized"] is False
    statements = json.dumps([{"action": ["list"], "principal": f"user:{carol}", "effect": "allow"}])
    malformed = '[{"action": "list", "effect": "perhaps"}]'
    bad = stack.pulp("access-policy", "update", "--viewset-name", "remotes/file/file",
                     "--statements", malformed, check=False)  # fmt: skip
    assert bad.returncode != 0
    assert (
        admin(stack, "access-policy", "show", "--viewset-name", "remotes/file/file")["customized"]
        is False
    )
    stack.pulp("access-policy", "update", "--viewset-name", "remotes/file/file",
               "--statements", statements)  # fmt: skip
    updated = admin(stack, "access-policy", "show", "--viewset-name", "remotes/file/file")
    assert updated["customized"] is True and updated["statements"] == json.loads(statements)
    as_user(stack, carol, "file", "remote", "list")
    reset = admin(stack, "access-policy", "reset", "--viewset-name", "remotes/file/file")
    assert reset["customized"] is False and reset["statements"] == policy["statements"]
    assert out(as_user(stack, carol, "file", "remote", "list")) == []
