"""The benchmark: the service against a minimal reference in the same run."""
