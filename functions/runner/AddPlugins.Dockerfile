# Adds a ForgeSyte plugin, unchanged, to a built runner image and regenerates the image's plugin catalog,
# which `python -m forgesyte_dev.images catalog --image TAG` then ships to the API. Build context: the
# plugin's source folder (its pyproject.toml or setup.py at the top). forgesyte_core.plugins.add_plugin
# builds its wheel, stops on a plugin id or package the image already has (REPLACE=ID removes that
# shipped plugin first, knowingly), installs the Debian packages it declares or that SYSTEM_PACKAGES
# names, installs it within the image's pins (`pip check` must pass), and copies manifest.json from the
# source when the wheel lacks it (ForgeSyte's public plugins package none).
#   podman build -f functions/runner/AddPlugins.Dockerfile --build-arg RUNNER_IMAGE=localhost/forgesyte-runner:lambda \
#       -t my-runner:lambda path/to/plugin
ARG RUNNER_IMAGE=localhost/forgesyte-runner:lambda
FROM ${RUNNER_IMAGE}
ARG REPLACE=""
ARG SYSTEM_PACKAGES=""
COPY . /tmp/plugin
RUN python -m forgesyte_core.plugins.add_plugin /tmp/plugin --replace "$REPLACE" --system-packages "$SYSTEM_PACKAGES" \
    && rm -rf /tmp/plugin \
    && python -m forgesyte_core.plugins.catalog_export "$PLUGIN_CATALOG_PATH"
