#!/usr/bin/env bash
# Validates the deployment files offline: deploy/kubernetes/*.yaml against the Kubernetes schemas
# (kubernetes-validate, strict: unknown fields fail) and docker/compose.yaml against the Compose
# specification (check-jsonschema's vendored schema; `docker compose config` too where Docker has
# the compose plugin and docker/.env exists). tools/pytools.sh installs the validators.
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
