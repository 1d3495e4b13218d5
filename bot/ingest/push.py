"""Pub/Sub push mode: `/pubsub/push`, authenticated with the push subscription's OIDC token.

Pub/Sub signs a Google ID token for the subscription's service account with the configured
audience. We check signature (Google's certs), expiry, issuer, audience and the service account
email before anything is recorded. The response tells Pub/Sub what to do: 2xx acks, anything
else is redelivered (so a Redis error answers 503)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.auth import exceptions as gauth_exc
from google.auth import jwt

from bot.ingest.pull import Pipeline

log = logging.getLogger(__name__)

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("accounts.google.com", "https://accounts.google.com")


class PushAuthError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class CertCache:
    """Google's signing certificates (kid -> PEM), fetched at most every `ttl` seconds."""

    def __init__(self, url: str = GOOGLE_CERTS_URL, ttl: float = 3600.0) -> None:
        self.url, self.ttl = url, ttl
        self._certs: dict[str, str] = {}
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self, refresh: bool = False) -> dict[str, str]:
        with self._lock:
            if refresh or not self._certs or time.monotonic() - self._at > self.ttl:
                with urllib.request.urlopen(self.url, timeout=10) as resp:
                    self._certs = json.loads(resp.read())
                self._at = time.monotonic()
            return self._certs


@dataclass
class PushVerifier:
    audience: str
    service_account: str
    certs: CertCache
    clock: Callable[[], float] = time.time

    def verify(self, authorization: str | None) -> dict[str, Any]:
        if not authorization or not authorization.startswith("Bearer "):
            raise PushAuthError(401, "missing bearer token")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            claims = self._decode(token)
        except PushAuthError:
            raise
        except (gauth_exc.GoogleAuthError, ValueError) as exc:
            raise PushAuthError(401, f"invalid token: {exc}") from None
        if claims.get("iss") not in ISSUERS:
            raise PushAuthError(401, "token not issued by Google")
        if claims.get("aud") != self.audience:
            raise PushAuthError(403, "wrong audience")
        if claims.get("email") != self.service_account or not claims.get("email_verified"):
            raise PushAuthError(403, "wrong service account")
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.decode_header(token)
        except (ValueError, binascii.Error) as exc:
            raise PushAuthError(401, f"malformed token: {exc}") from None
        certs = self.certs.get()
        if header.get("kid") not in certs:
            certs = self.certs.get(refresh=True)  # Google rotates keys
        claims = jwt.decode(token, certs=certs, verify=True, audience=None)
        now = self.clock()
        if float(claims.get("exp", 0)) < now - 30:
            raise PushAuthError(401, "token expired")
        return dict(claims)


def handle_push(
    verifier: PushVerifier, pipeline: Pipeline, authorization: str | None, body: bytes
) -> tuple[int, str]:
    """Returns (HTTP status, reason). 204: recorded (or dead-lettered), acked."""
    try:
        verifier.verify(authorization)
    except PushAuthError as exc:
        log.warning("refused a push request: %s", exc.reason)
        return exc.status, exc.reason
    try:
        envelope = json.loads(body)
        data = base64.b64decode(envelope["message"]["data"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return 400, "not a Pub/Sub push envelope: expected {message: {data: base64}}"
    try:
        pipeline.process([data])
    except Exception:  # edge: Redis down -> not acked, Pub/Sub retries with backoff
        log.exception("push: could not record the entry; Pub/Sub will redeliver it")
        return 503, "not recorded, retry"
    return 204, "recorded"
