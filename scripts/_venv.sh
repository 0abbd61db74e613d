# Sourced by scripts/run and scripts/test: make sure .venv exists and holds the project.
# Idempotent: a second run reinstalls only when pyproject.toml changed.
set -euo pipefail

ensure_venv() {
  local extras="$1"   # "" for runtime only, "dev" for the test tools too
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "cencomm needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv" >&2
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  local stamp=".venv/.cencomm-installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "installing cencomm${extras:+ with $extras extras} into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
    touch "$stamp"
  fi
}
