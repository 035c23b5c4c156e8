"""`validator`: the e-invoice validator, its stylesheets compiled once per session. Without the
rules folder (RULES_DIR) the tests that need it are skipped, loudly, except in CI where they
fail."""

from typing import Any

import pytest

from tests.einvoice.validation import Validator, require_rules, rules_problem


@pytest.fixture(scope="session", name="validator")
def validator_fixture() -> Validator:
    return require_rules()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    problem = rules_problem()
    if problem:
        terminalreporter.write_sep("!", f"e-invoice validation SKIPPED: {problem}", yellow=True)
