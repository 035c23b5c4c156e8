"""When a failed delivery is tried again (API.md, Webhooks): after about 5 s, 5 min, 30 min, 2 h,
5 h and 10 h, then every 10 h, each with up to 10 % jitter either way, until 3 days have passed
since the first attempt; then it is given up."""

import random
from datetime import datetime, timedelta

DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
GIVE_UP_AFTER = timedelta(days=3)
JITTER = 0.1


def delay(failed_attempts: int, rng: random.Random) -> timedelta:
    """How long after the `failed_attempts`-th failure (1-based) the next attempt runs."""
    base = DELAYS[min(failed_attempts, len(DELAYS)) - 1]
    return base * (1 + rng.uniform(-JITTER, JITTER))


def next_attempt(
    failed_attempts: int, first_attempt: datetime, at: datetime, rng: random.Random
) -> datetime | None:
    """When to try again after a failure at `at`, or None: give up."""
    upcoming = at + delay(failed_attempts, rng)
    return None if upcoming > first_attempt + GIVE_UP_AFTER else upcoming
