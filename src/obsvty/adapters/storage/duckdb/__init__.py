"""The DuckDB storage backend: the embedded file obsvty stores in by default."""
