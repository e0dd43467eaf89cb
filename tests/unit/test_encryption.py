"""Secrets at rest: remote credentials and task arguments are Fernet tokens in the database.

Every check reads the raw column with SQL, the way a database dump or a read-only SQL user sees
it; the key comes from the DB_ENCRYPTION_KEY file the test environment made.
"""

import base64
import importlib
import json
import logging
import os
import subprocess
import sys
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg2
import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils.module_loading import import_string

from pulpcore.app import crypto
from pulpcore.app.models import ProgressReport, Remote, Task
from pulpcore.tasking.context import reset_current_task, set_current_task
from tests import testenv

API = "/pulp/api/v3/"
REMOTES = f"{API}remotes/file/file/"
SECRETS = {
    "password": "s3cret-pass-Zq9",
    "proxy_password": "pr0xy-pass-Wk4",
    "client_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END",
}


@pytest.fixture
def client():
    admin = get_user_model().objects.create(username="admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    return c


def run(resp) -> Task:
    assert resp.status_code == 202, resp.content
    task = Task.objects.get(pk=resp.json()["task"].rstrip("/").rsplit("/", 1)[-1])
    token = set_current_task(task)
    try:
        import_string(task.name)(*(task.args or []), **(task.kwargs or {}))
    finally:
        reset_current_task(token)
    return task


def raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def key_cipher() -> Fernet:
    return Fernet(Path(settings.DB_ENCRYPTION_KEY).read_text().split()[0].encode())


def create_remote(client, name="r1", **extra) -> dict:
    body = {
        "name": name,
        "url": "http://example.test/PULP_MANIFEST",
        "username": "u",
        "proxy_url": "http://proxy.test:3128",
        "proxy_username": "pu",
        **SECRETS,
        **extra,
    }
    resp = client.post(REMOTES, body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert not any(v in resp.content.decode() for v in SECRETS.values())
    return resp.json()


@pytest.mark.django_db
def test_remote_secrets_are_tokens_at_rest(client):
    remote = create_remote(client)
    row = raw("SELECT password, proxy_password, client_key, username FROM core_remote")[0]
    cipher = key_cipher()
    for column, stored in zip(("password", "proxy_password", "client_key"), row[:3], strict=True):
        assert SECRETS[column] not in stored
        assert cipher.decrypt(stored.encode()).decode() == SECRETS[column]
    assert row[3] == "u"
    # The model and the downloader see clear values.
    obj = Remote.objects.get(name="r1")
    assert (obj.password, obj.proxy_password, obj.client_key) == tuple(
        SECRETS[k] for k in ("password", "proxy_password", "client_key")
    )
    # Write-only in every response: detail, list, and the fields filter.
    for body in (
        client.get(remote["pulp_href"]).json(),
        client.get(REMOTES).json()["results"][0],
        client.get(remote["pulp_href"], {"fields": "password,client_key"}).json(),
    ):
        text = str(body)
        assert not any(v in text for v in SECRETS.values()), body
        assert "password" not in body and "client_key" not in body
        assert "proxy_password" not in body


@pytest.mark.django_db
def test_secret_lookups_are_refused():
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError, match="encrypted"):
        list(Remote.objects.filter(password="guess"))
    assert list(Remote.objects.filter(password__isnull=True)) == []


@pytest.mark.django_db
def test_remote_update_task_arguments_are_encrypted(client, caplog):
    remote = create_remote(client)
    new_password = "n3w-pass-Hy7"
    caplog.set_level(logging.DEBUG)
    resp = client.patch(
        remote["pulp_href"],
        {"password": new_password, "proxy_password": "n3w-proxy-Lm2"},
        content_type="application/json",
    )
    assert resp.status_code == 202
    task_id = resp.json()["task"].rstrip("/").rsplit("/", 1)[-1]
    columns = {
        name
        for (name,) in raw(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'core_task'"
        )
    }
    assert {"enc_args", "enc_kwargs"} <= columns
    # The old clear-text columns stay (for the previous release during an upgade), always empty.
    assert not raw("SELECT 1 FROM core_task WHERE args IS NOT NULL OR kwargs IS NOT NULL")
    enc_args, enc_kwargs = raw(
        "SELECT enc_args, enc_kwargs FROM core_task WHERE pulp_id = %s", [task_id]
    )[0]
    assert new_password not in enc_kwargs and "n3w-proxy" not in enc_kwargs
    assert new_password in key_cipher().decrypt(enc_kwargs.encode()).decode()
    # The whole row, as text, holds no secret either (error, progress, anything).
    (row_text,) = raw("SELECT t::text FROM core_task t WHERE pulp_id = %s", [task_id])[0]
    assert new_password not in row_text
    # The task reads its arguments back in clear and applies them.
    task = Task.objects.get(pk=task_id)
    assert task.kwargs["data"]["password"] == new_password
    run(resp)
    assert Remote.objects.get(name="r1").password == new_password
    # The API's task view shows no argument and no secret.
    body = client.get(f"{API}tasks/{task_id}/").json()
    assert new_password not in str(body)
    # No log line and no progress report carries a secret.
    assert not [r for r in caplog.records if new_password in r.getMessage()]
    for pr in ProgressReport.objects.all():
        assert new_password not in f"{pr.message} {pr.code} {pr.suffix}"


@pytest.mark.django_db
def test_rotate_db_key_re_encrypts_under_the_new_key(client, tmp_path):
    remote = create_remote(client, name="r-rot")
    resp = client.patch(remote["pulp_href"], {"username": "v"}, content_type="application/json")
    assert resp.status_code == 202
    old_key = Path(settings.DB_ENCRYPTION_KEY).read_text().split()[0]
    new_key = Fernet.generate_key().decode()
    before = raw("SELECT password FROM core_remote")[0][0]
    task_before = raw("SELECT enc_kwargs FROM core_task WHERE enc_kwargs IS NOT NULL")
    assert task_before
    keyfile = tmp_path / "rotated.key"
    # Step of Pulp's recipe: the new key on the first line, the old one still readable.
    keyfile.write_text(f"{new_key}\n{old_key}\n")
    from django.test import override_settings

    try:
        with override_settings(DB_ENCRYPTION_KEY=str(keyfile)):
            crypto.reset()
            # Before rotation, values written under the old key still read (no downtime).
            assert Remote.objects.get(name="r-rot").password == SECRETS["password"]
            call_command("rotate-db-key", stdout=open(os.devnull, "w"))
            after = raw("SELECT password FROM core_remote")[0][0]
            assert after != before
            assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == SECRETS["password"]
            with pytest.raises(InvalidToken):
                Fernet(old_key.encode()).decrypt(after.encode())
            for (token,) in raw("SELECT enc_kwargs FROM core_task WHERE enc_kwargs IS NOT NULL"):
                Fernet(new_key.encode()).decrypt(token.encode())
            # The old key can now leave the file.
            keyfile.write_text(f"{new_key}\n")
            crypto.reset()
            assert Remote.objects.get(name="r-rot").password == SECRETS["password"]
    finally:
        crypto.reset()


def test_openssl_style_key_file_is_accepted(tmp_path):
    """``openssl rand -base64 32`` writes standard base64 (with + and /), as Pulp documents."""
    raw_key = bytes(range(250, 256)) + os.urandom(26)
    path = tmp_path / "k"
    path.write_text(base64.b64encode(raw_key).decode() + "\n")
    (key,) = crypto.load_keys(path)
    assert base64.urlsafe_b64decode(key) == raw_key


@pytest.mark.parametrize("case", ["missing", "directory", "garbage", "empty", "short"])
def test_bad_key_file_is_one_line(tmp_path, case):
    path = tmp_path / "key"
    if case == "directory":
        path.mkdir()
    elif case == "garbage":
        path.write_text("not a key at all!\n")
    elif case == "empty":
        path.write_text("\n")
    elif case == "short":
        path.write_text(base64.urlsafe_b64encode(b"x" * 16).decode() + "\n")
    env = dict(os.environ, PULP_DB_ENCRYPTION_KEY=str(path))
    for argv in (
        [sys.executable, "-m", "pulpcore.app.manage", "check"],
        [sys.executable, "-c", "import pulpcore.app.wsgi"],  # what gunicorn loads
        [str(Path(sys.executable).parent / "pulpcore-worker")],
        [str(Path(sys.executable).parent / "pulp-content"), "--bind", "127.0.0.1:0"],
    ):
        res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert res.returncode != 0
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, res.stderr
        assert lines[0].startswith("pulp: configuration error: DB_ENCRYPTION_KEY")
        assert "Traceback" not in res.stderr


# --- the data migration ---------------------------------------------------------------------------
def _pg(dbname: str):
    conn = psycopg2.connect(
        dbname=dbname,
        user=os.environ["PULP_DATABASES__default__USER"],
        host=os.environ["PULP_DATABASES__default__HOST"],
        port=os.environ["PULP_DATABASES__default__PORT"],
        password=os.environ.get("PULP_DATABASES__default__PASSWORD", ""),
    )
    conn.autocommit = True
    return conn


def _manage(db: str, *argv: str) -> None:
    env = dict(os.environ, PULP_DATABASES__default__NAME=db)
    res = subprocess.run(
        [sys.executable, "-m", "pulpcore.app.manage", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr


@contextmanager
def scratch_database(suffix: str):
    """A fresh database of this test prefix for one migration test, dropped afterwards."""
    db = f"{testenv.PREFIX}_{suffix}"
    with closing(_pg("postgres")) as conn, conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{db}"')
        cur.execute(f'CREATE DATABASE "{db}"')
    try:
        yield db
    finally:
        with closing(_pg("postgres")) as conn, conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db}"')


# The migration just before ours, whatever number it has after rebases.
PREVIOUS = importlib.import_module(
    "pulpcore.app.migrations.0004_encrypted_secrets"
).Migration.dependencies[0][1]


def test_migration_encrypts_existing_rows():
    """Rows written in clear by the previous schema are tokens after ``migrate``, and back."""
    with scratch_database("encmig") as db:
        _manage(db, "migrate", "core", PREVIOUS, "--no-input", "-v0")
        with closing(_pg(db)) as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO core_remote (pulp_id, pulp_created, pulp_last_updated, pulp_type,"
                " name, url, password, proxy_password, client_key, policy, pulp_labels,"
                " tls_validation, headers)"
                " VALUES (gen_random_uuid(), now(), now(), 'file.file', 'old', 'http://x/',"
                " %s, %s, NULL, 'immediate', '{}', true, '[]')",
                [SECRETS["password"], SECRETS["proxy_password"]],
            )
            cur.execute(
                "INSERT INTO core_task (pulp_id, pulp_created, pulp_last_updated, state, name,"
                " logging_cid, args, kwargs, versions)"
                " VALUES (gen_random_uuid(), now(), now(), 'completed', 'x.y', '',"
                " %s::jsonb, %s::jsonb, '{}')",
                ['["a"]', json.dumps({"data": {"password": SECRETS["password"]}})],
            )
        _manage(db, "migrate", "--no-input", "-v0")
        cipher = key_cipher()
        with closing(_pg(db)) as conn, conn.cursor() as cur:
            cur.execute("SELECT password, proxy_password, client_key FROM core_remote")
            password, proxy_password, client_key = cur.fetchone()
            assert cipher.decrypt(password.encode()).decode() == SECRETS["password"]
            assert cipher.decrypt(proxy_password.encode()).decode() == SECRETS["proxy_password"]
            assert client_key is None
            cur.execute("SELECT enc_args, enc_kwargs FROM core_task")
            enc_args, enc_kwargs = cur.fetchone()
            assert SECRETS["password"] not in enc_kwargs
            assert cipher.decrypt(enc_args.encode()) == b'["a"]'
            assert SECRETS["password"] in cipher.decrypt(enc_kwargs.encode()).decode()
            cur.execute("SELECT args, kwargs FROM core_task")
            assert cur.fetchone() == (None, None)  # no clear text left behind
        # Reversible: back to the previous migration gives the clear values again.
        _manage(db, "migrate", "core", PREVIOUS, "--no-input", "-v0")
        with closing(_pg(db)) as conn, conn.cursor() as cur:
            cur.execute("SELECT password FROM core_remote")
            assert cur.fetchone()[0] == SECRETS["password"]
            cur.execute("SELECT kwargs->'data'->>'password' FROM core_task")
            assert cur.fetchone()[0] == SECRETS["password"]


@pytest.mark.django_db
def test_content_redirect_shared_secret_is_a_token_at_rest():
    from pulpcore.app.models import ContentRedirectContentGuard

    guard = ContentRedirectContentGuard.objects.create(name="redirect-at-rest")
    (stored,) = raw(
        "SELECT shared_secret FROM core_contentredirectcontentguard WHERE contentguard_ptr_id = %s",
        [guard.pk],
    )[0]
    assert guard.shared_secret not in stored
    assert key_cipher().decrypt(stored.encode()).decode() == guard.shared_secret
    # Signed URLs still check out against the secret read back from the database.
    fresh = ContentRedirectContentGuard.objects.get(pk=guard.pk)
    assert fresh.shared_secret == guard.shared_secret
    assert fresh._signature("/p", 1) == guard._signature("/p", 1)


GUARD_SECRETS_MIGRATION = "pulpcore.app.migrations.0009_rbac_content_guard"


def test_migration_encrypts_existing_redirect_guard_secrets():
    """A redirect guard stored before 0009 keeps its secret, now as a token, and back."""
    before = importlib.import_module(GUARD_SECRETS_MIGRATION).Migration.dependencies[0][1]
    with scratch_database("guardmig") as db:
        _manage(db, "migrate", "core", before, "--no-input", "-v0")
        with closing(_pg(db)) as conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO core_contentguard (pulp_id, pulp_created, pulp_last_updated,"
                " pulp_type, name) VALUES (gen_random_uuid(), now(), now(),"
                " 'core.content_redirect', 'old') RETURNING pulp_id"
            )
            (pk,) = cur.fetchone()
            cur.execute(
                "INSERT INTO core_contentredirectcontentguard VALUES (%s, 'clear-old-secret')",
                [pk],
            )
        _manage(db, "migrate", "--no-input", "-v0")
        with closing(_pg(db)) as conn, conn.cursor() as cur:
            cur.execute("SELECT shared_secret FROM core_contentredirectcontentguard")
            (stored,) = cur.fetchone()
        assert stored != "clear-old-secret"
        assert key_cipher().decrypt(stored.encode()) == b"clear-old-secret"
        _manage(db, "migrate", "core", before, "--no-input", "-v0")
        with closing(_pg(db)) as conn, conn.cursor() as cur:
            cur.execute("SELECT shared_secret FROM core_contentredirectcontentguard")
            assert cur.fetchone() == ("clear-old-secret",)
