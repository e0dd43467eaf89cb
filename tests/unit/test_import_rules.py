"""Which package may import which: the boundaries docs/architecture.md describes, checked with ast.

Every import counts, including the ones inside functions (a lazy import is still a dependency).
Relative imports are resolved against the importing module.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, ``from a import b`` as ``a.b``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def violations(folder: str, forbidden, exclude: tuple[str, ...] = ()) -> list[str]:
    out = []
    for path in python_files(folder):
        rel = str(path.relative_to(ROOT))
        if rel in exclude:
            continue
        for line, module in imports_of(path):
            if forbidden(module):
                out.append(f"{rel}:{line} imports {module}")
    return sorted(set(out))


def under(*prefixes: str):
    return lambda module: any(module == p or module.startswith(p + ".") for p in prefixes)


def test_models_never_import_tasks_or_viewsets():
    bad = violations("pulpcore/app/models", under("pulpcore.app.tasks", "pulpcore.app.viewsets"))
    assert bad == []


def test_content_app_never_imports_viewsets_or_serializers():
    bad = violations(
        "pulpcore/content",
        under(
            "pulpcore.app.viewsets",
            "pulpcore.app.serializers",
            "pulpcore.plugin.viewsets",
            "pulpcore.plugin.serializers",
            "rest_framework",
        ),
    )
    assert bad == []


@pytest.mark.parametrize("plugin", ["pulp_file", "pulp_certguard"])
def test_plugins_use_only_the_plugin_api(plugin):
    bad = violations(
        plugin,
        lambda m: under("pulpcore")(m) and not under("pulpcore.plugin")(m),
    )
    assert bad == []


def test_download_imports_no_django_model():
    bad = violations(
        "pulpcore/download",
        under(
            "pulpcore.app.models",
            "pulpcore.plugin.models",
            "pulpcore.app.serializers",
            "pulpcore.app.viewsets",
            "django.db",
            "django.contrib",
        ),
    )
    assert bad == []


def test_importing_download_loads_no_model_module():
    """Also transitively: the leaf modules it uses (pulpcore.app.files) stay leaves."""
    code = (
        "import sys, pulpcore.download; "
        "bad = sorted(m for m in sys.modules if m.startswith(('pulpcore.app.models', "
        "'django.db.models'))); print(bad); sys.exit(1 if bad else 0)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pulpcore.app.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_rq_backend_imports_rq():
    bad = violations(
        "pulpcore",
        under("rq"),
        exclude=("pulpcore/tasking/backends/rq.py",),
    )
    assert bad == []


def test_one_way_to_answer_202_with_a_task():
    """Every dispatching endpoint returns OperationPostponedResponse (viewsets/mixins.py)."""
    out = []
    for folder in ("pulpcore", "pulp_file"):
        for path in python_files(folder):
            rel = str(path.relative_to(ROOT))
            if rel == "pulpcore/app/viewsets/mixins.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "HTTP_202_ACCEPTED":
                    out.append(f"{rel}:{node.lineno}")
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "status"
                    and isinstance(node.value, ast.Constant)
                    and node.value.value == 202
                ):
                    out.append(f"{rel}:{node.value.lineno}")
    assert out == []


def test_the_rule_checker_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    """The checker itself: an import inside a function and a relative import are both found."""
    package = tmp_path / "pkg" / "sub"
    package.mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    source = package / "mod.py"
    source.write_text("def f():\n    from ..other import thing\n    import pulpcore.app.tasks\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = {m for _, m in imports_of(source)}
    assert {"pkg.other", "pkg.other.thing", "pulpcore.app.tasks"} <= found
