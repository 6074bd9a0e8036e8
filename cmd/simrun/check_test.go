package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/checker"
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
	for _, args := range [][]string{
		{"-r", "label-selector", "-m", "4", "-k", "4"},
		{"-r", "field-selector", "-m", "4", "-k", "4"},
		{"-r", "label-selector", "-m", "3", "-k", "3", "--faults", "compact,disconnect,cacheLag"},
	} {
		_, one, _ := runCheckCLI(t, append(args, "--workers", "1")...)
		_, two, _ := runCheckCLI(t, append(args, "--workers", "2")...)
		if strip(one) != strip(two) {
			t.Errorf("%q: reports differ\n--- 1 worker ---\n%s\n--- 2 workers ---\n%s", args, one, two)
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

// TestCheckFaultsFieldSelector: issue 11's "done when": the field selector
// holds with compact and disconnect among the ops, and the report says
// which faults were explored and both verdicts.
func TestCheckFaultsFieldSelector(t *testing.T) {
	code, out, errOut := runCheckCLI(t, "--reducer", "field-selector", "--max-replicas", "4", "--depth", "4", "--faults", "compact,disconnect")
	if code != exitHolds {
		t.Fatalf("exit status %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"faults   compact, disconnect one pod;", "holds for all UIDs", "safety    holds", "liveness  holds", "drained states", "distinct states   20"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Without --faults the report is unchanged but for the two verdicts.
	_, plain, _ := runCheckCLI(t, "--reducer", "field-selector", "--max-replicas", "4", "--depth", "4")
	if strings.Contains(plain, "  faults   ") || strings.Contains(plain, "drained") || !strings.Contains(plain, "liveness  holds") {
		t.Errorf("report without faults:\n%s", plain)
	}
}

// TestCheckFaultsLabelSelector: with every fault op the label selector
// still fails on the relabel bug; the counterexample is written under a
// name that says the faults, and replays with the simulator.
func TestCheckFaultsLabelSelector(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCheckCLI(t, "-r", "label-selector", "--faults", "compact,disconnect,cacheLag", "--out", dir)
	if code != exitViolated {
		t.Fatalf("exit status %d, want 1\n%s%s", code, out, errOut)
	}
	path := filepath.Join(dir, "check-label-selector-m3-k3-compact-disconnect-cacheLag.json")
	for _, want := range []string{"shortest counterexample: 2 cluster ops", "relabel", path, "safety    VIOLATED", "liveness  VIOLATED"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runSimrun(t, "--trace", path, "--reducer", "label-selector"); code != exitViolated {
		t.Fatalf("simrun --trace %s: exit status %d, want 1", path, code)
	}
}

// TestCheckFaultsUsage: --faults takes a comma-separated subset of
// compact, disconnect and cacheLag; anything else is exit status 2 with a
// message naming it.
func TestCheckFaultsUsage(t *testing.T) {
	for _, tc := range []struct {
		faults, want string
	}{
		{"compact,nope", `--faults: unknown fault "nope": want a comma-separated subset of compact,disconnect,cacheLag`},
		{"Compact", `unknown fault "Compact"`},
		{"compact,compact", "fault compact is given twice"},
		{"compact,", "empty fault name"},
	} {
		code, out, errOut := runCheckCLI(t, "-r", "field-selector", "-m", "2", "-k", "2", "--faults", tc.faults)
		if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "simrun: ") || !strings.Contains(errOut, tc.want) {
			t.Errorf("--faults %q: exit status %d, stdout %q, stderr %q; want 2 and %q", tc.faults, code, out, errOut, tc.want)
		}
	}
	// Repeating the flag adds to the set.
	if code, out, errOut := runCheckCLI(t, "-r", "field-selector", "-m", "2", "-k", "2", "--faults", "compact", "--faults", "cacheLag"); code != exitHolds || !strings.Contains(out, "faults   compact, cacheLag to 0..1 writes") {
		t.Errorf("--faults compact --faults cacheLag: exit status %d\n%s%s", code, out, errOut)
	}
	// Bounds the label selector's fault state cannot hold.
	code, _, errOut := runCheckCLI(t, "-r", "label-selector", "-m", "5", "--faults", "compact,disconnect")
	if code != exitUsage || !strings.Contains(errOut, "at most 4 replicas") {
		t.Errorf("label-selector -m 5 with faults: exit status %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCheckCLI(t, "-r", "field-selector", "--format", "xml"); code != exitUsage || !strings.Contains(errOut, "--format must be text or json") {
		t.Errorf("--format xml: exit status %d, stderr %q", code, errOut)
	}
}

// TestCheckJSON: --format json gives both verdicts, the faults, the counts
// and, when there is one, the counterexample with its replay.
func TestCheckJSON(t *testing.T) {
	code, out, errOut := runCheckCLI(t, "-r", "field-selector", "-m", "4", "-k", "4", "--faults", "compact,disconnect", "--format", "json")
	if code != exitHolds {
		t.Fatalf("exit status %d\n%s%s", code, out, errOut)
	}
	var holds checker.JSON
	if err := json.Unmarshal([]byte(out), &holds); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !holds.Holds || !holds.Safety.Holds || !holds.Liveness.Holds || holds.Counterexample != nil ||
		!slices.Equal(holds.Faults, []string{"compact", "disconnect"}) || holds.Distinct != 20 || holds.Safety.Quiescent != 20 ||
		holds.MaxReplicas != 4 || holds.Depth != 4 || holds.Classes != 8 || !holds.Saturated {
		t.Fatalf("field-selector: %+v", holds)
	}
	dir := t.TempDir()
	code, out, errOut = runCheckCLI(t, "-r", "label-selector", "-o", "json", "--out", dir)
	if code != exitViolated {
		t.Fatalf("exit status %d\n%s%s", code, out, errOut)
	}
	var viol checker.JSON
	if err := json.Unmarshal([]byte(out), &viol); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cx := viol.Counterexample
	if viol.Holds || viol.Safety.Holds || viol.Liveness.Holds || cx == nil || cx.Ops != 2 || len(viol.Faults) != 0 ||
		cx.Trace != filepath.Join(dir, "check-label-selector-m3-k3.json") || cx.Replay == nil || cx.Replay.Gap == 0 ||
		len(cx.GapClasses) == 0 || len(cx.UIDs) != len(cx.GapClasses)+len(cx.OverlapClasses) || len(cx.Steps) != 4 {
		t.Fatalf("label-selector: %+v %+v", viol, cx)
	}
}

// loadAndReplay loads a trace check wrote and replays it with each
// release, returning whether each holds.
func loadAndReplay(t *testing.T, path string, versions ...string) (*sim.Trace, []bool) {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	var rs []model.Reducer
	for _, v := range versions {
		r, ok := model.ReducerByName(v)
		if !ok {
			t.Fatalf("no reducer %s", v)
		}
		rs = append(rs, r)
	}
	rep, err := sim.Replay(tr, rs, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	holds := make([]bool, len(rs))
	for i, r := range rep.Results {
		holds[i] = r.Holds
	}
	return tr, holds
}

// TestCheckRelease3065: issue 12's "done when" for check: v2.19.1 finds
// #3065 (in the data plane, without the watch cache) from scratch, at 3 ops
// or fewer, as a trace that replays violated on v2.19.1 and holds on
// v2.20.0; v2.20.0 finds nothing within the same bounds.
func TestCheckRelease3065(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cx")
	code, out, errOut := runCheckCLI(t, "--reducer", "v2.19.1", "--out", dir)
	if code != exitViolated {
		t.Fatalf("exit status %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"1. StatefulSet level", "2. data plane", "watch cache off, WatchList off", "verdict v2.19.1: VIOLATED in the data plane"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	path := filepath.Join(dir, "check-v2.19.1-m3-k3-dataplane.json")
	if !strings.Contains(out, "trace: "+path) {
		t.Errorf("report does not name %s:\n%s", path, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "check-v2.19.1-m3-k3-statefulset.json")); err == nil {
		t.Error("a StatefulSet-level counterexample was written for a field-selector release")
	}
	tr, holds := loadAndReplay(t, path, "v2.19.1", "v2.20.0")
	ops := 0
	for _, s := range tr.Steps {
		if s.IsClusterOp() {
			ops++
		}
	}
	if ops > 3 || holds[0] || !holds[1] || tr.Expect["v2.19.1"] != sim.Violated {
		t.Fatalf("trace of %d ops holds on v2.19.1: %v, on v2.20.0: %v (expect %v)", ops, holds[0], holds[1], tr.Expect)
	}
	if c := tr.Cluster.Config(); c.WatchCache || c.WatchList || c.PageSize != checker.DataPlanePageSize {
		t.Errorf("trace's API server %+v, want no watch cache, no WatchList, pages of %d", c, checker.DataPlanePageSize)
	}

	code, out, errOut = runCheckCLI(t, "--reducer", "v2.20.0")
	if code != exitHolds {
		t.Fatalf("v2.20.0: exit status %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "verdict v2.20.0: holds within both bounds") || !strings.Contains(out, "4,552 (by number of ops: 12, 84, 572, 3,884)") {
		t.Errorf("v2.20.0 report:\n%s", out)
	}
}

// TestCheckRelease2973JSON: v2.19.0's data-plane counterexample is #2973,
// on the default API server, in the JSON report.
func TestCheckRelease2973JSON(t *testing.T) {
	code, out, errOut := runCheckCLI(t, "--reducer", "v2.19.0", "--format", "json")
	if code != exitViolated {
		t.Fatalf("exit status %d, want 1\n%s%s", code, out, errOut)
	}
	var j checker.ReleaseJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	cx := j.DataPlane.Counterexample
	if j.Holds || j.Reducer != "v2.19.0" || !j.StatefulSet.Holds || j.StatefulSet.Reducer != "field-selector" || j.DataPlane.Holds || cx == nil {
		t.Fatalf("report %s", out)
	}
	if cx.Server != (checker.Server{WatchCache: true, WatchList: true}) || cx.Ops > 3 || cx.Replay == nil || cx.Replay.Gap == 0 {
		t.Fatalf("counterexample %+v", cx)
	}
	for _, p := range cx.Checkpoint.Pods {
		if p.Total != cx.Checkpoint.Replicas {
			t.Fatalf("pods %+v: a configuration disagrees with spec.replicas, not #2973's shape", cx.Checkpoint.Pods)
		}
	}
}

// TestCheckReleaseLabelSelector: a release with the label selector
// (v2.12.0) has the StatefulSet-level counterexample of label-selector,
// whose trace expects and replays violated on both, and #3065 in the
// data plane.
func TestCheckReleaseLabelSelector(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCheckCLI(t, "--reducer", "v2.12.0", "--out", dir)
	if code != exitViolated || !strings.Contains(out, "VIOLATED at the StatefulSet level and in the data plane") {
		t.Fatalf("exit status %d\n%s%s", code, out, errOut)
	}
	tr, holds := loadAndReplay(t, filepath.Join(dir, "check-v2.12.0-m3-k3-statefulset.json"), "label-selector", "v2.12.0", "v2.13.0")
	if holds[0] || holds[1] || !holds[2] || tr.Expect["v2.12.0"] != sim.Violated || tr.Expect["label-selector"] != sim.Violated {
		t.Fatalf("holds %v, expect %v", holds, tr.Expect)
	}
	if _, holds := loadAndReplay(t, filepath.Join(dir, "check-v2.12.0-m3-k3-dataplane.json"), "v2.12.0", "v2.20.0"); holds[0] || !holds[1] {
		t.Fatalf("data plane trace: holds %v", holds)
	}
	// Both files exist now: a second run refuses before the search.
	if code, out, errOut := runCheckCLI(t, "--reducer", "v2.12.0", "--out", dir); code != exitUsage || out != "" || !strings.Contains(errOut, "--force") {
		t.Fatalf("second run: exit status %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCheckCLI(t, "--reducer", "v2.12.0", "--out", dir, "--force"); code != exitViolated {
		t.Fatalf("--force: exit status %d\n%s", code, errOut)
	}
}

func TestCheckReleaseUsage(t *testing.T) {
	code, _, errOut := runCheckCLI(t, "--reducer", "v2.99.0")
	if code != exitUsage || !strings.Contains(errOut, "v2.10.0 to v2.20.0") {
		t.Fatalf("exit status %d: %s", code, errOut)
	}
	if code, _, errOut := runCheckCLI(t, "--reducer", "v2.19.1", "--out", "-"); code != exitUsage || !strings.Contains(errOut, "dataplane.json") {
		t.Fatalf("--out -: exit status %d: %s", code, errOut)
	}
}
