"""Print the admin API's OpenAPI document, generated from the handler's routes and models.

`make openapi` writes it to docs/openapi.json; a test fails when the two drift apart.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def admin_openapi() -> dict:
    sys.path.insert(0, str(ROOT / "shared"))
    spec = importlib.util.spec_from_file_location("omnistock_admin_api_app", ROOT / "functions/admin_api/app.py")
    if spec is None or spec.loader is None:
        raise ImportError("functions/admin_api/app.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    document: dict = json.loads(
        module.app.get_openapi_json_schema(
            title="Omnistock admin API",
            version="1",
            summary="Stock explained, catalog, channels, counts, adjustments, restocks, sales and holds.",
            description=(
                "Deployed behind the HTTP API's IAM authorizer (SigV4-signed requests). "
                "On the local stack, send `Authorization: Bearer <dev token>`."
            ),
        )
    )
    return document


def main() -> None:
    print(json.dumps(admin_openapi(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
