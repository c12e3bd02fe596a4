# Backstory — the two commands of the README, and their parts.
#   make run    build and start a Backstory node (the engine) in the foreground
#   make test   everything CI checks: format, lints, unit, property, process and durability tests

CARGO_TARGET_DIR ?= $(HOME)/.cache/backstory/target
export CARGO_TARGET_DIR
BIN := $(CARGO_TARGET_DIR)/release/backstory

.PHONY: run test setup fmt lint unit soak

setup:
	@scripts/setup

run: setup
	cargo build --release -p backstory
	@echo "Starting a node; in another terminal: $(BIN) --help"
	$(BIN) node

test: setup fmt lint unit

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings

unit:
	cargo build --locked -p backstory --bin backstory
	cargo test --workspace --locked

# The long durability soak: 1000 SIGKILLs (KILLS=n to change).
soak: setup
	cargo run --release --locked -p backstory-tests --bin soak -- $(or $(KILLS),1000)
