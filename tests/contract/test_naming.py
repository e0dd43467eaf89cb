"""The generator's naming rules hold for the whole contract, not only what is implemented now.

Operations still pending get their names from the same rules once their viewsets exist, so the
tag rule is checked against every contract operation and the href naming rule against the
contract's kinds of models (plain, plugin, non-core app, nested).
"""

from types import SimpleNamespace

import pytest

from pulpcore.app import openapi
from tests.contract import contract as c

# Set explicitly upstream (and by our viewsets with @extend_schema(operation_id=...)).
EXPLICIT_IDS = {"status_read", "tasks_cancel", "pulp_import_check_post"}
CONTRACT_LABELS = {"core", "file", "certguard"}


@pytest.mark.parametrize("op_id", sorted(c.operations(c.contract())))
def test_tag_rule_over_whole_contract(op_id):
    """Tags come from the endpoint's route segments (extra-action segment excluded)."""
    method, route, _ = c.operations_md_routes()[op_id]
    _, _, operation = c.operations(c.contract())[op_id]
    tokens = openapi.path_tokens(route)
    joined = "_".join(t.replace("-", "_") for t in tokens)
    if op_id not in EXPLICIT_IDS and not op_id.startswith(joined + "_"):
        tokens = tokens[:-1]  # an extra action: its URL segment ends the operationId instead
    assert operation["tags"] == [openapi.tag_for(tokens, CONTRACT_LABELS)]


def _model(name: str, app_label: str):
    return SimpleNamespace(__name__=name, _meta=SimpleNamespace(app_label=app_label))


def _viewset(model, endpoint_name: str, parent=None):
    return SimpleNamespace(
        queryset=SimpleNamespace(model=model), endpoint_name=endpoint_name, parent_viewset=parent
    )


@pytest.mark.parametrize(
    "viewset,expected",
    [
        (_viewset(_model("Artifact", "core"), "artifacts"), "artifact"),
        (_viewset(_model("RBACContentGuard", "core"), "rbac"), "r_b_a_c_content_guard"),
        (_viewset(_model("X509CertGuard", "certguard"), "x509"), "certguard_x509_cert_guard"),
        (_viewset(_model("RHSMCertGuard", "certguard"), "rhsm"), "certguard_r_h_s_m_cert_guard"),
        (_viewset(_model("User", "auth"), "users"), "auth_user"),
        (_viewset(_model("FileRepository", "file"), "file"), "file_file_repository"),
        (
            _viewset(
                _model("RepositoryVersion", "core"),
                "versions",
                _viewset(_model("FileRepository", "file"), "file"),
            ),
            "file_file_repository_version",
        ),
        (
            _viewset(
                _model("UserRole", "core"), "roles", _viewset(_model("User", "auth"), "users")
            ),
            "auth_users_user_role",
        ),
        (
            _viewset(
                _model("GroupRole", "core"), "roles", _viewset(_model("Group", "core"), "groups")
            ),
            "groups_group_role",
        ),
        (
            _viewset(
                _model("FilesystemExport", "core"),
                "exports",
                _viewset(_model("FilesystemExporter", "core"), "filesystem"),
            ),
            "filesystem_filesystem_export",
        ),
    ],
)
def test_href_resource_names(viewset, expected):
    assert openapi.resource_name(viewset) == expected
