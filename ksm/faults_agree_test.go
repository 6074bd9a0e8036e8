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
				checkAgreement(t, m, nb, file, tr)
			}
		})
	}
}
