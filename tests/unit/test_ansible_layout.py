"""Static checks of the Ansible distribution that a fresh controller and ansible-lint don't catch.

- every collection the roles, playbooks and scenarios name is pinned in requirements.yml;
- every handler is notified by some task, and every notify names a handler that exists;
- ``daemon_reload`` happens only in handlers (so it runs once, after the unit files changed);
- pip is driven through ``ansible.builtin.pip``, never through shell or command.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FQCN = re.compile(r"^([a-z_]+\.[a-z_]+)\.[a-z_0-9]+$")


def load(path: Path):
    return yaml.safe_load(path.read_text()) or []


def walk(node):
    """Every mapping in a YAML document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def yaml_files(*folders: str) -> list[Path]:
    out = []
    for folder in folders:
        out += sorted((ROOT / folder).rglob("*.yml"))
    return out


def role_task_files() -> list[Path]:
    return sorted((ROOT / "roles").glob("*/tasks/*.yml"))


def handlers() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "roles").glob("*/handlers/main.yml")):
        for handler in load(path):
            found[handler["name"]] = path
            for topic in handler.get("listen", []) or []:
                found[topic] = path
    return found


def notified() -> set[str]:
    names = set()
    for path in role_task_files() + yaml_files("playbooks"):
        for mapping in walk(load(path)):
            value = mapping.get("notify")
            if isinstance(value, str):
                names.add(value)
            elif isinstance(value, list):
                names.update(value)
    return names


def test_collections_used_are_pinned_in_requirements():
    pinned = {c["name"]: c.get("version") for c in load(ROOT / "requirements.yml")["collections"]}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", str(v)) for v in pinned.values()), pinned
    used = set()
    for path in yaml_files("roles", "playbooks", "molecule"):
        for mapping in walk(load(path)):
            for key, value in mapping.items():
                # modules are keys; plugins are named by a few settings
                names = [key]
                if key in ("callbacks_enabled", "stdout_callback", "connection", "become_method"):
                    names += value if isinstance(value, list) else [value]
                for name in names:
                    match = FQCN.match(str(name))
                    if match and match.group(1) not in ("ansible.builtin", "ansible.legacy"):
                        used.add(match.group(1))
    assert used, "the scan found no collection at all"
    assert used - set(pinned) == set()


def test_every_handler_is_notified_and_every_notify_has_a_handler():
    known = handlers()
    wanted = notified()
    assert wanted - set(known) == set(), "notify without a handler"
    assert set(known) - wanted == set(), "handler that no task notifies"


def test_daemon_reload_only_in_handlers():
    bad = []
    for path in role_task_files() + yaml_files("playbooks"):
        for mapping in walk(load(path)):
            if mapping.get("daemon_reload"):
                bad.append(str(path.relative_to(ROOT)))
    assert bad == []


def test_pip_goes_through_the_pip_module():
    bad = []
    for path in role_task_files() + yaml_files("playbooks"):
        for mapping in walk(load(path)):
            for key in ("ansible.builtin.shell", "ansible.builtin.command", "shell", "command"):
                text = mapping.get(key)
                if isinstance(text, dict):
                    text = " ".join(map(str, text.get("argv", []))) + str(text.get("cmd", ""))
                # (``pip wheel`` on the controller builds the wheel: no module does that)
                if isinstance(text, str) and re.search(
                    r"\bpip3? +(install|uninstall)|-m venv", text
                ):
                    bad.append(f"{path.relative_to(ROOT)}: {text.strip()[:60]}")
    assert bad == []


def test_role_readmes_list_exactly_their_handlers():
    for role in sorted((ROOT / "roles").iterdir()):
        readme = (role / "README.md").read_text()
        line = next(ln for ln in readme.splitlines() if ln.startswith("Handlers:"))
        names = {h["name"] for h in load(role / "handlers" / "main.yml")}
        listed = {n for n in re.findall(r"`([^`]+)`", line) if n[:1].isupper()}
        assert listed == names, role.name


# --- Storage settings (filesystem or S3) ---------------------------------------------------------

SECRET_VARS = ("pulp_aws_access_key_id", "pulp_aws_secret_access_key")


def render_settings(**overrides) -> dict:
    """settings.yaml.j2 rendered with pulp_common's defaults (plus overrides), parsed as YAML."""
    import json

    import jinja2

    defaults = load(ROOT / "roles/pulp_common/defaults/main.yml")
    values = {k: v for k, v in defaults.items() if not (isinstance(v, str) and "{{" in v)}
    values.update(
        pulp_effective_secret_key="s3kr1t",
        pulp_content_origin="https://pulp.example.com",
        pulp_database_password="db-pw",
        pulp_database_host="db.example.com",
        pulp_redis_host="db.example.com",
        pulp_content_x_accel_redirect="",
    )
    values.update(overrides)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["to_json"] = json.dumps
    env.filters["bool"] = lambda v: str(v).lower() in ("1", "true", "yes")
    text = (ROOT / "roles/pulp_common/templates/settings.yaml.j2").read_text()
    return yaml.safe_load(env.from_string(text).render(ansible_managed="test", **values))


def test_settings_filesystem_by_default_has_no_s3_names():
    settings = render_settings()
    assert "STORAGES" not in settings
    assert not [k for k in settings if k.startswith("AWS_")]
    assert "REDIRECT_TO_OBJECT_STORAGE" not in settings
    assert settings["MEDIA_ROOT"] == "/var/lib/pulp/media"


