"""RBAC through Django's full stack on real PostgreSQL: users, groups, roles, access policies,
conditions and queryset scoping, as several users (admin, alice, bob, carol, anonymous).

alice creates objects (she holds the creator roles model-wide, the creation hooks make her
owner); bob sees alice's repository through a group holding its viewer role; carol holds nothing.
"""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.module_loading import import_string

from pulp_file.app.models import FileRemote, FileRepository
from pulpcore.app.access.roles import assign_role
from pulpcore.app.models import AccessPolicy, Group, Role, Task, UserRole
from pulpcore.tasking.context import reset_current_task, set_current_task

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
REPOS = f"{API}repositories/file/file/"
REMOTES = f"{API}remotes/file/file/"
GOOD_PASSWORD = "Blue-Heron-Rides-42"


def post(client, url, data=None, **kw):
    return client.post(url, data or {}, content_type="application/json", **kw)


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def put(client, url, data):
    return client.put(url, data, content_type="application/json")


def run(resp) -> Task:
    assert resp.status_code == 202, resp.content
    task = Task.objects.get(pk=resp.json()["task"].rstrip("/").rsplit("/", 1)[-1])
    token = set_current_task(task)
    try:
        import_string(task.name)(*(task.args or []), **(task.kwargs or {}))
    finally:
        reset_current_task(token)
    return task


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def people():
    User = get_user_model()
    admin = User.objects.create(username="admin", is_superuser=True, is_staff=True)
    alice = User.objects.create_user("alice", password=GOOD_PASSWORD)
    bob = User.objects.create_user("bob", password=GOOD_PASSWORD)
    carol = User.objects.create_user("carol", password=GOOD_PASSWORD)
    for role in ("file.filerepository_creator", "file.fileremote_creator"):
        assign_role(role, user=alice)
    return {
        "admin": login(admin),
        "alice": login(alice),
        "bob": login(bob),
        "carol": login(carol),
        "anon": Client(),
        "users": {"alice": alice, "bob": bob, "carol": carol},
    }


@pytest.fixture
def shared(people):
    """alice's repository and remote; bob views the repository through group 'readers'."""
    alice = people["alice"]
    repo = post(alice, REPOS, {"name": f"alice-{uuid.uuid4().hex[:6]}"})
    assert repo.status_code == 201, repo.content
    remote = post(alice, REMOTES, {"name": f"alice-r-{uuid.uuid4().hex[:6]}", "url": "http://x/"})
    assert remote.status_code == 201, remote.content
    group = Group.objects.create(name="readers")
    people["users"]["bob"].groups.add(group)
    repo_obj = FileRepository.objects.get(pk=repo.json()["pulp_href"].split("/")[-2])
    assign_role("file.filerepository_viewer", group=group, obj=repo_obj)
    return {"repo": repo.json(), "remote": remote.json(), "group": group, "repo_obj": repo_obj}


# --- shipped roles and policies ------------------------------------------------------------------
def test_post_migrate_ships_locked_roles_and_policies():
    names = set(Role.objects.filter(locked=True).values_list("name", flat=True))
    for name in (
        "core.task_owner",
        "core.task_viewer",
        "core.upload_owner",
        "core.group_creator",
        "core.group_owner",
        "core.group_viewer",
        "file.filerepository_creator",
        "file.filerepository_owner",
        "file.filerepository_viewer",
        "file.fileremote_owner",
        "file.filepublication_owner",
        "file.filedistribution_viewer",
    ):
        assert name in names, name
    owner = Role.objects.get(name="file.filerepository_owner")
    perms = {p.codename for p in owner.permissions.all()}
    assert {"sync_filerepository", "modify_filerepository", "manage_roles_filerepository"} <= perms
    policies = set(AccessPolicy.objects.values_list("viewset_name", flat=True))
    assert {"repositories/file/file", "tasks", "users", "groups/users", "roles"} <= policies
    assert "repositories/file/file/versions" in policies


