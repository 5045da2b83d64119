{{- define "common.existingToken" -}}
{{- $found := (lookup "v1" "Secret" .Release.Namespace "app-token") -}}
{{- if $found }}{{ index $found.data "token" }}{{ end -}}
{{- end }}
