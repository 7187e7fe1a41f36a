"""Benchmarks that print counts (DynamoDB calls, oversells), which do not depend on the machine."""