def test_upgrade_resyncs_uncustomized_policies_and_locked_roles():
    from pulpcore.app.access.sync import sync_all

    role = Role.objects.get(name="core.task_viewer")
    role.permissions.clear()
    policy = AccessPolicy.objects.get(viewset_name="tasks")
    policy.statements = []
    policy.save()
    sync_all()
    assert [p.codename for p in role.permissions.all()] == ["view_task"]
    assert AccessPolicy.objects.get(viewset_name="tasks").statements


# --- users ---------------------------------------------------------------------------------------
def test_user_crud_with_validated_write_only_password(people):
    admin = people["admin"]
    weak = post(admin, f"{API}users/", {"username": "dave", "password": "123"})
    assert weak.status_code == 400 and "password" in weak.json(), weak.content
    missing = post(admin, f"{API}users/", {"username": "dave"})
    assert missing.status_code == 400 and "password" in missing.json()
    assert not get_user_model().objects.filter(username="dave").exists()
    made = post(admin, f"{API}users/", {"username": "dave", "password": GOOD_PASSWORD})
    assert made.status_code == 201, made.content
    body = made.json()
    assert "password" not in body
    assert body["hidden_fields"] == [{"name": "password", "is_set": True}]
    assert body["pulp_href"] == f"{API}users/{body['id']}/"
    assert get_user_model().objects.get(username="dave").check_password(GOOD_PASSWORD)
    changed = patch(admin, body["pulp_href"], {"first_name": "Dave"})
    assert changed.status_code == 200 and changed.json()["first_name"] == "Dave"
    listed = admin.get(f"{API}users/?username=dave").json()
    assert listed["count"] == 1
    # Non-admins can't manage users; anonymous callers are asked to log in.
    assert people["carol"].get(f"{API}users/").status_code == 403
    assert people["anon"].get(f"{API}users/").status_code == 401
    assert admin.delete(body["pulp_href"]).status_code == 204


def test_deleting_a_user_keeps_their_tasks(people):
    User = get_user_model()
    erin = User.objects.create_user("erin", password=GOOD_PASSWORD)
    task = Task.objects.create(name="t", state="completed", created_by=erin)
    assert people["admin"].delete(f"{API}users/{erin.pk}/").status_code == 204
    task.refresh_from_db()
    assert task.created_by_id is None


def test_task_created_by_href_resolves_to_the_user(people):
    alice = people["users"]["alice"]
    task = Task.objects.create(name="t", state="completed", created_by=alice)
    href = people["admin"].get(f"{API}tasks/{task.pk}/").json()["created_by"]
    assert people["admin"].get(href).json()["username"] == "alice"


# --- groups --------------------------------------------------------------------------------------
def test_groups_members_and_group_roles(people, shared):
    admin = people["admin"]
    made = post(admin, f"{API}groups/", {"name": "ci"})
    assert made.status_code == 201, made.content
    group = made.json()
    users = f"{group['pulp_href']}users/"
    added = post(admin, users, {"username": "carol"})
    assert added.status_code == 201, added.content
    assert post(admin, users, {"username": "nobody"}).status_code == 400
    assert [u["username"] for u in admin.get(users).json()["results"]] == ["carol"]
    carol_groups = admin.get(f"{API}users/{people['users']['carol'].pk}/").json()["groups"]
    assert carol_groups == [{"name": "ci", "pulp_href": group["pulp_href"]}]
    roles = f"{group['pulp_href']}roles/"
    given = post(
        admin,
        roles,
        {"role": "file.filerepository_viewer", "content_object": shared["repo"]["pulp_href"]},
    )
    assert given.status_code == 201, given.content
    assert given.json()["content_object"] == shared["repo"]["pulp_href"]
    assert people["carol"].get(shared["repo"]["pulp_href"]).status_code == 200
    assert admin.delete(given.json()["pulp_href"]).status_code == 204
    assert people["carol"].get(shared["repo"]["pulp_href"]).status_code == 404
    member = admin.get(users).json()["results"][0]["pulp_href"]
    assert admin.delete(member).status_code == 204
    assert admin.get(users).json()["count"] == 0


def test_group_creator_owns_the_group(people):
    carol = people["users"]["carol"]
    assign_role("core.group_creator", user=carol)
    made = post(people["carol"], f"{API}groups/", {"name": "carols"})
    assert made.status_code == 201, made.content
    assert people["carol"].get(made.json()["pulp_href"]).status_code == 200
    assert people["bob"].get(made.json()["pulp_href"]).status_code == 404
    assert post(people["bob"], f"{API}groups/", {"name": "bobs"}).status_code == 403


