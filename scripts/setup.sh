#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: OS packages the sandbox needs,
# nsjail's cgroup parents, the Python 3.12 virtualenv, and pre-built font caches.
# Re-running it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. OS packages: libnl for nsjail, chromium for the plotly renderer.
PKGS=(libnl-3-200 libnl-route-3-200 chromium)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing OS packages ${missing[*]} and not root: the sandbox will fall back to plain processes"
  else
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# 2. cgroup v1 parents nsjail expects (v2 hosts need none).
if [ "$(id -u)" -eq 0 ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
  for c in memory pids cpu; do
    [ -d "/sys/fs/cgroup/$c" ] && mkdir -p "/sys/fs/cgroup/$c/NSJAIL"
  done
fi

# 3. The virtualenv, on the Python that .python-version names.
want="$(tr -d '[:space:]' < .python-version)"
py=""
for cand in "${PYENV_ROOT:-$HOME/.pyenv}/versions/$want/bin/python" "$(command -v "python${want%.*}" || true)"; do
  if [ -n "$cand" ] && [ -x "$cand" ]; then py="$cand"; break; fi
done
[ -n "$py" ] || { echo "setup: Python $want not found (pyenv install $want)" >&2; exit 1; }
stamp=".venv/.viscode-setup"
digest="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  log "creating .venv with $py and installing viscode (first time: a few minutes, torch is large)"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  echo "$digest" > "$stamp"
fi

# 4. Pre-built matplotlib font caches (inside the jail and for the fallback).
.venv/bin/viscode sandbox prepare >/dev/null || log "nsjail is not usable here; see 'viscode sandbox prepare'"
log "ready"
