"""Lightspeed Retail X-Series (formerly Vend): the shop's POS, master of its outlets' counts.

``webhooks`` reads and verifies its form-encoded deliveries; ``api`` reads its version-paged
change feeds (API 2.0) with OAuth tokens that rotate on refresh (``tokens``). Omnistock never
writes stock to the POS: its counts are the physical truth the ledger starts from."""
