#!/bin/sh
# Rebuild and re-sign the battery plugin.
#
#   HALLMARK_PLUGIN_SEED_FILE=/path/outside/repo/seed.hex plugins/battery/build.sh
#
# Needs Debian's rustc with the wasm32 std (apt install rustc libstd-rust-dev-wasm32); no
# cargo, no dependencies. The publisher seed (32 bytes, hex) is read from
# $HALLMARK_PLUGIN_SEED (hex) or $HALLMARK_PLUGIN_SEED_FILE and is never written into the
# repository; without either, a fresh dev seed is generated in $HOME/.config/hallmark/ and the
# committed publisher.pub changes. Signing runs the `sign_plugin` example of
# hallmark-sandbox (JCS manifest, Ed25519).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RUSTC=${RUSTC_WASM:-/usr/bin/rustc}

# Relative paths only, so the module (and its hash) does not depend on the checkout location.
(cd "$here" && "$RUSTC" --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib \
  --crate-name hallmark_battery -O -C panic=abort -C lto -C codegen-units=1 \
  -C strip=symbols src.rs -o battery.wasm)

if [ -z "${HALLMARK_PLUGIN_SEED:-}" ]; then
  seed_file=${HALLMARK_PLUGIN_SEED_FILE:-$HOME/.config/hallmark/plugin-publisher.seed}
  case "$seed_file" in "$root"/*) echo "refusing a seed file inside the repository" >&2; exit 1;; esac
  if [ ! -f "$seed_file" ]; then
    mkdir -p "$(dirname "$seed_file")"
    (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$seed_file")
  fi
  HALLMARK_PLUGIN_SEED=$(cat "$seed_file")
fi
export HALLMARK_PLUGIN_SEED
cd "$root"
cargo run -q -p hallmark-sandbox --example sign_plugin -- \
  "$here/battery.wasm" "$here/manifest.unsigned.json" "$here/battery.manifest.json" "$here/publisher.pub"
