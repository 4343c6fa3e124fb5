"""Every image's dependencies resolve for its platform (CPython 3.11, manylinux x86_64 up to glibc 2.36)
from the pins alone, wheels only, and `make install`'s do too. Needs PyPI, as the image builds do."""

from __future__ import annotations

import pytest

from forgesyte_dev.lock import CONSTRAINTS, image_requirements, parse_constraints, project_requirements, resolve


def off_pin(resolved: dict[str, str]) -> dict[str, str]:
    pins = parse_constraints()
    return {name: version for name, version in resolved.items() if pins.get(name) != version}


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["cpu", "gpu"])
def test_image_dependencies_resolve_to_the_pins_on_the_images_platform(variant: str) -> None:
    resolved = resolve(image_requirements(variant), CONSTRAINTS)
    assert not off_pin(resolved), "unpinned or off-pin packages: run `make lock`"
    if variant == "gpu":
        assert "onnxruntime" not in resolved, "two onnxruntime distributions would write one package"
        assert {"onnxruntime-gpu", "nvidia-cudnn-cu13", "nvidia-cuda-runtime"} <= set(resolved)
        assert resolved["nvidia-cuda-runtime"].startswith("13.")
    else:
        assert "onnxruntime-gpu" not in resolved
        assert {"onnxruntime", "awslambdaric", "opencv-python-headless", "rapidocr"} <= set(resolved)


@pytest.mark.slow
def test_every_local_distributions_requirements_are_pinned() -> None:
    assert not off_pin(resolve(project_requirements(), CONSTRAINTS)), "run `make lock`"
