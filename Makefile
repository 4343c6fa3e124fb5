# ForgeSyte Serverless: every set-up step lives here, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
# SAM CLI in its own virtualenv (it pins old boto3 and click); the tests drive sam local invoke with it.
SAM_CLI_VERSION := 1.170.0
# checkov in its own virtualenv too (its pins clash with the project's); offline with --skip-download.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
# matplotlib in its own virtualenv: it draws docs/PERFORMANCE.md's plots from bench/results.json only.
PLOTS_VENV := .venv-plots
MATPLOTLIB_VERSION := 3.11.2
STAMP := $(VENV)/.installed
# uv installs into each virtualenv (10 s where pip took 100 s for the project's); pip stays in them.
UV_VERSION := 0.13.9
# Python caches what it compiles: where the environment says not to (as on these machines), each of
# the tests' many processes (API and runner workers, the CLI, containers' helpers) compiled its
# imports anew. Compiling on first import is cheaper than compiling every installed module up front.
unexport PYTHONDONTWRITEBYTECODE

CONSTRAINTS := requirements/constraints.txt
# Debian packages: ffmpeg makes the H.264/HEVC test files; podman, buildah, runc and mmdebstrap build
# and run the runner images without Docker; chromium runs the web page's browser tests (never a
# browser download). Installed as root; elsewhere the image tests skip and say why.
APT_PACKAGES := ffmpeg podman buildah runc mmdebstrap uidmap chromium
APT_COMMANDS := ffmpeg podman buildah runc mmdebstrap chromium
# The web page and its TypeScript client (web/): npm packages pinned by web/package-lock.json.
WEB_STAMP := web/node_modules/.installed
WEB_SOURCES := $(wildcard web/src/*.ts) web/index.html web/style.css web/favicon.svg web/build.mjs web/tsconfig.json

.PHONY: sam-cli install test lint typecheck pytest validate bench bench-segments performance catalog demo dev clean lock images images-if-possible image-test image-gpu push-images mutants web web-test screenshots test-deployed test-deployed-local

$(STAMP): pyproject.toml layers/forgesyte_core/pyproject.toml $(wildcard plugins/*/pyproject.toml) tests/fixtures/test_plugins/pyproject.toml $(CONSTRAINTS)
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c $(CONSTRAINTS) -e layers/forgesyte_core -e ".[test]" \
		-e tests/fixtures/test_plugins -e plugins/tracking -e plugins/motion-tracker -e "plugins/yolo-tracker[cpu]" \
		-e "plugins/ocr[cpu]"
	@missing=""; for c in $(APT_COMMANDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
		else echo "note: not root, so$$missing not installed: those tests will skip and say why"; fi; \
	fi
	touch $(STAMP)

install: $(STAMP) web

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

web/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

# The client's unit tests (vitest, a fake server) and the type check; the browser tests are in pytest.
web-test: web
	cd web && npm run typecheck && npm test

# Against a deployed stack (AWS credentials in the environment): AWS_SAM_STACK_NAME=<stack> make test-deployed
test-deployed: $(STAMP)
	$(BIN)/pytest tests/deployed

# The same suite against the running local stack (`make dev` in another terminal), which publishes
# itself as a CloudFormation stack on its moto server.
test-deployed-local: $(STAMP)
	local_stack=$$($(BIN)/python -m forgesyte_dev.local.outputs) && env $$local_stack $(BIN)/pytest tests/deployed

# The README's screenshots, from the browser tests.
screenshots: $(STAMP) web
	FORGESYTE_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/e2e/test_browser.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/forgesyte_core/forgesyte_core src/forgesyte_dev functions plugins/tracking/forgesyte_tracking \
		plugins/motion-tracker/forgesyte_motion_tracker plugins/yolo-tracker/forgesyte_yolo plugins/ocr/forgesyte_rapidocr

# In parallel (pytest-xdist), a worker a core. Each file runs on one worker (--dist loadfile), so a
# module's stack, podman service or `sam build` is made once (xdist_group markers do nothing under
# pytest 9); the files with the most slow tests go first (tests/conftest.py), so no long file starts
# last. The 15 slowest tests are listed at the end.
PYTEST_WORKERS ?= $(shell nproc)
# It needs SAM CLI's virtualenv too: the template tests run the SAM translator, the sam local tests SAM CLI.
pytest: $(STAMP) web $(SAM_VENV)/.installed
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

# Set-up first: the three virtualenvs and the page's packages install side by side (pip and npm wait
# on disk as much as on a core); then the checks, side by side; then pytest. --output-sync keeps each
# target's output together.
test:
	$(MAKE) -j4 --output-sync=target $(STAMP) $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed web
	$(MAKE) -j$(PYTEST_WORKERS) --output-sync=target lint typecheck web-test validate images-if-possible
	$(MAKE) pytest

# Re-pin every dependency (images and make install) after changing a requirement.
lock: $(STAMP)
	$(BIN)/python -m forgesyte_dev.lock

# The runner Lambda and Batch CPU images, on a Debian base made by mmdebstrap (no Docker, no registry).
images: $(STAMP)
	$(BIN)/python -m forgesyte_dev.images build --report .images.json

images-if-possible: $(STAMP)
	$(BIN)/python -m forgesyte_dev.images build --if-possible --report .images.json

# Each image run as AWS runs it, against the local stack: Lambda through the Runtime API, Batch with
# the job definition's command, a third-party plugin added to the image.
image-test: images $(SAM_VENV)/.installed
	$(BIN)/pytest tests/images

# The Batch GPU image (onnxruntime-gpu with CUDA 13 and cuDNN 9 wheels, several GB): not in make test.
image-gpu: $(STAMP)
	$(BIN)/python -m forgesyte_dev.images build --gpu --report .images.json
	$(BIN)/pytest tests/images -m gpu_image

# SAM CLI in its own virtualenv, for `sam local` (README) and make validate.
sam-cli: $(SAM_VENV)/.installed

$(SAM_VENV)/.installed:
	@test -d $(SAM_VENV) || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(SAM_VENV)/bin/uv pip install --quiet --python $(SAM_VENV)/bin/python aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

$(CHECKOV_VENV)/.installed:
	@test -d $(CHECKOV_VENV) || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(CHECKOV_VENV)/bin/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)
	touch $@

