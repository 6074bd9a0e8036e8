package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestCheckStaticHolds: `simrun check --mode static` with the valid ops
// holds (exit 0) and states its bounds.
func TestCheckStaticHolds(t *testing.T) {
	code, out, errOut := runCheckCLI(t, "--mode", "static", "--max-deployments", "2", "--max-total", "2")
	if code != exitHolds {
		t.Fatalf("exit status %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"check --mode static field-selector", "up to 2 cluster ops", "every order of the lanes' deliveries", "holds for all UIDs", "quiescent states"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckStaticMisconfigure: with --misconfigure the shortest
// counterexample is one apply; --out writes it as a trace the simulator
// replays violated.
func TestCheckStaticMisconfigure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cx")
	code, out, errOut := runCheckCLI(t, "--mode", "static", "--max-deployments", "2", "--max-total", "2", "--misconfigure", "--out", dir)
	if code != exitViolated {
		t.Fatalf("exit status %d, want 1\n%s%s", code, out, errOut)
	}
	path := filepath.Join(dir, "check-static-field-selector-d2-t2-k2-misconfigure.json")
	if !strings.Contains(out, "shortest counterexample: 1 cluster op") || !strings.Contains(out, path) {
		t.Fatalf("report:\n%s", out)
	}
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{})
	if err != nil || res.Holds {
		t.Fatalf("replay of %s: %v, %v", path, res, err)
	}
}

// TestCheckStaticRefuses: flags of the other mode, unknown modes and bad
// bounds are usage errors.
func TestCheckStaticRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "static", "--max-replicas", "2"},
		{"--mode", "static", "--faults", "compact"},
		{"--mode", "static", "--max-deployments", "9"},
		{"--mode", "static", "--max-total", "0"},
		{"--mode", "static", "--format", "json"},
		{"--mode", "nodes"},
		{"--reducer", "field-selector", "--misconfigure"},
	} {
		if code, out, errOut := runCheckCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d\n%s%s", args, code, exitUsage, out, errOut)
		}
	}
}

// TestCheckDaemonSet: `simrun check --mode daemonset` holds from v2.14.0
// with tracked unscheduled pods (exit 0); v2.13.0 with dotted node names
// is violated at the start, and --out writes the trace.
func TestCheckDaemonSet(t *testing.T) {
	code, out, errOut := runCheckCLI(t, "--mode", "daemonset", "--max-nodes", "1", "--dotted")
	if code != exitHolds || !strings.Contains(out, "check --mode daemonset v2.14.0") || !strings.Contains(out, "verdict: holds") {
		t.Fatalf("exit status %d, want 0\n%s%s", code, out, errOut)
	}
	dir := filepath.Join(t.TempDir(), "cx")
	code, out, errOut = runCheckCLI(t, "--mode", "daemonset", "--reducer", "v2.13.0", "--unscheduled", "none", "--dotted", "--max-nodes", "1", "--out", dir)
	path := filepath.Join(dir, "check-daemonset-v2.13.0-n1-k2-none-dotted.json")
	if code != exitViolated || !strings.Contains(out, path) {
		t.Fatalf("exit status %d, want 1\n%s%s", code, out, errOut)
	}
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := model.ReducerByName("v2.13.0")
	if res, err := sim.Run(tr, r, sim.Options{}); err != nil || res.Holds {
		t.Fatalf("replay of %s: %v, %v", path, res, err)
	}
	for _, args := range [][]string{
		{"--mode", "daemonset", "--max-deployments", "2"},
		{"--mode", "daemonset", "--unscheduled", "some"},
		{"--mode", "daemonset", "--max-nodes", "4"},
		{"--mode", "static", "--dotted"},
		{"--reducer", "field-selector", "--taints"},
	} {
		if code, out, errOut := runCheckCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d\n%s%s", args, code, exitUsage, out, errOut)
		}
	}
}
