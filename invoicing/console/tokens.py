"""Access tokens: every one (revoked ones marked), a new one with its secret shown once on the page
the form posts to (never in a URL or the history), and revoking one."""

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from invoicing.console import forms
from invoicing.console.common import done, first_submission, new_form_key, notice_of
from invoicing.console.render import page
from invoicing.console.routing import SIGN_IN, Console, console_router
from invoicing.console.sessions import COOKIE, Session
from invoicing.core.errors import AppError
from invoicing.tokens import service
from invoicing.tokens.schemas import TokenCreate
from invoicing.web import context

router = console_router()
ALREADY_CREATED = (
    "This form was already submitted: the token was created then, and its secret shown that "
    "once. If it was not copied, revoke that token and create another."
)


async def _tokens_page(
    request: Request,
    session: Session,
    *,
    created: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    async with context.database(request).read() as connection:
        tokens = await service.list_tokens(connection, include_revoked=True)
    return page(
        request,
        "tokens.html",
        session,
        status=status,
        tokens=tokens,
        created=created,
        errors=errors or {},
        form=form,
        key=new_form_key(),
        notice=notice or notice_of(request),
    )


@router.get("/tokens")
async def token_list(request: Request, session: Console) -> Response:
    return await _tokens_page(request, session)


@router.post("/tokens")
async def create_token(request: Request, session: Console) -> Response:
    """The page again (200), with the secret: a redirect would leave it nowhere to be shown."""
    form = await forms.read(request, session.csrf)
    try:
        payload = forms.validate(TokenCreate, {"name": form["name"], "type": form["type"]})
        async with context.database(request).write() as connection:
            created = None
            if await first_submission(connection, session, form):
                token, secret = await service.create(connection, payload.name, payload.type)
                created = {**token, "token": secret}
    except AppError as error:
        return await _tokens_page(
            request, session, errors=forms.errors_of(error), form=form, status=error.status
        )
    if created is None:
        return await _tokens_page(request, session, notice=ALREADY_CREATED)
    return await _tokens_page(
        request, session, created=created, notice=f"Token {created['name']} created"
    )


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(request: Request, session: Console, token_id: str) -> Response:
    await forms.read(request, session.csrf)
    async with context.database(request).write() as connection:
        token = await service.revoke(connection, token_id)
    if token["id"] == session.principal.id:
        # This session's own token: the session ended with it (sessions.find joins tokens).
        response = RedirectResponse(SIGN_IN, status_code=303)
        response.delete_cookie(COOKIE, path="/admin")
        return response
    return done("/admin/tokens", f"Token {token['name']} revoked")
