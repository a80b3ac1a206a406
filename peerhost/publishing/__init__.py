"""Developer tooling: publish a functions folder and get live URLs.

Typical use (inside ``ape run``/``ape console``, with the deployed registry)::

    from peerhost.publishing import Publisher, load_project
    from peerhost.storage import open_store

    project = load_project("examples")
    report = Publisher(registry, account, open_store("local:.devnet/store")).publish(project)
    for fn in report.functions:
        print(fn.name, fn.action, fn.url)
"""

from __future__ import annotations

from peerhost.publishing.billing import ProjectAccount, prepare_project, project_account
from peerhost.publishing.errors import (
    DuplicateFunctionName,
    FunctionsFolderNotFound,
    InvalidCode,
    InvalidFunctionName,
    InvalidProjectFile,
    InvalidProjectName,
    PublishError,
    RegistryRefused,
    UnknownRuntime,
)
from peerhost.publishing.manifest import FunctionSpec, ProjectSpec, load_project
from peerhost.publishing.publisher import Published, Publisher, PublishReport, active_version
from peerhost.publishing.report import format_report
from peerhost.publishing.urls import DEFAULT_GATEWAY_URL, function_url

__all__ = [
    "DEFAULT_GATEWAY_URL",
    "DuplicateFunctionName",
    "FunctionSpec",
    "FunctionsFolderNotFound",
    "InvalidCode",
    "InvalidFunctionName",
    "InvalidProjectFile",
    "InvalidProjectName",
    "ProjectAccount",
    "ProjectSpec",
    "PublishError",
    "PublishReport",
    "Published",
    "Publisher",
    "RegistryRefused",
    "UnknownRuntime",
    "active_version",
    "format_report",
    "function_url",
    "load_project",
    "prepare_project",
    "project_account",
]
