# trailwatch — build, run locally, test, lint.
#
#   make invoke      run one event through the function on the Lambda runtime emulator + local AWS
#   make test        every test: Rust unit/in-process tests, then end-to-end on the emulator + moto
#
# Python tools (moto, aws-sam-cli with the Runtime Interface Emulator, cfn-lint, pytest) go into
# a project-local virtualenv, .venv/, from the pinned requirements-dev.txt; checkov into
# .venv-checkov/ from requirements-checkov.txt.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV        := .venv
PYTHON      := $(VENV)/bin/python
VENV_STAMP  := $(VENV)/.installed-$(shell cksum < requirements-dev.txt | cut -d' ' -f1)
# checkov's pins conflict with aws-sam-cli's, so it has a virtualenv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cksum < requirements-checkov.txt | cut -d' ' -f1)
# Cargo's own setting, when a developer keeps build output elsewhere; the harness reads it too.
TARGET_DIR  := $(or $(CARGO_TARGET_DIR),target)
BINARY      := $(TARGET_DIR)/release/bootstrap
EVENT       ?= events/stop-logging.json
RUST_INPUTS := Cargo.toml Cargo.lock $(shell find src -name '*.rs' 2>/dev/null)

# Local tools never need, and must never use, a real AWS account or telemetry.
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help venv build invoke preview test test-rust test-e2e lint lint-rust lint-template bench fuzz deploy self-test clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: $(VENV_STAMP) ## install the pinned Python tools into .venv/ (once; checkov is installed by `make lint` alone)

$(VENV_STAMP): requirements-dev.txt
	@echo "==> installing the pinned Python tools into $(VENV)/ (first time: 1-3 minutes)"
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@echo "==> installing the pinned checkov into $(CHECKOV_VENV)/ (first time: about a minute)"
	@test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $@

build: $(BINARY) ## build the release binary target/release/bootstrap

$(BINARY): $(RUST_INPUTS)
	@echo "==> building the release binary (first build: about 5 minutes on 2 cores)"
	cargo build --release --locked
	@touch $@

invoke: venv build ## run EVENT (default events/stop-logging.json) on the Lambda runtime emulator against local AWS
	@$(PYTHON) tests/e2e/invoke.py $(EVENT)

preview: build ## render EVENT's alert without AWS (no lookups, nothing published)
	@$(BINARY) --preview $(EVENT)

test: test-rust test-e2e ## run every test

test-rust: ## unit and in-process tests (fakes at the SDK layer)
	cargo test --locked

test-e2e: venv $(CHECKOV_STAMP) build ## the release binary on the emulator against moto, and the template checks
	cd tests/e2e && ../../$(PYTHON) -m pytest -p no:cacheprovider -q

lint: lint-rust lint-template ## cargo fmt --check, clippy -D warnings, cfn-lint, sam validate --lint, checkov

lint-rust:
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings

lint-template: venv $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

# `make bench` measures the Rust function against a Python reference (bench/reference/), which
# runs under awslambdaric from a virtualenv of its own (wheels only: nothing is compiled).
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-$(shell cksum < requirements-bench.txt | cut -d' ' -f1)

bench: venv build $(BENCH_STAMP) ## criterion benchmarks, then Rust vs a Python reference on the emulator + moto (bench/results.md)
	cargo bench --bench pipeline
	$(PYTHON) bench/run.py

$(BENCH_STAMP): requirements-bench.txt
	@echo "==> installing the pinned Python reference's runtime (boto3, awslambdaric) into $(BENCH_VENV)/ (about 15 s)"
	@test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --only-binary :all: -r requirements-bench.txt
	@rm -f $(BENCH_VENV)/.installed-*
	@touch $@

SECONDS ?= 60
fuzz: ## fuzz the pure pipeline for SECONDS (default 60); installs nightly and cargo-fuzz on first use
	@rustup toolchain list | grep -q '^nightly' || { echo "==> installing the nightly toolchain (about a minute)"; rustup toolchain install nightly --profile minimal; }
	@command -v cargo-fuzz >/dev/null || { echo "==> installing cargo-fuzz from crates.io (a few minutes)"; cargo install cargo-fuzz --locked; }
	@mkdir -p fuzz/corpus/pipeline
	@cp events/*.json fuzz/corpus/pipeline/
	@if [ -d tests/hostile ]; then cp tests/hostile/*.json fuzz/corpus/pipeline/ 2>/dev/null || true; fi
	@echo "==> fuzzing for $(SECONDS) s (first build of the target: several minutes)"
	cd fuzz && cargo +nightly fuzz run pipeline corpus/pipeline -- -max_total_time=$(SECONDS) -max_len=300000 -print_final_stats=1

deploy: venv ## sam build + sam deploy --guided (needs AWS credentials and cargo-lambda)
	@command -v cargo-lambda >/dev/null || { echo "sam build needs cargo-lambda: pip install cargo-lambda (see README, Deploy)"; exit 1; }
	$(VENV)/bin/sam build
	$(VENV)/bin/sam deploy --guided --config-file samconfig.toml

# Against your own account, after `sam deploy`; no test runs it. Without REGION, the region of
# your AWS configuration, not the us-east-1 this Makefile gives the local tools.
self-test: venv ## after deploying: prove each alert path delivers, in your account (STACK=name [REGION=...])
	@test -n "$(STACK)" || { echo "usage: make self-test STACK=<stack name> [REGION=<region>]"; exit 2; }
	$(if $(filter file,$(origin AWS_DEFAULT_REGION)),env -u AWS_DEFAULT_REGION) $(PYTHON) scripts/self_test.py --stack '$(STACK)' $(if $(REGION),--region '$(REGION)')

clean: ## remove build outputs (keeps .venv/)
	cargo clean
	rm -rf .aws-sam
