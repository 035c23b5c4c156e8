"""The wheel serves without the source tree: built, installed into a directory of its own and run
from elsewhere, it finds its migrations, templates and the console's stylesheet in the package."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import order_body
from tests.servers import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "invoicing"


def _source_copy(destination: Path) -> Path:
    """What a checkout holds for the build (the build writes build/ and *.egg-info beside it)."""
    destination.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, destination / name)
    shutil.copytree(
        PACKAGE, destination / "invoicing", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return destination


def _data_files() -> set[str]:
    """Every file of the package that is not Python source: each is read at run time."""
    return {
        path.relative_to(REPO).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    source = _source_copy(tmp / "src")
    # No build isolation: the build backend is a dev dependency, so nothing is downloaded.
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp / "dist"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = (tmp / "dist").glob("invoicing-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path) -> Path:
    target = wheel.parent.parent / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def test_the_wheel_holds_every_data_file_of_the_package(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert _data_files(), "no templates found: is this the repository?"
    assert _data_files() - names == set()
    assert "invoicing/migrations/versions/0001_initial_schema.py" in names


@pytest.fixture
def outside(tmp_path: Path, site: Path) -> tuple[Path, dict[str, str]]:
    """A working directory outside the repository, and an environment that imports the installed
    copy (the dependencies come from this virtualenv; its editable install of the repository is
    only a fallback after PYTHONPATH)."""
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVOICING_")}
    env["PYTHONPATH"] = str(site)
    env["PYTHONUNBUFFERED"] = "1"
    env["INVOICING_DATABASE_URL"] = f"sqlite:///{workdir / 'invoicing.db'}"
    env["INVOICING_WEBHOOK_DISPATCH"] = "false"
    return workdir, env


@contextmanager
def _served(workdir: Path, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    with open(workdir / "stdout", "wb") as out, open(workdir / "stderr", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "invoicing", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _wait_healthy(process: subprocess.Popen[bytes], base: str, workdir: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, (workdir / "stderr").read_text()
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not healthy within 30 s:\n{(workdir / 'stderr').read_text()}")


def test_the_installed_wheel_serves_from_outside_the_repository(outside, site):
    workdir, env = outside
    where = subprocess.run(
        [sys.executable, "-c", "import invoicing.console; print(invoicing.console.__file__)"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert where.returncode == 0, where.stderr
    imported = Path(where.stdout.strip())
    assert imported.is_relative_to(site) and not imported.is_relative_to(REPO), imported

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with _served(workdir, env, port) as process:
        _wait_healthy(process, base, workdir)
        printed = (workdir / "stdout").read_text()
        assert f"Database   {(workdir / 'invoicing.db').resolve()} (SQLite)" in printed, printed
        secret = printed.strip().splitlines()[-1]
        assert secret.startswith("inv_"), printed
        with httpx.Client(base_url=base, headers={"accessToken": secret}, timeout=60) as api:
            order = api.post("/orders", json=order_body())
            assert order.status_code == 201, order.text
            invoice = api.post("/invoices", json={"orderId": order.json()["data"]["id"]})
            assert invoice.status_code == 201, invoice.text
            pdf = api.get(f"/invoices/{invoice.json()['data']['id']}/pdf")
            assert pdf.status_code == 200, pdf.text
            assert pdf.content.startswith(b"%PDF-")
        with httpx.Client(base_url=base, timeout=30) as browser:
            sign_in = browser.get("/admin/sign-in")
            assert sign_in.status_code == 200, sign_in.text
            stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', sign_in.text)
            assert stylesheets, sign_in.text
            for href in stylesheets:
                css = browser.get(href)
                assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
                assert len(css.content) > 100
            assert browser.get("/docs").status_code == 200
    # uvicorn shuts down on SIGTERM, then ends by that signal (as the default handler would).
    assert process.returncode in (0, -signal.SIGTERM), (workdir / "stderr").read_text()
