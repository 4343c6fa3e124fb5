# ForgeSyte Serverless: every set-up step lives here, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck pytest validate bench catalog demo dev clean

$(STAMP): pyproject.toml layers/forgesyte_core/pyproject.toml $(wildcard plugins/*/pyproject.toml) tests/fixtures/test_plugins/pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e layers/forgesyte_core -e ".[test]" -e tests/fixtures/test_plugins $(foreach p,$(wildcard plugins/*/pyproject.toml),-e $(dir $(p)))
	@# Debian's ffmpeg makes the H.264/HEVC test files; best effort, the tests skip those cases without it.
	@command -v ffmpeg >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null) || \
		echo "note: ffmpeg not installed; H.264/HEVC probe tests will be skipped"; }
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/forgesyte_core/forgesyte_core src/forgesyte_dev functions plugins/tracking/forgesyte_tracking \
		plugins/motion-tracker/forgesyte_motion plugins/yolo-tracker/forgesyte_yolo plugins/ocr/forgesyte_rapidocr

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

$(SAM_VENV)/.installed:
	@test -d $(SAM_VENV) || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli
	touch $@

# The real SAM translator, offline, in its own virtualenv (aws-sam-cli pins old boto3/click).
validate: $(SAM_VENV)/.installed $(STAMP)
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template template.yaml
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --template template.yaml
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/python -m bench

# The main job, end to end, on the embedded local stack: no AWS account, no Docker.
demo: $(STAMP)
	$(BIN)/forgesyte demo

dev: $(STAMP)
	$(BIN)/forgesyte dev

catalog: $(STAMP)
	$(BIN)/forgesyte catalog --write

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
