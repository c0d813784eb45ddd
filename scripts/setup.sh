#!/usr/bin/env bash
# Sets up everything wildwatch needs on Debian 12 with Python 3.11: system packages (when root), uv,
# and the project's virtual env in .venv (from uv.lock, so every machine gets the same versions).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "wildwatch: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

# --- system packages --------------------------------------------------------------------------------
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)  # the demo's contacts painted on photos
# OpenCV (under the OCR of photos) loads these two system libraries
dpkg -s libgl1 >/dev/null 2>&1 || missing+=(libgl1)
dpkg -s libglib2.0-0 >/dev/null 2>&1 || missing+=(libglib2.0-0)
command -v redis-server >/dev/null || missing+=(redis-server)  # the Celery broker of `make cluster`
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "wildwatch: missing system packages: ${missing[*]}" >&2
    echo "  install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# --- uv and the virtual env -------------------------------------------------------------------------
export UV_PYTHON_DOWNLOADS=never
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  if [ ! -x var/tools/bin/uv ]; then
    echo "installing uv into var/tools"
    "$PYTHON" -m venv var/tools
    var/tools/bin/pip install -q uv
  fi
  UV=var/tools/bin/uv
fi
# Bytecode is compiled at install time: some environments set PYTHONDONTWRITEBYTECODE, and every
# crawl and Airflow task is a new process that would otherwise recompile thousands of modules.
"$UV" sync --frozen --quiet --compile-bytecode --python "$PYTHON"
echo "virtual env ready: .venv ($(.venv/bin/python --version))"
