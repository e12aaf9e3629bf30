#!/usr/bin/env bash
# Start JupyterLab on the first notebook, bound to this machine only. `make lab` runs this;
# the browser test runs it too (with --no-browser and a port), so both start the course the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
if [ "$(id -u)" = "0" ]; then
  extra+=(--allow-root)  # JupyterLab refuses to run as root without it
fi
exec .venv/bin/jupyter lab notebooks/00_start_here.ipynb \
  --ServerApp.ip=127.0.0.1 \
  --ServerApp.root_dir="$PWD" \
  "${extra[@]}" "$@"
