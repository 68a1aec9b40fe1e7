# obsvty — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
# one core for each of pytest's workers on a 2-core machine
PYTEST_WORKERS ?= 2

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# everything: obsvty and the development tools (tests, linters, browser, MongoDB test server);
# it holds what `run` needs, so it marks that up to date too
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@ $(VENV)/.synced-run

# only what `obsvty serve` needs (--inexact: development tools already installed stay)
$(VENV)/.synced-run: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --no-dev --inexact
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## create or update the local virtualenv from the lock file (with dev tools)

.PHONY: run
run: $(VENV)/.synced-run ## serve on the embedded DuckDB default (OTLP gRPC :4317, HTTP :4318)
	$(BIN)/obsvty serve

.PHONY: lint
lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: fmt
fmt: venv ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: typecheck
typecheck: venv ## mypy --strict on src/
	$(BIN)/mypy

.PHONY: pytest
# the receivers' end-to-end tests once more without the compiled decoder (the reference path)
REFERENCE_TESTS := tests/integration/test_official_examples.py \
	tests/integration/test_handbuilt_requests.py tests/integration/test_sdk_exporters.py \
	tests/integration/test_malformed_input.py

pytest: venv ## the test suite with coverage (fails under 90%), the ingest tests also without the C decoder
	OBSVTY_NO_EXTENSIONS=1 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q $(REFERENCE_TESTS) \
		--cov --cov-report= --cov-fail-under=0
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --cov --cov-append --cov-report=term --cov-report=xml

.PHONY: audit
audit: venv ## known vulnerabilities in the locked dependencies (says SKIPPED when it could audit none)
	$(UV) export --frozen --format requirements-txt --no-emit-project --all-groups -o $(VENV)/audit-requirements.txt -q
	@rm -f $(VENV)/audit.json
	@# its own verdict goes to the log ("No known vulnerabilities found" even when it audited
	@# nothing); the summary says how many dependencies were really audited
	$(BIN)/pip-audit --progress-spinner off --disable-pip --require-hashes -r $(VENV)/audit-requirements.txt \
		--format json --output $(VENV)/audit.json 2>$(VENV)/audit.log \
		|| test -s $(VENV)/audit.json || { cat $(VENV)/audit.log; exit 1; }
	$(BIN)/python .ci/audit_summary.py $(VENV)/audit.json

.PHONY: security
security: venv ## static security scan of src/ (bandit; exceptions justified in pyproject.toml)
	$(BIN)/bandit -c pyproject.toml -r src -q

FUZZ_SECONDS ?= 6
# more libFuzzer options, e.g. FUZZ_SECONDS=0 FUZZ_ARGS=-runs=1000000 (see docs/FUZZING.md)
FUZZ_ARGS ?=
FUZZ_QUIET := grep -Ev '^INFO: Instrumenting|^\#[0-9]+\s+(NEW|REDUCE|pulse)'
# the compiled decoder's targets (the table in fuzz/native.py) into $$targets, or fail
NATIVE_TARGETS := targets=$$($(BIN)/python -m fuzz.native --list 2>.fuzz/native-list.err) \
	|| { cat .fuzz/native-list.err; exit 1; }
.PHONY: fuzz
fuzz: venv ## fuzz the decoders with atheris (Python ones, then the compiled one against them), FUZZ_SECONDS each
	@mkdir -p .fuzz
	@set -o pipefail; for target in protobuf json gzip; do \
		echo "fuzz: $$target decoder, $(FUZZ_SECONDS)s"; \
		$(BIN)/python -m fuzz.decoders $$target -max_total_time=$(FUZZ_SECONDS) \
			-rss_limit_mb=2048 -artifact_prefix=.fuzz/ -print_final_stats=0 $(FUZZ_ARGS) 2>&1 \
			| $(FUZZ_QUIET) || exit 1; \
	done
	@set -o pipefail; $(NATIVE_TARGETS); for target in $$targets; do \
		echo "fuzz: $$target, $(FUZZ_SECONDS)s"; \
		$(BIN)/python -m fuzz.native $$target -max_total_time=$(FUZZ_SECONDS) \
			-rss_limit_mb=2048 -artifact_prefix=.fuzz/ -print_final_stats=0 $(FUZZ_ARGS) 2>&1 \
			| $(FUZZ_QUIET) || exit 1; \
	done

# the setuptools pinned in pyproject.toml, to run setup.py for the sanitized build
SETUPTOOLS := $(shell sed -n 's/^requires = \["\(setuptools[^"]*\)"\]/\1/p' pyproject.toml)
export FUZZ_ASAN_BUILD ?= .fuzz/asan-build
.PHONY: fuzz-asan
fuzz-asan: venv ## the compiled decoder's fuzz targets on an ASan+UBSan build (clang: C coverage too), FUZZ_SECONDS each
	@mkdir -p .fuzz
	fuzz/asan-build.sh $(UV) run --no-sync --with $(SETUPTOOLS) python
	@set -o pipefail; $(NATIVE_TARGETS); for target in $$targets; do \
		echo "fuzz-asan: $$target, $(FUZZ_SECONDS)s"; \
		LD_PRELOAD=$$(cat $(FUZZ_ASAN_BUILD)/preload) PYTHONMALLOC=malloc \
		ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		OBSVTY_FUZZ_EXTENSION_DIR=$(FUZZ_ASAN_BUILD) \
		$(BIN)/python -m fuzz.native $$target -max_total_time=$(FUZZ_SECONDS) \
			-rss_limit_mb=4096 -artifact_prefix=.fuzz/ -print_final_stats=0 $(FUZZ_ARGS) 2>&1 \
			| $(FUZZ_QUIET) || exit 1; \
	done

.PHONY: test
test: lint typecheck security pytest fuzz fuzz-asan audit ## the whole quality gate, as CI runs it

.PHONY: bench
bench: venv ## ingest benchmark against a fresh obsvty (BENCH_ARGS=--compare: vs the null sink)
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

.PHONY: bench-ui
bench-ui: venv ## browser benchmark: the trace view rendering a 1,000-span trace (needs chromium)
	$(BIN)/python -m bench.ui_render $(BENCH_ARGS)

.PHONY: bench-query
bench-query: venv ## query benchmark: trace search and loading on 1,000,000 stored spans
	$(BIN)/python -m bench.query --with-ingest $(BENCH_ARGS)

.PHONY: bench-query-http
bench-query-http: venv ## query benchmark over HTTP on a DuckDB file: make bench-query-http DB=FILE (docs/PERFORMANCE.md)
	@test -n "$(DB)" || { echo "bench-query-http: give the file, DB=FILE (how to make one: docs/PERFORMANCE.md)"; exit 2; }
	$(BIN)/python -m bench.query_http http --db $(DB) $(BENCH_ARGS)

.PHONY: soak
soak: venv ## soak benchmark: 10 min at half the max load, RSS/latency/throughput over time (not in CI)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

.PHONY: clean
clean: ## remove the virtualenvs and caches (keeps data/)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .coverage* coverage.xml
