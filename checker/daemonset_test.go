package checker

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

func dsRelease(t *testing.T, v string) model.Reducer {
	t.Helper()
	r, ok := model.ReducerByName(v)
	if !ok {
		t.Fatalf("no release %s", v)
	}
	return r
}

// TestDaemonSetTrackHolds: from v2.14.0, with the unscheduled pods
// tracked and no taint, complete and disjoint hold at every quiescent
// point of every path and delivery order, node names with dots too.
func TestDaemonSetTrackHolds(t *testing.T) {
	for _, v := range []string{"v2.14.0", "v2.20.0"} {
		res, cx, err := CheckDaemonSet(DaemonSetOptions{Reducer: dsRelease(t, v), MaxNodes: 2, Depth: 2, Unscheduled: sim.UnscheduledTrack, Dotted: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Holds || cx != nil {
			t.Fatalf("%s violated: %v", v, cx.Steps)
		}
		if res.Quiescent == 0 || len(res.Layers) != 3 {
			t.Fatalf("%s: %d quiescent states, layers %v", v, res.Quiescent, res.Layers)
		}
	}
}

// TestDaemonSetCounterexamples: the shortest counterexamples are the
// known ones: a taint (one op), v2.13.0's unknown --track-unscheduled-pods
// and its stripped dotted node names (at the start); each replays
// violated from its trace file.
func TestDaemonSetCounterexamples(t *testing.T) {
	for _, tc := range []struct {
		o    DaemonSetOptions
		ops  int
		want string
	}{
		{DaemonSetOptions{Reducer: dsRelease(t, "v2.20.0"), MaxNodes: 2, Depth: 2, Unscheduled: sim.UnscheduledTrack, Taints: true}, 1, "tainted"},
		{DaemonSetOptions{Reducer: dsRelease(t, "v2.13.0"), MaxNodes: 1, Depth: 1, Unscheduled: sim.UnscheduledTrack}, 0, "unknown flag: --track-unscheduled-pods"},
		{DaemonSetOptions{Reducer: dsRelease(t, "v2.12.0"), MaxNodes: 1, Depth: 1, Dotted: true}, 0, "ec2internal"},
	} {
		_, cx, err := CheckDaemonSet(tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if cx == nil || cx.Ops() != tc.ops {
			t.Fatalf("%s: counterexample %v, want %d ops", tc.o.Bounds(), cx, tc.ops)
		}
		data, err := formatTrace(cx.Trace("cx"))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := sim.ParseTrace("cx.json", data)
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		res, err := sim.Run(parsed, tc.o.Reducer, sim.Options{})
		if err != nil || res.Holds || !strings.Contains(sim.Verdict(res), tc.want) {
			t.Fatalf("replay: %v, %s\n%s", err, sim.Verdict(res), data)
		}
	}
}

// TestDaemonSetReduction: counting the KSM pods' deliveries per node
// instead of keeping their order loses nothing: the reduced and the
// unreduced exploration reach the same quiescent points (the ops, and
// what each KSM pod exports there) and the same verdict.
func TestDaemonSetReduction(t *testing.T) {
	points := func(noReduce bool) ([]string, *StaticResult) {
		seen := map[string]bool{}
		o := DaemonSetOptions{Reducer: dsRelease(t, "v2.14.0"), MaxNodes: 2, Depth: 2, Unscheduled: sim.UnscheduledTrack, noReduce: noReduce}
		o.visit = func(p dsPath, r *sim.Result) {
			var ops []dsOp
			for _, s := range p.segs {
				ops = append(ops, s.op)
			}
			c := r.Checkpoints[len(r.Checkpoints)-1]
			seen[fmt.Sprintf("%d %d %v %v %v %v", p.nodes, p.unscheduled, ops, c.Nodes.Instances, c.Complete, c.Disjoint)] = true
		}
		res, _, err := CheckDaemonSet(o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for k := range seen {
			out = append(out, k)
		}
		slices.Sort(out)
		return out, res
	}
	reduced, rr := points(false)
	full, fr := points(true)
	if rr.Holds != fr.Holds || !slices.Equal(reduced, full) {
		t.Fatalf("reduced holds %v, %d quiescent points; unreduced holds %v, %d", rr.Holds, len(reduced), fr.Holds, len(full))
	}
	if rr.States >= fr.States {
		t.Errorf("the reduction saves nothing: %d states, %d without", rr.States, fr.States)
	}
	t.Logf("%d states reduced, %d unreduced, %d quiescent points", rr.States, fr.States, len(reduced))
}
