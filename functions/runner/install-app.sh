#!/bin/sh
# Installs the project's own distributions into an image's venv (the Dockerfile's cpu-app and gpu-app
# stages both run it): no dependency is fetched here, `pip check` fails the build if one is missing
# from requirements/image.in, and the plugin catalog is generated from the entry points now installed.
set -eu
src=/build/src
pip install --no-deps --no-build-isolation "$src/forgesyte_core" "$src"/plugins/*/
pip check
mkdir -p /opt/forgesyte/models
cp -R "$src/models/." /opt/forgesyte/models/
rm -rf "$src"
python -m forgesyte_core.plugins.catalog_export "$PLUGIN_CATALOG_PATH"
