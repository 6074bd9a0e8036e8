package main

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/shardsim/shardsim/internal/golden"
)

const relabelTrace = "../../traces/relabel.json"

// runSimrun runs the CLI in-process and returns its exit status, stdout and
// stderr.
func runSimrun(t *testing.T, args ...string) (int, []byte, []byte) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.Bytes(), stderr.Bytes()
}

// TestGolden compares the text and JSON reports of traces/relabel.json
// with testdata/relabel.txt and testdata/relabel.json. Both reducers run,
// the label selector is violated, so the exit status is 1.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{golden: "relabel.txt", args: []string{"--trace", relabelTrace}},
		{golden: "relabel.json", args: []string{"--trace", relabelTrace, "--format", "json"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := runSimrun(t, tc.args...)
			if code != exitViolated {
				t.Errorf("exit status %d, want %d (label-selector is violated); stderr:\n%s", code, exitViolated, errOut)
			}
			if len(errOut) != 0 {
				t.Errorf("unexpected stderr:\n%s", errOut)
			}
			golden.Check(t, filepath.Join("testdata", tc.golden), out, "go test ./cmd/simrun -run TestGolden")
		})
	}
}

// TestExitStatusFieldSelector: the field selector alone holds on the
// relabel trace, so simrun exits 0.
func TestExitStatusFieldSelector(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		code, out, errOut := runSimrun(t, "--trace", relabelTrace, "--reducer", "field-selector", "--format", format)
		if code != exitHolds {
			t.Errorf("--format %s: exit status %d, want %d; stderr:\n%s", format, code, exitHolds, errOut)
		}
		if len(out) == 0 {
			t.Errorf("--format %s: empty report", format)
		}
	}
}

// TestDeterministic runs the JSON report with the event log twice, and
// once more on a single OS thread, and requires byte-identical output:
// same trace, same output.
func TestDeterministic(t *testing.T) {
	faults, err := filepath.Glob(filepath.Join("..", "..", "traces", "faults", "*.json"))
	if err != nil || len(faults) == 0 {
		t.Fatalf("no fault traces: %v", err)
	}
	for _, trace := range append([]string{relabelTrace}, faults...) {
		t.Run(filepath.Base(trace), func(t *testing.T) { checkDeterministic(t, trace) })
	}
}

func checkDeterministic(t *testing.T, trace string) {
	args := []string{"--trace", trace, "--format", "json", "--log"}
	_, first, _ := runSimrun(t, args...)
	if len(first) == 0 {
		t.Fatal("empty report")
	}
	_, second, _ := runSimrun(t, args...)
	if !bytes.Equal(first, second) {
		t.Errorf("two runs differ\n--- first ---\n%s\n--- second ---\n%s", first, second)
	}
	single := func() []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		_, out, _ := runSimrun(t, args...)
		return out
	}()
	if !bytes.Equal(first, single) {
		t.Errorf("run under GOMAXPROCS(1) differs\n--- first ---\n%s\n--- GOMAXPROCS(1) ---\n%s", first, single)
	}
}
