package sim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// unfixed names the bug traces of bugs no release fixes: their expect
// names affected releases only.
var unfixed = map[string]bool{"1187-scale-up-stores-rebuild": true}

// TestBugTraces replays every trace in traces/bugs against the releases
// its expect names (and the named reducers) and checks their verdicts.
func TestBugTraces(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(traceDir, "bugs", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bug traces: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			tr, rep := replayTraceFile(t, path)
			for name, want := range tr.Expect {
				res := resultFor(t, rep, name)
				got := sim.Violated
				if res.Holds {
					got = sim.Holds
				}
				if got != want {
					t.Errorf("%s: %s, want %s\n  verdict: %s", name, got, want, sim.Verdict(res))
				}
				// A result that holds under a judgement that includes the
				// transient points has no transient violation of the
				// judged properties to report.
				if v := sim.Verdict(res); tr.Judge == sim.JudgeEveryPoint && res.Holds && strings.Contains(v, "transient violations") {
					t.Errorf("%s holds at every point, yet its verdict reports transient violations: %s", name, v)
				}
			}
		})
	}
}

// TestBugCatalogue checks the shape of every trace in traces/bugs (their
// verdicts are TestTraces'): named by its KSM issue (or saying it has
// none), described, and expecting an affected release (violated) and the
// release that fixed it (holds, and later than the affected one).
func TestBugCatalogue(t *testing.T) {
	dir := filepath.Join(traceDir, "bugs")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 6 {
		t.Fatalf("%s has %d traces, want one per known bug (at least 6)", dir, len(entries))
	}
	order := map[string]int{}
	for i, v := range model.ReleaseVersions() {
		order[v] = i
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		t.Run(name, func(t *testing.T) {
			tr, err := sim.LoadTrace(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if tr.Name != name {
				t.Errorf("name %q, want the file's name %q", tr.Name, name)
			}
			if len(tr.Description) < 100 {
				t.Errorf("description too short for a KSM user to recognise the bug: %q", tr.Description)
			}
			affected, fixed := -1, -1
			for r, verdict := range tr.Expect {
				i, ok := order[r]
				if !ok {
					t.Errorf("expect names %s, want KSM releases only", r)
					continue
				}
				switch verdict {
				case sim.Violated:
					affected = max(affected, i)
				case sim.Holds:
					fixed = max(fixed, i)
				}
			}
			switch {
			case affected < 0:
				t.Errorf("expect names no affected release (violated): %v", tr.Expect)
			case unfixed[name]:
				if fixed >= 0 {
					t.Errorf("listed as unfixed, yet expect names a release where it holds: %v", tr.Expect)
				}
			case fixed < 0:
				t.Errorf("expect names no fixing release (holds): %v", tr.Expect)
			case fixed < affected:
				t.Errorf("the fixing release is older than the affected one: %v", tr.Expect)
			}
		})
	}
}
