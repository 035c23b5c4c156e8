"""The pacer of background work: it starts work while its server is not busy, and once a `floor`
while it is; a process whose CPU time cannot be read counts as idle."""

import os

from invoicing.core.pacing import Pacer, process_cpu


class Fake:
    def __init__(self) -> None:
        self.now = 0.0
        self.cpu: float | None = 0.0

    def run(self, seconds: float, share: float) -> None:
        """`seconds` pass, the server busy `share` of a core meanwhile."""
        self.now += seconds
        assert self.cpu is not None
        self.cpu += seconds * share


def pacer(fake: Fake) -> Pacer:
    return Pacer(lambda: fake.cpu, clock=lambda: fake.now, busy_share=0.5, window=0.2, floor=1.0)


def test_an_idle_server_lets_work_start_every_time():
    fake = Fake()
    paced = pacer(fake)
    for _ in range(20):
        fake.run(0.05, share=0.1)
        assert paced.may_start()


def test_a_busy_server_lets_work_start_once_a_floor():
    fake = Fake()
    paced = pacer(fake)
    fake.run(0.2, share=0.9)  # a first window: until then, nothing is known
    starts = 0
    for _ in range(100):  # 5 s, the server at 90 % of a core
        fake.run(0.05, share=0.9)
        starts += paced.may_start()
    assert 4 <= starts <= 6


def test_work_starts_again_as_soon_as_the_server_is_quiet():
    fake = Fake()
    paced = pacer(fake)
    fake.run(0.3, share=1.0)
    assert paced.may_start()  # the first start of a busy spell: the floor has passed
    fake.run(0.3, share=1.0)
    assert not paced.may_start()
    fake.run(0.3, share=0.0)
    assert paced.may_start()
    fake.run(0.01, share=0.0)
    assert paced.may_start()


def test_an_unreadable_server_counts_as_idle():
    fake = Fake()
    fake.cpu = None
    paced = pacer(fake)
    for _ in range(5):
        fake.now += 0.3
        assert paced.may_start()


def test_process_cpu_reads_this_process():
    read = process_cpu(os.getpid())
    first = read()
    if first is None:  # no /proc here
        assert process_cpu(2**22 + 1)() is None
        return
    sum(i * i for i in range(2_000_000))  # some CPU time
    second = read()
    assert second is not None and second > first
    assert process_cpu(2**22 + 1)() is None  # no such process


def test_a_server_waiting_on_postgresql_counts_as_busy_by_default():
    """Saturated with POST /invoices on PostgreSQL, the server uses 0.5-0.7 of a core (the rest
    is the numbering lock's wait): that is busy, not room for deliveries."""
    fake = Fake()
    paced = Pacer(lambda: fake.cpu, clock=lambda: fake.now)
    fake.run(0.3, share=0.45)
    assert paced.may_start()  # the first start of a busy spell
    for _ in range(10):
        fake.run(0.05, share=0.45)
        assert not paced.may_start()
