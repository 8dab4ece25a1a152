#!/usr/bin/env bash
# Packs the release build of ctrlbench for a Linux x86-64 machine that has
# PyTorch 2.11.0 but no Rust toolchain (a GPU host, a cluster node):
#
#   dist/ctrlbench-<version>-linux-x86_64.tar.gz
#     bin/ctrlbench         launcher: finds libtorch in the host's Python, sets
#                           the asset and project folders, runs the binary
#     libexec/ctrlbench     the stripped release binary
#     lib/                  libmujoco
#     lib/system/           the system libraries the binary needs beyond glibc,
#                           libstdc++, libtorch and CUDA (fontconfig, freetype
#                           and theirs), used only where the host lacks them
#     share/dm_control/     the dm_control suite assets (XML, common/, dog_assets/)
#     share/metaworld/      the Meta-World models, meshes and referenced textures
#     configs/ scripts/     agent defaults, suites, experiments; reference scripts
#     data/                 published per-seed results (`ctrlbench reproduce`)
#
# Usage on the host: `tar xzf ctrlbench-*.tar.gz && ctrlbench-*/bin/ctrlbench info`.
# libtorch is not packed: the binary needs the exact build it was linked
# against (torch==2.11.0 from PyPI, CUDA 13), and the host's PyTorch brings its
# own CUDA runtime. The launcher refuses any other torch version.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN="$TARGET/release/ctrlbench"
OUT=${BUNDLE_DIR:-$ROOT/dist}
# The torch version setup.sh links against (one place to change it).
TORCH_VERSION=$(sed -n 's/^TORCH_VERSION=//p' "$ROOT/scripts/setup.sh")

die() { printf '[bundle] error: %s\n' "$*" >&2; exit 1; }
[ -x "$BIN" ] || die "no release binary at $BIN: run \`make build\` first"
[ -d "$ROOT/third_party/mujoco/lib" ] || die "not set up: run \`make setup\` first"
[ -n "$TORCH_VERSION" ] || die "no TORCH_VERSION in scripts/setup.sh"

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)
NAME="ctrlbench-$VERSION-linux-x86_64"
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
D="$STAGE/$NAME"
mkdir -p "$D/bin" "$D/libexec" "$D/lib/system" "$D/share/dm_control" "$OUT"

objcopy --strip-all "$BIN" "$D/libexec/ctrlbench"
cp -L "$ROOT"/third_party/mujoco/lib/libmujoco.so.* "$D/lib/"
cp -rL "$ROOT/third_party/dm_control/suite" "$D/share/dm_control/suite"
# The Meta-World models and what they include: meshes and the textures the
# scene references (MuJoCo reads them when it compiles a model).
mkdir -p "$D/share/metaworld/assets"
(
  cd "$ROOT/third_party/metaworld/assets/"
  textures=$(grep -rhoE 'file="\.\./textures/[^"]+"' scene objects sawyer_xyz | sed 's|^file="\.\./||; s|"$||' | sort -u)
  cp -rL --parents sawyer_xyz objects scene/*.xml $textures "$D/share/metaworld/assets/"
)
cp -r "$ROOT/configs" "$D/configs"
cp -r "$ROOT/data" "$D/data"
mkdir -p "$D/scripts" && cp "$ROOT"/scripts/*.py "$ROOT"/scripts/requirements-*.txt "$D/scripts/"

# Shared libraries from the system that a host may lack (fontconfig and
# freetype for the figures, and what they pull in). glibc, the C++ runtime,
# libtorch and CUDA are the host's own (they come with its Python and PyTorch).
# The host's copies win where it has them: ours may need a newer glibc.
host_provided='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libutil|libgcc_s|libstdc\+\+)\.so'
ldd "$BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | while read -r soname path; do
  case "$path" in
    "$ROOT"/* | */torch/lib/* | */nvidia/* | */mujoco*/lib/*) continue ;;
  esac
  [[ "$soname" =~ $host_provided ]] && continue
  cp -L "$path" "$D/lib/system/$soname"
done

cat >"$D/bin/ctrlbench" <<EOF
#!/bin/sh
# ctrlbench from a bundle. libtorch comes from the host's PyTorch $TORCH_VERSION
# (found with \${PYTHON:-python3}), or from \$CTRLBENCH_TORCH_LIB.
set -e
here=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd)
if [ -z "\${CTRLBENCH_TORCH_LIB:-}" ]; then
  found=\$("\${PYTHON:-python3}" -c 'import os, torch; print(torch.__version__.split("+")[0], os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null) || {
    echo "ctrlbench: \${PYTHON:-python3} has no PyTorch: install torch==$TORCH_VERSION, or set PYTHON or CTRLBENCH_TORCH_LIB (torch/lib)" >&2
    exit 1
  }
  version=\${found%% *}
  if [ "\$version" != "$TORCH_VERSION" ]; then
    echo "ctrlbench: this build needs torch==$TORCH_VERSION, \${PYTHON:-python3} has \$version" >&2
    exit 1
  fi
  CTRLBENCH_TORCH_LIB=\${found#* }
fi
libs="\$here/lib:\$CTRLBENCH_TORCH_LIB"
known=\$({ ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null || true)
for so in "\$here"/lib/system/*; do
  case "\$known" in
    *"\${so##*/} "*) ;;
    *) libs="\$libs:\$here/lib/system"; break ;;
  esac
done
export LD_LIBRARY_PATH="\$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export CTRLBENCH_ASSETS="\${CTRLBENCH_ASSETS:-\$here/share/dm_control/suite}"
export CTRLBENCH_METAWORLD_ASSETS="\${CTRLBENCH_METAWORLD_ASSETS:-\$here/share/metaworld/assets}"
export CTRLBENCH_HOME="\${CTRLBENCH_HOME:-\$here}"
export CTRLBENCH_LAUNCHER="\$here/bin/ctrlbench"
exec "\$here/libexec/ctrlbench" "\$@"
EOF
chmod +x "$D/bin/ctrlbench"

glibc=$(objdump -T "$D/libexec/ctrlbench" "$D"/lib/libmujoco.so* 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -n1)
tar -C "$STAGE" -czf "$OUT/$NAME.tar.gz" "$NAME"
printf '[bundle] %s (%s MB; needs %s or newer and torch==%s on the host)\n' \
  "$OUT/$NAME.tar.gz" "$(du -m "$OUT/$NAME.tar.gz" | cut -f1)" "${glibc:-glibc}" "$TORCH_VERSION"
