"""Request bodies refuse what the ledger must never guess at."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omnistock.admin_schemas import AdjustmentIn, CatalogIn, CountIn, HoldIn, SaleIn


@pytest.mark.parametrize("qty", ["3", 3.5, 3.0, 0, -1, None, True, 10_000_001])
def test_sale_quantity_must_be_a_positive_integer(qty: object) -> None:
    with pytest.raises(ValidationError):
        SaleIn.model_validate({"location": "shop", "qty": qty, "event_id": "e1"})


def test_valid_sale() -> None:
    sale = SaleIn.model_validate({"location": "shop", "qty": 2, "event_id": "e1"})
    assert (sale.qty, sale.source) == (2, "admin")


@pytest.mark.parametrize(
    "body",
    [
        {"location": "shop", "on_hand": -1, "version": 1, "event_id": "c"},
        {"location": "shop", "on_hand": 1, "event_id": "c"},
        {"location": "shop", "on_hand": 1, "version": 1},
        {"location": "", "on_hand": 1, "version": 1, "event_id": "c"},
        {"location": "shop", "on_hand": 1, "version": 1, "event_id": "bad\nid"},
        {"location": "shop", "on_hand": 1, "version": 1, "event_id": "c", "as_of": "yesterday"},
        {"location": "shop", "on_hand": 1, "version": 1, "event_id": "c", "surprise": True},
    ],
)
def test_bad_counts_are_refused(body: dict) -> None:
    with pytest.raises(ValidationError):
        CountIn.model_validate(body)


def test_adjustment_may_be_negative_but_bounded() -> None:
    assert AdjustmentIn.model_validate({"location": "s", "delta": -4, "event_id": "a"}).delta == -4
    with pytest.raises(ValidationError):
        AdjustmentIn.model_validate({"location": "s", "delta": 2_000_000, "event_id": "a"})


def test_catalog_needs_a_location_and_clean_channel_names() -> None:
    with pytest.raises(ValidationError):
        CatalogIn.model_validate({"locations": []})
    with pytest.raises(ValidationError):
        CatalogIn.model_validate({"locations": ["shop"], "listings": {"Shop ify": "1"}})
    assert CatalogIn.model_validate({"locations": ["shop"], "listings": {"shopify": "gid://1"}}).listings


def test_hold_minutes_are_bounded() -> None:
    base = {"hold_id": "h", "sku": "TEE", "location": "shop", "qty": 1}
    assert HoldIn.model_validate(base | {"minutes": 30}).minutes == 30
    with pytest.raises(ValidationError):
        HoldIn.model_validate(base | {"minutes": 0})


def test_the_api_names_the_same_import_kinds_and_entry_ways_as_the_domain() -> None:
    from typing import get_args

    from omnistock import admin_schemas
    from omnistock.channel_import import KINDS
    from omnistock.models import ENTRY_WAYS

    assert get_args(admin_schemas.ImportKind) == KINDS
    assert get_args(admin_schemas.EntryWay) == ENTRY_WAYS
