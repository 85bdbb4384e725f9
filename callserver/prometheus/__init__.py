"""`/metrics` for Prometheus, with the official client library and a registry per server (nothing
global); see docs/prometheus.md for every metric and docs/grafana-callserver.json for a dashboard."""
