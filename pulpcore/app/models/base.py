"""Base classes shared by every Pulp model: UUID keys, timestamps, master/detail typing."""

import uuid

from django.db import models


class BaseModel(models.Model):
    """UUID primary key plus creation and update timestamps, as every Pulp object has."""

    pulp_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pulp_created = models.DateTimeField(auto_now_add=True)
    pulp_last_updated = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        name = getattr(self, "name", None)
        return f"<{type(self).__name__}: {name or self.pk}>"


class MasterModel(BaseModel):
    """A model whose rows are typed by plugins through multi-table inheritance.

    Detail models set ``TYPE``; ``pulp_type`` records ``<app_label>.<TYPE>`` so a generic list can
    turn any master row back into its detail object with :meth:`cast`.
    """

    TYPE: str | None = None

    pulp_type = models.TextField(null=False, default=None, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.pulp_type:
            self.pulp_type = self.get_pulp_type()
        return super().save(*args, **kwargs)

    @classmethod
    def get_pulp_type(cls) -> str:
        """The ``app_label.TYPE`` string stored in ``pulp_type``."""
        return f"{cls._meta.app_label}.{cls.TYPE}"

    @classmethod
    def detail_models(cls) -> list[type["MasterModel"]]:
        """Every concrete detail model registered for this master."""
        found = []
        stack = list(cls.__subclasses__())
        while stack:
            sub = stack.pop()
            stack.extend(sub.__subclasses__())
            if not sub._meta.abstract and not sub._meta.proxy and sub.TYPE:
                found.append(sub)
        return found

    def cast(self) -> "MasterModel":
        """Return the detail object for this master row (itself when already a detail)."""
        if self.TYPE and self.get_pulp_type() == self.pulp_type:
            return self
        for model in self.detail_models():
            if model.get_pulp_type() == self.pulp_type:
                return model.objects.get(pk=self.pk)
        return self

    @property
    def master(self) -> "MasterModel":
        """The master row of a detail object."""
        parent = self._meta.get_parent_list()
        return parent[-1].objects.get(pk=self.pk) if parent else self


class AppStatus(BaseModel):
    """Heartbeat record of a running API or content app process, shown in ``status/``."""

    APP_TYPES = (("api", "api"), ("content", "content"))

    app_type = models.CharField(max_length=10, choices=APP_TYPES)
    name = models.TextField(unique=True)
    last_heartbeat = models.DateTimeField(auto_now=True)
    versions = models.JSONField(default=dict)
