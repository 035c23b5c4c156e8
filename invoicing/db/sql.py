from functools import cache


@cache
def placeholders(count: int, start: int = 1) -> str:
    """`$1, $2, $3` for an IN list of `count` values (statements are cached per length)."""
    return ", ".join(f"${n}" for n in range(start, start + count))
