#!/usr/bin/env bash
# Makes persistence/data/words.emb again (see build.py): a virtualenv under target/ with the pinned
# packages from PyPI, then the build. Needed only to change the table, never to build or run
# hiregraph: the table is checked in.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/embeddings-venv
if ! [ -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tools/embeddings/requirements.txt
fi
"$venv/bin/python" tools/embeddings/build.py
