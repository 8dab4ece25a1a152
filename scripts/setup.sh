#!/usr/bin/env bash
# One-command, idempotent setup for ctrlbench. Everything comes from package
# registries (PyPI, Debian). Large downloads live in a per-machine cache shared
# by all checkouts; this checkout gets links to them under third_party/.
#
#   CTRLBENCH_CACHE   cache directory (default: ${XDG_CACHE_HOME:-~/.cache}/ctrlbench)
#   PYTHON            interpreter used to create the virtual environments (default: python3)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CTRLBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctrlbench}
PY=${PYTHON:-python3}

MUJOCO_VERSION=3.17.0
DM_CONTROL_VERSION=1.0.50
METAWORLD_VERSION=3.1.1
TORCH_VERSION=2.11.0

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v "$PY" >/dev/null || die "no '$PY' found: install Python 3 (Debian: apt-get install python3 python3-venv)"
mkdir -p "$CACHE" "$ROOT/third_party"
# Serialise concurrent setups that share the cache.
exec 9>"$CACHE/.lock"
flock 9

# --- system packages needed by the build (plotters: fontconfig; a font at run time)
missing=()
for pkg in pkg-config libfontconfig1-dev fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
  fi
fi

# --- wheels (MuJoCo library + headers, dm_control and Meta-World assets)
WHEELS="$CACHE/wheels"
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/mujoco-"$MUJOCO_VERSION"-*.whl >/dev/null 2>&1 \
   || ! ls "$WHEELS"/dm_control-"$DM_CONTROL_VERSION"-*.whl >/dev/null 2>&1 \
   || ! ls "$WHEELS"/metaworld-"$METAWORLD_VERSION"-*.whl >/dev/null 2>&1; then
  say "downloading the mujoco==$MUJOCO_VERSION, dm-control==$DM_CONTROL_VERSION and metaworld==$METAWORLD_VERSION wheels"
  "$PY" -m pip download -q --no-deps "mujoco==$MUJOCO_VERSION" "dm-control==$DM_CONTROL_VERSION" \
    "metaworld==$METAWORLD_VERSION" -d "$WHEELS"
fi

MJ="$CACHE/mujoco-$MUJOCO_VERSION"
if [ ! -f "$MJ/.done" ]; then
  say "extracting libmujoco $MUJOCO_VERSION"
  rm -rf "$MJ" && mkdir -p "$MJ/lib" "$MJ/x"
  "$PY" - "$WHEELS"/mujoco-"$MUJOCO_VERSION"-*.whl "$MJ/x" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith("mujoco/include/") or n.startswith("mujoco/libmujoco.so")]
    z.extractall(sys.argv[2], names)
PYEOF
  cp "$MJ"/x/mujoco/libmujoco.so.* "$MJ/lib/"
  mv "$MJ/x/mujoco/include" "$MJ/include"
  rm -rf "$MJ/x"
  (cd "$MJ/lib" && ln -sf "$(ls libmujoco.so.* | head -n1)" libmujoco.so)
  touch "$MJ/.done"
fi

DMC="$CACHE/dm_control-$DM_CONTROL_VERSION"
if [ ! -f "$DMC/.done" ]; then
  say "extracting dm_control $DM_CONTROL_VERSION suite assets"
  rm -rf "$DMC" && mkdir -p "$DMC/x"
  "$PY" - "$WHEELS"/dm_control-"$DM_CONTROL_VERSION"-*.whl "$DMC/x" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist()
             if n.startswith("dm_control/suite/") and not n.endswith(".py")]
    z.extractall(sys.argv[2], names)
PYEOF
  mv "$DMC/x/dm_control/suite" "$DMC/suite"
  rm -rf "$DMC/x"
  touch "$DMC/.done"
fi

MW="$CACHE/metaworld-$METAWORLD_VERSION"
if [ ! -f "$MW/.done" ]; then
  say "extracting Meta-World $METAWORLD_VERSION assets"
  rm -rf "$MW" && mkdir -p "$MW/x"
  "$PY" - "$WHEELS"/metaworld-"$METAWORLD_VERSION"-*.whl "$MW/x" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.startswith("metaworld/assets/")]
    z.extractall(sys.argv[2], names)
PYEOF
  mv "$MW/x/metaworld/assets" "$MW/assets"
  rm -rf "$MW/x"
  touch "$MW/.done"
fi

# --- libtorch (the PyPI torch wheel, with its CUDA runtime packages)
TV="$CACHE/torch-$TORCH_VERSION"
if [ ! -f "$TV/.done" ]; then
  say "installing torch==$TORCH_VERSION for libtorch (about 4.6 GB, once per machine)"
  rm -rf "$TV"
  "$PY" -m venv "$TV"
  "$TV/bin/pip" install -q "torch==$TORCH_VERSION"
  touch "$TV/.done"
fi
TORCH_DIR=$(ls -d "$TV"/lib/python3*/site-packages/torch | head -n1)
[ -f "$TORCH_DIR/lib/libtorch_cpu.so" ] || die "libtorch not found under $TV: remove $TV and run make setup again"

# --- Python reference environment (dm_control etc.) for parity tests
REQ="$ROOT/scripts/requirements-reference.txt"
REQ_NODEPS="$ROOT/scripts/requirements-reference-nodeps.txt"
REQ_HASH=$(cat "$REQ" "$REQ_NODEPS" | sha256sum | cut -c1-12)
RV="$CACHE/reference-$REQ_HASH"
if [ ! -f "$RV/.done" ]; then
  say "creating the Python reference environment ($REQ)"
  rm -rf "$RV"
  "$PY" -m venv "$RV"
  "$RV/bin/pip" install -q -r "$REQ"
  "$RV/bin/pip" install -q --no-deps -r "$REQ_NODEPS"
  touch "$RV/.done"
fi

# --- links from this checkout into the cache
link() { ln -sfn "$1" "$ROOT/third_party/$2"; }
link "$MJ" mujoco
link "$DMC" dm_control
link "$MW" metaworld
link "$TORCH_DIR" torch
link "$RV" reference-venv
say "ready: $(cd "$ROOT/third_party" && ls | tr '\n' ' ')"
