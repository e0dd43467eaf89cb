"""The prose of the served API document: summaries, descriptions of operations, parameters, fields.

drf-spectacular would take text from docstrings and help texts written for developers; those are
removed (``openapi.strip_prose``) and replaced by the sentences below, written for the people
who read ``/pulp/api/v3/docs/``. Text is derived from structure (the action, the model's name,
the filter's lookup, the field's name), so every operation, parameter and field gets one, and a
new endpoint is documented without extra work. The contract check ignores all of it.
"""

from __future__ import annotations

import re
from typing import Any

# --- nouns ---------------------------------------------------------------------------------------


def plural(noun: str) -> str:
    """English plural of the last word (repository → repositories, status → statuses)."""
    head, _, last = noun.rpartition(" ")
    if re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}".strip()


def noun_for_view(view: Any) -> str | None:
    """'file repository' for FileRepositoryViewSet, from the model's verbose name."""
    queryset = getattr(view, "queryset", None)
    model = getattr(queryset, "model", None)
    if model is None:
        return None
    noun = str(model._meta.verbose_name)
    return noun + " unit" if noun.endswith("content") else noun


def noun_for_component(name: str) -> str:
    """'file remote' for 'Patchedfile.FileRemoteResponse'."""
    name = name.split(".")[-1]
    name = re.sub(r"^Patched", "", name)
    name = re.sub(r"Response$", "", name)
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)
    return " ".join(w.lower() for w in words) or "object"


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


# --- operations ----------------------------------------------------------------------------------
ACTIONS = {
    "sync": (
        "Sync from a remote",
        "Download what the remote lists and record it as a new repository version. Runs as a "
        "task: the response names it; poll the task to see progress and the created version.",
    ),
    "modify": (
        "Add or remove content",
        "Make a new repository version from the latest one (or from base_version): first "
        "remove the listed units, then add the listed ones. Runs as a task.",
    ),
    "repair": (
        "Repair artifacts",
        "Check the files behind the content of this version and download again the ones that "
        "are missing or corrupted, from the remotes that provided them. Runs as a task.",
    ),
    "commit": (
        "Finish an upload",
        "Assemble the uploaded chunks, check the whole file against the given sha256 and "
        "store it as an artifact. Runs as a task.",
    ),
    "purge": (
        "Delete finished tasks",
        "Remove tasks that ended before the given time, in the given final states, to keep "
        "the task list short. Runs as a task.",
    ),
    "cleanup": (
        "Remove orphans",
        "Delete content that no repository version holds and artifacts nothing refers to, "
        "once they are older than the orphan protection time. Runs as a task.",
    ),
    "reclaim": (
        "Reclaim disk space",
        "Delete the files of content in the given repositories (keeping the content records) "
        "so they can be downloaded again on demand. Runs as a task.",
    ),
    "upload": (
        "Upload a file",
        "Send one file and create a content unit from it in a single call. Runs as a task.",
    ),
    "list_roles": ("List roles", "Show which users and groups hold which role on this object."),
    "add_role": ("Grant a role", "Give users or groups a role on this object."),
    "remove_role": ("Revoke a role", "Take a role on this object away from users or groups."),
    "my_permissions": (
        "My permissions",
        "List the permissions the calling user has on this object.",
    ),
    "set_label": ("Set a label", "Add a label to this object, or change the value of one."),
    "unset_label": ("Remove a label", "Remove one label from this object."),
}


