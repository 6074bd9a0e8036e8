# shardsim: see README.md. Every target works from a fresh clone with only Go.

GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build run test test-short bench lint fuzz

all: lint test

build:
	$(GO) build -o bin/simrun ./cmd/simrun

# The main job: replay the relabel trace against both reducers. simrun
# exits 1 when a property is violated, and here the label-selector reducer
# (KSM <= v2.12.0) must be: that exit status is the expected verdict, so the
# target succeeds on 1 and fails on anything else (0: the bug is no longer
# shown; 2 or 3: an error). The binary is built first because `go run`
# turns every non-zero exit status into 1.
run: build
	@bin/simrun --trace traces/relabel.json; status=$$?; \
	if [ $$status -eq 1 ]; then \
		echo; echo "make run: exit status 1 is the expected verdict: the label-selector reducer (KSM <= v2.12.0) is violated, the field-selector reducer (KSM >= v2.13.0) holds."; \
	else \
		echo; echo "make run: exit status $$status, want 1 (the relabel bug shown)" >&2; exit 1; \
	fi

# The README's test command. It includes the conformance module (KSM's own
# pkg/sharding, v2.13.0), run by model's TestKSMConformance, and the ksm
# backend's agreement with real KSM v2.12.0 and v2.13.0 (built on first use,
# about two minutes each cold). test-short skips the real-KSM suites.
test:
	$(GO) test ./...

test-short:
	$(GO) test -short ./...

# Every figure in BENCHMARKS.md; compare runs with benchstat.
bench:
	$(GO) test ./sim ./properties ./clientgo -run '^$$' -bench . -benchmem -count 6
	$(GO) test ./checker -run '^$$' -bench . -benchtime 1x -count 3

fuzz:
	$(GO) test ./sim -run '^$$' -fuzz FuzzParseTrace -fuzztime 60s
	$(GO) test ./importer -run '^$$' -fuzz FuzzImport -fuzztime 60s -fuzzminimizetime 100x

lint:
	test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...
	cd ksm/host && GOTOOLCHAIN=local GOFLAGS=-mod=readonly $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
