# shardsim: see README.md. Every target works from a fresh clone with only Go.

GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test bench lint fuzz

all: lint test

build:
	$(GO) build -o bin/simrun ./cmd/simrun

# The main job: replay the relabel trace against both reducers.
run:
	$(GO) run ./cmd/simrun --trace traces/relabel.json

# The README's test command. It includes the conformance module (real
# kube-state-metrics code), run by model's TestKSMConformance.
test:
	$(GO) test ./...

# Every figure in BENCHMARKS.md; compare runs with benchstat.
bench:
	$(GO) test ./sim ./properties ./clientgo -run '^$$' -bench . -benchmem -count 6
	$(GO) test ./checker -run '^$$' -bench . -benchtime 1x -count 3

fuzz:
	$(GO) test ./sim -run '^$$' -fuzz FuzzParseTrace -fuzztime 60s

lint:
	test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
