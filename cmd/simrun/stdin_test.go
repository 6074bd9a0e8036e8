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

// endless is a standard input that never ends.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.read += int64(len(p))
	return len(p), nil
}

// TestTraceFromEndlessStdin: an endless standard input is refused once the
// trace limit is read (exit status 2, naming the limit), not read until
// memory runs out.
func TestTraceFromEndlessStdin(t *testing.T) {
	in := &endless{}
	var out, stderr bytes.Buffer
	code := runWithInput([]string{"--trace", "-"}, in, &out, &stderr)
	if code != exitUsage || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "standard input") || !strings.Contains(stderr.String(), "64 MiB") {
		t.Errorf("stderr does not name standard input and the limit: %q", stderr.String())
	}
	if in.read > 65<<20 {
		t.Errorf("read %d bytes of an endless input, more than the 64 MiB limit needs", in.read)
	}
}
