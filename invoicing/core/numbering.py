"""Document number formats (`INV-{year}-{seq:05}`) and the series each number belongs to."""

import re
from dataclasses import dataclass
from datetime import date

_PLACEHOLDER = re.compile(r"\{(?:seq(?::0([1-9]))?|year|yy|month)\}")
MAX_FORMAT_LENGTH = 60


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """A format with exactly one `{seq}` (or `{seq:0N}`, zero-padded to N) and any of `{year}`,
    `{yy}`, `{month}` (two digits), filled from the document's issue date.

    The number with its `{seq}` left out names a series, and each series counts from 1: so
    `INV-{year}-{seq:05}` starts again every year, and `{seq}` and `{seq:05}` share a series
    (switching between them continues the count instead of repeating numbers)."""

    text: str

    @classmethod
    def parse(cls, text: str) -> "NumberFormat":
        if not 1 <= len(text) <= MAX_FORMAT_LENGTH:
            raise ValueError(f"must be 1 to {MAX_FORMAT_LENGTH} characters")
        seqs = [m for m in _PLACEHOLDER.finditer(text) if m.group(0).startswith("{seq")]
        if len(seqs) != 1:
            raise ValueError("must contain {seq} (or {seq:05}) exactly once")
        rest = _PLACEHOLDER.sub("", text)
        if "{" in rest or "}" in rest:
            raise ValueError("knows only the placeholders {seq}, {seq:0N}, {year}, {yy}, {month}")
        if not rest.isprintable() or any(c.isspace() for c in rest):
            raise ValueError("must not contain spaces or control characters")
        return cls(text)

    def series(self, issued: date) -> str:
        return _PLACEHOLDER.sub(lambda m: _fill(m, issued, None), self.text)

    def number(self, issued: date, seq: int) -> str:
        return _PLACEHOLDER.sub(lambda m: _fill(m, issued, seq), self.text)


def _fill(match: re.Match[str], issued: date, seq: int | None) -> str:
    placeholder = match.group(0)
    if placeholder.startswith("{seq"):
        if seq is None:
            return "{seq}"
        width = int(match.group(1) or 0)
        return str(seq).zfill(width)
    if placeholder == "{year}":
        return f"{issued.year:04d}"
    if placeholder == "{yy}":
        return f"{issued.year % 100:02d}"
    return f"{issued.month:02d}"