def test_settings_s3_uses_pulps_names():
    settings = render_settings(
        pulp_storage_backend="s3",
        pulp_aws_access_key_id="AKIAEXAMPLE",
        pulp_aws_secret_access_key="secret/with+chars: and # quotes'\"",
        pulp_aws_storage_bucket_name="pulp-artifacts",
        pulp_aws_s3_endpoint_url="http://192.0.2.5:9000",
        pulp_aws_s3_addressing_style="path",
        pulp_aws_querystring_expire="600",
        pulp_redirect_to_object_storage="false",
    )
    assert settings["STORAGES"] == {
        "default": {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage"}
    }
    assert settings["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    assert settings["AWS_SECRET_ACCESS_KEY"] == "secret/with+chars: and # quotes'\""
    assert settings["AWS_STORAGE_BUCKET_NAME"] == "pulp-artifacts"
    assert settings["AWS_S3_ENDPOINT_URL"] == "http://192.0.2.5:9000"
    assert settings["AWS_S3_ADDRESSING_STYLE"] == "path"
    assert settings["AWS_QUERYSTRING_EXPIRE"] == 600
    assert settings["REDIRECT_TO_OBJECT_STORAGE"] is False
    # empty optional names are left out, so Pulp's own defaults (None) apply
    assert "AWS_S3_REGION_NAME" not in settings and "AWS_DEFAULT_ACL" not in settings


def test_every_setting_written_for_s3_is_a_pulp_setting():
    """A misspelt name in the template would be ignored silently by Pulp."""
    import importlib.util

    spec = importlib.util.find_spec("pulpcore.app.settings")
    assert spec and spec.origin
    text = Path(spec.origin).read_text()
    settings = render_settings(
        pulp_storage_backend="s3",
        pulp_aws_access_key_id="k",
        pulp_aws_secret_access_key="s",
        pulp_aws_storage_bucket_name="b",
        pulp_aws_s3_endpoint_url="http://h:1",
        pulp_aws_s3_region_name="r",
        pulp_aws_default_acl="private",
        pulp_aws_s3_addressing_style="path",
    )
    names = [k for k in settings if k.startswith("AWS_")] + ["REDIRECT_TO_OBJECT_STORAGE"]
    assert len(names) == 9
    missing = [n for n in names if not re.search(rf"^{n} = ", text, re.M)]
    assert missing == []


def test_tasks_handling_storage_secrets_hide_them():
    """Every task naming an S3 key or writing settings.yaml (which holds them) has no_log."""
    bad = []
    for path in role_task_files() + yaml_files("playbooks"):
        for task in walk(load(path)):
            if "name" not in task or not any(k for k in task if "." in k or k == "block"):
                continue
            text = yaml.safe_dump(task)
            if any(v in text for v in SECRET_VARS) or "settings.yaml.j2" in text:
                if task.get("no_log") is not True:
                    bad.append(f"{path.relative_to(ROOT)}: {task['name']}")
    assert bad == []
    # and the file itself stays root:pulp 0640
    writes = [
        t
        for t in walk(load(ROOT / "roles/pulp_common/tasks/main.yml"))
        if isinstance(t.get("ansible.builtin.template"), dict)
        and t["ansible.builtin.template"]["src"] == "settings.yaml.j2"
    ]
    assert len(writes) == 1
    tmpl = writes[0]["ansible.builtin.template"]
    assert (tmpl["owner"], tmpl["group"], tmpl["mode"]) == ("root", "{{ pulp_group }}", "0640")


def test_no_x_accel_redirect_with_s3_in_both_roles():
    """pulp_common writes the setting, pulp_webserver the nginx location: same rule in both."""
    common = load(ROOT / "roles/pulp_common/defaults/main.yml")
    web = load(ROOT / "roles/pulp_webserver/defaults/main.yml")
    assert common["pulp_storage_backend"] == web["pulp_storage_backend"] == "filesystem"
    rule = common["pulp_content_x_accel_redirect"]
    assert rule == web["pulp_content_x_accel_redirect"]
    assert "pulp_storage_backend" in rule and "'filesystem'" in rule


def test_s3_scenario_shares_no_file_system_and_runs_in_ci():
    scenario = load(ROOT / "molecule/multi-host-s3/molecule.yml")
    assert [p.get("binds") for p in scenario["platforms"]] == [None, None, None]
    groups = {p["name"]: set(p["groups"]) for p in scenario["platforms"]}
    front = next(n for n, g in groups.items() if "pulp_content" in g)
    worker = next(n for n, g in groups.items() if "pulp_workers" in g)
    assert front != worker and "pulp_workers" not in groups[front]
    assert scenario["provisioner"]["inventory"]["group_vars"]["all"]["pulp_storage_backend"] == "s3"
    octets = [
        p["octet"]
        for path in sorted((ROOT / "molecule").glob("*/molecule.yml"))
        for p in load(path)["platforms"]
    ]
    assert len(octets) == len(set(octets)), "two scenarios' hosts share an address"
    # mol-up.sh names the host's end of the veth vm-NAME; Linux interface names have 15 characters
    names = [
        p["name"]
        for path in (ROOT / "molecule").glob("*/molecule.yml")
        for p in load(path)["platforms"]
    ]
    assert [n for n in names if len("vm-" + n) > 15] == []
    ci = (ROOT / ".ci/molecule.sh").read_text()
    default_list = re.search(r"\|\| SCENARIOS=\(([^)]*)\)", ci)
    assert default_list and "multi-host-s3" in default_list.group(1).split()
    assert re.search(r"\[multi-host-s3\]=\d+", ci)
