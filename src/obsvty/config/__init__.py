"""obsvty's settings: read and checked in one flat model (:class:`Settings`, one place for every
environment variable), handed out to the components in groups (``settings.duckdb()``,
``settings.security()``, ...).

- ``fields``: the variables and their validation
- ``settings``: :class:`Settings`, the groups
- ``values``: parsing of durations, sizes and endpoints
- ``environment``: :func:`load_settings` and the warnings about unknown variables
"""

from obsvty.config.environment import NOT_SETTINGS, load_settings, variable_warnings
from obsvty.config.fields import MIN_DUCKDB_MEMORY_LIMIT, PREFIX, MiB, SettingsFields
from obsvty.config.settings import Settings, store_dead_letter_dir
from obsvty.config.values import (
    SettingsError,
    endpoint_address,
    is_local_host,
    own_receiver,
    parse_duration,
    parse_size,
)

__all__ = [
    "MIN_DUCKDB_MEMORY_LIMIT",
    "NOT_SETTINGS",
    "PREFIX",
    "MiB",
    "Settings",
    "SettingsError",
    "SettingsFields",
    "endpoint_address",
    "is_local_host",
    "load_settings",
    "own_receiver",
    "parse_duration",
    "parse_size",
    "store_dead_letter_dir",
    "variable_warnings",
]
