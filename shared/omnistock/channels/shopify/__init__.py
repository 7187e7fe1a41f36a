"""Shopify: the Admin GraphQL client (``admin``), webhook signatures (``signature``), and the
translation of its payloads into the ledger's vocabulary (``payloads``). Each module is
imported on its own, so the webhook function never loads the HTTP client."""
