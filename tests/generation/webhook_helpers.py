"""Webhook test parts: a real HTTP(S) receiver on loopback, a database of the
test's own (so no other test's runner delivers its events), and small readers."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import select

from studio.db import migrate
from studio.db.session import Database
from studio.generation.webhooks.models import WebhookDelivery
from tests.conftest import PG_ADMIN_URL, unavailable


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A database made by `alembic upgrade head` for this test alone, dropped after."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'hooks-{secrets.token_hex(4)}.db'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"studio_hooks_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        unavailable(f"Postgres at {PG_ADMIN_URL}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> str:
        return self.headers["Studio-Event-Id"]

    @property
    def attempt(self) -> int:
        return int(self.headers["Studio-Delivery-Attempt"])

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class Receiver:
    """A webhook receiver on a loopback address: records every POST and every
    connection; answers `status`. `stall_next` makes it hold the next request
    (read in full, no answer) until `release` is set."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        status: int = 204,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.status = status
        self.received: list[Received] = []
        self.connections = 0
        self.server_names: list[str | None] = []  # TLS SNI seen
        self.stall_next = False
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers), body))
                    stall, receiver.stall_next = receiver.stall_next, False
                if stall:
                    receiver.stalled.set()
                    receiver.release.wait(60)
                    return  # no answer: the connection closes
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver._lock:
                    receiver.connections += 1
                return True

        self.server = Server((host, port), Handler)
        if tls is not None:
            tls.sni_callback = self._sni
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _sni(self, sock: Any, server_name: str | None, context: Any) -> None:
        self.server_names.append(server_name)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> Counter[str]:
        with self._lock:
            return Counter(r.event_id for r in self.received)


def deliveries(db: Database, workspace_id: int) -> list[WebhookDelivery]:
    with db.session_scope() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.workspace_id == workspace_id)
                .order_by(WebhookDelivery.id)
            )
        )


def make_tls_pair(host: str, folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA, a certificate for `host` signed by it; (server context, client context
    trusting only that CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Studio test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{host}.pem", folder / f"{host}.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client
