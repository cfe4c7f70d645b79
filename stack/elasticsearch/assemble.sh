#!/usr/bin/env bash
# Assembles a runnable Elasticsearch 9.5.3 home from Maven Central jars plus our own stand-ins
# (see standins/ and /work/shared/docs/stack-notes.md). Usage: assemble.sh <ES_HOME>
#
# Idempotent: ends by writing <ES_HOME>/.assembled containing the version; if that marker is
# present and matches (and the stand-in sources are unchanged), it exits 0 at once, without network.
#
# Layout produced (like the official tar distribution, minus what is not on Central):
#   lib/                         server + libs + lucene + log4j (module path)
#   lib/entitlement-bridge/      bridge jar, patched into java.base
#   lib/entitlement-agent/       our entitlement agent       (stand-in)
#   lib/tools/ansi-console/      our AnsiConsoleLoader       (stand-in)
#   lib/tools/k2e-launcher/      our server-cli replacement  (stand-in, used by run.sh)
#   lib/platform/linux-x64/      Debian's libzstd
#   modules/transport-netty4/    netty4 HTTP/transport module
#   modules/rest-root/           our GET / module            (stand-in)
#   config/log4j2.properties, plugins/ (empty)
set -euo pipefail
umask 022

ES_VERSION=9.5.3
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -eq 1 ]] || { echo "usage: $0 <ES_HOME>" >&2; exit 2; }
mkdir -p "$1"
ES_HOME="$(cd "$1" && pwd)"
step() { echo "[es-assemble] $*"; }

# Fingerprint of what we build from, so edits to the stand-ins or the pom trigger a rebuild.
FINGERPRINT="$(cd "$HERE" && find pom.xml assemble.sh standins -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [[ "$(cat "$ES_HOME/.assembled" 2>/dev/null)" == "$ES_VERSION" &&
      "$(cat "$ES_HOME/lib/tools/k2e-standins.sha" 2>/dev/null)" == "$FINGERPRINT" ]]; then
  step "already assembled: $ES_HOME ($ES_VERSION)"
  exit 0
fi

# --- JDK >= 21: JAVA_HOME if suitable, else Temurin 25, else any JDK >= 21 under /usr/lib/jvm.
jdk_feature() { # prints the feature version of the JDK at $1 (0 if not a JDK with javac)
  local v=""
  if [[ -x "$1/bin/javac" && -x "$1/bin/java" ]]; then
    v="$("$1/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1)"
  fi
  echo "${v:-0}"
}
find_jdk() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [[ -n "$c" && -d "$c" ]] || continue
    if (( $(jdk_feature "$c") >= 21 )); then echo "$c"; return 0; fi
  done
  return 1
}
JDK="$(find_jdk)" || { echo "[es-assemble] ERROR: no JDK >= 21 found (set JAVA_HOME, or install one under /usr/lib/jvm)" >&2; exit 1; }
step "using JDK $JDK (Java $(jdk_feature "$JDK"))"

rm -f "$ES_HOME/.assembled"
rm -rf "$ES_HOME/lib" "$ES_HOME/modules"
mkdir -p "$ES_HOME/lib/entitlement-bridge" "$ES_HOME/lib/entitlement-agent" "$ES_HOME/lib/tools/ansi-console" \
         "$ES_HOME/lib/tools/k2e-launcher" "$ES_HOME/lib/platform/linux-x64" \
         "$ES_HOME/modules/transport-netty4" "$ES_HOME/modules/rest-root" "$ES_HOME/plugins" "$ES_HOME/config"

BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT

# --- Jars from Maven Central (one pom profile per target folder).
mvn_copy() { # profile dir
  step "resolving jars (profile $1) -> ${2#"$ES_HOME"/}"
  mvn -B -Dstyle.color=never -f "$HERE/pom.xml" -P "$1" dependency:copy-dependencies \
      -DoutputDirectory="$2" -Des.version="$ES_VERSION" >"$BUILD/mvn-$1.log" 2>&1 ||
    { tail -40 "$BUILD/mvn-$1.log" >&2; echo "[es-assemble] ERROR: mvn failed for profile $1" >&2; exit 1; }
}
mvn_copy server "$ES_HOME/lib"
mvn_copy netty4 "$ES_HOME/modules/transport-netty4"
mvn_copy bridge "$ES_HOME/lib/entitlement-bridge"

