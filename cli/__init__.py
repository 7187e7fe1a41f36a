"""The `omnistock` command line: admin tasks against a running Omnistock (local or deployed)."""
