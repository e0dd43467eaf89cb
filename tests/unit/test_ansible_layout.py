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
