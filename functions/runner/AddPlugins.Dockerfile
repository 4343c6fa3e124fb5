# Adds a third-party ForgeSyte plugin to a built runner image and regenerates the image's plugin catalog,
# which `python -m forgesyte_dev.images catalog --image TAG` then ships to the API. Build context: the
# plugin's source folder (its pyproject.toml at the top). Its dependencies must already be in the image
# or pinned in requirements/constraints.txt (`pip check` fails the build otherwise).
#   podman build -f functions/runner/AddPlugins.Dockerfile --build-arg RUNNER_IMAGE=localhost/forgesyte-runner:lambda \
#       -t my-runner:lambda path/to/plugin
ARG RUNNER_IMAGE=localhost/forgesyte-runner:lambda
FROM ${RUNNER_IMAGE}
COPY . /tmp/plugin
RUN pip install --no-build-isolation /tmp/plugin && pip check && rm -rf /tmp/plugin \
    && python -m forgesyte_core.plugins.catalog_export "$PLUGIN_CATALOG_PATH"
