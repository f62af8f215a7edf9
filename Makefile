# xsbuild — what CI and engineers run.
#   make image SITE=rioja   build out/rioja/ (installs what it needs first)
#   make test               run every test, boot tests included
SITE ?= rioja
NODE ?= node
XSBUILD = $(NODE) dist/builder/cli.js

.PHONY: all image validate diff test depcheck deps-lock agent deps deps-test schemas bench bench-diff bench-updates bench-library bench-serve bench-fleet bench-hostile clean

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

# What a change does to a site's image: builds SITE at FROM (default: the newest tag
# before HEAD, else HEAD~1) and from this checkout, prints xsbuild diff (FORMAT=markdown
# for a pull-request comment, FORMAT=json). A difference is the answer, not a failure.
diff: deps
	@$(NODE) dist/tools/diff-commits.js --site $(SITE) $(if $(FROM),--from $(FROM)) $(if $(FORMAT),--format $(FORMAT)) || [ $$? -eq 1 ]

agent: deps
	$(NODE) dist/agent/build.js

schemas: deps
	$(XSBUILD) schema --out schemas

# Every test; closes with "tests: N passed, N failed, N skipped" and lists each skip.
# Under CI=true a skip (a missing tool, package or permission) is a failure.
test: deps-test depcheck
	$(NODE) --test --test-concurrency=1 \
	  --test-reporter=spec --test-reporter-destination=stdout \
	  --test-reporter=./dist/tools/test-summary.js --test-reporter-destination=stdout \
	  $$(find dist/test -name "*.test.js" | sort)

# Every program and system path the code, tests and benchmarks use comes from a package
# a .ci/apt-*.txt list installs (and is here once they are installed).
depcheck: deps-test
	$(NODE) dist/tools/depcheck/main.js --installed

# Re-resolve those dependencies with dpkg -S and rewrite .ci/host-deps.txt (commit it).
deps-lock: deps
	$(NODE) dist/tools/depcheck/main.js --update

# Benchmarks print their figures; they are not part of `make test`.
bench: deps-test
	$(NODE) dist/bench/build.js $(SITE)

bench-diff: deps-test
	$(NODE) dist/bench/diff.js

bench-updates: deps-test
	$(NODE) dist/bench/updates.js

# Publish and pull of a 2 GiB library against casync make/extract (GIB=0.25 for a quick run).
bench-library: deps-test
	$(NODE) dist/bench/library.js $(if $(GIB),--gib $(GIB))

bench-serve: deps-test
	$(NODE) dist/bench/serve.js

# The agent against hostile and slow servers on 127.0.0.1: peak RSS under an endless
# stream, a 1 MiB release over 2 KB/s, a 1 B/s drip, the pull lock over 200 trials.
bench-hostile: deps-test
	$(NODE) dist/bench/hostile.js

# 5,000 simulated school servers against `xsbuild fleet serve` (PGlite and PostgreSQL).
bench-fleet: deps-test
	$(NODE) dist/bench/fleet.js

clean:
	rm -rf dist out
