"""The webhook signature: HMAC-SHA256 over a timestamp and the body.

Header ``Parity-Signature: t=<unix seconds>,v1=<hex digest>`` where the digest is
``HMAC-SHA256(secret, "<t>." + body)``. A receiver recomputes it over the raw body, compares
in constant time, and rejects a timestamp further than its tolerance from its own clock
(a replayed old request); within the tolerance it recognises a repeat by the CloudEvent
``id`` (the notification id), which every retry of one notification keeps.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Parity-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A request whose signature does not prove it came from Parity, now."""


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: bytes,
    header: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check a ``Parity-Signature`` header; returns its timestamp or raises SignatureError."""
    if not header:
        raise SignatureError("no signature")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("no valid timestamp") from None
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError("timestamp outside the tolerance")
    expected = signature(secret, timestamp, body).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise SignatureError("signature mismatch")
    return timestamp
