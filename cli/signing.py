"""Sign admin API requests with AWS SigV4 (the deployed HTTP API uses an IAM authorizer)."""

from __future__ import annotations

from collections.abc import Generator

import httpx


class SigV4(httpx.Auth):
    requires_request_body = True

    def __init__(self, region: str | None) -> None:
        import boto3  # only the deployed path needs it

        session = boto3.Session(region_name=region)
        credentials = session.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials found for signing")
        self.credentials = credentials.get_frozen_credentials()
        self.region = session.region_name or "us-east-1"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        signed = AWSRequest(method=request.method, url=str(request.url), data=request.content)
        signed.headers["Content-Type"] = request.headers.get("Content-Type", "application/json")
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(signed)
        request.headers.update(dict(signed.headers))
        yield request
