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

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## create or update the local virtualenv from the lock file

.PHONY: run
run: venv ## serve on the embedded DuckDB default (OTLP gRPC :4317, HTTP :4318)
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
pytest: venv ## the test suite with coverage (fails under 90%)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --cov --cov-report=term --cov-report=xml

.PHONY: audit
audit: venv ## known vulnerabilities in the locked dependencies
	$(UV) export --frozen --format requirements-txt --no-emit-project --all-groups -o $(VENV)/audit-requirements.txt -q
	$(BIN)/pip-audit --progress-spinner off --disable-pip --require-hashes -r $(VENV)/audit-requirements.txt

.PHONY: security
security: venv ## static security scan of src/ (bandit; exceptions justified in pyproject.toml)
	$(BIN)/bandit -c pyproject.toml -r src -q

FUZZ_SECONDS ?= 6
.PHONY: fuzz
fuzz: venv ## fuzz the protobuf, JSON and gzip decoders with atheris, FUZZ_SECONDS each
	@mkdir -p .fuzz
	@set -o pipefail; for target in protobuf json gzip; do \
		echo "fuzz: $$target decoder, $(FUZZ_SECONDS)s"; \
		$(BIN)/python -m fuzz.decoders $$target -max_total_time=$(FUZZ_SECONDS) \
			-rss_limit_mb=2048 -artifact_prefix=.fuzz/ -print_final_stats=0 2>&1 \
			| grep -Ev '^INFO: Instrumenting|^#[0-9]+\s+(NEW|REDUCE|pulse)' || exit 1; \
	done

# the compiled decoders, built with AddressSanitizer + UndefinedBehaviorSanitizer (clang only)
FUZZ_RUNS ?= 100000
CLANG ?= $(firstword $(shell command -v clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14 2>/dev/null))
NATIVE_FUZZ := .fuzz/native
.PHONY: fuzz-native
fuzz-native: venv ## fuzz each compiled decoder built with ASan+UBSan (needs clang), FUZZ_RUNS inputs each
	@test -n "$(CLANG)" || { echo "fuzz-native needs clang (libFuzzer's coverage counters)"; exit 1; }
	@mkdir -p $(NATIVE_FUZZ)
	$(CLANG) -O1 -g -std=c11 -Wall -Wextra -fsanitize=address,undefined,fuzzer-no-link \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer -fPIC -shared \
		-I"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
		src/obsvty/_native/module.c -o $(NATIVE_FUZZ)/_native.so
	@set -o pipefail; for decoder in $$($(BIN)/python -m fuzz.native --list); do \
		echo "fuzz-native: $$decoder, $(FUZZ_RUNS) inputs"; \
		ASAN_OPTIONS=detect_leaks=0 OBSVTY_NATIVE_PATH=$(NATIVE_FUZZ)/_native.so \
		LD_PRELOAD="$$($(BIN)/python -c 'import atheris; print(atheris.path())')/asan_with_fuzzer.so" \
		$(BIN)/python -m fuzz.native $$decoder -runs=$(FUZZ_RUNS) -rss_limit_mb=4096 \
			-artifact_prefix=$(NATIVE_FUZZ)/ -print_final_stats=1 2>&1 \
			| grep -E '^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)|runtime error' || exit 1; \
	done

.PHONY: test
test: lint typecheck security pytest fuzz audit ## the whole quality gate, as CI runs it

.PHONY: bench
bench: venv ## ingest benchmark against a fresh obsvty (BENCH_ARGS=--compare: vs the null sink)
	$(BIN)/python -m bench.ingest $(BENCH_ARGS)

.PHONY: bench-ui
bench-ui: venv ## browser benchmark: the trace view rendering a 1,000-span trace (needs chromium)
	$(BIN)/python -m bench.ui_render $(BENCH_ARGS)

.PHONY: bench-query
bench-query: venv ## query benchmark: trace search and loading on 1,000,000 stored spans
	$(BIN)/python -m bench.query --with-ingest $(BENCH_ARGS)

.PHONY: soak
soak: venv ## soak benchmark: 10 min at half the max load, RSS/latency/throughput over time (not in CI)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

.PHONY: clean
clean: ## remove the virtualenvs and caches (keeps data/)
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .coverage* coverage.xml
