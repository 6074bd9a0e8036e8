package ksm_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/sim"
)

// TestStaticTracesAgree replays every static sharding trace
// (traces/static: Deployments whose KSM pods run with --shard and
// --total-shards, no --pod) on the model and on real KSM v2.12.0 and
// v2.13.0 (the releases the suite builds anyway), windows measured, and
// requires the same pods' configurations and exports, verdicts, gap and
// overlap UID sets at every checkpoint and transient point, the windows
// within the bounds checkAgreement allows (real KSM's stores are never
// behind the model's), and the verdicts the trace expects. Every pod must
// have started through KSM's own "Autosharding disabled" path: its
// configuration read back from KSM after its start (Deliver(Started)
// fails otherwise) and exporting objects.
func TestStaticTracesAgree(t *testing.T) {
	files, err := filepath.Glob("../traces/static/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 static sharding traces, got %d (%v)", len(files), err)
	}
	for _, m := range modelled {
		t.Run(m.release, func(t *testing.T) {
			nb := backend(t, m.release)
			for _, file := range files {
				tr, err := sim.LoadTrace(file)
				if err != nil {
					t.Fatal(err)
				}
				want, err := sim.Run(tr, m.reducer, sim.Options{Windows: true})
				if err != nil {
					t.Fatalf("%s: model: %v", file, err)
				}
				got, err := sim.Run(tr, m.reducer, sim.Options{Backend: nb, Windows: true})
				if err != nil {
					t.Fatalf("%s: kube-state-metrics %s: %v", file, m.release, err)
				}
				if d := disagreement(want, got); d != "" {
					t.Errorf("%s: %s disagrees with the %s model: %s", file, m.release, m.reducer.Name(), d)
				}
				if d := windowDisagreement(want.Windows, got.Windows); d != "" {
					t.Errorf("%s: %s disagrees with the %s model: %s", file, m.release, m.reducer.Name(), d)
				}
				if e, ok := tr.Expect[m.reducer.Name()]; ok && (e == sim.Holds) != got.Holds {
					t.Errorf("%s: kube-state-metrics %s: holds=%v, the trace expects %s", file, m.release, got.Holds, e)
				}
				starts := 0
				for _, e := range got.Log {
					if e.Kind != sim.LogStarted {
						continue
					}
					starts++
					if !strings.Contains(e.Outcome, "autosharding disabled: KSM started with --shard=") || !strings.Contains(e.Outcome, "configured "+e.Config.String()) {
						t.Errorf("%s: pod %s started with outcome %q, config %s", file, e.PodUID, e.Outcome, e.Config)
					}
				}
				if starts == 0 {
					t.Errorf("%s: no KSM pod started without autosharding", file)
				}
				exported := 0
				for _, c := range got.Checkpoints {
					for _, p := range c.Pods {
						exported += p.Exported
					}
				}
				if exported == 0 {
					t.Errorf("%s: no KSM pod exported anything at any checkpoint", file)
				}
			}
		})
	}
}
