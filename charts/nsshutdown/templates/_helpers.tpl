{{/*
The labels of every object, as manifests/base sets them with kustomize `labels:` (managed-by names
Helm here). Selectors never use managed-by, so the two installs select the same pods.
*/}}
{{- define "nsshutdown.labels" -}}
app.kubernetes.io/name: nsshutdown
app.kubernetes.io/part-of: nsshutdown
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels of the monitoring objects (manifests/monitoring adds part-of only). */}}
{{- define "nsshutdown.monitoringLabels" -}}
app.kubernetes.io/part-of: nsshutdown
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The image: repository@digest when a digest is given, else repository:tag (appVersion). */}}
{{- define "nsshutdown.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* The schedule file: the value, else the example of manifests/base (files/schedule.yaml). */}}
{{- define "nsshutdown.schedule" -}}
{{- .Values.schedule | default (.Files.Get "files/schedule.yaml") -}}
{{- end }}
