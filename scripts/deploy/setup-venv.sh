#!/usr/bin/env bash
# A Python virtual environment with the offline validators of deploy/kubernetes and of the Helm chart's
# output: kubernetes-validate (the Kubernetes API's JSON schemas, every release since 1.25, shipped in
# the package), cloudcoil.models.keda and cloudcoil.models.prometheus-operator (models generated from
# KEDA's and the Prometheus Operator's CRDs). Idempotent: installs only when a pinned version is
# missing. Prints the venv's python.
#   usage: bash scripts/deploy/setup-venv.sh        (venv at ${STACK_HOME:-.stack}/venv-deploy)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${STACK_HOME:-$root/.stack}/venv-deploy"
packages=("kubernetes-validate==1.37.0" "cloudcoil.models.keda==2.16.1.0" "cloudcoil.models.prometheus-operator==0.80.1.0")
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
check="import importlib.metadata as m, sys; sys.exit(m.version('kubernetes-validate') != '1.37.0' or m.version('cloudcoil.models.keda') != '2.16.1.0' or m.version('cloudcoil.models.prometheus-operator') != '0.80.1.0')"
if ! "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}" >&2
fi
echo "$venv/bin/python"
