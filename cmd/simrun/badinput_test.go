package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// badBaseTrace is a valid trace; the bad ones below are edits of it.
const badBaseTrace = `{
  "name": "good",
  "cluster": {
    "namespace": "monitoring",
    "statefulSet": {"name": "kube-state-metrics", "labels": {"app": "ksm"}, "replicas": 2},
    "objects": {"uids": ["uid-a", "uid-b", "uid-c"]}
  },
  "steps": [
    {"op": "relabel", "labels": {"app": "ksm2"}},
    {"op": "scale", "replicas": 3},
    {"op": "restart", "pods": [2]},
    {"op": "delete", "uids": ["uid-a"]}
  ]
}
`

func badEdit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(badBaseTrace, old) {
		t.Fatalf("badBaseTrace has no %q", old)
	}
	return strings.Replace(badBaseTrace, old, new, 1)
}

// badPanicMarkers betray a Go panic trace.
var badPanicMarkers = []string{"panic:", "goroutine ", "runtime error", ".go:"}

func badCheckUsage(t *testing.T, code int, stdout, stderr string, want ...string) {
	t.Helper()
	if code != exitUsage {
		t.Errorf("exit status %d, want %d\nstderr: %s", code, exitUsage, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty:\n%s", stdout)
	}
	if !strings.HasPrefix(stderr, "simrun: ") {
		t.Errorf("stderr %q does not start with \"simrun: \"", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
	for _, m := range badPanicMarkers {
		if strings.Contains(stderr, m) {
			t.Errorf("stderr looks like a panic trace (%q):\n%s", m, stderr)
		}
	}
}

func badRun(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadTraceFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		doc  func(t *testing.T) string
		want []string // besides the file path
	}{
		{"negative-replicas", func(t *testing.T) string { return badEdit(t, `"replicas": 3`, `"replicas": -1`) },
			[]string{": steps[1].replicas: ", "non-negative"}},
		{"fractional-replicas", func(t *testing.T) string { return badEdit(t, `"replicas": 3`, `"replicas": 1.5`) },
			[]string{": steps[1].replicas: ", "integer"}},
		{"replicas-overflow", func(t *testing.T) string { return badEdit(t, `"replicas": 2}`, `"replicas": 2147483648}`) },
			[]string{": cluster.statefulSet.replicas: ", "int32"}},
		{"restart-out-of-range", func(t *testing.T) string { return badEdit(t, `"pods": [2]`, `"pods": [3]`) },
			[]string{": steps[2].pods: ", "pod 3 does not exist"}},
		{"unknown-op", func(t *testing.T) string { return badEdit(t, `"op": "scale"`, `"op": "resize"`) },
			[]string{": steps[1].op: ", `unknown op "resize"`}},
		{"unknown-step-field", func(t *testing.T) string { return badEdit(t, `"pods": [2]`, `"pods": [2], "pod": 2`) },
			[]string{": steps[2].pod: ", "not a field of op \"restart\""}},
		{"unknown-cluster-field", func(t *testing.T) string { return badEdit(t, `"replicas": 2}`, `"replicas": 2, "replica": 2}`) },
			[]string{": cluster.statefulSet.replica: ", "unknown field"}},
		{"bad-label-key", func(t *testing.T) string { return badEdit(t, `{"app": "ksm"}`, `{"bad key!": "ksm"}`) },
			[]string{": cluster.statefulSet.labels: ", `invalid label key "bad key!"`}},
		{"delete-not-live", func(t *testing.T) string { return badEdit(t, `["uid-a"]}`, `["uid-z"]}`) },
			[]string{": steps[3].uids: ", `"uid-z" is not a live object`}},
		{"settle-under-eager", func(t *testing.T) string { return badEdit(t, `{"op": "delete"`, `{"op": "settle"}, {"op": "delete"`) },
			[]string{": steps[3].op: ", "explicit"}},
		{"unknown-reducer", func(t *testing.T) string { return badEdit(t, `"steps"`, `"expect": {"nope": "holds"}, "steps"`) },
			[]string{": expect.nope: ", `unknown reducer "nope"`}},
		// Valid JSON that only the replay finds wrong: the cluster starts
		// settled, so pod 0's inbox is empty.
		{"deliver-from-empty-inbox", func(t *testing.T) string {
			return badEdit(t, `"steps": [`, `"schedule": "explicit", "steps": [{"op": "deliver", "pod": 0, "count": 1}, `)
		}, []string{": steps[0].count: ", "inbox ran empty"}},
		{"malformed", func(t *testing.T) string { return badBaseTrace[:40] },
			[]string{": malformed JSON at line "}},
		{"trailing-garbage", func(t *testing.T) string { return badBaseTrace + "}" },
			[]string{": unexpected data after the JSON object"}},
		{"empty", func(t *testing.T) string { return "" },
			[]string{": empty file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".json")
			if err := os.WriteFile(path, []byte(tc.doc(t)), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{"text", "json"} {
				code, stdout, stderr := badRun("--trace", path, "--format", format)
				badCheckUsage(t, code, stdout, stderr, append([]string{"simrun: " + path + ": "}, tc.want...)...)
			}
		})
	}

	// The unedited trace is fine, so the errors above come from the edits.
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(badBaseTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := badRun("--trace", good); code == exitUsage {
		t.Errorf("good trace: exit status %d: %s", code, stderr)
	}
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(badBaseTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{"--trace", missing}, []string{missing + ": ", "no such file"}},
		{"directory as trace", []string{"--trace", dir}, []string{dir + ": "}},
		{"no --trace", nil, []string{"--trace is required"}},
		{"empty --trace", []string{"--trace", ""}, []string{"--trace is required"}},
		{"format xml", []string{"--trace", good, "--format", "xml"}, []string{"--format", `"xml"`}},
		{"unknown reducer", []string{"--trace", good, "--reducer", "nope"}, []string{`unknown reducer "nope"`, "label-selector", "field-selector"}},
		{"unknown reducer after a good one", []string{"--trace", good, "-r", "field-selector", "-r", "nope"}, []string{`"nope"`}},
		{"unknown flag", []string{"--trace", good, "--frobnicate"}, []string{"unknown flag: --frobnicate", "simrun --help"}},
		{"unknown shorthand flag", []string{"-x", "--trace", good}, []string{"unknown shorthand flag: 'x'"}},
		{"flag without value", []string{"--trace"}, []string{"flag needs an argument"}},
		{"bad --max-uids", []string{"--trace", good, "--max-uids", "-5"}, []string{"--max-uids"}},
		{"non-numeric --max-uids", []string{"--trace", good, "--max-uids", "all"}, []string{"--max-uids"}},
		{"positional argument", []string{"--trace", good, "extra"}, []string{"extra"}},
		{"--latency without =", []string{"--trace", good, "--latency", "podStart"}, []string{`--latency "podStart"`, "name=duration", "watch, listPage, podStart, podStop"}},
		{"--latency bad duration", []string{"--trace", good, "--latency", "watch=fast"}, []string{"--latency watch", `invalid duration "fast"`}},
		{"--latency unknown name", []string{"--trace", good, "--latency", "network=1s"}, []string{`unknown latency "network"`}},
		{"--latency negative", []string{"--trace", good, "--latency", "podStop=-1s"}, []string{"--latency podStop", "negative"}},
		{"--jitter above 1", []string{"--trace", good, "--jitter", "2"}, []string{"--jitter", "from 0 to 1"}},
		{"--scrape-interval too short", []string{"--trace", good, "--scrape-interval", "10ms"}, []string{"--scrape-interval", "1s to 1h"}},
		{"--hold negative", []string{"--trace", good, "--hold", "-1s"}, []string{"--hold"}},
		{"--promtool-test -", []string{"--trace", good, "--promtool-test", "-"}, []string{"--promtool-test needs a file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := badRun(tc.args...)
			badCheckUsage(t, code, stdout, stderr, tc.want...)
		})
	}
}

// TestBadInputHelperProcess is not a test: TestBadInputProcess runs the test
// binary with SIMRUN_TEST_MAIN=1 to exercise main itself, os.Exit included.
func TestBadInputHelperProcess(t *testing.T) {
	if os.Getenv("SIMRUN_TEST_MAIN") != "1" {
		t.Skip("helper process for TestBadInputProcess")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Args = append([]string{"simrun"}, args...)
	main()
}

// TestBadInputProcess runs simrun as a process: status 2 comes with a
// message, never with a Go panic trace (a panic would exit with 2 too).
func TestBadInputProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs subprocesses")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(badEdit(t, `"replicas": 3`, `"replicas": -1`)), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("\x00\xff{[\"\\u"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--trace", bad},
		{"--trace", garbage},
		{"--trace", filepath.Join(dir, "missing.json")},
		{"--format", "xml", "--trace", bad},
		{"--bogus"},
		{},
	} {
		cmd := exec.Command(exe, "-test.run=^TestBadInputHelperProcess$", "--")
		cmd.Args = append(cmd.Args, args...)
		cmd.Env = append(os.Environ(), "SIMRUN_TEST_MAIN=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Errorf("simrun %q: %v, want exit status 2", args, err)
			continue
		}
		badCheckUsage(t, ee.ExitCode(), stdout.String(), stderr.String())
	}
}
