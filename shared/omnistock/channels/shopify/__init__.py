"""Shopify: the Admin GraphQL client (``admin``), webhook signatures (``signature``), and the
translation of its payloads into the ledger's vocabulary (``payloads``). Each module is
imported on its own, so the webhook function never loads the HTTP client."""

from omnistock.channels import Platform

PLATFORM = Platform("shopify", "Shopify", one_per_stack=True, target_location_needed="a location GID")
