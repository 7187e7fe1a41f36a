"""Omnistock: one stock ledger that arbitrates every sales channel.

Layout: ``ledger`` decides (rules and operations), ``store`` is the only code that talks to
DynamoDB, ``movements`` turns stream images into the movement log, ``runtime`` wires
configuration and clients for Lambda handlers.
"""
