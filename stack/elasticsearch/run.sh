#!/usr/bin/env bash
# Runs the Elasticsearch node assembled by assemble.sh in the FOREGROUND.
#   usage: run.sh <ES_HOME> <DATA_DIR>
#   env:   ES_HTTP_PORT (9200), ES_TRANSPORT_PORT (9300), ES_HEAP (1g), ES_CLUSTER_NAME (k2e-local),
#          JAVA_HOME (used if it is a JDK >= 21)
# Writes ES_HOME/config/elasticsearch.yml; data, logs and tmp live under DATA_DIR (owned by nobody),
# so deleting DATA_DIR wipes the node's data only. The node logs to stdout.
#
# Process shape: this script execs (via setpriv, as nobody: ES refuses root) the server JVM, so the
# script's PID *is* the server. Its stdin is a process substitution running our launcher JVM, which
# writes the serialized ServerArgs and keeps the pipe open. SIGTERM to the server PID or to the whole
# process group stops the node cleanly (the launcher then sends the shutdown byte / exits when the
# server is gone); EOF on the pipe also stops the server.
set -euo pipefail
umask 022

[[ $# -eq 2 ]] || { echo "usage: $0 <ES_HOME> <DATA_DIR>" >&2; exit 2; }
ES_HOME="$(cd "$1" && pwd)" || { echo "ES_HOME $1 does not exist; run assemble.sh first" >&2; exit 1; }
[[ -f "$ES_HOME/.assembled" ]] || { echo "$ES_HOME is not assembled; run assemble.sh first" >&2; exit 1; }
mkdir -p "$2"
DATA_DIR="$(cd "$2" && pwd)"
HTTP_PORT="${ES_HTTP_PORT:-9200}"
TRANSPORT_PORT="${ES_TRANSPORT_PORT:-9300}"
HEAP="${ES_HEAP:-1g}"
CLUSTER_NAME="${ES_CLUSTER_NAME:-k2e-local}"
RUN_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# --- JDK >= 21 (same rule as assemble.sh).
jdk_feature() {
  local v=""
  if [[ -x "$1/bin/java" ]]; then
    v="$("$1/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1)"
  fi
  echo "${v:-0}"
}
JAVA=""
for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
  [[ -n "$c" && -d "$c" ]] || continue
  if (( $(jdk_feature "$c") >= 21 )); then JAVA="$c/bin/java"; break; fi
done
[[ -n "$JAVA" ]] || { echo "no JDK >= 21 found (set JAVA_HOME, or install one under /usr/lib/jvm)" >&2; exit 1; }

# --- Data dirs, owned by the unprivileged user the node runs as.
mkdir -p "$DATA_DIR/data" "$DATA_DIR/logs" "$DATA_DIR/tmp"
chown -R 65534:65534 "$DATA_DIR"
"${RUN_AS[@]}" test -w "$DATA_DIR/data" -a -r "$ES_HOME/config/log4j2.properties" ||
  { echo "user nobody cannot reach $DATA_DIR or $ES_HOME (check the parent directories' permissions)" >&2; exit 1; }

# --- Node config (no xpack settings: only the server, netty4 and rest-root are installed).
cat >"$ES_HOME/config/elasticsearch.yml" <<EOF
# Written by stack/elasticsearch/run.sh at every start; edits are overwritten.
cluster.name: $CLUSTER_NAME
discovery.type: single-node
network.host: 127.0.0.1
http.port: $HTTP_PORT
transport.port: $TRANSPORT_PORT
path.data: $DATA_DIR/data
path.logs: $DATA_DIR/logs
# allow DELETE /*, /_all and wildcards (test cleanup)
action.destructive_requires_name: false
# a nearly full disk must not block allocation or make indices read-only
cluster.routing.allocation.disk.threshold_enabled: false
EOF

# Direct memory = half the heap, as ES's own JVM ergonomics do.
case "$HEAP" in
  *[gG]) DIRECT="$(( ${HEAP%?} * 512 ))m" ;;
  *[mM]) DIRECT="$(( ${HEAP%?} / 2 ))m" ;;
  *) DIRECT="" ;;
esac

BRIDGE_JAR="$(ls "$ES_HOME"/lib/entitlement-bridge/*.jar)"
AGENT_JAR="$(ls "$ES_HOME"/lib/entitlement-agent/*.jar)"
JVM_OPTS=(
  "-Xms$HEAP" "-Xmx$HEAP" ${DIRECT:+"-XX:MaxDirectMemorySize=$DIRECT"} -XX:+UseG1GC -Xss1m
  -XX:-OmitStackTraceInFastThrow "-XX:ErrorFile=$DATA_DIR/logs/hs_err_pid%p.log"
  "-Djava.io.tmpdir=$DATA_DIR/tmp" "-Duser.home=$DATA_DIR/tmp"
  -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.locale.providers=CLDR -Djna.nosys=true
  -Des.networkaddress.cache.ttl=60 -Des.networkaddress.cache.negative.ttl=10
  -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0
  -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true
  "-Des.path.home=$ES_HOME" "-Des.path.conf=$ES_HOME/config" -Des.distribution.type=tar
  # entitlements (also on Java 21-23, where ES would otherwise use the SecurityManager)
  -Des.entitlements.enabled=true "-Des.entitlement.agentJar=$AGENT_JAR"
  -XX:+EnableDynamicAgentLoading -Djdk.attach.allowAttachSelf=true
  "--patch-module=java.base=$BRIDGE_JAR"
  --add-exports=java.base/org.elasticsearch.entitlement.bridge=org.elasticsearch.entitlement,java.logging,java.net.http,java.naming,jdk.net
  # native access: zstd via FFM; ES's own libvec.so is not on Central
  --enable-native-access=org.elasticsearch.nativeaccess,org.elasticsearch.foreign,org.elasticsearch.foreign.adapter,org.elasticsearch.simdvec,org.apache.lucene.core
  --enable-native-access=ALL-UNNAMED -Dorg.elasticsearch.nativeaccess.enableVectorLibrary=false
  --add-modules=jdk.incubator.vector
  "--module-path=$ES_HOME/lib" --add-modules=ALL-MODULE-PATH
  -m org.elasticsearch.server/org.elasticsearch.bootstrap.Elasticsearch
)
LAUNCHER=(
  # small, since it idles for the node's lifetime (~60 MB RSS)
  "$JAVA" -Xms4m -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=16m
  -XX:-UsePerfData -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20
  "-Djava.io.tmpdir=$DATA_DIR/tmp" "-Des.path.home=$ES_HOME"
  -cp "$ES_HOME/lib/*:$ES_HOME/lib/tools/k2e-launcher/*" k2e.stack.es.Launcher "$ES_HOME"
)

export LIBFFI_TMPDIR="$DATA_DIR/tmp"
cd "$ES_HOME"   # ES resolves some paths (e.g. lib/entitlement-agent) relative to the working directory
echo "[es-run] Elasticsearch $(cat "$ES_HOME/.assembled") on 127.0.0.1:$HTTP_PORT (transport $TRANSPORT_PORT), heap $HEAP, data $DATA_DIR, java $JAVA"
exec "${RUN_AS[@]}" "$JAVA" "${JVM_OPTS[@]}" < <(exec "${RUN_AS[@]}" "${LAUNCHER[@]}" </dev/null)
