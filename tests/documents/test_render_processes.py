"""No process outlives the server (issue: every stop left the render process and the
multiprocessing resource tracker behind, 100-260 MB each, adopted by PID 1): stopped politely
(SIGTERM, SIGINT) or killed outright (SIGKILL), in the middle of renders, a real `invoicing serve`
takes its render processes with it."""

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from invoicing.db.migrate import upgrade
from tests.documents.processes import (
    Api,
    Process,
    descendants,
    huge_pdf,
    invoice_pdf,
    kill_all,
    running,
    wait_until,
)
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

GONE_WITHIN = 5.0  # seconds after the server's own exit


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, Api]]:
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    server = Server(url, tmp_path / "server").start()
    api = Api(server, make_token(url, name="processes"))
    try:
        yield server, api
    finally:
        api.close()
        server.kill()


def _command(process: Process) -> str:
    return Path(f"/proc/{process[0]}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_no_process_outlives_the_server(server: tuple[Server, Api], stop: int) -> None:
    served, api = server
    assert served.process is not None
    assert api.get(invoice_pdf(api)).status_code == 200
    # Stopped in the middle of its work: one huge render under way, one its client left.
    huge = huge_pdf(api)
    api.hold(huge)
    api.new_token("gone").hold(huge).close()
    time.sleep(1)
    children = {p for p in descendants(served.process.pid) if running(p)}
    assert children, "the server has no render process"
    try:
        served.process.send_signal(stop)
        served.process.wait(timeout=15)
        gone = wait_until(lambda: not any(running(p) for p in children), GONE_WITHIN)
        assert gone, [_command(p) for p in children if running(p)]
    finally:
        kill_all(children)
