"""Serializers of users, groups, roles, role assignments and access policies."""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Permission
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from pulpcore.app import util
from pulpcore.app.models import AccessPolicy, Group, GroupRole, Role, UserRole
from pulpcore.app.serializers.base import FieldSelectionMixin, ModelSerializer
from pulpcore.app.serializers.repository import HiddenFieldsField

User = get_user_model()


def perm_name(perm: Permission) -> str:
    """``app_label.codename``, the form Pulp shows and accepts permissions in."""
    return f"{perm.content_type.app_label}.{perm.codename}"


def user_href(user_id) -> str:
    return f"{util.api_root()}users/{user_id}/"


def group_href(group_id) -> str:
    return f"{util.api_root()}groups/{group_id}/"


@extend_schema_field({"type": "string", "format": "uri", "readOnly": True})
class _ComputedHref(serializers.Field):
    """A read-only href built by ``build`` (for nested objects the registry doesn't route)."""

    def __init__(self, build, **kwargs):
        self.build = build
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return self.build(value)


# --- users and groups ----------------------------------------------------------------------------
class UserGroupSerializer(FieldSelectionMixin, serializers.Serializer):
    name = serializers.CharField(max_length=150)
    pulp_href = _ComputedHref(lambda g: group_href(g.pk))

    class Meta:
        ref_name = "UserGroup"


class UserSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    """A user account; the password is write-only and must pass the configured validators."""

    pulp_href = _ComputedHref(lambda u: user_href(u.pk))
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(
        max_length=150,
        validators=[UniqueValidator(queryset=User.objects.all())],
    )
    password = serializers.CharField(
        write_only=True, required=False, allow_null=True, style={"input_type": "password"}
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    is_staff = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)
    date_joined = serializers.DateTimeField(read_only=True)
    groups = UserGroupSerializer(many=True, read_only=True)
    hidden_fields = HiddenFieldsField(fields=("password",))

    class Meta:
        model = User
        fields = (
            "pulp_href",
            "id",
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "groups",
            "hidden_fields",
        )

    def validate_username(self, value: str) -> str:
        try:
            UnicodeUsernameValidator()(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages))
        return value

    def validate(self, data):
        password = data.get("password", serializers.empty)
        if self.instance is None and password in (serializers.empty, None):
            raise serializers.ValidationError({"password": ["A password is required."]})
        if password not in (serializers.empty, None):
            candidate = self.instance or User(
                **{k: v for k, v in data.items() if k in ("username", "email", "first_name")}
            )
            try:
                password_validation.validate_password(password, candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": list(exc.messages)})
        return data

    def create(self, validated_data):
        password = validated_data.pop("password")
        user = User(**validated_data)
        user.set_password(password)
        user.save()
        return user

    def update(self, instance, validated_data):
        password = validated_data.pop("password", serializers.empty)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        if password is None:
            instance.set_unusable_password()
        elif password is not serializers.empty:
            instance.set_password(password)
        instance.save()
        return instance


class GroupSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    pulp_href = _ComputedHref(lambda g: group_href(g.pk))
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(
        max_length=150, validators=[UniqueValidator(queryset=Group.objects.all())]
    )

    class Meta:
        model = Group
        fields = ("name", "pulp_href", "id")


class GroupUserSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    """A member of a group: written by username."""

    pulp_href = _ComputedHref(
        lambda u: (
            f"{group_href(u._pulp_group_pk)}users/{u.pk}/"
            if hasattr(u, "_pulp_group_pk")
            else user_href(u.pk)
        )
    )
    username = serializers.CharField(max_length=150)

    class Meta:
        model = User
        fields = ("username", "pulp_href")

    def validate_username(self, value: str):
        user = User.objects.filter(username=value).first()
        if user is None:
            raise serializers.ValidationError(f"User {value!r} does not exist.")
        return user


# --- roles ---------------------------------------------------------------------------------------
class PermissionsField(serializers.ListField):
    """Permissions as ``app_label.codename`` strings; unknown ones are a 400 naming them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(allow_blank=True))
        super().__init__(**kwargs)

    def to_representation(self, data) -> list[str]:
        perms = data.all() if hasattr(data, "all") else data
        return sorted(perm_name(p) for p in perms)

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        found, unknown = resolve_permissions(names)
        if unknown:
            raise serializers.ValidationError(
                f"Permission(s) not found: {', '.join(sorted(unknown))}."
            )
        return found


def resolve_permissions(names: list[str]) -> tuple[list[Permission], list[str]]:
    """The Permission rows named ``app_label.codename`` and the names that match none."""
    wanted = {}
    unknown = []
    for name in names:
        app_label, _, codename = str(name).partition(".")
        if not app_label or not codename:
            unknown.append(str(name))
        else:
            wanted[(app_label, codename)] = name
    found = []
    if wanted:
        rows = Permission.objects.select_related("content_type").filter(
            codename__in={c for _, c in wanted}, content_type__app_label__in={a for a, _ in wanted}
        )
        by_key = {(p.content_type.app_label, p.codename): p for p in rows}
        for key, name in wanted.items():
            if key in by_key:
                found.append(by_key[key])
            else:
                unknown.append(name)
    return found, unknown


class RoleSerializer(ModelSerializer):
    name = serializers.CharField(validators=[UniqueValidator(queryset=Role.objects.all())])
    description = serializers.CharField(required=False, allow_null=True)
    permissions = PermissionsField()
    locked = serializers.BooleanField(read_only=True)

    class Meta:
        model = Role
        fields = ModelSerializer.Meta.fields + ("name", "description", "permissions", "locked")


# --- role assignments ----------------------------------------------------------------------------
def content_object_href(assignment) -> str | None:
    if assignment.content_type_id is None:
        return None
    obj = getattr(assignment, "_pulp_object", None)
    if obj is None:
        model = ContentType.objects.get_for_id(assignment.content_type_id).model_class()
        obj = model.objects.filter(pk=assignment.object_id).first() if model else None
    if obj is None:
        return None
    try:
        return util.get_url(obj)
    except LookupError:
        return None


class _AssignmentSerializer(ModelSerializer):
    role = serializers.SlugRelatedField(slug_field="name", queryset=Role.objects.all())
    content_object = serializers.CharField(allow_null=True)
    description = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    domain = serializers.URLField(allow_null=True, allow_blank=True, required=False, default=None)

    def get_description(self, obj) -> str:
        return obj.role.description or ""

    def get_permissions(self, obj) -> list[str]:
        return sorted(perm_name(p) for p in obj.role.permissions.all())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "content_object" in data:
            data["content_object"] = content_object_href(instance)
        if "domain" in data:
            data["domain"] = None
        return data

    def validate_domain(self, value):
        if value is not None:
            raise serializers.ValidationError("Domains are not enabled on this installation.")
        return None

    def validate(self, data):
        role = data["role"]
        href = data.pop("content_object", None)
        data.pop("domain", None)
        if href is not None:
            try:
                obj = util.resolve_href(href)
            except util.HrefError as exc:
                raise serializers.ValidationError({"content_object": [str(exc)]})
            ct = ContentType.objects.get_for_model(obj)
            if not role.permissions.filter(content_type=ct).exists():
                raise serializers.ValidationError(
                    {
                        "content_object": [
                            f"Role {role.name!r} carries no permission on objects of type "
                            f"{ct.app_label}.{ct.model}."
                        ]
                    }
                )
            data["content_type"] = ct
            data["object_id"] = str(obj.pk)
        else:
            data["content_type"] = None
            data["object_id"] = None
        return data


class UserRoleSerializer(_AssignmentSerializer):
    pulp_href = _ComputedHref(lambda a: f"{user_href(a.user_id)}roles/{a.pk}/")

    class Meta:
        model = UserRole
        fields = ModelSerializer.Meta.fields + (
            "role",
            "content_object",
            "description",
            "permissions",
            "domain",
        )

    def validate(self, data):
        data = super().validate(data)
        user = self.context["user"]
        if UserRole.objects.filter(
            user=user,
            role=data["role"],
            content_type=data["content_type"],
            object_id=data["object_id"],
        ).exists():
            raise serializers.ValidationError(
                f"User {user.username!r} already has role {data['role'].name!r} there."
            )
        return data


class GroupRoleSerializer(_AssignmentSerializer):
    pulp_href = _ComputedHref(lambda a: f"{group_href(a.group_id)}roles/{a.pk}/")

    class Meta:
        model = GroupRole
        fields = UserRoleSerializer.Meta.fields

    def validate(self, data):
        data = super().validate(data)
        group = self.context["group"]
        if GroupRole.objects.filter(
            group=group,
            role=data["role"],
            content_type=data["content_type"],
            object_id=data["object_id"],
        ).exists():
            raise serializers.ValidationError(
                f"Group {group.name!r} already has role {data['role'].name!r} there."
            )
        return data


# --- object role actions -------------------------------------------------------------------------
class NestedRoleSerializer(serializers.Serializer):
    """Body of ``add_role``/``remove_role``: one role for some users and groups."""

    users = serializers.ListField(child=serializers.CharField(), default=[])
    groups = serializers.ListField(child=serializers.CharField(), default=[])
    role = serializers.CharField()

    class Meta:
        ref_name = "NestedRole"

    def validate(self, data):
        role = Role.objects.filter(name=data["role"]).first()
        if role is None:
            raise serializers.ValidationError({"role": [f"Role {data['role']!r} does not exist."]})
        users = list(User.objects.filter(username__in=data["users"]))
        missing = sorted(set(data["users"]) - {u.username for u in users})
        if missing:
            raise serializers.ValidationError(
                {"users": [f"User(s) not found: {', '.join(missing)}."]}
            )
        groups = list(Group.objects.filter(name__in=data["groups"]))
        missing = sorted(set(data["groups"]) - {g.name for g in groups})
        if missing:
            raise serializers.ValidationError(
                {"groups": [f"Group(s) not found: {', '.join(missing)}."]}
            )
        if not users and not groups:
            raise serializers.ValidationError("Name at least one user or group.")
        obj = self.context.get("content_object")
        if obj is not None:
            ct = ContentType.objects.get_for_model(obj)
            if not role.permissions.filter(content_type=ct).exists():
                raise serializers.ValidationError(
                    {
                        "role": [
                            f"Role {role.name!r} carries no permission on objects of type "
                            f"{ct.app_label}.{ct.model}."
                        ]
                    }
                )
        data["role_obj"] = role
        data["user_objs"] = users
        data["group_objs"] = groups
        return data


class ObjectRolesSerializer(serializers.Serializer):
    roles = NestedRoleSerializer(many=True)

    class Meta:
        ref_name = "ObjectRoles"


class MyPermissionsSerializer(serializers.Serializer):
    permissions = serializers.ListField(child=serializers.CharField())

    class Meta:
        ref_name = "MyPermissions"


# --- access policies -----------------------------------------------------------------------------
STATEMENT_KEYS = {"action", "principal", "effect", "condition", "condition_expression"}


def validate_statements(statements) -> list[dict]:
    """Reject statements drf-access-policy couldn't evaluate, naming what is wrong."""
    from pulpcore.app.access.policy import AccessPolicyFromDB

    if not isinstance(statements, list):
        raise serializers.ValidationError("statements must be a list of objects.")
    checker = AccessPolicyFromDB()
    for index, statement in enumerate(statements):
        where = f"Statement {index}"
        if not isinstance(statement, dict):
            raise serializers.ValidationError(f"{where} is not an object.")
        extra = sorted(set(statement) - STATEMENT_KEYS)
        if extra:
            raise serializers.ValidationError(f"{where} has unknown key(s): {', '.join(extra)}.")
        for key in ("action", "principal", "effect"):
            if key not in statement:
                raise serializers.ValidationError(f"{where} lacks {key!r}.")
        if statement["effect"] not in ("allow", "deny"):
            raise serializers.ValidationError(f"{where}: effect must be 'allow' or 'deny'.")
        for key in ("action", "principal", "condition", "condition_expression"):
            value = statement.get(key, [])
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise serializers.ValidationError(
                    f"{where}: {key} must be a string or a list of strings."
                )
        conditions = statement.get("condition", [])
        for condition in [conditions] if isinstance(conditions, str) else conditions:
            name = condition.split(":", 1)[0]
            if not checker.knows_condition(name):
                raise serializers.ValidationError(f"{where}: unknown condition {name!r}.")
        expressions = statement.get("condition_expression", [])
        for expression in [expressions] if isinstance(expressions, str) else expressions:
            problem = checker.expression_problem(expression)
            if problem:
                raise serializers.ValidationError(f"{where}: {problem}")
    return statements


class AccessPolicySerializer(ModelSerializer):
    viewset_name = serializers.CharField(read_only=True)
    statements = serializers.ListField(child=serializers.DictField())
    creation_hooks = serializers.ListField(child=serializers.DictField(), required=False)
    permissions_assignment = serializers.ListField(
        child=serializers.DictField(), required=False, source="creation_hooks"
    )
    queryset_scoping = serializers.DictField(required=False)
    customized = serializers.BooleanField(read_only=True)

    class Meta:
        model = AccessPolicy
        fields = ModelSerializer.Meta.fields + (
            "permissions_assignment",
            "creation_hooks",
            "statements",
            "viewset_name",
            "customized",
            "queryset_scoping",
        )

    def validate_statements(self, value):
        return validate_statements(value)

    def validate_creation_hooks(self, value):
        from pulpcore.app.access.hooks import CREATION_HOOKS

        for index, hook in enumerate(value):
            name = hook.get("function")
            if name not in CREATION_HOOKS:
                raise serializers.ValidationError(
                    f"Creation hook {index}: unknown function {name!r}."
                )
            if not isinstance(hook.get("parameters", {}), dict):
                raise serializers.ValidationError(
                    f"Creation hook {index}: parameters must be an object."
                )
        return value

    def validate_queryset_scoping(self, value):
        if value and value.get("function") not in (None, "scope_queryset"):
            raise serializers.ValidationError(
                f"Unknown queryset scoping function {value.get('function')!r}."
            )
        return value

    def update(self, instance, validated_data):
        validated_data["customized"] = True
        return super().update(instance, validated_data)