# The module jar carries its descriptor and entitlement policy; the plugin loader wants them beside the jars.
step "extracting transport-netty4 plugin descriptor and entitlement policy"
NETTY_JAR="$ES_HOME/modules/transport-netty4/transport-netty4-$ES_VERSION.jar"
for f in plugin-descriptor.properties entitlement-policy.yaml; do
  unzip -p "$NETTY_JAR" "META-INF/es-plugins/transport-netty4/$f" >"$ES_HOME/modules/transport-netty4/$f"
done

# --- Stand-ins, compiled for Java 21.
build_jar() { # name source-dir classpath jar [manifest]
  step "compiling stand-in $1 -> ${4#"$ES_HOME"/}"
  mkdir -p "$BUILD/$1"
  find "$2" -name '*.java' >"$BUILD/$1.sources"
  "$JDK/bin/javac" --release 21 -nowarn -encoding UTF-8 -cp "$3" -d "$BUILD/$1" "@$BUILD/$1.sources"
  if [[ -n "${5:-}" ]]; then "$JDK/bin/jar" --create --file "$4" --manifest "$5" -C "$BUILD/$1" .
  else "$JDK/bin/jar" --create --file "$4" -C "$BUILD/$1" .; fi
}
S="$HERE/standins"
build_jar launcher "$S/launcher" "$ES_HOME/lib/*" "$ES_HOME/lib/tools/k2e-launcher/k2e-launcher.jar"
build_jar entitlement-agent "$S/entitlement-agent" "$ES_HOME/lib/*" \
  "$ES_HOME/lib/entitlement-agent/k2e-entitlement-agent.jar" "$S/entitlement-agent/MANIFEST.MF"
build_jar ansi-console "$S/ansi-console" "" "$ES_HOME/lib/tools/ansi-console/k2e-ansi-console.jar"
build_jar rest-root "$S/rest-root" "$ES_HOME/lib/*" "$ES_HOME/modules/rest-root/k2e-rest-root.jar"
sed "s/@ES_VERSION@/$ES_VERSION/g" "$S/rest-root/plugin-descriptor.properties" \
  >"$ES_HOME/modules/rest-root/plugin-descriptor.properties"

# --- Native zstd (ES loads lib/platform/linux-x64/libzstd.so; the vector library is disabled in run.sh).
ZSTD="$(find /usr/lib/x86_64-linux-gnu -maxdepth 1 -name 'libzstd.so.1*' 2>/dev/null | sort | head -1)"
[[ -n "$ZSTD" ]] || { echo "[es-assemble] ERROR: libzstd.so.1 not found under /usr/lib/x86_64-linux-gnu (apt-get install libzstd1)" >&2; exit 1; }
step "copying $ZSTD -> lib/platform/linux-x64/libzstd.so"
cp -L "$ZSTD" "$ES_HOME/lib/platform/linux-x64/libzstd.so"

# --- Logging: console (stdout) only; run.sh's caller redirects it to a log file.
step "writing config/log4j2.properties"
cat >"$ES_HOME/config/log4j2.properties" <<'EOF'
# Console-only logging (written by stack/elasticsearch/assemble.sh).
status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
# quieter: deprecation warnings go to the same console at warn level
logger.deprecation.name = org.elasticsearch.deprecation
logger.deprecation.level = warn
EOF

echo "$FINGERPRINT" >"$ES_HOME/lib/tools/k2e-standins.sha"
echo "$ES_VERSION" >"$ES_HOME/.assembled"
step "done: $ES_HOME ($(du -sh "$ES_HOME" | cut -f1))"