# The real SAM translator, offline, in its own virtualenv (aws-sam-cli pins old boto3/click), the pinned
# cfn-lint, and checkov offline: every check passes or is skipped with its reason next to the resource.
validate: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed $(STAMP)
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template template.yaml
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --template template.yaml
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --skip-download --compact --quiet

bench: $(STAMP) $(PLOTS_VENV)/.installed
	$(BIN)/python -m bench; status=$$?; $(PLOTS_VENV)/bin/python bench/performance_doc.py; exit $$status

# Only the segmented-run figures (issue 16: tracking across cuts, workers, AWS model, cost), then the doc.
bench-segments: $(STAMP) $(PLOTS_VENV)/.installed
	$(BIN)/python -m bench.segments; status=$$?; $(PLOTS_VENV)/bin/python bench/performance_doc.py; exit $$status

# docs/PERFORMANCE.md and its plots, from the results file as it is.
performance: $(PLOTS_VENV)/.installed
	$(PLOTS_VENV)/bin/python bench/performance_doc.py

$(PLOTS_VENV)/.installed:
	@test -d $(PLOTS_VENV) || $(PYTHON) -m venv $(PLOTS_VENV)
	$(PLOTS_VENV)/bin/pip install --quiet matplotlib==$(MATPLOTLIB_VERSION)
	touch $@

# Loosen each race guard on purpose (one line each) and check that a test fails: docs/RELIABILITY.md.
mutants: $(STAMP)
	$(BIN)/python -m forgesyte_dev.mutants

# The main job, end to end, on the embedded local stack: no AWS account, no Docker.
demo: $(STAMP)
	$(BIN)/forgesyte demo

dev: $(STAMP) web
	$(BIN)/forgesyte dev

# Build both Batch images on the registry base and push them: make push-images REPO=<BatchImageRepositoryUri> TAG=v1
# (the repository's tags are immutable: each push needs a new TAG, then deploy with BatchImageTag=TAG)
push-images: $(STAMP)
	@test -n "$(REPO)" || { echo "usage: make push-images REPO=<BatchImageRepositoryUri output> [TAG=v1]"; exit 2; }
	$(BIN)/python -m forgesyte_dev.images push "$(REPO)" --tag "$(or $(TAG),v1)"

# The catalog the API ships is the one the runner image generates from its installed entry points.
catalog: images
	$(BIN)/python -m forgesyte_dev.images catalog

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .venv-ultralytics web/node_modules web/dist .aws-sam .pytest_cache .mypy_cache .ruff_cache .images.json
