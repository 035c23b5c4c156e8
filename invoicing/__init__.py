"""An HTTP API that turns orders into correct, numbered invoices."""
