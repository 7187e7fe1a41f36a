"""The admin API against its own OpenAPI document (docs/openapi.json), over HTTP on the local
stack: schemathesis generates schema-valid and schema-invalid requests for every documented
operation, and every answer is checked against the document.

Checks: no 5xx; the status, content type and body are the documented ones; invalid requests are
refused. Left out: ``positive_data_acceptance`` (a schema-valid request must be a 2xx). The
document cannot say what the ledger knows, so valid requests are rightly refused every time:
an unknown location or hold (400, 404), /sync-history without a SKU or channel (400), a
whole-number field sent as ``1.0`` or a string with a lone surrogate (422, the models are
stricter than JSON Schema).

``FUZZ_EXAMPLES`` sets the cases per operation (default 50: well under a minute in all);
derandomized, so a run is repeatable and a failure reproduces.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, GenerationMode, checks
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok

from tests.e2e.conftest import RunningStack, running_stack
from tests.helpers import ROOT
from tests.reliability import record

SUITE = "admin API schemathesis"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)


def readable(result: Ok[APIOperation] | Err[InvalidSchema]) -> APIOperation:
    """One operation of the document (one schemathesis cannot read fails the collection)."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


OPERATIONS = [readable(result) for result in SCHEMA.get_all_operations()]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture(scope="module")
def fuzzed_stack() -> Iterator[RunningStack]:
    """A stack of its own: random admin calls (channels, policies, catalog) must not change what
    the other end-to-end tests rely on."""
    yield from running_stack()


@pytest.mark.suite(SUITE)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_an_admin_operation_answers_as_documented(fuzzed_stack: RunningStack, operation: APIOperation) -> None:
    """Cases valid and invalid against the document, with the dev token the local stack wants
    in place of IAM."""
    stack = fuzzed_stack
    headers = {"Authorization": f"Bearer {stack.dev_token}"}
    cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @settings(
        derandomize=True, database=None, max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=cases)
    def answers_as_documented(case: Any) -> None:
        response = case.call(base_url=stack.url, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        record(SUITE, requests=1, checks=len(CHECKS))

    answers_as_documented()
