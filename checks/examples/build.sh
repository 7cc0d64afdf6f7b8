#!/usr/bin/env bash
# Builds the three example checks and assembles the example bundle:
#   bash checks/examples/build.sh OUT
# leaves OUT/org-node-rules/ (bundle.yaml, node.yaml, components/*.wasm),
# ready for `kubecis bundle pack`. Needs the wasm32-wasip2 Rust target,
# componentize-py (PyPI) and the JavaScript example's npm packages; it
# installs the last two when they are missing.
set -euo pipefail
examples=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$examples/../.." && pwd)
out=${1:?usage: build.sh OUT}
bundle="$out/org-node-rules"
mkdir -p "$bundle/components"
cp "$examples/org-node-rules/bundle.yaml" "$examples/org-node-rules/node.yaml" "$bundle/"

# Rust, with the SDK: a cdylib for WASI 0.2 is a component already.
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
CARGO_PROFILE_RELEASE_STRIP=true CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
  CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo build --quiet --release --manifest-path "$root/Cargo.toml" \
  --target wasm32-wasip2 --target-dir "$root/target/checks" -p check-static-pod-limits
cp "$root/target/checks/wasm32-wasip2/release/check_static_pod_limits.wasm" \
  "$bundle/components/static-pod-limits.wasm"

# Python: componentize-py bundles CPython and the app; --stub-wasi leaves
# the component no import but kubecis:check/node.
if [[ $(componentize-py --version 2>/dev/null) != "componentize-py 0.25.1" ]]; then
  echo "build.sh: installing componentize-py 0.25.1 (PyPI)" >&2
  python3 -m pip install --quiet componentize-py==0.25.1 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages componentize-py==0.25.1
fi
(cd "$examples/kubeconfig-perms" &&
  componentize-py --wit-path "$root/wit" --world check componentize --stub-wasi app \
    -o "$bundle/components/kubeconfig-perms.wasm" >/dev/null)

# JavaScript: componentize-js bundles StarlingMonkey and the module; with
# every WASI feature disabled it imports only kubecis:check/node.
js="$examples/kubelet-ciphers"
if [[ ! -x "$js/node_modules/.bin/componentize-js" ]]; then
  echo "build.sh: installing the JavaScript example's packages (npm)" >&2
  npm ci --prefix "$js" --no-audit --no-fund --silent
fi
(cd "$js" && node_modules/.bin/componentize-js --wit "$root/wit" --world-name check \
  --disable stdio random clocks http fetch-event \
  --out "$bundle/components/kubelet-ciphers.wasm" check.js >/dev/null)

echo "$bundle"
