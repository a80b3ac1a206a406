"""Starts a new functions project that publishes and answers unchanged.

    ape run init my-api                       # js: functions/hello.js, handler(req)
    ape run init my-api --template fetch      # js, Fetch API: export default { fetch(request, env) }
    ape run init my-api --template express    # js, Express style: export default (req, res) => ...
    ape run init my-api --template python     # Python: functions/hello.py, def handler(req)
    ape run init my-api --template c          # C built to WebAssembly: src/hello.c -> functions/hello.wasm

Writes project.json, a function, a test that runs it in the local sandbox (`pytest tests`) and a
README with the publish and curl commands.
"""

from __future__ import annotations

from pathlib import Path

import click

from peerhost.errors import PeerHostError
from peerhost.scaffold import init_project, templates


@click.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--template", type=click.Choice(templates()), default="js", show_default=True)
@click.option("--project-name", help="Project name (default: the folder name).")
def cli(folder: str, template: str, project_name: str | None) -> None:
    """Write a new PeerHost project into FOLDER (created; must be empty)."""
    try:
        written = init_project(folder, template, project_name)
    except PeerHostError as exc:
        raise click.ClickException(str(exc)) from exc
    base = Path(folder).expanduser().resolve()
    click.echo(f"Created a {template} project in {base}:")
    for path in written:
        click.echo(f"  {path.relative_to(base)}")
    # From here, not from inside the new folder: `ape run` finds its commands in this checkout.
    click.echo(
        f"Next: pytest {folder}/tests; ape run publish {folder} --check --account TEST::1"
        f" (see {folder}/README.md)"
    )