# --- user role assignments -----------------------------------------------------------------------
def test_user_role_assignments(people, shared):
    admin = people["admin"]
    carol = people["users"]["carol"]
    url = f"{API}users/{carol.pk}/roles/"
    wrong_type = post(
        admin,
        url,
        {"role": "file.fileremote_viewer", "content_object": shared["repo"]["pulp_href"]},
    )
    assert wrong_type.status_code == 400 and "content_object" in wrong_type.json()
    assert post(admin, url, {"role": "no.such", "content_object": None}).status_code == 400
    ok = post(
        admin,
        url,
        {"role": "file.filerepository_viewer", "content_object": shared["repo"]["pulp_href"]},
    )
    assert ok.status_code == 201, ok.content
    dup = post(
        admin,
        url,
        {"role": "file.filerepository_viewer", "content_object": shared["repo"]["pulp_href"]},
    )
    assert dup.status_code == 400
    body = ok.json()
    assert body["permissions"] == ["file.view_filerepository"]
    assert body["pulp_href"].startswith(url)
    listed = admin.get(f"{url}?role=file.filerepository_viewer").json()
    assert (
        listed["count"] == 1
        and listed["results"][0]["content_object"] == shared["repo"]["pulp_href"]
    )
    model_wide = post(admin, url, {"role": "file.filerepository_viewer", "content_object": None})
    assert model_wide.status_code == 201
    assert admin.get(f"{url}?content_object=null").json()["count"] == 1
    assert admin.delete(body["pulp_href"]).status_code == 204
    assert UserRole.objects.filter(user=carol).count() == 1


# --- roles ---------------------------------------------------------------------------------------
def test_roles_unknown_permission_and_locked(people):
    admin = people["admin"]
    bad = post(
        admin,
        f"{API}roles/",
        {"name": "x", "permissions": ["file.view_filerepository", "file.fly"]},
    )
    assert bad.status_code == 400 and "file.fly" in str(bad.json())
    assert not Role.objects.filter(name="x").exists()
    ok = post(
        admin,
        f"{API}roles/",
        {"name": "my.reader", "permissions": ["file.view_filerepository"], "description": "r"},
    )
    assert ok.status_code == 201 and ok.json()["locked"] is False
    assert patch(admin, ok.json()["pulp_href"], {"description": "rr"}).status_code == 200
    locked = Role.objects.get(name="core.task_owner")
    href = f"{API}roles/{locked.pk}/"
    assert patch(admin, href, {"description": "mine"}).status_code == 403
    assert admin.delete(href).status_code == 403
    assert Role.objects.get(pk=locked.pk).description != "mine"
    found = admin.get(f"{API}roles/?contains_permission=file.sync_filerepository").json()
    assert [r["name"] for r in found["results"]] == ["file.filerepository_owner"]
    found = admin.get(f"{API}roles/?for_object_type={REMOTES}&locked=true").json()
    assert {r["name"] for r in found["results"]} == {
        "file.fileremote_creator",
        "file.fileremote_owner",
        "file.fileremote_viewer",
    }
    assert admin.delete(ok.json()["pulp_href"]).status_code == 204
    assert people["carol"].get(f"{API}roles/").status_code == 200
    assert (
        post(people["carol"], f"{API}roles/", {"name": "c", "permissions": []}).status_code == 403
    )


