"""Shadow mode from the command line (and for scripts): follow a channel's preview, print
what it would change, take the channel live and follow the push of its differences."""

from __future__ import annotations

import time
from typing import Any

import httpx


class NotReady(Exception):
    """The preview or the push did not finish in time."""


def latest_preview(api: httpx.Client, channel: str, timeout: float, start: bool = False) -> dict[str, Any]:
    """The channel's latest preview once it is done (started first when ``start``, or when
    there is none yet)."""
    if start:
        api.post(f"/channels/{channel}/preview").raise_for_status()
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/channels/{channel}/preview", params={"limit": 20}).raise_for_status().json()
        preview = body["preview"]
        if preview is None:
            api.post(f"/channels/{channel}/preview").raise_for_status()
        elif preview["state"] == "done":
            return dict(body)
        if time.monotonic() > deadline:
            raise NotReady(f"the preview of {channel!r} is still running")
        time.sleep(0.2)


def go_live(api: httpx.Client, channel: str, timeout: float = 120) -> dict[str, Any]:
    """Wait for the channel's preview, go live, and wait until its differences are pushed."""
    latest_preview(api, channel, timeout)
    job = api.post(f"/channels/{channel}/go-live").raise_for_status().json()
    deadline = time.monotonic() + timeout
    while job["state"] != "done":
        if time.monotonic() > deadline:
            raise NotReady(f"going live on {channel!r} is still pushing: follow /sync-now/{job['job_id']}")
        time.sleep(0.2)
        job = api.get(f"/sync-now/{job['job_id']}").raise_for_status().json()
    return dict(job)


def preview_lines(body: dict[str, Any]) -> list[str]:
    preview = body["preview"]
    reasons = ", ".join(f"{name} {count}" for name, count in sorted(preview["reasons"].items())) or "none"
    lines = [
        f"{preview['done']} SKUs read, {preview['differing']} would change ({reasons}); {preview['failed']} unread"
    ]
    for line in body["lines"]:
        shown = "-" if line["shown"] is None else line["shown"]
        would = "-" if line["would_set"] is None else line["would_set"]
        lines.append(f"  {line['sku']:<24} shows {shown:>6}  would be {would:>6}  {', '.join(line['reasons'])}")
    return lines
