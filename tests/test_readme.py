"""The README's walkthrough, run as it stands (bash, curl and python3, as a newcomer pastes it)
against a real server on each database: every command succeeds and prints what its `# →` says."""

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import fresh_database_url  # noqa: F401 (a fixture)
from tests.servers import Server, make_token

README = Path(__file__).resolve().parent.parent / "README.md"
EXPECTED = re.compile(r"#\s*→\s*(\S.*?)\s*$")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough needs curl"),
]


def walkthrough() -> str:
    """The first `sh` block after the walkthrough's heading."""
    text = README.read_text()
    section = text[text.index("## Five-minute walkthrough") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no sh block in the walkthrough"
    return match.group(1)


def expected_outputs(script: str) -> list[str]:
    """The values the `# →` comments promise, in order (each printed on a line of its own)."""
    return [m.group(1) for line in script.splitlines() if (m := EXPECTED.search(line))]


def test_the_walkthrough_block_is_what_the_test_runs():
    script = walkthrough()
    assert script.startswith("export TOKEN=inv_"), "the block starts with the token line"
    assert "\nAPI=http://127.0.0.1:8000\n" in script
    assert len(expected_outputs(script)) >= 8


def test_readme_walkthrough_runs_as_written(fresh_database_url, tmp_path):  # noqa: F811
    server = Server(fresh_database_url, tmp_path / "server").start()
    try:
        token = make_token(fresh_database_url, name="newcomer")
        script = walkthrough()
        script = re.sub(r"^export TOKEN=.*$", f"export TOKEN={token}", script, flags=re.M)
        script = re.sub(r"^API=.*$", f"API={server.url}", script, flags=re.M)
        # No desktop here: "opening" the PDF keeps a copy, to show which file was opened.
        prelude = 'set -euo pipefail\nxdg-open() { cp "$1" opened.pdf; }\n'
        done = subprocess.run(
            ["bash", "-c", prelude + script],
            cwd=server.workdir,  # the server's outbox is in its working directory, as with make run
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        printed = done.stdout.splitlines()
        promised = expected_outputs(script)
        assert printed[: len(promised)] == promised
        # Then `ls outbox/`: the one mail sent, as an .eml with the invoice attached.
        mails = printed[len(promised) :]
        assert len(mails) == 1 and mails[0].endswith(".eml"), printed
        mail = (server.workdir / "outbox" / mails[0]).read_text()
        assert "billing@acme.example" in mail and 'filename="invoice-1.pdf"' in mail

        for name in ("invoice.pdf", "credit-note.pdf", "opened.pdf"):
            assert (server.workdir / name).read_bytes().startswith(b"%PDF-"), name
        invoice = httpx.get(
            f"{server.url}/invoices", headers={"accessToken": token}
        ).json()["data"][0]
        assert (invoice["status"], invoice["amountDue"]) == ("partially_paid", 266.06)
    finally:
        server.stop()
