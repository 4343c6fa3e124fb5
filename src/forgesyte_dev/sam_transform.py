"""``python -m forgesyte_dev.sam_transform``, run with .venv-sam's Python: template.yaml through the real
SAM translator, offline, printed as JSON, so tests can check what CloudFormation would get (the IAM
roles SAM generates, above all). Local code paths become placeholder S3 and image URIs, as
``sam validate`` does. Imports only the standard library and SAM's own packages.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def transformed(parameters: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform  # type: ignore[import-not-found]
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-not-found]

    template: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            if props.get("PackageType") == "Image":
                props["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/runner:latest"
            else:
                props["CodeUri"] = "s3://placeholder/code.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://placeholder/layer.zip"
    result: dict[str, Any] = transform(template, parameters, _NoManagedPolicies())
    return result


if __name__ == "__main__":
    params = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    json.dump(transformed(params), sys.stdout)
