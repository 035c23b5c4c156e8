from invoicing.console.routing import console_router

router = console_router()
