"""obsvty observing itself: Prometheus metrics, health endpoints."""
