from collections.abc import Awaitable, Callable
from typing import TypeVar

from invoicing.core.errors import NotFound
from invoicing.core.ids import ID_FORMAT, is_id

T = TypeVar("T")


async def get_or_404(
    fetch: Callable[[str], Awaitable[T | None]], id: str, not_found: str, field: str | None = None
) -> T:
    """What `fetch` finds for `id`, or 404 with `not_found`. A malformed id is answered like an
    unknown one, without asking the database (PostgreSQL would refuse some, a NUL); when it came
    in a body's `field`, `errors` also says what an id looks like."""
    if not is_id(id):
        errors = None if field is None else [{"field": field, "message": ID_FORMAT}]
        raise NotFound(not_found, errors=errors)
    found = await fetch(id)
    if found is None:
        raise NotFound(not_found)
    return found
