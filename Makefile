# xsbuild — what CI and engineers run.
#   make image SITE=rioja   build out/rioja/ (installs what it needs first)
#   make test               run every test, boot tests included
SITE ?= rioja
NODE ?= node
XSBUILD = $(NODE) dist/builder/cli.js

.PHONY: all image validate test agent deps deps-test schemas bench bench-diff bench-updates bench-serve bench-fleet clean

all: image

# System packages (Debian) and npm dependencies, then compile the TypeScript.
deps: node_modules/.installed
	@tools/install-deps.sh .ci/apt-build.txt
	@npx --no-install tsc -p .

deps-test: deps
	@tools/install-deps.sh .ci/apt-*.txt

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

image: deps
	$(XSBUILD) build $(SITE)

validate: deps
	$(XSBUILD) validate $(SITE)

agent: deps
	$(NODE) dist/agent/build.js

schemas: deps
	$(XSBUILD) schema --out schemas

test: deps-test
	$(NODE) --test --test-concurrency=1 $$(find dist/test -name "*.test.js" | sort)

# Benchmarks print their figures; they are not part of `make test`.
bench: deps-test
	$(NODE) dist/bench/build.js $(SITE)

bench-diff: deps-test
	$(NODE) dist/bench/diff.js

bench-updates: deps-test
	$(NODE) dist/bench/updates.js

bench-serve: deps-test
	$(NODE) dist/bench/serve.js

# 5,000 simulated school servers against `xsbuild fleet serve` (PGlite and PostgreSQL).
bench-fleet: deps-test
	$(NODE) dist/bench/fleet.js

clean:
	rm -rf dist out
