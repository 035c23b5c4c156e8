"""The benchmark of issue 5: the service against a minimal reference in the same run."""