def operation_text(action: str, method: str, noun: str | None, is_task: bool) -> tuple[str, str]:
    """(summary, description) of one operation."""
    thing = noun or "object"
    a = _article(thing)
    task_note = (
        " The change is made by a task: the response holds the task's href, poll it to follow "
        "the work."
        if is_task
        else ""
    )
    if action == "list":
        return (
            f"List {plural(thing)}",
            f"Return a page of {plural(thing)}. The query parameters narrow the list; limit and "
            "offset page through it, and the answer says how many there are in all.",
        )
    if action == "read":
        return (
            f"Inspect {a} {thing}",
            f"Return one {thing}, named by its href.",
        )
    if action == "create":
        return (f"Create {a} {thing}", f"Make a new {thing} from the request body.{task_note}")
    if action == "update" and thing == "upload":
        return (
            "Upload a chunk",
            "Send one byte range of the file (Content-Range header); chunks may come in any "
            "order and are checked against their sha256 when given.",
        )
    if action == "update":
        return (
            f"Update {a} {thing}",
            f"Replace every writable field of the {thing}; fields left out get their default."
            f"{task_note}",
        )
    if action == "partial_update":
        if thing == "task":
            return ("Cancel a task", "Ask a waiting or running task to stop (state 'canceled').")
        return (
            f"Update part of {a} {thing}",
            f"Change only the fields given in the request body.{task_note}",
        )
    if action == "delete":
        return (f"Delete {a} {thing}", f"Remove the {thing}.{task_note}")
    if action in ACTIONS:
        summary, description = ACTIONS[action]
        return summary, description
    words = action.replace("_", " ")
    verb = {"get": "Read", "post": "Submit", "put": "Replace", "patch": "Change"}.get(
        method.lower(), words.capitalize()
    )
    if words in ("get", "post", "put", "patch", "delete"):
        return (f"{verb} {thing}", f"{verb} the {thing}.{task_note}")
    return (words.capitalize(), f"Run '{words}' on the {thing}.{task_note}")


# --- parameters ----------------------------------------------------------------------------------
LOOKUPS = {
    "exact": "equals",
    "iexact": "equals, ignoring case",
    "contains": "contains",
    "icontains": "contains, ignoring case",
    "startswith": "starts with",
    "istartswith": "starts with, ignoring case",
    "in": "is one of the comma-separated values",
    "gt": "is greater than",
    "gte": "is greater than or equal to",
    "lt": "is less than",
    "lte": "is less than or equal to",
    "range": "lies between the two comma-separated values",
    "isnull": "is missing (true) or present (false)",
    "ne": "is not",
    "regex": "matches the regular expression",
    "iregex": "matches the regular expression, ignoring case",
}

PARAMETERS = {
    "limit": "Most results to return in one page.",
    "offset": "How many results to skip before the page starts.",
    "ordering": "Fields to sort by, comma-separated; a leading '-' sorts that field descending.",
    "fields": "Only these fields of each result (comma-separated or repeated).",
    "exclude_fields": "Every field of each result except these (comma-separated or repeated).",
    "X-Task-Diagnostics": "Diagnostics to collect while a dispatched task runs.",
    "Content-Range": "The byte range this chunk covers, as 'bytes START-END/TOTAL'.",
    "q": "A filter expression: filters combined with AND, OR, NOT and parentheses, for example "
    'name__startswith="web" AND NOT pulp_label_select="env=test".',
    "pulp_label_select": "Labels to match, comma-separated: key=value, key!=value, "
    "key~part-of-value, or a bare key that must exist.",
    "repository_version": "Only content in this repository version (its href).",
    "repository_version_added": "Only content this repository version added (its href).",
    "repository_version_removed": "Only content this repository version removed (its href).",
    "orphaned_for": "Only content no repository version has held for at least this many "
    "minutes (0: orphaned now).",
    "pulp_href__in": "Only objects with these hrefs (comma-separated).",
    "pulp_id__in": "Only objects with these ids (comma-separated).",
    "prn__in": "Only objects with these Pulp resource names (comma-separated).",
    "content": "Only versions that hold this content unit (its href).",
    "content__in": "Only versions that hold any of these content units (hrefs).",
    "reserved_resources": "Only tasks that reserved this resource.",
    "reserved_resources__in": "Only tasks that reserved every one of these resources.",
    "shared_resources": "Only tasks that used this resource in shared mode.",
    "exclusive_resources": "Only tasks that held this resource exclusively.",
    "remote": "Only objects that use this remote (its href).",
    "with_content": "Only repositories that hold this content unit in their latest version.",
    "latest_with_content": "Only repositories whose latest version holds this content unit.",
}


