#!/usr/bin/env bash
# Validates the deployment files offline: deploy/kubernetes/*.yaml against the Kubernetes schemas
# (kubernetes-validate, strict: unknown fields fail) and docker/compose.yaml against the Compose
# specification (check-jsonschema's vendored schema; `docker compose config` too where Docker has
# the compose plugin and docker/.env exists), docker/Dockerfile with hadolint, and that the
# Dockerfile's dependency layer (manifests, lock file, docker/stub-workspace.sh) still makes a
# workspace cargo loads with the committed lock. tools/pytools.sh installs the validators.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(bash tools/pytools.sh)

manifests=()
for file in deploy/kubernetes/*.yaml; do
  # kustomization.yaml is kustomize's, not a Kubernetes resource: kustomize checks it.
  [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
"$bin/kubernetes-validate" --strict --quiet "${manifests[@]}"
echo "kubernetes: ${#manifests[@]} manifests valid"
# Every resource the kustomization lists exists.
for listed in $(sed -n 's/^  - \([a-z-]*\.yaml\)$/\1/p' deploy/kubernetes/kustomization.yaml); do
  [ -f "deploy/kubernetes/$listed" ] || { echo "kustomization.yaml lists a missing $listed"; exit 1; }
done

"$bin/check-jsonschema" --builtin-schema vendor.compose-spec docker/compose.yaml
if docker compose version >/dev/null 2>&1 && [ -f docker/.env ]; then
  docker compose -f docker/compose.yaml config --quiet
fi

# DL3008 (pin apt package versions) is left off on purpose: ca-certificates must follow the
# distribution's updates.
"$bin/hadolint" --ignore DL3008 docker/Dockerfile
echo "Dockerfile: hadolint clean"
stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cp Cargo.toml Cargo.lock "$stub"/
for member in $(sed -n 's/^members = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '",'); do
  mkdir -p "$stub/$member" && cp "$member/Cargo.toml" "$stub/$member/"
  grep -q "COPY $member/Cargo.toml $member/" docker/Dockerfile || { echo "docker/Dockerfile does not copy $member/Cargo.toml"; exit 1; }
done
# Resolved for this machine's platform only: offline, cargo has just the crates a build here
# downloaded, not those other targets would need (android_system_properties and the like).
host=$(rustc -vV | sed -n 's/^host: //p')
(cd "$stub" && sh "$OLDPWD/docker/stub-workspace.sh" \
  && cargo metadata --locked --offline --format-version 1 --filter-platform "$host" >/dev/null)
echo "Dockerfile: the dependency layer's stand-in workspace loads with the lock file"
