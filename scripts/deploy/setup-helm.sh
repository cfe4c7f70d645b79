#!/usr/bin/env bash
# Helm, for `helm lint` / `helm template` of deploy/helm/kafka-to-elastic. No Helm package is
# installable here (Debian, npm), so it is built from its Go module, pinned, with the version stamped
# as Helm's own release build does. Built once into ${STACK_HOME:-.stack}/tools/helm-<version>/ (the Go
# module and build caches make a rebuild quick); idempotent. Prints the binary's path.
#   usage: bash scripts/deploy/setup-helm.sh
#   exit:  0 ready, 3 Go is missing (nothing to build with), other: the build failed
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="v4.3.2"
dir="${STACK_HOME:-$root/.stack}/tools/helm-$version"
helm="$dir/helm"
if [ -x "$helm" ] && [ "$("$helm" version --template '{{.Version}}' 2>/dev/null)" = "$version" ]; then
  echo "$helm"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup-helm: Go is not installed: Helm $version is built from its Go module (helm.sh/helm/v4)" >&2
  exit 3
fi
echo "setup-helm: building Helm $version from the Go module proxy into $dir (once; minutes on a cold Go cache)" >&2
mkdir -p "$(dirname "$dir")"
# Into a fresh folder first, then renamed: a build cut short never leaves a binary that looks ready.
tmp="$(mktemp -d "$dir.partial.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
  "helm.sh/helm/v4/cmd/helm@$version" >&2
chmod 755 "$tmp"
rm -rf "$dir"
# Another build that finished first wins (mv -T refuses a folder that is there again).
mv -T "$tmp" "$dir" 2>/dev/null || true
echo "setup-helm: built $("$helm" version --short) in $((SECONDS - start)) s" >&2
echo "$helm"
