"""Bearer-token authentication: token sets, header parsing, constant-time comparison.

A token set is either empty (authentication off) or a fixed list of secrets. Presented tokens are
compared against every configured token with :func:`hmac.compare_digest`, without stopping at the
first match, so that neither the position nor a shared prefix of a valid token leaks through
timing. The caller learns the *index* of the matching token, which names the client (for rate
limits) without ever carrying the secret itself into logs or metrics.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

from pydantic import SecretStr

BEARER = "bearer"
REALM = "obsvty"


def _split(text: str) -> list[str]:
    tokens: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith("#"):
            tokens.extend(t.strip() for t in line.split(","))
    return [t for t in tokens if t]


class TokenSet:
    """The bearer tokens that grant one kind of access (ingest, or query)."""

    __slots__ = ("_tokens",)

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self._tokens = tuple(dict.fromkeys(t.encode() for t in tokens if t))

    @classmethod
    def from_sources(cls, value: SecretStr | None, file: Path | None) -> TokenSet:
        """Tokens from a comma-separated value and/or a file (one per line; `#` lines ignored)."""
        tokens = _split(value.get_secret_value()) if value is not None else []
        if file is not None:
            tokens.extend(_split(file.read_text(encoding="utf-8")))
        return cls(tokens)

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def __len__(self) -> int:
        return len(self._tokens)

    def __repr__(self) -> str:  # never the secrets
        return f"TokenSet(<{len(self._tokens)} token(s)>)"

    def match(self, presented: str | None) -> int | None:
        """Index of the configured token equal to ``presented``, or ``None``.

        Every configured token is compared, in constant time for its length."""
        if presented is None:
            return None
        candidate = presented.encode()
        found = None
        for index, token in enumerate(self._tokens):
            if hmac.compare_digest(candidate, token) and found is None:
                found = index
        return found


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != BEARER:
        return None
    token = token.strip()
    return token or None


def challenge(error: str | None) -> str:
    """The ``WWW-Authenticate`` value for a 401 (RFC 6750): ``invalid_token`` when a token was
    presented but is not valid, no error code when none was presented."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    return f'Bearer realm="{REALM}", error="{error}"'


def token_client(index: int) -> str:
    """The client name of the ``index``-th token: safe for logs, metrics and rate-limit keys."""
    return f"token#{index}"
