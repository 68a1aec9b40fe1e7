"""Parsing and checks of setting values (durations, sizes, endpoints), and the settings error."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from obsvty.domain.duration import NS_PER_S, parse_duration_ns

_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$")
_SIZE_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_duration(text: str) -> timedelta | None:
    """``72h``, ``7d``, ``90m``, ``1h30m``, ``2w`` or plain seconds (the one duration grammar,
    :func:`~obsvty.domain.duration.parse_duration_ns`); empty or ``0``/``off``: none."""
    if text.strip().lower() in ("", "0", "off", "none"):
        return None
    try:
        nanoseconds = parse_duration_ns(text, unitless_ns=NS_PER_S, spaced=True)
    except ValueError:
        raise ValueError("use a number with a unit: s, m, h, d or w (e.g. 72h)") from None
    return timedelta(microseconds=nanoseconds / 1000)


def parse_size(text: str) -> int | None:
    """``10GB``, ``512MiB``, ``1.5G`` or plain bytes (KB/MB/GB: powers of 1000, KiB/MiB/GiB:
    of 1024); empty or ``0``/``off``: none."""
    if text.strip().lower() in ("", "0", "off", "none"):
        return None
    m = _SIZE.match(text)
    if m is None:
        raise ValueError("use a number with a unit such as 10GB or 512MiB")
    unit = m.group(2).lower()
    base = 1024 if "i" in unit else 1000
    power = "kmgt".find(unit[:1]) + 1 if unit[:1] in "kmgt" and unit else 0
    return int(float(m.group(1)) * base**power)


DEFAULT_OTLP_GRPC_PORT = 4317


def endpoint_address(endpoint: str) -> tuple[str, int]:
    """Host and port of an OTLP endpoint (``http://host:port``, ``host:port``, ``[::1]:4317``);
    the port is 4317 when not given."""
    text = endpoint.strip()
    parsed = urlsplit(text if "://" in text else f"//{text}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    return (parsed.hostname or "").lower(), port or DEFAULT_OTLP_GRPC_PORT


def is_local_host(host: str, bind_hosts: Iterable[str] = ()) -> bool:
    """Whether ``host`` names this machine: a loopback or unspecified address, ``localhost``,
    this host's name, an address a receiver binds, or an address of one of its interfaces
    (one it can bind a socket to). Host names are not resolved (no DNS at start-up)."""
    host = host.strip("[]").lower()
    if host in ("localhost", "ip6-localhost", socket.gethostname().lower()):
        return True
    if host in {h.strip("[]").lower() for h in bind_hosts}:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))  # only an address of this machine can be bound
    except OSError:
        return False
    return True


def own_receiver(endpoint: str, receivers: Mapping[int, str]) -> bool:
    """Whether ``endpoint`` reaches one of this process's receivers (``port -> bind host``;
    port 0, any free port, matches nothing)."""
    host, port = endpoint_address(endpoint)
    bind_host = receivers.get(port) if port else None
    if bind_host is None:
        return False
    return is_local_host(host, [bind_host])


class SettingsError(ValueError):
    """A setting is invalid; ``str()`` is one line naming it."""
