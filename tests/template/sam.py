"""template.yaml through the real SAM translator (.venv-sam, offline): what CloudFormation receives."""

from __future__ import annotations

import json
import os
import subprocess
from functools import lru_cache
from typing import Any

from tests.helpers import ROOT

SAM_PYTHON = ROOT / ".venv-sam/bin/python"


@lru_cache(maxsize=8)
def _transformed(parameters: str) -> str:
    assert SAM_PYTHON.is_file(), "`make test` installs SAM CLI (and its translator) in .venv-sam"
    done = subprocess.run(
        [str(SAM_PYTHON), str(ROOT / "src/forgesyte_dev/sam_transform.py"), parameters],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    return done.stdout


def resources(**parameters: str) -> dict[str, Any]:
    """The transformed template's resources for these parameter values (as CloudFormation passes them)."""
    result: dict[str, Any] = json.loads(_transformed(json.dumps(parameters, sort_keys=True)))["Resources"]
    return result
