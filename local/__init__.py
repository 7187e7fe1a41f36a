"""Run template.yaml on this machine without Docker or an AWS account.

``python -m local`` serves the HTTP API routes, runs the schedules on timers and feeds the
DynamoDB stream to its consumers, against a serialized moto server; each function's
execution environments are worker processes (``local.worker``). See
``local.stack.LocalStack`` to run it from Python and ``local.template`` to build tables
from the template.
"""
