# Backstory — the two commands of the README, and their parts.
#   make run    build the UI and the desktop app (the debug build the tests share), and start it
#   make test   everything CI checks: format, lints, UI tests, unit, property, process, durability
#               and end-to-end tests (two real app instances under Xvfb, driven by WebDriver)

CARGO_TARGET_DIR ?= $(HOME)/.cache/backstory/target
export CARGO_TARGET_DIR
PATH := $(HOME)/.cargo/bin:$(PATH)
export PATH

.PHONY: run build test setup ui ui-test fmt lint unit e2e soak node bindings deb

setup:
	@scripts/setup

ui: setup
	cd ui && npm run build

# The same build as `make test` (all targets, one feature set), so a run after the tests reuses it.
build: ui
	cargo build --workspace --all-targets --locked

run: build
	$(CARGO_TARGET_DIR)/debug/backstory-app

# A headless engine without windows (the CLI talks to it, or to a running app).
node: build
	$(CARGO_TARGET_DIR)/debug/backstory node

test: ui ui-test fmt lint unit

ui-test:
	cd ui && npm run check && npm test

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --workspace --all-targets --locked -- -D warnings

# The app tests open real windows: without a display, they run under a private Xvfb.
unit: build
	scripts/with-display cargo test --workspace --locked
	cargo test --locked --manifest-path vendor/samod-core/Cargo.toml --lib

# Regenerates ui/src/lib/bindings.ts from the Rust commands.
bindings:
	cargo test --workspace --locked --test bindings -- --ignored write_bindings

# The Debian package (target/release/bundle/deb/).
deb: ui
	ui/node_modules/.bin/tauri build --bundles deb

# The long durability soak: 1000 SIGKILLs (KILLS=n to change).
soak: setup
	cargo run --release --locked -p backstory-tests --bin soak -- $(or $(KILLS),1000)
