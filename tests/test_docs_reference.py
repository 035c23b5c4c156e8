"""docs/api.md, the product's own reference, checked against the app it documents: a section for
every operation of the OpenAPI document and none for another, the same error messages as the
OpenAPI examples, every setting named, and links that stay inside the repository."""

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from invoicing.app import create_app
from invoicing.config import Settings

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "api.md"
COMMON = "Errors every endpoint may answer"
# An endpoint's heading: ### `POST /invoices/{invoice_id}/payments`
ENDPOINT = re.compile(r"`([A-Z]+) (/[^`\s]*)`")
HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*$")
TABLE_HEADER = re.compile(r"\|\s*Status\s*\|\s*Message\s*\|")
ROW = re.compile(r"\|\s*([0-9]{3})\s*\|(.*)\|\s*$")
# A row whose message depends on the input ("names the field") is not compared.
ELLIPSIS = "…"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

Messages = dict[str, set[str]]  # status -> messages


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("reference")
    settings = Settings(database_url=f"sqlite:///{folder / 'x.db'}", secret_key="x" * 32)
    schema: dict[str, Any] = create_app(settings).openapi()
    return schema


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """("POST /invoices", the operation) for every operation of the OpenAPI document."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def outside_code(text: str) -> Iterator[str]:
    """The lines of a Markdown text that are not inside a fenced code block."""
    fence = None
    for line in text.splitlines():
        stripped = line.lstrip()
        marker = stripped[:3]
        if marker in ("```", "~~~"):
            if fence is None:
                fence = marker
            elif marker == fence:
                fence = None
            continue
        if fence is None:
            yield line


class Reference:
    """What docs/api.md says: its endpoint headings (in order, repeats included), and the
    `| Status | Message |` table of each endpoint section and of the common errors section."""

    def __init__(self, text: str) -> None:
        self.headings: list[str] = []
        self.tables: dict[str, Messages] = {}
        self.has_table: set[str] = set()
        section: str | None = None
        for line in outside_code(text):
            heading = HEADING.fullmatch(line.strip())
            if heading:
                level, title = len(heading[1]), heading[2]
                if level > 3:
                    continue  # a sub-heading stays inside its endpoint's section
                section = None
                endpoint = ENDPOINT.fullmatch(title)
                if level == 3 and endpoint:
                    section = f"{endpoint[1]} {endpoint[2]}"
                    self.headings.append(section)
                elif level == 2 and title == COMMON:
                    section = COMMON
                if section is not None:
                    self.tables.setdefault(section, defaultdict(set))
                continue
            if section is None:
                continue
            if TABLE_HEADER.fullmatch(line.strip()):
                self.has_table.add(section)
                continue
            row = ROW.fullmatch(line.strip())
            if row and ELLIPSIS not in row[2]:
                self.tables[section][row[1]].add(row[2].strip().strip("`").strip())


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(REFERENCE.read_text(encoding="utf-8"))


def example_messages(operation: dict[str, Any]) -> Messages:
    """Each error status's messages, from the operation's OpenAPI examples."""
    messages: Messages = defaultdict(set)
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {}).get("application/json", {})
        for example in content.get("examples", {}).values():
            value = example.get("value", {})
            if isinstance(value, dict) and value.get("success") is False:
                messages[str(status)].add(value["message"])
    return messages


def test_every_operation_has_its_section_and_no_other(
    openapi: dict[str, Any], reference: Reference
) -> None:
    documented = set(reference.headings)
    served = {name for name, _ in operations(openapi)}
    repeated = sorted({name for name in reference.headings if reference.headings.count(name) > 1})
    assert not repeated, f"docs/api.md has these endpoint headings more than once: {repeated}"
    assert sorted(served - documented) == [], "operations the reference does not document"
    assert sorted(documented - served) == [], "headings for operations the app does not have"


def test_every_section_has_its_error_table(reference: Reference) -> None:
    missing = [name for name in [*reference.headings, COMMON] if name not in reference.has_table]
    assert missing == [], "sections without a | Status | Message | table"


def test_error_messages_match_the_openapi_examples(
    openapi: dict[str, Any], reference: Reference
) -> None:
    common = reference.tables.get(COMMON, {})
    problems = []
    for name, operation in sorted(operations(openapi)):
        examples = example_messages(operation)
        table = reference.tables.get(name, {})
        for status, messages in sorted(examples.items()):
            for message in sorted(messages):
                if message not in table.get(status, set()) | common.get(status, set()):
                    problems.append(f"{name}: {status} {message!r} is in the OpenAPI only")
        for status, messages in sorted(table.items()):
            for message in sorted(messages - examples.get(status, set())):
                problems.append(f"{name}: {status} {message!r} is in docs/api.md only")
    assert not problems, "\n".join(problems)


def test_every_setting_is_named() -> None:
    prefix = Settings.model_config.get("env_prefix", "")
    text = REFERENCE.read_text(encoding="utf-8")
    missing = [
        variable
        for variable in (f"{prefix}{field}".upper() for field in Settings.model_fields)
        if not re.search(rf"(?<![A-Z0-9_]){re.escape(variable)}(?![A-Z0-9_])", text)
    ]
    assert missing == [], "settings the reference does not name"


MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# [text](target "title"), ![alt](target), [name]: target, src="target", href="target"
LINK = re.compile(
    r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
    r"|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)"
    r"|\b(?:src|href)=\"([^\"]+)\"",
    re.MULTILINE,
)
EXTERNAL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, …
OUTSIDE = ("../shared", "/work/")


def links(text: str) -> Iterator[str]:
    for line in outside_code(text):
        for match in LINK.finditer(line):
            yield next(group for group in match.groups() if group)


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda page: str(page.relative_to(ROOT)))
def test_links_stay_inside_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for needle in OUTSIDE:
        assert needle not in text, f"{page.name} points outside the repository: {needle}"
    broken = []
    for target in links(text):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        base = ROOT if path.startswith("/") else page.parent
        resolved = (base / path.lstrip("/")).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert broken == [], f"{page.name} links to what the repository does not have"
