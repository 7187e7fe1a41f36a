"""Unleashed, the inventory ERP: signed API calls within a monthly budget, its warehouses' stock
as master counts, and its webhooks as hints (see wiring.py for what is connected)."""