# --- access policies -----------------------------------------------------------------------------
def test_access_policy_update_validation_and_reset(people):
    admin = people["admin"]
    policy = AccessPolicy.objects.get(viewset_name="repositories/file/file")
    href = f"{API}access_policies/{policy.pk}/"
    shipped = admin.get(href).json()
    assert shipped["customized"] is False and shipped["statements"]
    for bad in (
        [{"action": "list", "principal": "*", "effect": "maybe"}],
        [{"action": "list", "principal": "*", "effect": "allow", "condition": "no_such_cond"}],
        [{"action": "list", "effect": "allow"}],
        [
            {
                "action": "list",
                "principal": "*",
                "effect": "allow",
                "condition_expression": "a and (",
            }
        ],
        "not a list",
    ):
        resp = patch(admin, href, {"statements": bad})
        assert resp.status_code == 400, (bad, resp.content)
    assert AccessPolicy.objects.get(pk=policy.pk).statements == shipped["statements"]
    # carol may list everything of this type once the policy allows it without scoping.
    opened = patch(
        admin,
        href,
        {
            "statements": [
                {"action": ["list", "retrieve"], "principal": "user:carol", "effect": "allow"}
            ],
            "queryset_scoping": {},
        },
    )
    assert opened.status_code == 200 and opened.json()["customized"] is True
    post(admin, REPOS, {"name": "public-ish"})
    assert people["carol"].get(REPOS).json()["count"] >= 1
    assert post(people["carol"], REPOS, {"name": "nope"}).status_code == 403
    assert people["bob"].get(REPOS).status_code == 403
    reset = post(admin, f"{href}reset/")
    assert reset.status_code == 200 and reset.json()["customized"] is False
    assert reset.json()["statements"] == shipped["statements"]
    assert people["carol"].get(REPOS).json()["count"] == 0
    assert people["carol"].get(f"{API}access_policies/").status_code == 403


def test_condition_expression_and_group_principal(people, shared):
    admin = people["admin"]
    policy = AccessPolicy.objects.get(viewset_name="remotes/file/file")
    resp = patch(
        admin,
        f"{API}access_policies/{policy.pk}/",
        {
            "statements": [
                {
                    "action": ["list"],
                    "principal": "group:readers",
                    "effect": "allow",
                    "condition_expression": "not has_model_perms:file.view_fileremote",
                }
            ]
        },
    )
    assert resp.status_code == 200, resp.content
    assert people["bob"].get(REMOTES).status_code == 200  # bob is in readers
    assert people["carol"].get(REMOTES).status_code == 403


# --- scoping and object permissions --------------------------------------------------------------
def test_scoping_and_object_permissions(people, shared):
    repo = shared["repo"]["pulp_href"]
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    assert alice.get(REPOS).json()["count"] == 1
    assert bob.get(REPOS).json()["count"] == 1
    assert carol.get(REPOS).json()["count"] == 0
    assert carol.get(f"{API}repositories/").json()["count"] == 0
    assert bob.get(f"{API}repositories/").json()["count"] == 1
    assert people["anon"].get(REPOS).status_code == 401
    assert bob.get(repo).status_code == 200
    assert carol.get(repo).status_code == 404
    assert carol.delete(repo).status_code == 404
    # bob may look but not touch.
    assert bob.delete(repo).status_code == 403
    assert patch(bob, repo, {"description": "x"}).status_code == 403
    assert post(bob, f"{repo}sync/", {"remote": shared["remote"]["pulp_href"]}).status_code == 403
    assert post(bob, f"{repo}modify/", {}).status_code == 403
    assert bob.get(f"{repo}versions/").status_code == 200
    assert carol.get(f"{repo}versions/").status_code == 403
    assert bob.get(REMOTES).json()["count"] == 0
    assert post(bob, REPOS, {"name": "bobs"}).status_code == 403
    # alice owns what she created.
    mine = alice.get(f"{repo}my_permissions/").json()["permissions"]
    assert "file.sync_filerepository" in mine and "file.delete_filerepository" in mine
    assert bob.get(f"{repo}my_permissions/").json()["permissions"] == ["file.view_filerepository"]
    assert post(alice, f"{repo}sync/", {"remote": shared["remote"]["pulp_href"]}).status_code == 202
    run(patch(alice, repo, {"description": "mine"}))
    assert FileRepository.objects.get(pk=shared["repo_obj"].pk).description == "mine"


