package sim

import (
	"testing"

	"github.com/shardsim/shardsim/model"
)

// TestStoppedPodsAreDropped: what a step scans must not grow with the
// steps before it (issue 9: 100,000 steps took 94 s). After a long trace
// of scales and restarts the simulator holds only the incarnations not
// yet stopped, and finds an ordinal's latest one directly; the result is
// the same as before (TestRefoldReproducesEveryCheckpoint and the golden
// reports check that).
func TestStoppedPodsAreDropped(t *testing.T) {
	tr := longTrace(3000)
	for i := range tr.Steps {
		if i%3 == 0 && tr.Steps[i].Op == OpScale {
			tr.Steps[i] = Step{Op: OpRestart, Pods: []int{0}}
		}
	}
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, r := range model.Reducers() {
		s := New(tr, r, Options{})
		maxPods := 0
		for i := range tr.Steps {
			if err := s.Apply(i); err != nil {
				t.Fatal(err)
			}
			maxPods = max(maxPods, len(s.pods))
		}
		s.Close()
		if s.nextUID < 500 {
			t.Fatalf("%s: only %d pod incarnations created", r.Name(), s.nextUID)
		}
		if maxPods > MaxReplicas || maxPods > 2*8 {
			t.Errorf("%s: %d incarnations held at once (of %d created), want at most the live ones", r.Name(), maxPods, s.nextUID)
		}
		for o, p := range s.latest {
			if p != nil && p.ordinal != o {
				t.Errorf("%s: latest[%d] is a pod of ordinal %d", r.Name(), o, p.ordinal)
			}
		}
	}
}
