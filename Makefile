# FaceGate. On a fresh Debian 12 machine with ../shared beside the checkout,
# the two commands are `make demo` and `make test`; both first set up what is
# missing (see docs/setup.md) and are fast when everything is present.

GO ?= go
# FUZZTIME is how long `make fuzz` runs each Fuzz target of FUZZPKGS.
FUZZTIME ?= 20s
FUZZPKGS ?= ./...

.PHONY: setup deps models faceapi test demo bench fuzz

# setup: Debian packages, the model directory ($$FACEGATE_MODELS, default
# ./models) and the npm packages of the conversion test. Idempotent: when all
# is present it only checks packages and model checksums.
setup: deps models faceapi

deps:
	scripts/deps.sh

models: deps
	scripts/models.sh

faceapi: deps
	scripts/faceapi.sh

# test: every test of the module under the race detector. Missing models or
# photos fail tests instead of skipping them (FACEGATE_REQUIRE_MODELS=1).
test: setup
	FACEGATE_REQUIRE_MODELS=1 $(GO) test -race -count=1 -timeout 60m ./...

demo: setup
	$(GO) run ./examples/facegate demo

# bench: the benchmark report (the lead wires its flags).
bench: setup
	$(GO) run ./bench

# fuzz: a short run of every Fuzz target (FUZZTIME each, default 20s); go
# test -fuzz takes one target at a time, so scripts/fuzz.sh loops over them.
# Targets that need models get them from setup. For a long run of one
# target: go test -run '^$$' -fuzz '^FuzzX$$' -fuzztime 10m ./pkg
fuzz: setup
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh $(FUZZPKGS)
