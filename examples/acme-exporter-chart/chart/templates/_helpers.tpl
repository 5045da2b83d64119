{{/* The labels every object of the chart carries. */}}
{{- define "acme-exporter.labels" -}}
app.kubernetes.io/name: acme-exporter
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
