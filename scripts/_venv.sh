# Sourced by scripts/run, scripts/test and friends: make sure .venv holds exactly the lock.
# Installs only from requirements/*.txt with --require-hashes; a changed lock reinstalls and
# removes what the lock no longer names. pip's own chatter goes to .venv/install.log.
set -euo pipefail

ensure_venv() {
  local extras="$1"   # "" for the runtime lock, "dev" for the test and check tools too
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "cencomm needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
  fi
  local lock="requirements/runtime.txt"
  [ "$extras" = "dev" ] && lock="requirements/dev.txt"
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv with $("$python" --version)" >&2
    "$python" -m venv .venv
  fi
  local stamp=".venv/.cencomm-lock"
  local want
  want="$lock $(cat "$lock" requirements/build.in pyproject.toml | sha256sum | cut -c1-64)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing the locked packages of $lock into .venv (log: .venv/install.log)" >&2
    if ! _install_locked "$lock" >.venv/install.log 2>&1; then
      tail -n 30 .venv/install.log >&2
      echo "installing from $lock failed (whole log: .venv/install.log)" >&2
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
}

_install_locked() {
  local lock="$1"
  # Every file is checked against its hash; nothing outside the lock is resolved.
  .venv/bin/python -m pip install --disable-pip-version-check --no-input \
    --require-hashes --no-deps -r "$lock"
  .venv/bin/python scripts/lockfile.py sync "$lock"
  # The project itself, with the locked setuptools (no isolated build that would fetch one).
  .venv/bin/python -m pip install --disable-pip-version-check --no-input \
    --no-deps --no-build-isolation --no-index -e .
}
