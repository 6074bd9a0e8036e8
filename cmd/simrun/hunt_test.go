package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

func huntRun(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestHuntLabelSelector: `simrun hunt --reducer label-selector --seed 1`
// writes a trace of two cluster ops, one a relabel, that `simrun --trace`
// replays to "violated", prints the path, the summary and the replay
// command, exits 1; hunting again finds the file identical and leaves it;
// a different file of that name is kept (exit 2, the counterexample still
// printed) unless --force.
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
		"generated trace 1 of seed 1: 15 cluster ops in 15 steps (eager schedule); shrunk to 2 cluster ops in 3 steps (explicit schedule)",
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
	if code != exitViolated || !strings.Contains(out, path+" already holds this counterexample; left as it is") || errOut != "" {
		t.Fatalf("second hunt: exit %d, want %d and the file left as it is\n%s%s", code, exitViolated, out, errOut)
	}
	if err := os.WriteFile(path, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = huntRun(args...)
	if code != exitUsage || !strings.Contains(errOut, "already exists and holds a different trace") || !strings.Contains(errOut, "--force") ||
		!strings.Contains(out, "NOT written to "+dir) || !strings.Contains(out, "step 1: scale to 2") {
		t.Fatalf("hunt over a different file: exit %d, want %d, the counterexample printed and a refusal\n%s%s", code, exitUsage, out, errOut)
	}
	if got, _ := os.ReadFile(path); string(got) != "mine" {
		t.Fatalf("the different file was replaced without --force: %.40q", got)
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

// TestHuntFaults: with --faults the fixed reducer still has no
// counterexample, and the relabel bug is found, shrunk without the faults
// and exported; the command to find it again asks for the faults.
func TestHuntFaults(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := huntRun("hunt", "--reducer", "field-selector", "--seed", "2", "--traces", "100", "--faults", "--out", dir)
	if code != exitHolds || out != "no counterexample for field-selector in 100 traces (seed 2, with fault ops)\n" {
		t.Fatalf("field-selector: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = huntRun("hunt", "--reducer", "label-selector", "--seed", "1", "--faults", "--out", dir)
	if code != exitViolated {
		t.Fatalf("label-selector: exit %d, want %d\n%s%s", code, exitViolated, out, errOut)
	}
	for _, want := range []string{
		"shrunk to 2 cluster ops in 3 steps (explicit schedule)",
		"find again: simrun hunt --reducer label-selector --seed 1 --out " + dir + " --faults",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("wrote %v, want one trace", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "Found by `simrun hunt --reducer label-selector --seed 1 --faults`") {
		t.Errorf("the description does not name the command that found it:\n%s", data)
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
		{[]string{"hunt", "--reducer", "label-selector", "--out", "hunt_test.go"}, "--out: hunt_test.go is not a directory"},
		{[]string{"hunt", "--reducer", "label-selector", "--out", "hunt_test.go/sub"}, "--out: hunt_test.go is not a directory"},
	} {
		code, out, errOut := huntRun(tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "panic") {
			t.Errorf("simrun %s: exit %d, stderr %q; want exit 2 and %q\n%s", strings.Join(tc.args, " "), code, errOut, tc.want, out)
		}
	}
}

// TestHuntProgress: --progress reports on stderr, off a terminal, and the
// report stays on stdout.
func TestHuntProgress(t *testing.T) {
	var lines []properties.HuntProgress
	ce, err := properties.Hunt(properties.HuntOptions{Reducer: "field-selector", Seed: 2, Traces: 30,
		ProgressInterval: time.Nanosecond, Progress: func(p properties.HuntProgress) { lines = append(lines, p) }})
	if err != nil || ce != nil {
		t.Fatalf("%v, %v", ce, err)
	}
	if len(lines) == 0 || lines[len(lines)-1].Tried != 30 || lines[len(lines)-1].Traces != 30 {
		t.Fatalf("progress %+v", lines)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].Tried < lines[i-1].Tried {
			t.Fatalf("progress goes back: %+v", lines)
		}
	}
	if s := (properties.HuntProgress{Tried: 12000, Traces: 100000, Elapsed: 3 * time.Second}).String(); s != "12000 of 100000 traces (12%), 3s, 4000 traces/s" {
		t.Errorf("progress line %q", s)
	}
	// Through the CLI: nothing on stderr in a run shorter than two seconds
	// without a terminal, unless --progress; never on stdout.
	code, out, errOut := huntRun("hunt", "--reducer", "field-selector", "--seed", "2", "--traces", "20", "--out", t.TempDir(), "--progress")
	if code != exitHolds || strings.Contains(out, "hunt:") || strings.Contains(errOut, "\x1b") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestHuntRelease: `simrun hunt --reducer v2.19.1` finds KSM #3065 from
// scratch, shrinks it to at most 3 cluster ops and writes a normal trace
// whose expect names the release (violated) and its fix, v2.20.0 (holds),
// which `simrun --trace` confirms reducer by reducer; hunting v2.20.0
// with the same seed and number of traces finds nothing.
func TestHuntRelease(t *testing.T) {
	dir := t.TempDir()
	traces := "1000"
	if testing.Short() {
		traces = "300"
	}
	args := []string{"hunt", "--reducer", "v2.19.1", "--seed", "1", "--traces", traces, "--out", dir}
	code, out, errOut := huntRun(args...)
	if code != exitViolated {
		t.Fatalf("simrun %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, exitViolated, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "v2.19.1-") {
		t.Fatalf("wrote %v, want one v2.19.1-… trace\n%s", files, out)
	}
	path := files[0]
	for _, want := range []string{
		"counterexample for v2.19.1: generated trace ",
		"wrote " + path,
		"the API server has no watch cache (every LIST is paged from etcd), WatchList off",
		"v2.19.1: VIOLATED",
		"v2.20.0: holds",
		"replay it:  simrun --trace " + path,
		"find again: simrun hunt --reducer v2.19.1 --seed 1 --out " + dir,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "shrunk to 4 cluster ops") || !strings.Contains(out, "shrunk to ") {
		t.Errorf("want at most 3 cluster ops:\n%s", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sim.ParseTrace(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(properties.ClusterOps(tr)); n > 3 {
		t.Errorf("%d cluster ops, want at most 3\n%s", n, data)
	}
	if tr.Expect["v2.19.1"] != sim.Violated || tr.Expect["v2.20.0"] != sim.Holds {
		t.Errorf("expect %v\n%s", tr.Expect, data)
	}
	for _, rc := range []struct {
		reducer string
		code    int
	}{{"v2.19.1", exitViolated}, {"v2.20.0", exitHolds}} {
		if code, out, errOut := huntRun("--trace", path, "--reducer", rc.reducer); code != rc.code {
			t.Errorf("simrun --trace %s --reducer %s: exit %d, want %d\n%s%s", path, rc.reducer, code, rc.code, out, errOut)
		}
	}
	// The default replay runs the releases the trace expects, and agrees.
	if code, out, errOut := huntRun("--trace", path); code != exitViolated || !strings.Contains(out, "v2.20.0 (") {
		t.Errorf("simrun --trace %s: exit %d\n%s%s", path, code, out, errOut)
	}

	empty := t.TempDir()
	code, out, errOut = huntRun("hunt", "--reducer", "v2.20.0", "--seed", "1", "--traces", traces, "--out", empty)
	want := "no counterexample for v2.20.0 in " + traces + " traces (seed 1, drawing the API server's configuration)\n"
	if code != exitHolds || out != want {
		t.Fatalf("v2.20.0: exit %d, want 0 and %q\n%s%s", code, want, out, errOut)
	}
}

// TestHuntReleaseHelp: --reducer's help and the errors list what is
// accepted, releases included.
func TestHuntReleaseHelp(t *testing.T) {
	code, out, errOut := huntRun("hunt", "--help")
	if code != exitHolds || !strings.Contains(out, "or a kube-state-metrics release v2.10.0 to v2.20.0") || !strings.Contains(out, "--api-server") {
		t.Errorf("simrun hunt --help: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = huntRun("hunt", "--reducer", "v2.9.0", "--out", t.TempDir())
	if code != exitUsage || !strings.Contains(errOut, `unknown reducer "v2.9.0"`) || !strings.Contains(errOut, "v2.19.1") {
		t.Errorf("simrun hunt --reducer v2.9.0: exit %d, stderr %q", code, errOut)
	}
}
