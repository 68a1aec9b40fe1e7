"""Who gets in and what gets through: bearer tokens, TLS, rate limits and input limits.

Each module has one job; :mod:`.policy` builds them all from the settings for the composition root.
"""
