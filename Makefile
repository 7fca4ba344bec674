# FaceGate. On a fresh Debian 12 machine with ../shared beside the checkout,
# the two commands are `make demo` and `make test`; both first set up what is
# missing (see docs/setup.md) and are fast when everything is present.

GO ?= go
# FUZZTIME is how long `make fuzz` runs each Fuzz target of FUZZPKGS.
FUZZTIME ?= 20s
FUZZPKGS ?= ./...

.PHONY: setup deps models faceapi test purego demo bench fuzz

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

# test: every test of the module under the race detector, then the TFLite
# conversion tests, which skip themselves under -race (their pure-Go
# reference interpreter is single-threaded and minutes per input there).
# Missing models or photos fail tests instead of skipping them
# (FACEGATE_REQUIRE_MODELS=1).
test: setup purego
	FACEGATE_REQUIRE_MODELS=1 $(GO) test -race -count=1 -timeout 60m ./...
	FACEGATE_REQUIRE_MODELS=1 $(GO) test -count=1 -timeout 20m -run '^(TestTFLiteConversion|TestAntiSpoofConversion)$$' ./facematch/arcface

# PURE lists the packages that must build without cgo, for any GOARCH: all of
# the library but the three backends that wrap dlib and OpenCV.
PURE = ./facematch ./facematch/gallery ./facematch/quality ./facematch/liveness/... ./template \
	./internal/seal ./store ./gate/... ./compound ./bench/metrics ./internal/faceset ./internal/onnx/... \
	./internal/tflite/... ./internal/tfliteref ./internal/modelfile ./tools/tfjs2onnx ./tools/tflite2onnx ./tools/structure

# purego: the pure packages cross-compile (arm64 gate boards) and the matching
# engine passes its tests on the portable kernels alone.
purego:
	CGO_ENABLED=0 GOARCH=arm64 $(GO) vet $(PURE)
	CGO_ENABLED=0 $(GO) test -count=1 -tags purego -short ./facematch ./facematch/gallery

demo: setup
	$(GO) run ./examples/facegate demo

# BENCH_MODEL is the backend of the open-set 1:N runs and of the LFW
# accuracy run: the all-ONNX pipeline of issue 13.
BENCH_MODEL ?= faceplugin+fr_feature

# bench: the benchmark reports (Markdown, PNG plots, JSON) into out/. LFW
# crops often hold background faces, so its runs take each photo's largest.
bench: setup
	$(GO) run ./bench accuracy --set ../shared/testdata/faces --groups ../shared/testdata/faces/GROUPS.tsv --out out/bench-accuracy
	$(GO) run ./bench accuracy --set ../shared/testdata/lfw --groups ../shared/testdata/lfw/GROUPS.tsv --model $(BENCH_MODEL) --largest --out out/bench-accuracy-lfw
	$(GO) run ./bench identify --set ../shared/testdata/faces --groups ../shared/testdata/faces/GROUPS.tsv --model $(BENCH_MODEL) --out out/bench-identify-faces
	$(GO) run ./bench identify --set ../shared/testdata/lfw --groups ../shared/testdata/lfw/GROUPS.tsv --model $(BENCH_MODEL) --largest --out out/bench-identify-lfw
	$(GO) run ./bench accuracy --descriptors ../shared/testdata/dlib-reference/idols.json --label east-asian --out out/bench-reference
	$(GO) run ./bench speed --out out/bench-speed
	$(GO) run ./bench pad --set ../shared/testdata/pad --bonafide ../shared/testdata/faces,../shared/testdata/lfw --net fr_liveness,human-antispoof,human-liveness --out out/bench-pad --scores out/bench-pad-scores.tsv
	$(GO) run ./bench pad --set ../shared/testdata/pad --bonafide ../shared/testdata/faces,../shared/testdata/lfw --net expo-faceantispoofing --out out/bench-pad-expo
	$(GO) run ./bench eyes --dirs ../shared/testdata/faces,../shared/testdata/lfw,../shared/testdata/pad/bonafide --labels bench/testdata/eye-labels.tsv --out out/bench-eyes
	$(GO) test -run '^$$' -bench BenchmarkCheckCost -benchtime 20x -count 3 ./facematch/probe | tee out/bench-pad-cost.txt

# fuzz: a short run of every Fuzz target (FUZZTIME each, default 20s); go
# test -fuzz takes one target at a time, so scripts/fuzz.sh loops over them.
# Targets that need models get them from setup. For a long run of one
# target: go test -run '^$$' -fuzz '^FuzzX$$' -fuzztime 10m ./pkg
fuzz: setup
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh $(FUZZPKGS)