def test_sync_needs_view_rights_on_the_remote(people, shared):
    """Nested check: a sync with a remote the user can't see is refused."""
    User = get_user_model()
    frank = User.objects.create_user("frank", password=GOOD_PASSWORD)
    assign_role("file.filerepository_owner", user=frank, obj=shared["repo_obj"])
    frank_client = login(frank)
    refused = post(
        frank_client,
        f"{shared['repo']['pulp_href']}sync/",
        {"remote": shared["remote"]["pulp_href"]},
    )
    assert refused.status_code == 403
    remote = FileRemote.objects.get(pk=shared["remote"]["pulp_href"].split("/")[-2])
    assign_role("file.fileremote_viewer", user=frank, obj=remote)
    allowed = post(
        frank_client,
        f"{shared['repo']['pulp_href']}sync/",
        {"remote": shared["remote"]["pulp_href"]},
    )
    assert allowed.status_code == 202, allowed.content


def test_modify_based_on_another_repositorys_version_needs_rights_on_it(people, shared):
    admin = people["admin"]
    other = post(admin, REPOS, {"name": "admins-own"}).json()
    alice = people["alice"]
    base = f"{other['pulp_href']}versions/0/"
    refused = post(alice, f"{shared['repo']['pulp_href']}modify/", {"base_version": base})
    assert refused.status_code == 403
    own_base = f"{shared['repo']['pulp_href']}versions/0/"
    allowed = post(alice, f"{shared['repo']['pulp_href']}modify/", {"base_version": own_base})
    assert allowed.status_code == 202, allowed.content


# --- role actions on objects ---------------------------------------------------------------------
def test_add_list_remove_role_on_an_object(people, shared):
    alice, carol = people["alice"], people["carol"]
    repo = shared["repo"]["pulp_href"]
    body = {"role": "file.filerepository_viewer", "users": ["carol"]}
    assert post(carol, f"{repo}add_role/", body).status_code == 404
    assert post(people["bob"], f"{repo}add_role/", body).status_code == 403
    added = post(alice, f"{repo}add_role/", body)
    assert added.status_code == 201, added.content
    assert added.json() == {"role": "file.filerepository_viewer", "users": ["carol"], "groups": []}
    assert post(alice, f"{repo}add_role/", body).status_code == 400
    assert carol.get(repo).status_code == 200
    roles = alice.get(f"{repo}list_roles/").json()["roles"]
    assert {
        "role": "file.filerepository_viewer",
        "users": ["carol"],
        "groups": ["readers"],
    } in roles
    assert any(r["role"] == "file.filerepository_owner" and r["users"] == ["alice"] for r in roles)
    wrong = post(alice, f"{repo}add_role/", {"role": "core.task_owner", "users": ["carol"]})
    assert wrong.status_code == 400
    assert post(alice, f"{repo}remove_role/", body).status_code == 201
    again = post(alice, f"{repo}remove_role/", body)
    assert again.status_code == 400 and "not assigned" in str(again.json())
    assert carol.get(repo).status_code == 404
    assert (
        post(alice, f"{repo}add_role/", {"role": "file.filerepository_viewer"}).status_code == 400
    )


# --- tasks ---------------------------------------------------------------------------------------
def test_users_see_and_cancel_only_their_tasks(people):
    users = people["users"]
    from pulpcore.tasking.dispatch import dispatch  # noqa: F401 - the real dispatch path below

    alice_task = Task.objects.create(name="a", state="waiting", created_by=users["alice"])
    carol_task = Task.objects.create(name="c", state="waiting", created_by=users["carol"])
    alice, carol = people["alice"], people["carol"]
    seen = {t["pulp_href"] for t in alice.get(f"{API}tasks/").json()["results"]}
    assert seen == {f"{API}tasks/{alice_task.pk}/"}
    assert alice.get(f"{API}tasks/{carol_task.pk}/").status_code == 404
    assert patch(alice, f"{API}tasks/{carol_task.pk}/", {"state": "canceled"}).status_code == 404
    assert patch(carol, f"{API}tasks/{carol_task.pk}/", {"state": "canceled"}).status_code == 200
    assert post(alice, f"{API}tasks/purge/", {}).status_code == 403
    assign_role("core.task_viewer", user=users["alice"])
    assert alice.get(f"{API}tasks/").json()["count"] == 2


