"""What an operator watches: Prometheus metrics at ``/metrics`` and structured logs whose
lines name the HTTP request they belong to."""
