#!/usr/bin/env bash
# A Python virtual environment with Confluent's own client and Avro serializer, for the
# interoperability test (records written by another implementation). Idempotent: installs only
# when the pinned version is missing (~86 MB, a few seconds from PyPI). Prints the venv's python.
#   usage: bash scripts/interop/setup-venv.sh        (venv at ${STACK_HOME:-.stack}/venv)
set -euo pipefail
version=2.16.1
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${STACK_HOME:-$root/.stack}/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
check="import confluent_kafka, confluent_kafka.schema_registry.avro, sys; sys.exit(confluent_kafka.version()[0] != '$version')"
if ! "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "confluent-kafka[avro,schemaregistry]==$version" >&2
fi
echo "$venv/bin/python"
