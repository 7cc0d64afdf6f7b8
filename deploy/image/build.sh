#!/usr/bin/env bash
# Builds the kubecis image: a static `kubecis` (x86_64-unknown-linux-musl)
# FROM scratch, with buildah (no daemon, no base image). Writes the image as
# an OCI archive, prints its size, and keeps buildah's storage under target/.
#   bash deploy/image/build.sh            # -> target/image/kubecis-<version>.oci.tar
# Load it with `podman load -i …`, or push it: `skopeo copy oci-archive:… docker://REGISTRY/kubecis:<version>`.
set -euo pipefail
cd "$(dirname "$0")/../.."
musl=x86_64-unknown-linux-musl

# What a fresh Debian machine lacks: musl's C compiler (SQLite and ring are
# C) and buildah; the Rust target through rustup.
missing=()
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v buildah >/dev/null || missing+=(buildah)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deploy/image/build.sh: needs ${missing[*]} (Debian packages); install them or run as root" >&2
    exit 2
  fi
  echo "deploy/image/build.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! rustup target list --installed | grep -qx "$musl"; then
  echo "deploy/image/build.sh: adding the Rust target $musl" >&2
  rustup target add "$musl"
fi

cargo build --release --target "$musl" -p kubecis
bin=target/$musl/release/kubecis
# Static, or the image cannot run it: no interpreter, no shared libraries.
if readelf -l "$bin" | grep -q INTERP || readelf -d "$bin" | grep -q NEEDED; then
  echo "deploy/image/build.sh: $bin is not a static binary" >&2
  exit 1
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
out=target/image
context=$out/context
rm -rf "$context"
mkdir -p "$context/cache"
cp "$bin" "$context/kubecis"
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n' > "$context/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$context/group"

store=(--storage-driver vfs --root "$PWD/$out/storage" --runroot "$PWD/$out/run")
archive=$out/kubecis-$version.oci.tar
buildah "${store[@]}" build --quiet --layers=false --timestamp 0 \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" \
  -f deploy/image/Containerfile -t "kubecis:$version" "$context" >/dev/null
rm -f "$archive"
buildah "${store[@]}" push --quiet "kubecis:$version" "oci-archive:$archive:kubecis:$version"
echo "deploy/image/build.sh: kubecis:$version -> $archive"
echo "  binary $(du -h "$bin" | cut -f1)  image archive $(du -h "$archive" | cut -f1)"
