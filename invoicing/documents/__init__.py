"""Invoice documents: the data model, its PDF, and the process that renders it."""
