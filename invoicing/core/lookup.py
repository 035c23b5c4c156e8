from collections.abc import Awaitable, Callable
from typing import TypeVar

from invoicing.core.errors import NotFound
from invoicing.core.ids import is_id

T = TypeVar("T")


async def get_or_404(fetch: Callable[[str], Awaitable[T | None]], id: str, not_found: str) -> T:
    """What `fetch` finds for `id`, or 404 with `not_found`. A malformed id is answered exactly
    like an unknown one, without asking the database (PostgreSQL would refuse some, a NUL)."""
    found = await fetch(id) if is_id(id) else None
    if found is None:
        raise NotFound(not_found)
    return found
