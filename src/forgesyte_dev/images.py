"""Build and run the runner images with podman, as root, without Docker or a registry.

``python -m forgesyte_dev.images build [--gpu]`` builds the Dockerfile's targets on a base made by
``mmdebstrap`` from Debian's packages (cached as ``localhost/forgesyte-base``), which stands in for the
registry's python:3.11-slim-bookworm: same Debian release, same Python, same glibc.
``catalog`` writes the catalog generated inside the Lambda image into the layer package the API ships.
``push`` builds both Batch images on the real base and pushes them to an ECR repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from forgesyte_dev.template import ROOT

DOCKERFILE = ROOT / "functions/runner/Dockerfile"
ADD_PLUGINS = ROOT / "functions/runner/AddPlugins.Dockerfile"
CONTAINERS_CONF = ROOT / "containers/containers.conf"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# The tag names what the base holds, so changing the package list builds a new one.
LOCAL_BASE = f"localhost/forgesyte-base:{BASE_SUITE}-py311-v2"
LAMBDA_PYTHON = "localhost/forgesyte-lambda-python:3.11"
LAMBDA_PYTHON_DOCKERFILE = ROOT / "containers/lambda-python.Dockerfile"
TOOLS = ("podman", "mmdebstrap", "runc")


@dataclass(frozen=True)
class Target:
    name: str  # the Dockerfile stage
    tag: str  # the local image it is built as


LAMBDA = Target("runner-lambda", "localhost/forgesyte-runner:lambda")
BATCH_CPU = Target("batch-cpu", "localhost/forgesyte-runner:batch-cpu")
BATCH_GPU = Target("batch-gpu", "localhost/forgesyte-runner:batch-gpu")


def unavailable_reason() -> str | None:
    """Why images cannot be built or run here, or None when they can."""
    if sys.platform != "linux":
        return "podman images are built on Linux only"
    if os.geteuid() != 0:
        return "building images needs root (podman, mmdebstrap); run as root or use Docker"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"missing {', '.join(missing)}: `make install` as root installs them"
    return None


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], env=podman_env(), check=check, text=True, capture_output=capture)


def image_exists(tag: str) -> bool:
    return podman("image", "exists", tag, check=False).returncode == 0


def ensure_base(tag: str = LOCAL_BASE) -> str:
    """The Debian base, made once by mmdebstrap and imported into podman's store."""
    if image_exists(tag):
        return tag
    began = time.monotonic()
    packages = ",".join(BASE_PACKAGES)
    # This machine's CA bundle goes in, so pip inside the builds trusts what the host trusts (a TLS
    # proxy's CA included): then `sam build`, which cannot mount it, builds the runner image too.
    trust = [f'--customize-hook=cp {CA_BUNDLE} "$1{CA_BUNDLE}"'] if Path(CA_BUNDLE).is_file() else []
    debstrap = subprocess.Popen(
        ["mmdebstrap", "--variant=apt", f"--include={packages}", *trust, "--quiet", BASE_SUITE, "-"],
        stdout=subprocess.PIPE,
    )
    assert debstrap.stdout is not None
    imported = subprocess.run(["podman", "import", "--quiet", "-", tag], stdin=debstrap.stdout, env=podman_env())
    debstrap.stdout.close()
    if debstrap.wait() != 0 or imported.returncode != 0:
        raise RuntimeError("could not make the base image with mmdebstrap and podman import")
    print(f"base {tag} made in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return tag


def build(target: Target, base: str, build_args: dict[str, str] | None = None) -> float:
    """Build one target; returns the seconds it took."""
    began = time.monotonic()
    args = ["build", "--file", str(DOCKERFILE), "--target", target.name, "--tag", target.tag]
    args += ["--build-arg", f"BASE_IMAGE={base}"]
    for name, value in (build_args or {}).items():
        args += ["--build-arg", f"{name}={value}"]
    podman(*args, str(ROOT))
    return time.monotonic() - began


def add_plugin(runner_image: str, plugin_dir: Path, tag: str, build_args: dict[str, str] | None = None) -> str:
    """A runner image with one more plugin installed and its catalog regenerated (AddPlugins.Dockerfile);
    the build's output. A refused plugin raises CalledProcessError with the reason in its output."""
    args = ["build", "--file", str(ADD_PLUGINS), "--tag", tag, "--build-arg", f"RUNNER_IMAGE={runner_image}"]
    for name, value in (build_args or {}).items():
        args += ["--build-arg", f"{name}={value}"]
    command = ["podman", *args, str(plugin_dir)]
    done = subprocess.run(command, env=podman_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout)
    return done.stdout


def build_lambda_python(base: str) -> str:
    """The stand-in for AWS's Lambda Python 3.11 image that `sam local` runs zip functions on."""
    podman(
        "build",
        "--file",
        str(LAMBDA_PYTHON_DOCKERFILE),
        "--tag",
        LAMBDA_PYTHON,
        "--build-arg",
        f"BASE_IMAGE={base}",
        str(ROOT),
    )
    return LAMBDA_PYTHON


def size_mb(tag: str) -> float:
    out = podman("image", "inspect", "--format", "{{.Size}}", tag, capture=True).stdout
    return int(out.strip()) / 1e6


def read_file(tag: str, path: str) -> str:
    done = podman("run", "--rm", "--network", "none", "--entrypoint", "cat", tag, path, capture=True)
    return done.stdout


def build_all(gpu: bool) -> dict[str, dict[str, float]]:
    base = ensure_base()
    report = {}
    for target in (LAMBDA, BATCH_CPU, *((BATCH_GPU,) if gpu else ())):
        seconds = build(target, base)
        report[target.tag] = {"build_s": round(seconds, 1), "size_mb": round(size_mb(target.tag), 1)}
        print(f"{target.tag}: built in {seconds:.0f} s, {report[target.tag]['size_mb']:.0f} MB", file=sys.stderr)
    return report


CATALOG_IN_IMAGE = "/opt/forgesyte/plugin_catalog.json"


def copy_catalog(tag: str, target: Path, **extra: str) -> Path:
    """The plugin catalog the image ``tag`` generated when it was built, written to ``target``."""
    catalog = {**json.loads(read_file(tag, CATALOG_IN_IMAGE)), **extra}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(catalog, indent=2, sort_keys=True) + "\n")
    return target