def parameter_text(param: dict, noun: str | None) -> str:
    name = param.get("name", "")
    if param.get("in") == "path":
        return f"The href of the {noun or 'object'} (its pulp_href)."
    if name in PARAMETERS:
        return PARAMETERS[name]
    field, _, lookup = name.partition("__")
    label = field.replace("_", " ")
    if lookup in LOOKUPS:
        return f"Only results whose {label} {LOOKUPS[lookup]}."
    if lookup:
        return f"Only results whose {label} matches ({lookup.replace('__', ' ')})."
    return f"Only results whose {label} equals this value."


# --- fields --------------------------------------------------------------------------------------
FIELDS = {
    "pulp_href": "The URI of this object; other calls refer to it by this href.",
    "prn": "The Pulp resource name: a stable name of this object that does not depend on URLs.",
    "pulp_created": "When this object was created (UTC).",
    "pulp_last_updated": "When this object was last changed (UTC).",
    "pulp_labels": "Free-form key/value labels to group and find objects.",
    "name": "A unique name.",
    "description": "Free text about this object.",
    "url": "Where to download from (for a file remote, the URL of the PULP_MANIFEST).",
    "ca_cert": "PEM certificates of the authorities trusted to sign the server's certificate.",
    "client_cert": "PEM client certificate sent to the server (with client_key).",
    "client_key": "PEM private key of client_cert. Write-only; stored encrypted.",
    "tls_validation": "Check the server's TLS certificate (turn off only for testing).",
    "username": "User name for the server's basic authentication. Write-only.",
    "password": "Password for the server's basic authentication. Write-only; stored encrypted.",
    "proxy_url": "The HTTP(S) proxy to go through, without credentials.",
    "proxy_username": "User name for the proxy. Write-only.",
    "proxy_password": "Password for the proxy. Write-only; stored encrypted.",
    "download_concurrency": "How many downloads may run at once for this remote.",
    "max_retries": "How often a failed download is retried.",
    "policy": "When content is downloaded: immediate (during sync), on_demand (when first "
    "requested; the file is kept) or streamed (when requested; never kept).",
    "total_timeout": "Seconds a whole download may take.",
    "connect_timeout": "Seconds to wait for a connection from the pool.",
    "sock_connect_timeout": "Seconds to wait for a new TCP connection.",
    "sock_read_timeout": "Seconds to wait for the next bytes from the server.",
    "headers": "Extra HTTP headers sent with every request, as a list of one-key objects.",
    "rate_limit": "Most requests per second to the server.",
    "hidden_fields": "Which write-only fields have a value (their values are never shown).",
    "retain_repo_versions": "How many versions to keep; older ones are deleted (empty: all).",
    "latest_version_href": "The href of the newest version of this repository.",
    "versions_href": "Where this repository's versions are listed.",
    "remote": "The remote used when none is given to a sync.",
    "number": "The version number, counting from 0 (the empty first version).",
    "repository": "The repository this belongs to or serves (its href).",
    "base_version": "The version whose content is the starting point (its href).",
    "content_summary": "How many units of each type this version added, removed and holds.",
    "repository_version": "The repository version (its href).",
    "publication": "The publication served (its href).",
    "base_path": "The path under the content app where this is served.",
    "base_url": "The full URL where clients download the served content.",
    "content_guard": "The content guard that protects what is served (its href).",
    "hidden": "Leave this distribution out of the content app's listings.",
    "state": "Where the task is: waiting, running, completed, failed, canceling, canceled "
    "or skipped.",
    "logging_cid": "The correlation id of the request that dispatched the task.",
    "created_by": "The user who dispatched the task (their href).",
    "unblocked_at": "When every resource the task needs became free.",
    "started_at": "When a worker started it.",
    "finished_at": "When it ended.",
    "error": "Why the task failed: a description and, for administrators, details.",
    "worker": "The worker that ran the task (its href).",
    "parent_task": "The task that dispatched this one (its href).",
    "child_tasks": "Tasks this one dispatched (their hrefs).",
    "task_group": "The group this task was dispatched in (its href).",
    "progress_reports": "Counters the task updates while it works.",
    "created_resources": "Hrefs of the objects the task created.",
    "reserved_resources_record": "The resources the task reserved.",
    "task": "The href of the task doing the work.",
    "tasks": "The tasks in this group (their hrefs).",
    "count": "How many results there are in all.",
    "next": "The URL of the next page, if any.",
    "previous": "The URL of the previous page, if any.",
    "results": "The objects of this page.",
    "file": "The file's bytes.",
    "size": "Size in bytes.",
    "md5": "MD5 digest (hex), if that checksum is allowed.",
    "sha1": "SHA-1 digest (hex), if that checksum is allowed.",
    "sha224": "SHA-224 digest (hex).",
    "sha256": "SHA-256 digest (hex).",
    "sha384": "SHA-384 digest (hex).",
    "sha512": "SHA-512 digest (hex).",
    "relative_path": "The path of the file inside a publication or distribution.",
    "artifact": "The stored file behind this content (its href).",
    "upload": "An upload to create the content from (its href).",
    "manifest": "The name of the manifest file in the publication.",
    "mirror": "Make the new version hold exactly what the remote lists (remove everything else).",
    "add_content_units": "Hrefs of content to add.",
    "remove_content_units": "Hrefs of content to remove ('*' removes everything).",
    "content_units": "Hrefs of content units.",
    "orphan_protection_time": "Minutes an orphan is kept before it may be removed.",
    "finished_before": "Tasks that ended before this time.",
    "states": "Task states to act on.",
    "role": "The name of the role.",
    "users": "User names.",
    "groups": "Group names.",
    "permissions": "Permission names.",
    "key": "A label's key.",
    "value": "A label's value.",
    "last_heartbeat": "When the process last reported that it is alive.",
    "current_task": "The task the worker is running (its href).",
    "versions": "The versions of the Pulp components involved.",
    "completed": "When the upload was committed.",
    "code": "A machine-readable name of what is counted.",
    "message": "What is counted, in words.",
    "done": "How many are done.",
    "total": "How many there are to do.",
    "suffix": "An extra word to tell reports apart.",
}


