import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicing.core.errors import ValidationFailed
from invoicing.web.pagination import FIRST_PAGE, decode_cursor, encode_cursor


@given(st.integers(min_value=1, max_value=FIRST_PAGE))
def test_a_cursor_decodes_to_the_seq_it_encodes(seq):
    assert decode_cursor(encode_cursor(seq)) == seq


def test_no_cursor_is_the_first_page():
    assert decode_cursor(None) == FIRST_PAGE


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["", "!!", "' OR 1=1", _raw("s0"), _raw("s-1"), _raw(f"s{FIRST_PAGE + 1}"), _raw("x5"),
     _raw("s٣"), _raw("s 5"), _raw("s1_000"), _raw("s5\n"), "\udcff"],
)  # fmt: skip
def test_a_malformed_cursor_is_refused(cursor):
    with pytest.raises(ValidationFailed, match="cursor is invalid"):
        decode_cursor(cursor)
