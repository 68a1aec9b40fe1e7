"""obsvty's in-repo benchmarks (``make bench``). See docs/PERFORMANCE.md."""
