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

import google.auth.transport
from google.auth import exceptions as gauth_exc
from google.auth import jwt
from google.oauth2 import id_token

from bot.ingest.pull import Pipeline

log = logging.getLogger(__name__)

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("accounts.google.com", "https://accounts.google.com")


class PushAuthError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class _Response:
    """google.auth.transport.Response of a cached fetch."""

    def __init__(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.status, self.headers, self.data = status, headers, data


class CertCache(google.auth.transport.Request):
    """The transport google-auth's `id_token.verify_token` fetches Google's certificates with,
    caching them for `ttl` seconds. A token naming a key id the cache lacks may trigger one
    refetch (Google rotates its keys), at most every `refetch_s` seconds: 20 forged tokens with
    unknown kids used to mean 20 fetches under a lock, stalling valid pushes for seconds."""

    def __init__(
        self, url: str = GOOGLE_CERTS_URL, ttl: float = 3600.0, refetch_s: float = 60.0
    ) -> None:
        self.url, self.ttl, self.refetch_s = url, ttl, refetch_s
        self._data: bytes | None = None
        self._at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> _Response:
        if url != self.url or method != "GET":
            raise gauth_exc.TransportError(f"unexpected request to {url}")
        with self._lock:
            if self._data is None or time.monotonic() - self._at > self.ttl:
                self._fetch()
            assert self._data is not None
            return _Response(200, {"content-type": "application/json"}, self._data)

    def _fetch(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=10) as resp:
                data = resp.read(1024 * 1024)
        except OSError as exc:
            raise gauth_exc.TransportError(f"cannot fetch Google's certificates: {exc}") from None
        self.fetches += 1
        self._data, self._at = data, time.monotonic()

    def knows(self, kid: object) -> bool:
        with self._lock:
            if self._data is None:
                return True  # nothing cached yet: the first verification fetches anyway
            try:
                return kid in json.loads(self._data)
            except ValueError:
                return False

    def refetch_if_allowed(self) -> None:
        """Expire the cache when the last fetch is older than refetch_s (a key rotation)."""
        with self._lock:
            if time.monotonic() - self._at > self.refetch_s:
                self._at = float("-inf")


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
            raise PushAuthError(401, f"invalid token: {str(exc)[:200]}") from None
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
        if not self.certs.knows(header.get("kid")):
            self.certs.refetch_if_allowed()
        # google-auth checks the signature, iat and exp (30 s of clock skew); audience,
        # issuer and service account are checked by verify() to answer 403 where it fits.
        claims = id_token.verify_token(
            token, self.certs, audience=None, certs_url=self.certs.url, clock_skew_in_seconds=30
        )
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
