"""The only code that talks to DynamoDB: item keys, item shapes, and conditional writes."""

from omnistock.store.stock_store import StockStore

__all__ = ["StockStore"]
