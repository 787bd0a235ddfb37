#!/bin/sh
# Empty stand-ins for every workspace member's targets, so that the Dockerfile's dependency layer
# builds the dependencies from the manifests and the lock file alone (and tools/check-deploy.sh
# checks that such a workspace still loads). Run in a folder holding only the manifests.
set -eu
for lib in domain/src/lib.rs persistence/src/lib.rs migrations/src/lib.rs api/src/lib.rs tests/lib.rs; do
  mkdir -p "$(dirname "$lib")"
  : > "$lib"
done
for main in api/src/main.rs tests/api/main.rs bench/src/main.rs; do
  mkdir -p "$(dirname "$main")"
  echo 'fn main() {}' > "$main"
done
