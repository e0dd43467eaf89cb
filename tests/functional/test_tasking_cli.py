"""Tasking through the real pulp CLI on the shared stack: chunked artifact upload (uploads API +
commit task), orphan cleanup, task list/show/cancel/destroy/purge, worker list."""

import hashlib
import json
import os

import pytest


def cli_json(stack, *args):
    return json.loads(stack.pulp(*args).stdout)


def test_chunked_artifact_upload_and_orphan_cleanup(stack, workers, tmp_path):
    data = os.urandom(5000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    res = stack.pulp("artifact", "upload", "--file", str(path), "--chunk-size", "2000")
    artifact = json.loads(res.stdout)
    assert artifact["sha256"] == sha and artifact["size"] == 5000
    # the commit task created it, from 3 chunks
    tasks = cli_json(stack, "task", "list", "--name", "pulpcore.app.tasks.upload.commit")
    assert tasks and tasks[0]["state"] == "completed"
    assert tasks[0]["created_resources"] == [artifact["pulp_href"]]
    assert stack.get("uploads/").json()["count"] == 0  # the upload is gone after commit
    # the artifact is an orphan: a cleanup with no protection time removes it and its file
    stack.pulp("orphan", "cleanup", "--protection-time", "0")
    r = stack.get(artifact["pulp_href"])
    assert r.status_code == 404
    assert not list((stack.root / "media").rglob(sha[2:]))


def test_task_and_worker_commands(stack, workers):
    listed = cli_json(stack, "worker", "list")
    assert len(listed) >= 2 and all(w["last_heartbeat"] for w in listed)
    res = stack.pulp("task", "purge", "--finished-before", "2000-01-01", check=False)
    assert res.returncode == 0, res.stderr
    done = cli_json(stack, "task", "list", "--state", "completed", "--limit", "1")
    href = done[0]["pulp_href"]
    assert cli_json(stack, "task", "show", "--href", href)["state"] == "completed"
    # canceling a finished task is refused with a clear message
    res = stack.pulp("task", "cancel", "--href", href, check=False)
    assert res.returncode != 0
    assert "cannot be canceled" in res.stdout + res.stderr
    r = stack.api.patch(stack.url(href), json={"state": "canceled"}, timeout=30)
    assert r.status_code == 409 and "already completed" in r.json()["detail"]
    stack.pulp("task", "destroy", "--href", href)
    assert stack.get(href).status_code == 404


@pytest.mark.parametrize(
    "query",
    ["state=nope", "started_at__gte=yesterday", "worker=/pulp/api/v3/tasks/", "bogus=1"],
)
def test_bad_task_filters_are_rejected(stack, query):
    r = stack.get(f"tasks/?{query}")
    assert r.status_code == 400, r.text
    assert r.json()
