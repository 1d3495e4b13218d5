"""Pub/Sub push endpoint: OIDC tokens signed by a local key, certs served from loopback."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt
from triage_sandbox.traffic import BUGS, entry

from bot.ingest.pull import Pipeline
from bot.ingest.push import CertCache, PushVerifier, handle_push
from bot.store.redis_store import RedisStore

AUD = "https://triage.example.com/pubsub/push"
SA = "pubsub-push@demo-prod.iam.gserviceaccount.com"


def _key_and_cert() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem_key, cert.public_bytes(serialization.Encoding.PEM).decode()


KEY, CERT = _key_and_cert()
OTHER_KEY, _ = _key_and_cert()


FETCHES: list[float] = []


@pytest.fixture(scope="module")
def certs_url() -> Iterator[str]:
    body = json.dumps({"kid1": CERT}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            FETCHES.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


def token(key: bytes = KEY, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": AUD,
        "email": SA,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        "sub": "1234",
    }
    kid = claims.pop("kid", "kid1")
    payload.update(claims)
    claims["kid"] = kid
    signer = crypt.RSASigner.from_string(key, str(claims.pop("kid", "kid1")))
    return jwt.encode(signer, payload).decode()


def envelope(data: bytes) -> bytes:
    msg = {"data": base64.b64encode(data).decode(), "messageId": "1", "attributes": {}}
    return json.dumps({"message": msg, "subscription": "projects/p/subscriptions/s"}).encode()


@pytest.fixture
def setup(certs_url: str, redis_client: redis.Redis, key_prefix: str):
    store = RedisStore(redis_client, key_prefix)
    verifier = PushVerifier(AUD, SA, CertCache(certs_url))
    return verifier, Pipeline(store), store


def _entry() -> bytes:
    import random

    return json.dumps(entry(BUGS[0], random.Random(3), time.time())).encode()


def test_valid_token_records_the_entry(setup) -> None:
    verifier, pipeline, store = setup
    status, _ = handle_push(verifier, pipeline, f"Bearer {token()}", envelope(_entry()))
    assert status == 204
    assert sum(store.r.zcard(store.keys.index(s)) for s in range(16)) == 1


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (None, 401),
        ("Basic abc", 401),
        ("Bearer not-a-jwt", 401),
        ("EXPIRED", 401),
        ("OTHER_KEY", 401),
        ("WRONG_AUD", 403),
        ("WRONG_SA", 403),
        ("UNVERIFIED", 403),
        ("WRONG_ISS", 401),
    ],
)
def test_refused_tokens_record_nothing(setup, auth: str | None, status: int) -> None:
    verifier, pipeline, store = setup
    now = int(time.time())
    header = {
        "EXPIRED": lambda: f"Bearer {token(iat=now - 7200, exp=now - 3600)}",
        "OTHER_KEY": lambda: f"Bearer {token(OTHER_KEY)}",
        "WRONG_AUD": lambda: f"Bearer {token(aud='https://elsewhere.example.com')}",
        "WRONG_SA": lambda: f"Bearer {token(email='attacker@evil.iam.gserviceaccount.com')}",
        "UNVERIFIED": lambda: f"Bearer {token(email_verified=False)}",
        "WRONG_ISS": lambda: f"Bearer {token(iss='https://evil.example.com')}",
    }.get(auth or "", lambda: auth)()
    got, _ = handle_push(verifier, pipeline, header, envelope(_entry()))
    assert got == status
    assert not list(store.r.scan_iter(match=f"{store.keys.prefix}:*"))


def test_bad_entry_is_dead_lettered_and_acked(setup) -> None:
    verifier, pipeline, store = setup
    status, _ = handle_push(verifier, pipeline, f"Bearer {token()}", envelope(b"\xff not json"))
    assert status == 204
    assert store.counters()["dead_lettered"] == 1


def test_not_an_envelope_is_400(setup) -> None:
    verifier, pipeline, _ = setup
    assert handle_push(verifier, pipeline, f"Bearer {token()}", b"{}")[0] == 400


def test_redis_down_is_503_so_pubsub_retries(certs_url: str) -> None:
    store = RedisStore.__new__(RedisStore)
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    store.__init__(dead, "x")  # type: ignore[misc]
    verifier = PushVerifier(AUD, SA, CertCache(certs_url))
    status, _ = handle_push(verifier, Pipeline(store), f"Bearer {token()}", envelope(_entry()))
    assert status == 503


def test_unknown_key_ids_do_not_refetch_the_certs_each_time(setup) -> None:
    """20 tokens naming a kid Google never issued: at most one refetch (rate-limited), and a
    valid push right after is answered without waiting on a fetch."""
    verifier, pipeline, _ = setup
    assert handle_push(verifier, pipeline, f"Bearer {token()}", envelope(_entry()))[0] == 204
    before = len(FETCHES)
    for i in range(20):
        bad = f"Bearer {token(kid=f'unknown-{i}')}"
        assert handle_push(verifier, pipeline, bad, envelope(_entry()))[0] == 401
    assert len(FETCHES) - before <= 1
    started = time.monotonic()
    assert handle_push(verifier, pipeline, f"Bearer {token()}", envelope(_entry()))[0] == 204
    assert time.monotonic() - started < 2


def test_a_valid_push_over_2_mb_is_never_a_400(
    certs_url: str, redis_url: str, key_prefix: str
) -> None:
    """Pub/Sub pushes messages up to 10 MB: one too big to be a LogEntry is dead-lettered and
    acked (204), through the real HTTP server (it used to cut the body at 2 MB and answer 400,
    which Pub/Sub retries forever)."""
    import urllib.request

    from triage_sandbox.running import running_bot
    from triage_sandbox.slack_standin import SlackStandIn

    with (
        SlackStandIn("push-signing-secret", "xoxb-push") as slack,
        running_bot(
            slack,
            redis_url,
            key_prefix,
            push_audience=AUD,
            push_service_account=SA,
            push_certs_url=certs_url,
        ) as (rt, url),
    ):
        big = json.dumps({"insertId": "big", "textPayload": "x" * (3 * 1024 * 1024)}).encode()
        req = urllib.request.Request(
            url.replace("/slack/events", "/pubsub/push"),
            data=envelope(big),
            headers={"Authorization": f"Bearer {token()}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 204
        assert rt.store.counters()["dead_lettered"] == 1
