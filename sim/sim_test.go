package sim

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
)

func mustParse(t *testing.T, doc string) *Trace {
	t.Helper()
	tr, err := ParseTrace("test.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

const churnTrace = `{
  "name": "churn",
  "cluster": {"namespace": "monitoring",
    "statefulSet": {"name": "ksm", "labels": {"app": "ksm", "v": "1"}, "replicas": 3},
    "objects": {"generate": 500, "seed": 7}},
  "schedule": "explicit",
  "steps": [
    {"op": "settle"},
    {"op": "scale", "replicas": 5},
    {"op": "deliver", "pod": 0, "count": 1},
    {"op": "relabel", "labels": {"app": "ksm", "v": "2"}},
    {"op": "restart", "pods": [1, 3]},
    {"op": "deliver", "pod": 1, "count": 2},
    {"op": "create", "generate": 50, "seed": 3},
    {"op": "scale", "replicas": 2},
    {"op": "settle"},
    {"op": "relabel", "labels": {"app": "ksm", "v": "1"}},
    {"op": "settle"}
  ]
}`

// TestRefoldReproducesEveryCheckpoint checks the event-sourcing claim: at
// every checkpoint, folding the log up to that step gives exactly the pod
// configurations the simulator reported.
func TestRefoldReproducesEveryCheckpoint(t *testing.T) {
	tr := mustParse(t, churnTrace)
	for _, r := range model.Reducers() {
		res, err := Run(tr, r, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Checkpoints) < 3 {
			t.Fatalf("%s: only %d checkpoints", r.Name(), len(res.Checkpoints))
		}
		for _, c := range res.Checkpoints {
			var got []PodConfig
			states := Refold(r, "ksm", res.Log, c.Step)
			for _, s := range states {
				if s.Serving() {
					got = append(got, PodConfig{Pod: ordinalOf(t, s.Name), Shard: s.Config.Shard, Total: s.Config.Total})
				}
			}
			slices.SortFunc(got, func(a, b PodConfig) int { return a.Pod - b.Pod })
			reported := slices.Clone(c.Pods)
			for i := range reported {
				reported[i].Exported = 0 // the data plane, which the log does not refold
			}
			if !slices.Equal(got, reported) {
				t.Errorf("%s step %d: refold gives %v, simulator reported %v", r.Name(), c.Step, got, c.Pods)
			}
		}
	}
}

func ordinalOf(t *testing.T, podName string) int {
	t.Helper()
	var o int
	for _, ch := range podName[len("ksm-"):] {
		o = o*10 + int(ch-'0')
	}
	return o
}

// TestExplicitScheduleTransient checks that a step ending with undelivered
// items is a transient entry, not a checkpoint, and fails only when strict.
func TestExplicitScheduleTransient(t *testing.T) {
	tr := mustParse(t, `{
	  "name": "transient",
	  "cluster": {"namespace": "monitoring",
	    "statefulSet": {"name": "ksm", "labels": {"app": "ksm"}, "replicas": 2},
	    "objects": {"generate": 300, "seed": 1}},
	  "schedule": "explicit",
	  "steps": [
	    {"op": "settle"},
	    {"op": "scale", "replicas": 3},
	    {"op": "deliver", "pod": 0, "count": 1},
	    {"op": "settle"}
	  ]
	}`)
	r := model.FieldSelector{}
	res, err := Run(tr, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Holds || len(res.Checkpoints) != 3 || len(res.Transient) != 2 {
		t.Fatalf("holds %v, %d checkpoints, %d transient; want true, 3 (initial, settle, settle), 2", res.Holds, len(res.Checkpoints), len(res.Transient))
	}
	// After pod 0 alone learned of the scale, pods hold 0/3 1/2 and pod 2
	// has not started: the objects jump hash moves from shard 0 to the new
	// shard 2 are exported by nobody.
	mid := res.Transient[1]
	if mid.Complete || mid.Gap.Count == 0 || !mid.Disjoint || mid.Pending == 0 {
		t.Fatalf("transient after the first delivery: %+v", mid)
	}
	strict, err := Run(tr, r, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if strict.Holds {
		t.Fatal("strict mode ignored a transient violation")
	}
}

func TestDeliverFromEmptyInbox(t *testing.T) {
	tr := mustParse(t, `{
	  "name": "empty",
	  "cluster": {"namespace": "monitoring", "statefulSet": {"name": "ksm", "replicas": 1}, "objects": {"generate": 1}},
	  "schedule": "explicit",
	  "steps": [{"op": "deliver", "pod": 0, "count": 3}]
	}`)
	_, err := Run(tr, model.FieldSelector{}, Options{})
	if err == nil || err.Error() != "steps[0].count: pod 0's inbox ran empty after 0 of 3 deliveries" {
		t.Fatalf("err = %v", err)
	}
}

// TestWindows checks the transient windows measured inside eager drains:
// during a scale the pods learn of it one after the other, so the
// field-selector reducer violates the properties between quiescent points
// (normal) while holding at every one of them; strict checking fails it.
// Measuring windows must not change anything else.
func TestWindows(t *testing.T) {
	tr := mustParse(t, `{
	  "name": "windows",
	  "cluster": {"namespace": "monitoring",
	    "statefulSet": {"name": "ksm", "labels": {"app": "ksm"}, "replicas": 2},
	    "objects": {"generate": 500, "seed": 1}},
	  "steps": [{"op": "scale", "replicas": 4}, {"op": "relabel", "labels": {"app": "ksm", "v": "2"}}]
	}`)
	r := model.FieldSelector{}
	plain, err := Run(tr, r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(tr, r, Options{Windows: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Holds || len(res.Windows) != 1 {
		t.Fatalf("holds %v, windows %+v; want holds and one window (the scale; the relabel changes no configuration)", res.Holds, res.Windows)
	}
	w := res.Windows[0]
	// Pods 0 and 1 reconfigure from 2 to 4 shards, pods 2 and 3 start:
	// four deliveries change a configuration, and each rebuilds that
	// pod's store, empty until its LIST is delivered (#1187): eight
	// states, the last one settled.
	if w.Step != 0 || w.Op != "scale" || w.States != 8 || w.Violated != 7 || w.MaxGap == 0 {
		t.Fatalf("window %+v", w)
	}
	res.Windows = nil
	if !reflect.DeepEqual(plain.Checkpoints, res.Checkpoints) {
		t.Fatal("measuring windows changed the checkpoints")
	}
	strict, err := Run(tr, r, Options{Windows: true, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if strict.Holds {
		t.Fatal("strict checking ignored a violated window")
	}
	if v := Verdict(strict); !strings.HasPrefix(v, "VIOLATED (strict)") {
		t.Fatalf("verdict %q", v)
	}
}
