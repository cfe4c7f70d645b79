#!/usr/bin/env bash
# A Python virtual environment with Confluent's own client and Avro serializer, for the
# interoperability test (records written by another implementation). Idempotent: installs only
# when missing. Prints the venv's python.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${STACK_HOME:-$root/.stack}/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import confluent_kafka.schema_registry.avro' >/dev/null 2>&1; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'confluent-kafka[avro,schemaregistry]==2.16.1' >&2
fi
echo "$venv/bin/python"