def test_dispatch_makes_the_caller_task_owner(people, shared):
    alice = people["alice"]
    resp = patch(alice, shared["repo"]["pulp_href"], {"description": "d"})
    assert resp.status_code == 202
    assert alice.get(resp.json()["task"]).status_code == 200
    assert people["bob"].get(resp.json()["task"]).status_code == 404
    assert alice.get(f"{resp.json()['task']}list_roles/").status_code == 403
    roles = people["admin"].get(f"{resp.json()['task']}list_roles/").json()["roles"]
    assert roles == [{"role": "core.task_owner", "users": ["alice"], "groups": []}]


# --- other endpoints -----------------------------------------------------------------------------
def test_admin_only_and_open_endpoints(people):
    carol = people["carol"]
    assert post(carol, f"{API}orphans/cleanup/", {}).status_code == 403
    assert carol.get(f"{API}workers/").status_code == 200
    assert carol.get(f"{API}content/").json()["count"] == 0
    assert carol.get(f"{API}artifacts/").json()["count"] == 0
    assert people["anon"].get(f"{API}status/").status_code == 200
    assert people["anon"].get(f"{API}docs/api.json").status_code == 200


def test_uploads_are_owned_by_their_creator(people):
    made = post(people["alice"], f"{API}uploads/", {"size": 10})
    assert made.status_code == 201, made.content
    href = made.json()["pulp_href"]
    assert people["alice"].get(href).status_code == 200
    assert people["carol"].get(href).status_code == 404
    carols = post(people["carol"], f"{API}uploads/", {"size": 10})
    assert carols.status_code == 201
    assert people["alice"].get(carols.json()["pulp_href"]).status_code == 404
    assert people["alice"].get(f"{API}uploads/").json()["count"] == 1
    perms = people["alice"].get(f"{href}my_permissions/").json()["permissions"]
    assert "core.delete_upload" in perms


def test_content_upload_and_publication_conditions(people, shared):
    from django.core.files.uploadedfile import SimpleUploadedFile

    users = people["users"]
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    repo = shared["repo"]["pulp_href"]
    files = f"{API}content/file/files/"

    def upload(client, **extra):
        data = {"file": SimpleUploadedFile("a.txt", b"hello rbac"), "relative_path": "a.txt"}
        return client.post(files, {**data, **extra})

    # has_required_repo_perms_on_upload: a non-admin must upload into a repository they modify.
    assert upload(alice).status_code == 403
    assert upload(bob, repository=repo).status_code == 403
    assert upload(alice, repository=repo).status_code == 202
    # has_repo_or_repo_ver_param_model_or_obj_perms: publishing needs view rights on the repo.
    for user in ("bob", "carol"):
        assign_role("file.filepublication_creator", user=users[user])
    pubs = f"{API}publications/file/file/"
    assert post(carol, pubs, {"repository": repo}).status_code == 403
    assert post(bob, pubs, {"repository": repo}).status_code == 202
    assert post(bob, pubs, {"repository_version": f"{repo}versions/0/"}).status_code == 202


def test_content_guard_role_actions(people):
    """Header guards: creator becomes owner; role actions; others see nothing."""
    users = people["users"]
    assign_role("core.headercontentguard_creator", user=users["alice"])
    url = f"{API}contentguards/core/header/"
    made = post(people["alice"], url, {"name": "g1", "header_name": "X-K", "header_value": "v"})
    assert made.status_code == 201, made.content
    href = made.json()["pulp_href"]
    assert (
        post(
            people["carol"], url, {"name": "g2", "header_name": "X", "header_value": "v"}
        ).status_code
        == 403
    )
    assert people["carol"].get(href).status_code == 404
    assert people["carol"].get(f"{API}contentguards/").json()["count"] == 0
    body = {"role": "core.headercontentguard_viewer", "users": ["carol"]}
    assert post(people["alice"], f"{href}add_role/", body).status_code == 201
    assert people["carol"].get(href).status_code == 200
    assert people["carol"].get(f"{API}contentguards/").json()["count"] == 1
    perms = people["carol"].get(f"{href}my_permissions/").json()["permissions"]
    assert perms == ["core.view_headercontentguard"]
    assert patch(people["carol"], href, {"header_value": "w"}).status_code == 403
    roles = people["alice"].get(f"{href}list_roles/").json()["roles"]
    assert {"role": "core.headercontentguard_owner", "users": ["alice"], "groups": []} in roles
