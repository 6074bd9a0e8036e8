package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestTraceFromStdin: --trace - replays what standard input holds, with
// the same report as the file, and names "standard input" in errors.
func TestTraceFromStdin(t *testing.T) {
	data, err := os.ReadFile("../../traces/relabel.json")
	if err != nil {
		t.Fatal(err)
	}
	var fromFile, fromStdin, stderr bytes.Buffer
	want := run([]string{"--trace", "../../traces/relabel.json", "--format", "json"}, &fromFile, &stderr)
	got := runWithInput([]string{"--trace", "-", "--format", "json"}, bytes.NewReader(data), &fromStdin, &stderr)
	if got != want || want != exitViolated || !bytes.Equal(fromFile.Bytes(), fromStdin.Bytes()) {
		t.Fatalf("exit %d from stdin, %d from the file; reports equal: %v; stderr %q", got, want, bytes.Equal(fromFile.Bytes(), fromStdin.Bytes()), stderr.String())
	}

	var out bytes.Buffer
	stderr.Reset()
	code := runWithInput([]string{"-t", "-"}, strings.NewReader(`{"name": "x", "cluster": {"namespace": "monitoring", "statefulSet": {"name": "ksm"}}, "steps": [{"op": "scale", "replicas": -1}]}`), &out, &stderr)
	if code != exitUsage || out.Len() != 0 || !strings.Contains(stderr.String(), "standard input: steps[0].replicas") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), stderr.String())
	}
}
