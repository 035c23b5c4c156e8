"""Resource ids: 24 lowercase hex characters, the MongoDB ObjectId format the contract shows."""

import os
import re
import time

_ID = re.compile(r"[0-9a-f]{24}")
# What a request that names a malformed id is told (in `errors`, beside the message).
ID_FORMAT = "must be an id of 24 lowercase hex characters"


def new_id() -> str:
    # A time prefix keeps new ids close together in indexes; 64 random bits make them unique.
    return f"{int(time.time()):08x}{os.urandom(8).hex()}"


def is_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None
