{{/* Labels every object of the chart carries. */}}
{{- define "app.labels" -}}
app.kubernetes.io/name: app
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
