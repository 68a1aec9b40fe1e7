"""TLS for the listeners: one certificate and key for all of them, optionally a client CA that
makes TLS mutual (clients must present a certificate it signed)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None

    @property
    def mutual(self) -> bool:
        return self.client_ca_file is not None

    def grpc_credentials(self) -> grpc.ServerCredentials:
        ca = self.client_ca_file.read_bytes() if self.client_ca_file is not None else None
        return grpc.ssl_server_credentials(
            [(self.key_file.read_bytes(), self.cert_file.read_bytes())],
            root_certificates=ca,
            require_client_auth=ca is not None,
        )

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments for ``uvicorn.Config``."""
        options: dict[str, Any] = {
            "ssl_certfile": str(self.cert_file),
            "ssl_keyfile": str(self.key_file),
        }
        if self.client_ca_file is not None:
            options["ssl_ca_certs"] = str(self.client_ca_file)
            options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        return options


def add_port(server: grpc.aio.Server, address: str, tls: TlsFiles | None) -> int:
    """Bind ``server`` to ``address``, over TLS when ``tls`` is given; returns the bound port."""
    if tls is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, tls.grpc_credentials())
