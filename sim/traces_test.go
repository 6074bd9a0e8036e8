package sim_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/sim"
)

// traceDir is the repository's traces folder, relative to this package.
const traceDir = "../traces"

// traceFiles lists every trace the suite replays (sim.TraceFiles).
func traceFiles(t *testing.T) []string {
	t.Helper()
	files, err := sim.TraceFiles(traceDir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// replayTraceFile loads and replays one trace against every named reducer
// and every release its expect names (sim.ExpectedReducers).
func replayTraceFile(t *testing.T, path string) (*sim.Trace, *sim.Report) {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatalf("LoadTrace: %v", err)
	}
	rep, err := sim.Replay(tr, sim.ExpectedReducers(tr), sim.Options{})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return tr, rep
}

// resultFor returns the result of the named reducer in rep.
func resultFor(t *testing.T, rep *sim.Report, reducer string) *sim.Result {
	t.Helper()
	for _, res := range rep.Results {
		if res.Reducer == reducer {
			return res
		}
	}
	t.Fatalf("report of trace %s has no result for reducer %s", rep.Trace, reducer)
	return nil
}

// TestTraces replays every trace file and checks each reducer's verdict
// against the trace's expect map. A trace without expect must still load
// and replay.
func TestTraces(t *testing.T) {
	files := traceFiles(t)
	if len(files) == 0 {
		t.Fatalf("no trace files under %s", traceDir)
	}
	for _, path := range files {
		rel, _ := filepath.Rel(traceDir, path)
		t.Run(strings.TrimSuffix(filepath.ToSlash(rel), ".json"), func(t *testing.T) {
			tr, rep := replayTraceFile(t, path)
			if want := len(sim.ExpectedReducers(tr)); len(rep.Results) != want {
				t.Fatalf("got %d results, want one per reducer (%d)", len(rep.Results), want)
			}
			for _, res := range rep.Results {
				if len(res.Checkpoints) == 0 {
					t.Errorf("%s: no quiescent checkpoint: the trace checks nothing", res.Reducer)
				}
				want, ok := tr.Expect[res.Reducer]
				if !ok {
					continue
				}
				got := sim.Violated
				if res.Holds {
					got = sim.Holds
				}
				if got != want {
					t.Errorf("%s: %s, want %s\n  verdict: %s", res.Reducer, got, want, sim.Verdict(res))
				}
			}
		})
	}
}

// TestRestartHeals: restarting every pod after a relabel and a scale makes
// the label-selector pods consistent again: an earlier checkpoint is
// violated, the last one holds.
func TestRestartHeals(t *testing.T) {
	_, rep := replayTraceFile(t, filepath.Join(traceDir, "restart.json"))
	res := resultFor(t, rep, "label-selector")
	cps := res.Checkpoints
	if len(cps) < 2 {
		t.Fatalf("got %d checkpoints, want at least 2", len(cps))
	}
	last := cps[len(cps)-1]
	if last.Op != sim.OpRestart {
		t.Errorf("last checkpoint is after %q, want %q", last.Op, sim.OpRestart)
	}
	if !last.Holds() {
		t.Errorf("last checkpoint (step %d, %s) is violated: gap %d, overlap %d; want it to hold after the restarts",
			last.Step, last.Op, last.Gap.Count, last.Overlap.Count)
	}
	violated := false
	for _, c := range cps[:len(cps)-1] {
		violated = violated || !c.Holds()
	}
	if !violated {
		t.Errorf("no checkpoint before the restarts is violated; want the scale after the relabel to break the label selector")
	}
}

// TestStaleTotalShape checks the jump-hash consequence of a stale total: a
// stale larger total (relabel, then scale down) leaves a gap and no
// overlap; a stale smaller total (relabel, then scale up) an overlap and no
// gap.
func TestStaleTotalShape(t *testing.T) {
	for _, tc := range []struct {
		file        string
		wantGap     bool
		wantOverlap bool
	}{
		{file: "relabel-scale-down.json", wantGap: true},
		{file: "relabel.json", wantOverlap: true},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			_, rep := replayTraceFile(t, filepath.Join(traceDir, tc.file))
			res := resultFor(t, rep, "label-selector")
			var bad []sim.Checkpoint
			for _, c := range res.Checkpoints {
				if !c.Holds() {
					bad = append(bad, c)
				}
			}
			if len(bad) == 0 {
				t.Fatalf("no violated checkpoint; verdict: %s", sim.Verdict(res))
			}
			for _, c := range bad {
				if got := c.Gap.Count > 0; got != tc.wantGap {
					t.Errorf("step %d (%s): gap count %d, want gap=%v", c.Step, c.Op, c.Gap.Count, tc.wantGap)
				}
				if got := c.Overlap.Count > 0; got != tc.wantOverlap {
					t.Errorf("step %d (%s): overlap count %d, want overlap=%v", c.Step, c.Op, c.Overlap.Count, tc.wantOverlap)
				}
				if c.Complete != (c.Gap.Count == 0) || c.Disjoint != (c.Overlap.Count == 0) {
					t.Errorf("step %d (%s): complete=%v disjoint=%v disagree with gap %d, overlap %d",
						c.Step, c.Op, c.Complete, c.Disjoint, c.Gap.Count, c.Overlap.Count)
				}
			}
		})
	}
}