def field_text(prop_name: str, component: str) -> str:
    if prop_name in FIELDS:
        return FIELDS[prop_name]
    return f"The {prop_name.replace('_', ' ')} of this {noun_for_component(component)}."


def describe_components(components: dict) -> None:
    """Give every component and property a description (help texts stashed before win)."""
    for name, schema in components.get("schemas", {}).items():
        if not isinstance(schema, dict):
            continue
        if "enum" in schema:
            schema["description"] = "One of: " + ", ".join(
                str(v) for v in schema["enum"] if v not in ("", None)
            )
            continue
        noun = noun_for_component(name)
        schema["description"] = f"{_article(noun).capitalize()} {noun}."
        for prop_name, prop in schema.get("properties", {}).items():
            if not isinstance(prop, dict):
                continue
            prop["description"] = prop.pop(HELP_MARKER, None) or field_text(prop_name, name)


HELP_MARKER = "x-pulp-help"
SUMMARY_MARKER = "x-pulp-summary"
DESCRIPTION_MARKER = "x-pulp-description"
NOUN_MARKER = "x-pulp-noun"


def apply_markers(paths: dict) -> None:
    """Turn the stashed texts into summary/description (after docstring prose was removed)."""
    for methods in paths.values():
        for operation in methods.values():
            noun = operation.pop(NOUN_MARKER, None)
            summary = operation.pop(SUMMARY_MARKER, None)
            description = operation.pop(DESCRIPTION_MARKER, None)
            if summary:
                operation["summary"] = summary
            if description:
                operation["description"] = description
            for param in operation.get("parameters", []):
                text = param.pop(DESCRIPTION_MARKER, None) or parameter_text(param, noun)
                param["description"] = text


INFO_DESCRIPTION = (
    "Fetch, upload, organize and distribute software packages. Repositories hold content in "
    "immutable versions; remotes say where to sync it from; publications and distributions "
    "serve it through the content app. Calls that change data in bulk answer 202 with a task "
    "to follow under tasks/. Authenticate with HTTP basic auth or a session (see the login "
    "endpoint)."
)
