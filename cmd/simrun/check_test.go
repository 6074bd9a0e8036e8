package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// runCheckCLI runs `simrun check args...` in-process, as the binary does,
// and returns its exit status, stdout and stderr.
func runCheckCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"check"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestCheckFieldSelectorHolds: the first "done when".
func TestCheckFieldSelectorHolds(t *testing.T) {
	code, out, errOut := runCheckCLI(t, "--reducer", "field-selector", "--max-replicas", "3", "--depth", "3")
	if code != exitHolds {
		t.Fatalf("exit status %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"holds for all UIDs", "4 jump-hash trajectory classes", "states explored", "distinct states", "depth", "wall time", "states/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("unexpected stderr: %s", errOut)
	}
}

// TestCheckLabelSelectorCounterexample: the second "done when":
// exit 1, a shortest counterexample of two cluster ops, one a relabel,
// written by --out as a trace the simulator replays to violated.
func TestCheckLabelSelectorCounterexample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cx")
	code, out, errOut := runCheckCLI(t, "--reducer", "label-selector", "--max-replicas", "3", "--depth", "3", "--out", dir)
	if code != exitViolated {
		t.Fatalf("exit status %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "shortest counterexample: 2 cluster ops") || !strings.Contains(out, "relabel") {
		t.Fatalf("report:\n%s", out)
	}
	path := filepath.Join(dir, "check-label-selector-m3-k3.json")
	if !strings.Contains(out, path) {
		t.Errorf("report does not name %s:\n%s", path, out)
	}
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	ops := 0
	relabels := 0
	for _, s := range tr.Steps {
		if s.IsClusterOp() {
			ops++
		}
		if s.Op == sim.OpRelabel {
			relabels++
		}
	}
	if ops != 2 || relabels != 1 || tr.Schedule != sim.Explicit {
		t.Fatalf("trace has %d cluster ops, %d relabels, schedule %s", ops, relabels, tr.Schedule)
	}
	rep, err := sim.Replay(tr, []model.Reducer{model.LabelSelector{}}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Holds() {
		t.Fatal("the exported trace holds")
	}
	// And through the replay command itself.
	if code, _, _ := runSimrun(t, "--trace", path, "--reducer", "label-selector"); code != exitViolated {
		t.Fatalf("simrun --trace %s: exit status %d, want 1", path, code)
	}
}

// TestCheckWorkers: the report is the same with 1 and 2 workers, but for
// the timing lines.
func TestCheckWorkers(t *testing.T) {
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "wall time") || strings.Contains(l, "states/s") || strings.Contains(l, "workers") {
				continue
			}
			keep = append(keep, l)
		}
		return strings.Join(keep, "\n")
	}
	for _, r := range []string{"label-selector", "field-selector"} {
		_, one, _ := runCheckCLI(t, "-r", r, "-m", "4", "-k", "4", "--workers", "1")
		_, two, _ := runCheckCLI(t, "-r", r, "-m", "4", "-k", "4", "--workers", "2")
		if strip(one) != strip(two) {
			t.Errorf("%s: reports differ\n--- 1 worker ---\n%s\n--- 2 workers ---\n%s", r, one, two)
		}
	}
}

func TestCheckUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--reducer", "nope"},
		{"--reducer", "field-selector", "--max-replicas", "0"},
		{"--reducer", "field-selector", "--max-replicas", "9"},
		{"--reducer", "field-selector", "--depth", "-1"},
		{"--reducer", "field-selector", "--workers", "-1"},
		{"--reducer", "field-selector", "--depth", "x"},
		{"--reducer", "field-selector", "--frobnicate"},
		{"--reducer", "field-selector", "extra"},
	} {
		code, out, errOut := runCheckCLI(t, args...)
		if code != exitUsage {
			t.Errorf("check %q: exit status %d, want 2\n%s%s", args, code, out, errOut)
		}
		if !strings.HasPrefix(errOut, "simrun: ") {
			t.Errorf("check %q: stderr %q", args, errOut)
		}
	}
}

// TestCheckOutUnwritable: --out under a file is a usage error.
func TestCheckOutUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCheckCLI(t, "-r", "label-selector", "-m", "2", "-k", "2", "--out", filepath.Join(file, "dir"))
	if code != exitUsage || !strings.Contains(errOut, "--out") {
		t.Fatalf("exit status %d, stderr %q", code, errOut)
	}
}

// TestCheckOutNoClobber: --out keeps an existing counterexample file
// unless --force is given.
func TestCheckOutNoClobber(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-r", "label-selector", "-m", "2", "-k", "2", "--out", dir}
	if code, _, errOut := runCheckCLI(t, args...); code != exitViolated {
		t.Fatalf("first run: exit status %d, stderr %q", code, errOut)
	}
	path := filepath.Join(dir, "check-label-selector-m2-k2.json")
	if err := os.WriteFile(path, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCheckCLI(t, args...)
	if code != exitUsage || !strings.Contains(errOut, "--force") {
		t.Fatalf("second run: exit status %d, stderr %q", code, errOut)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine" {
		t.Fatal("the existing file was replaced without --force")
	}
	if code, _, errOut := runCheckCLI(t, append(args, "--force")...); code != exitViolated {
		t.Fatalf("with --force: exit status %d, stderr %q", code, errOut)
	}
	if got, _ := os.ReadFile(path); string(got) == "mine" {
		t.Fatal("--force did not replace the file")
	}
}
