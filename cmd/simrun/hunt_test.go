package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func huntRun(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestHuntLabelSelector: `simrun hunt --reducer label-selector --seed 1`
// writes a trace of two cluster ops, one a relabel, that `simrun --trace`
// replays to "violated", prints the path, the summary and the replay
// command, exits 1, and then refuses to overwrite the file.
func TestHuntLabelSelector(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "regressions")
	args := []string{"hunt", "--reducer", "label-selector", "--seed", "1", "--out", dir}
	code, out, errOut := huntRun(args...)
	if code != exitViolated {
		t.Fatalf("simrun %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, exitViolated, out, errOut)
	}
	path := filepath.Join(dir, "label-selector-scale-up-overlap-seed-1.json")
	for _, want := range []string{
		"wrote " + path,
		"(2 cluster ops)",
		"step 0: relabel {app.kubernetes.io/name=kube-state-metrics,app.kubernetes.io/version=2.13.0}",
		"step 1: scale to 2",
		"label-selector: VIOLATED",
		"field-selector: holds",
		"replay it:  simrun --trace " + path,
		"simrun hunt --reducer label-selector --seed 1 --out " + dir,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	code, out, errOut = huntRun("--trace", path)
	if code != exitViolated || !strings.Contains(out, "verdict: VIOLATED") || !strings.Contains(out, "verdict: holds") {
		t.Fatalf("simrun --trace %s: exit %d\n%s%s", path, code, out, errOut)
	}
	code, _, _ = huntRun("--trace", path, "--reducer", "field-selector")
	if code != exitHolds {
		t.Fatalf("simrun --trace %s --reducer field-selector: exit %d, want 0", path, code)
	}

	code, out, errOut = huntRun(args...)
	if code != exitUsage || !strings.Contains(errOut, "already exists") || !strings.Contains(errOut, "--force") {
		t.Fatalf("second hunt: exit %d, want %d and a refusal\n%s%s", code, exitUsage, out, errOut)
	}
	code, out, errOut = huntRun(append(args, "--force")...)
	if code != exitViolated {
		t.Fatalf("forced hunt: exit %d\n%s%s", code, out, errOut)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(first, again) {
		t.Fatal("the same seed wrote a different counterexample")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%s holds %d entries, want 1 (no temporary files left)", dir, len(entries))
	}
}

func TestHuntFieldSelectorFindsNothing(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := huntRun("hunt", "--reducer", "field-selector", "--seed", "2", "--traces", "200", "--out", dir)
	if code != exitHolds || out != "no counterexample for field-selector in 200 traces (seed 2)\n" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("wrote %d files", len(entries))
	}
}

func TestHuntBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"hunt", "--out", "x"}, "--reducer is required"},
		{[]string{"hunt", "--reducer", "modulo", "--out", "x"}, `unknown reducer "modulo"`},
		{[]string{"hunt", "--reducer", "label-selector"}, "--out is required"},
		{[]string{"hunt", "--reducer", "label-selector", "--out", "x", "--traces", "0"}, "--traces must be at least 1"},
		{[]string{"hunt", "--reducer", "label-selector", "--out", "x", "--seed", "-1"}, "invalid argument"},
		{[]string{"hunt", "--reducer", "label-selector", "--out", "x", "extra"}, "unknown command"},
	} {
		code, out, errOut := huntRun(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "panic") {
			t.Errorf("simrun %s: exit %d, stderr %q; want exit 2 and %q\n%s", strings.Join(tc.args, " "), code, errOut, tc.want, out)
		}
	}
}
