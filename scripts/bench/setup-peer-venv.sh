#!/usr/bin/env bash
# The Python virtual environment of the benchmark's reference peer (bench/peer/python_consumer.py):
# confluent-kafka and opensearch-py with everything they pull in, pinned in bench/peer/requirements.txt
# (~76 MB, a few seconds from PyPI). Idempotent: a copy of the requirements is kept in the venv after a
# successful install, and nothing is installed while it matches. Prints the venv's python.
#   usage: bash scripts/bench/setup-peer-venv.sh     (venv at ${STACK_HOME:-.stack}/bench-venv)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
requirements="$root/bench/peer/requirements.txt"
venv="${STACK_HOME:-$root/.stack}/bench-venv"
if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "$venv/bin/python"
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
"$venv/bin/python" -c 'import confluent_kafka, opensearchpy' >&2
cp "$requirements" "$venv/requirements.txt"
echo "$venv/bin/python"
