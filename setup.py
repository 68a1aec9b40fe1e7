"""Builds obsvty's one C extension, ``obsvty._native`` (the OTLP decoder), with the machine's own
C compiler; everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "obsvty._native",
            sources=["src/obsvty/_native/module.c"],
            depends=[
                "src/obsvty/_native/columns.h",
                "src/obsvty/_native/wire.h",
                "src/obsvty/_native/typed_json.h",
                "src/obsvty/_native/shared.h",
                "src/obsvty/_native/traces.h",
                "src/obsvty/_native/metrics.h",
                "src/obsvty/_native/otlp_json.h",
                "src/obsvty/_native/logs.h",
                "src/obsvty/_native/span_keys.h",
            ],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror=vla"],
        )
    ]
)
