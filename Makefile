# The two commands: `make run` and `make test`. Each installs what is missing
# (Debian packages with apt-get, npm packages with npm ci, a build) first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian packages the platform and its tests use: speech engines, audio tools,
# the XMPP server for gateway tests, an SNPP server for pager tests, Chromium
# for the thin-client tests, PostgreSQL for the several-node store (its tests
# start a private server from these binaries).
OS_PACKAGES := ffmpeg sox libsox-fmt-all espeak-ng flite festival festvox-kallpc16k \
	prosody libnet-snpp-perl chromium postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAMPS := .make

.PHONY: help run test test-postgres bench build deps os-deps lint typecheck clean sim screenshots

help:
	@echo "make run    install what is missing, build, start the platform (SQLite, built-in simulator)"
	@echo "make test   install what is missing, lint, type-check and run the whole test suite"
	@echo "make bench  run the benchmarks; one table of figures beside same-run references (BENCH=\"calls ivr\" for some)"
	@echo "make test-postgres  the presence, notifier and web flow tests again on PostgreSQL"
	@echo "make sim    start only the softswitch simulator (ARI on PORT, default 8088)"
	@echo "make screenshots  photograph the chat, buddy list and operator view for the README (docs/)"

$(STAMPS):
	@mkdir -p $(STAMPS)

# Installs only the packages that are missing; a machine that has them all does nothing.
$(STAMPS)/os-deps: Makefile | $(STAMPS)
	@missing=$$(for p in $(OS_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

os-deps: $(STAMPS)/os-deps

# npm ci installs exactly the committed lock file and never rewrites it.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: os-deps node_modules/.package-lock.json

# The build: TypeScript to dist/, plus the files read at run time (and the test fixtures that run as
# their own processes, test/fixtures/platform-node.ts and notify-child.ts: built, they start in seconds,
# not tens of seconds).
dist/.built: node_modules/.package-lock.json tsconfig.json tsconfig.build.json test/fixtures/platform-node.ts \
		test/fixtures/notify-child.ts test/fixtures/notify-child-config.ts \
		$(shell find src scripts sounds test/bench -type f 2>/dev/null)
	rm -rf dist
	npx tsc -p tsconfig.build.json
	mkdir -p dist/src/store/sqlite && cp -r src/store/sqlite/migrations dist/src/store/sqlite/
	mkdir -p dist/src/store/postgres && cp -r src/store/postgres/migrations dist/src/store/postgres/
	mkdir -p dist/src/sim && cp -r src/sim/dev-phone dist/src/sim/
	@touch $@

build: dist/.built

lint: node_modules/.package-lock.json
	npx biome check

typecheck: node_modules/.package-lock.json
	npx tsc --noEmit -p tsconfig.json

# The demo listens on fixed ports (each can be changed from the environment), so
# the URLs and curl lines it prints stay the same from one start to the next.
run: deps build
	PHONEIM_DEMO=$${PHONEIM_DEMO:-true} \
	PHONEIM_SIM__ARI_PORT=$${PHONEIM_SIM__ARI_PORT:-8088} \
	PHONEIM_SIM__AMI_PORT=$${PHONEIM_SIM__AMI_PORT:-5038} \
	PHONEIM_SIM__CONTROL_PORT=$${PHONEIM_SIM__CONTROL_PORT:-8089} \
	node dist/src/main.js

test: deps build lint typecheck
	npx tap

# The presence, notifier and web flow tests again on PostgreSQL (a private
# server the tests start and stop), beside `make test`'s SQLite run: every
# file of those folders (a platform restarted on one data directory finds
# that directory's database again; see test/support/store-backend.ts).
test-postgres: deps build
	PHONEIM_TEST_STORE=postgres npx tap --disable-coverage $$(npx tap list test/presence test/notify test/web)

# Every benchmark (or only those named: make bench BENCH="calls ivr"), then one
# table of all their figures beside their same-run references and goals.
BENCH ?= $(patsubst test/bench/%.bench.ts,%,$(wildcard test/bench/*.bench.ts))
bench: deps build
	@r=$$(mktemp); \
	for b in $(BENCH); do echo "== $$b"; PHONEIM_BENCH_RESULTS=$$r node dist/test/bench/$$b.bench.js || { rm -f $$r; exit 1; }; done; \
	echo; node dist/test/bench/table.js $$r; rm -f $$r

# The README's screenshots of the thin client and the operator's view (docs/screenshot-*.png), by hand.
screenshots: deps build
	node dist/scripts/screenshots.js docs

# The softswitch simulator alone (ARI on PORT, default 8088), for any ARI client.
sim: deps build
	node dist/scripts/phonectl.js sim start --port $${PORT:-8088}

clean:
	rm -rf dist $(STAMPS) coverage .tap
