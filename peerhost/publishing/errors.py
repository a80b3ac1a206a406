"""Errors raised while reading or publishing a functions folder."""

from __future__ import annotations

from pathlib import Path

from peerhost import jsbundle
from peerhost.errors import PeerHostError

FUNCTION_NAME_RULE = (
    "function names are 1-64 characters of a-z, 0-9, '_' and '-' (file names are lowercased)"
)
PROJECT_NAME_RULE = "project names are 1-32 characters of a-z, 0-9 and '-'"


class PublishError(PeerHostError):
    """Base class of every publishing error."""


class FunctionsFolderNotFound(PublishError, FileNotFoundError):
    """The folder to publish has no functions in it."""

    def __init__(self, folder: Path, reason: str) -> None:
        self.folder = folder
        super().__init__(f"Cannot publish {folder}: {reason}.")


class InvalidFunctionName(PublishError, ValueError):
    """A file name does not make a valid function name."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        super().__init__(
            f"{path.name}: '{name}' is not a valid function name: {FUNCTION_NAME_RULE}."
        )


class DuplicateFunctionName(PublishError, ValueError):
    """Two files map to the same function name."""

    def __init__(self, name: str, paths: list[Path]) -> None:
        self.name = name
        self.paths = paths
        files = " and ".join(p.name for p in paths)
        super().__init__(
            f"{files} would both publish function '{name}': "
            "each function name must come from exactly one file (names are lowercased, "
            "the extension is dropped). Rename or remove one of them."
        )


class InvalidProjectName(PublishError, ValueError):
    """The project name is not valid."""

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        super().__init__(
            f"'{name}' (from {source}) is not a valid project name: {PROJECT_NAME_RULE}. "
            'Set one in project.json: {"project": "my-project"}.'
        )


class InvalidProjectFile(PublishError, ValueError):
    """project.json cannot be read or holds something unexpected."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}.")


class UnknownRuntime(PublishError, ValueError):
    """A function's runtime cannot be inferred or is not supported."""

    def __init__(self, path: Path, runtime: str | None, known: list[str]) -> None:
        self.path = path
        what = (
            f"runtime '{runtime}' is not supported" if runtime else "no runtime for this extension"
        )
        super().__init__(
            f"{path.name}: {what} (runtimes: {', '.join(known)}; "
            '.wasm/.wat are wasi, .js is js; or set "runtime" for it in project.json).'
        )


class InvalidCode(PublishError, ValueError):
    """A function's code cannot be prepared for publishing."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"{path.name}: {reason}.")


class RegistryRefused(PublishError, RuntimeError):
    """The registry refused to publish a version."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"The registry refused to publish '{name}': {reason}")


class FundingReverted(PublishError, RuntimeError):
    """A transaction that funds a project or authorizes a gateway reverted: nothing was spent
    but gas."""

    def __init__(self, action: str, project: str, reason: str) -> None:
        self.action = action
        self.project = project
        super().__init__(
            f"Could not {action} of project '{project}': the transaction reverted ({reason}). "
            "Nothing was added; check the amount, the project name and that the publishing "
            "account owns the project, then run the command again."
        )


class BundleFailed(PublishError, jsbundle.BundleFailed):
    """A js function and its imports could not be bundled into one module (as publishing says it).

    The bundler (:mod:`peerhost.jsbundle`) raises its own :class:`peerhost.jsbundle.BundleFailed`;
    publishing re-raises it as this one, so it is also a :class:`PublishError`.
    """

    @classmethod
    def of(cls, failed: jsbundle.BundleFailed) -> BundleFailed:
        return cls(failed.path, failed.problems)


class ScheduleTooFrequent(PublishError, ValueError):
    """A function's schedule runs more often than the gateway's minimum interval allows."""

    def __init__(self, function: str, schedule: str, gap: int, minimum: float, source: str) -> None:
        self.function = function
        super().__init__(
            f"{function}: schedule {schedule!r} runs {gap} s apart, below the minimum interval "
            f"of {minimum:g} s ({source}); space the runs at least {minimum:g} s apart "
            f'(e.g. "*/{max(1, int(-(-minimum // 60)))} * * * *" for every '
            f"{max(1, int(-(-minimum // 60)))} minute(s))."
        )
