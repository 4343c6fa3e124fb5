"""Where the project is: the template the local stack is built from, and where a running stack
leaves its address for the other commands.

``forgesyte`` may be run from anywhere inside a checkout (it looks upward from the current directory
for ``template.yaml``) or pointed at one with ``FORGESYTE_PROJECT_DIR``. ``forgesyte dev`` and the
commands that talk to it agree on one state directory, ``<project>/.local-stack``.
"""

from __future__ import annotations

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]  # when installed from a checkout (editable)


class NoProject(Exception):
    pass


def project_dir(start: Path | None = None) -> Path:
    explicit = os.environ.get("FORGESYTE_PROJECT_DIR")
    if explicit:
        if not (Path(explicit) / "template.yaml").is_file():
            raise NoProject(f"FORGESYTE_PROJECT_DIR={explicit} has no template.yaml")
        return Path(explicit).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "template.yaml").is_file():
            return folder
    if (CHECKOUT / "template.yaml").is_file():
        return CHECKOUT
    raise NoProject(
        "no template.yaml here or above: run forgesyte inside the ForgeSyte Serverless project "
        "or set FORGESYTE_PROJECT_DIR to it"
    )


def state_dir() -> Path:
    """Where `forgesyte dev` writes stack.json (its API's URL and key) for the other commands."""
    return project_dir() / ".local-stack"
