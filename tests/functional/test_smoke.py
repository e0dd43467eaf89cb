"""The stack starts and answers status/ anonymously; the CLI talks to it."""

import json


def test_status_anonymous(stack):
    import requests

    r = requests.get(stack.url("status/"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    versions = {v["component"]: v["version"] for v in body["versions"]}
    assert versions["core"] == "3.49.0" and versions["file"] == "3.49.0"
    assert body["database_connection"]["connected"] is True


def test_pulp_cli_status(stack):
    res = stack.pulp("status")
    assert json.loads(res.stdout)["database_connection"]["connected"] is True
