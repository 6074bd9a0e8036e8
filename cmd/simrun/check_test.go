package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// runCheckCLI runs `simrun check args...` in-process and returns its exit
// status, stdout and stderr. Once main.go registers the command it goes
// through run, as the binary does; until then it runs newCheckCommand
// with run's mapping of errors to exit statuses.
func runCheckCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if c, _, err := newRootCommand().Find([]string{"check"}); err == nil && c.Name() == "check" {
		code := run(append([]string{"check"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	cmd := newCheckCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	err := cmd.Execute()
	code := exitHolds
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		if ee.code != exitViolated {
			stderr.WriteString("simrun: " + ee.err.Error() + "\n")
		}
	default:
		code = exitUsage
		stderr.WriteString("simrun: " + err.Error() + "\n")
	}
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

// TestCheckAsSubcommand registers the command under the root command, as
// main.go does (cmd.AddCommand(newCheckCommand())), and runs it from
// there: no flag of the root gets in the way.
func TestCheckAsSubcommand(t *testing.T) {
	root := newRootCommand()
	if c, _, err := root.Find([]string{"check"}); err != nil || c.Name() != "check" {
		root.AddCommand(newCheckCommand())
	}
	var stdout, stderr bytes.Buffer
	root.SetArgs([]string{"check", "-r", "label-selector", "-m", "2", "-k", "2"})
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.Execute()
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitViolated {
		t.Fatalf("err = %v, want exit status 1\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "VIOLATED") {
		t.Fatalf("report:\n%s", stdout.String())
	}
}
