{{/* Names: the release's full name, at most 63 characters (a DNS label). */}}
{{- define "k2e.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "k2e.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "k2e.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k2e.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "k2e.labels" -}}
{{ include "k2e.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
{{- if .Values.chartLabels }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- end }}

{{- define "k2e.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "k2e.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "k2e.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The name of the chart's own Secret (inline secretFiles). */}}
{{- define "k2e.secretName" -}}
{{- printf "%s-secrets" (include "k2e.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "k2e.secretRoot" -}}/var/run/secrets/kafka-to-elastic{{- end }}

{{/*
The secret files as JSON: "mounts": one entry per Secret (volume name, Secret name, mount path, the
keys used, sorted); "paths": config key -> file path; "inline": key -> value of the chart's Secret.
*/}}
{{- define "k2e.secretFiles" -}}
{{- $own := include "k2e.secretName" . }}
{{- $bySecret := dict }}
{{- $paths := dict }}
{{- $inline := dict }}
{{- range $configKey, $source := .Values.secretFiles }}
{{- if not (hasSuffix "File" $configKey) }}
{{- fail (printf "secretFiles.%s: the key must be a setting that takes a file's path (ends with File, e.g. elastic.passwordFile)" $configKey) }}
{{- end }}
{{- $source = $source | default dict }}
{{- $secret := "" }}
{{- $key := "" }}
{{- if hasKey $source "value" }}
{{- if or $source.secretName $source.key }}
{{- fail (printf "secretFiles.%s: set value, or secretName and key, not both" $configKey) }}
{{- end }}
{{- $secret = $own }}
{{- $key = trimSuffix "File" $configKey }}
{{- $_ := set $inline $key (toString $source.value) }}
{{- else if and $source.secretName $source.key }}
{{- $secret = $source.secretName }}
{{- $key = $source.key }}
{{- else }}
{{- fail (printf "secretFiles.%s: set secretName and key (an existing Secret), or value (inline)" $configKey) }}
{{- end }}
{{- $keys := get $bySecret $secret | default list }}
{{- $_ := set $bySecret $secret (append $keys $key | uniq | sortAlpha) }}
{{- $_ := set $paths $configKey (printf "%s/%s/%s" (include "k2e.secretRoot" $) $secret $key) }}
{{- end }}
{{- $mounts := list }}
{{- range $i, $secret := keys $bySecret | sortAlpha }}
{{- $mounts = append $mounts (dict "volume" (printf "secret-%d" $i) "secretName" $secret "mountPath" (printf "%s/%s" (include "k2e.secretRoot" $) $secret) "keys" (get $bySecret $secret)) }}
{{- end }}
{{- dict "mounts" $mounts "paths" $paths "inline" $inline | toJson }}
{{- end }}

{{/*
The configuration file: .Values.config, the kafka/elastic values over it, the secret file paths.
Refuses secrets in .Values.config.
*/}}
{{- define "k2e.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- range $secretKey := list "kafka.sasl.password" "kafka.sasl.token" "kafka.tls.passphrase" "elastic.password" "elastic.apiKey" "elastic.tls.passphrase" "schemaRegistry.password" "http.token" }}
{{- $node := $cfg }}
{{- $found := true }}
{{- range $part := splitList "." $secretKey }}
{{- if and $found (kindIs "map" $node) (hasKey $node $part) }}
{{- $node = index $node $part }}
{{- else }}
{{- $found = false }}
{{- end }}
{{- end }}
{{- if $found }}
{{- fail (printf "config.%s: secrets do not go into the configuration file (a ConfigMap); use secretFiles.\"%sFile\"" $secretKey $secretKey) }}
{{- end }}
{{- end }}
{{- if not (kindIs "map" (get $cfg "kafka")) }}{{ $_ := set $cfg "kafka" dict }}{{ end }}
{{- if not (kindIs "map" (get $cfg "elastic")) }}{{ $_ := set $cfg "elastic" dict }}{{ end }}
{{- range $key := list "brokers" "topics" "groupId" "autoOffsetReset" }}
{{- $value := index $.Values.kafka $key }}
{{- if $value }}{{ $_ := set $cfg.kafka $key $value }}{{ end }}
{{- end }}
{{- range $key := list "url" "index" "username" }}
{{- $value := index $.Values.elastic $key }}
{{- if $value }}{{ $_ := set $cfg.elastic $key $value }}{{ end }}
{{- end }}
{{- if not $cfg.kafka.brokers }}
{{- fail "kafka.brokers: required (the bootstrap brokers, host:port)" }}
{{- end }}
{{- if not $cfg.kafka.groupId }}
{{- fail "kafka.groupId: required (the consumer group)" }}
{{- end }}
{{- if and (not $cfg.kafka.topics) (not $cfg.kafka.topicPattern) }}
{{- fail "kafka.topics: required (or config.kafka.topicPattern)" }}
{{- end }}
{{- if not (or $cfg.elastic.url $cfg.elastic.urls $cfg.elastic.cloudId) }}
{{- fail "elastic.url: required (or config.elastic.urls, config.elastic.cloudId)" }}
{{- end }}
{{- $files := include "k2e.secretFiles" . | fromJson }}
{{- range $configKey, $path := $files.paths }}
{{- $node := $cfg }}
{{- $parts := splitList "." $configKey }}
{{- range $part := initial $parts }}
{{- if not (hasKey $node $part) }}{{ $_ := set $node $part dict }}{{ end }}
{{- if not (kindIs "map" (index $node $part)) }}
{{- fail (printf "secretFiles.%s: config sets %s to %v, not an object that can hold a file path" $configKey $part (index $node $part)) }}
{{- end }}
{{- $node = index $node $part }}
{{- end }}
{{- $_ := set $node (last $parts) $path }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* The HTTP port: config.http.port. */}}
{{- define "k2e.port" -}}
{{- $http := .Values.config.http | default dict }}
{{- $http.port | default 8080 | int }}
{{- end }}
