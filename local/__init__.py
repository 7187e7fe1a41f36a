"""Run template.yaml on this machine without Docker or an AWS account.

``python -m local`` serves the HTTP API routes, runs the schedules on timers and feeds the
DynamoDB stream to its consumers, all in-process against a serialized moto server. See
``local.stack.LocalStack`` to run it from Python and ``local.template`` to build tables
from the template.
"""
