"""``ape run init <folder> [--template …]``: a new functions project that publishes unchanged.

Each template is a folder under ``templates/`` (``js``, ``fetch``, ``express``, ``python``, ``c``;
one more folder adds a template):
``project.json``, a function, a test that runs it in the local sandbox, and a README with the
commands. Every project also gets the files of ``templates/_common`` (a template's own file of the
same name wins): its ``pytest.ini`` keeps the Ape test plugin, and the node it starts, out of the
sandbox tests. ``{{project}}`` in text files becomes the project name, ``{{folder}}`` the folder as
given (the README's commands run from where ``ape run init`` ran: the PeerHost checkout).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from peerhost.publishing.errors import PROJECT_NAME_RULE, PublishError
from peerhost.publishing.manifest import PROJECT_NAME

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEXT_SUFFIXES = {".js", ".json", ".md", ".py", ".c", ".sh"}


def templates() -> list[str]:
    return sorted(
        p.name for p in TEMPLATES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")
    )


class ScaffoldError(PublishError, ValueError):
    pass


def init_project(
    folder: Path | str, template: str = "js", project: str | None = None
) -> list[Path]:
    """Writes a new project into ``folder`` (created; must be empty); returns the files written.

    Raises:
        ScaffoldError: unknown template, a folder that is not empty, or a bad project name.
    """
    target = Path(folder).expanduser().resolve()
    if template not in templates():
        raise ScaffoldError(f"No template '{template}' (templates: {', '.join(templates())}).")
    name = project or target.name.lower()
    if not PROJECT_NAME.match(name):
        raise ScaffoldError(
            f"'{name}' is not a valid project name: {PROJECT_NAME_RULE}. "
            "Pick another folder name or pass --project-name."
        )
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(
            f"{target} is not empty: init writes a new project into an empty folder."
        )
    written = []
    for source, path in _template_files(template):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in TEXT_SUFFIXES:
            text = path.read_text().replace("{{project}}", name)
            out.write_text(text.replace("{{folder}}", str(folder)))
            shutil.copymode(path, out)
        else:
            shutil.copy2(path, out)
        written.append(out)
    return written


def _template_files(template: str) -> list[tuple[Path, Path]]:
    """(folder, file) pairs: ``_common``'s files, then the template's, which win on a name."""
    files: dict[Path, tuple[Path, Path]] = {}
    for source in (TEMPLATES_DIR / "_common", TEMPLATES_DIR / template):
        for path in sorted(source.rglob("*")):
            if not path.is_dir() and "__pycache__" not in path.parts:
                files[path.relative_to(source)] = (source, path)
    return [files[name] for name in sorted(files)]
