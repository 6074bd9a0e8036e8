package ksm_test

import (
	"path/filepath"
	"testing"

	"github.com/shardsim/shardsim/sim"
)

// TestFaultTracesAgree replays the fault traces (traces/faults: no watch
// cache and a paged list, compaction and disconnect, a lagging watch
// cache) on the model and on real KSM v2.12.0 and v2.13.0, and requires
// the same pods, exports and verdicts at every quiescent point, and at
// every transient point too unless the trace schedules the data plane
// ("dataPlane": "explicit"): the ksm backend answers the objects' LIST
// and WATCH requests at once, so between quiescent points its stores are
// ahead of the model's scheduled pages and events.
func TestFaultTracesAgree(t *testing.T) {
	files, err := filepath.Glob("../traces/faults/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fault traces under ../traces/faults (%v)", err)
	}
	for _, m := range modelled {
		t.Run(m.release, func(t *testing.T) {
			nb := backend(t, m.release)
			for _, file := range files {
				tr, err := sim.LoadTrace(file)
				if err != nil {
					t.Fatal(err)
				}
				want, err := run(t, tr, m.reducer, nil)
				if err != nil {
					t.Fatalf("%s: model: %v", file, err)
				}
				got, err := run(t, tr, m.reducer, nb)
				if err != nil {
					t.Fatalf("%s: kube-state-metrics %s: %v", file, m.release, err)
				}
				if tr.DataPlane == sim.Explicit {
					want.Transient, got.Transient = nil, nil
				}
				if d := disagreement(want, got); d != "" {
					t.Errorf("%s: %s disagrees with the %s model: %s", file, m.release, m.reducer.Name(), d)
				}
				if e, ok := tr.Expect[m.reducer.Name()]; ok && (e == sim.Holds) != got.Holds {
					t.Errorf("%s: kube-state-metrics %s: holds=%v, the trace expects %s", file, m.release, got.Holds, e)
				}
			}
		})
	}
}