def write_catalog(tag: str = LAMBDA.tag) -> Path:
    """The image's catalog into the layer package: the shipped image's replaces the tracked catalog
    (``make catalog``); any other image's goes beside it, untracked, and the API lists it instead."""
    from forgesyte_core.plugins.catalog import IMAGE_CATALOG, PACKAGED_CATALOG

    if tag == LAMBDA.tag:
        return copy_catalog(tag, PACKAGED_CATALOG)
    return copy_catalog(tag, IMAGE_CATALOG, image=tag)


def remove_image_catalog() -> Path | None:
    """Back to the shipped catalog: the exported image catalog removed, if there was one."""
    from forgesyte_core.plugins.catalog import IMAGE_CATALOG

    if not IMAGE_CATALOG.is_file():
        return None
    IMAGE_CATALOG.unlink()
    return IMAGE_CATALOG


def push(repository: str, tag_prefix: str, engine: str) -> None:
    """Build both Batch images on the registry's base and push them as ``repository:{prefix}-cpu|gpu``.

    ``engine`` is docker (or podman where the registry base can be pulled); log in to ECR first.
    """
    for target, suffix in ((BATCH_CPU, "cpu"), (BATCH_GPU, "gpu")):
        remote = f"{repository}:{tag_prefix}-{suffix}"
        subprocess.run(
            [engine, "build", "-f", str(DOCKERFILE), "--target", target.name, "-t", remote, str(ROOT)], check=True
        )
        subprocess.run([engine, "push", remote], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forgesyte_dev.images", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    built = commands.add_parser("build", help="build the Lambda and Batch CPU images (and the GPU one with --gpu)")
    built.add_argument("--gpu", action="store_true", help="also build batch-gpu (several GB of CUDA wheels)")
    built.add_argument("--report", type=Path, help="write build times and sizes here as JSON")
    built.add_argument(
        "--if-possible", action="store_true", help="where podman cannot run, say why and exit 0 (the tests skip)"
    )
    catalog = commands.add_parser("catalog", help="write the Lambda image's plugin catalog into the layer package")
    catalog.add_argument(
        "--image",
        default=LAMBDA.tag,
        help=f"the runner image to read it from (default {LAMBDA.tag}, the shipped catalog; another image's is "
        "written untracked beside it, and the API lists it instead)",
    )
    catalog.add_argument(
        "--remove", action="store_true", help="remove an image's exported catalog: back to the shipped one"
    )
    pushed = commands.add_parser("push", help="build the Batch images with Docker and push them to ECR")
    pushed.add_argument("repository", help="the ECR repository URI (the stack's BatchImageRepositoryUri output)")
    pushed.add_argument("--tag", default="v1", help="tag prefix: pushes TAG-cpu and TAG-gpu (tags are immutable)")
    pushed.add_argument("--engine", default="docker", help="docker (default) or podman")
    args = parser.parse_args(argv)
    if args.command == "build":
        reason = unavailable_reason()
        if reason:
            print(f"runner images not built: {reason}", file=sys.stderr)
            return 0 if args.if_possible else 1
        report = build_all(args.gpu)
        if args.report:
            args.report.write_text(json.dumps(report, indent=2) + "\n")
    elif args.command == "catalog" and args.remove:
        removed = remove_image_catalog()
        print(f"removed {removed}" if removed else "no image catalog to remove", file=sys.stderr)
    elif args.command == "catalog":
        path = write_catalog(args.image)
        instead = "" if path.name == "plugin_catalog.json" else ": the API lists it instead of the shipped catalog"
        print(f"wrote {path}{instead}", file=sys.stderr)
    else:
        push(args.repository, args.tag, args.engine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
