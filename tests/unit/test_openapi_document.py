"""The committed OpenAPI document is the one the admin API's code generates."""

from __future__ import annotations

import json

from local.openapi import admin_openapi
from tests.helpers import ROOT


def test_openapi_document_matches_the_code() -> None:
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert admin_openapi() == committed, "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_admin_route_in_the_template_is_documented() -> None:
    from local.template import load_template

    template = load_template(ROOT / "template.yaml")
    documented = {
        (method.upper(), path) for path, operations in admin_openapi()["paths"].items() for method in operations
    }
    admin = next(f for f in template.functions if f.logical_id == "AdminApiFunction")
    # the console's route reaches these same routes under /console/api
    declared = {(route.method.upper(), route.path) for route in admin.routes if not route.path.startswith("/console/")}
    assert declared == documented
