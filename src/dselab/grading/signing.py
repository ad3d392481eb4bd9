"""Signing: HMAC-SHA256 over a report's canonical JSON, so a gradebook can tell an edited report."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from dselab.grading.report import Report


def canonical(data: dict[str, Any]) -> bytes:
    payload = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def signature_of(data: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(data), hashlib.sha256).hexdigest()


def sign(report: Report, key: bytes) -> Report:
    report.signature = signature_of(report.to_dict(), key)
    return report
