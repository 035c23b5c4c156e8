from invoicing.cli import app

app()
