package properties_test

import (
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// mixedRapidChecks is the number of mixed traces TestMixedVerdictIsConjunction
// checks (a quarter with -short).
const mixedRapidChecks = 400

// mixedTrace is a generated mixed trace and its two parts: the
// StatefulSet's (ConfigMaps by autosharding) and the DaemonSet's (pods by
// node), and for each step of the mixed trace the index of the last step
// of each part at or before it (-1: none yet).
type mixedTrace struct {
	mixed, ss, ds *sim.Trace
	ssAt, dsAt    []int
}

// drawMixed draws a mixed trace under the eager schedule by interleaving
// the ops of the autosharding builder and the DaemonSet builder (evict
// among its ops): each op is drawn from one of them, and the mixed trace
// is the StatefulSet's cluster with the DaemonSet, nodes and pods added,
// and the ops in the order drawn. The parts are the two builders' own
// traces. Eager only: under the explicit schedule a settle, or a
// delivery's fallback to one, drains both parts of a mixed trace at once,
// so a part's later deliveries would not be what its own trace replays.
func drawMixed(t *rapid.T) mixedTrace {
	src := rapidSource{t}
	objects := rapid.SampledFrom([]int{20, properties.DefaultObjects}).Draw(t, "objects")
	sb := properties.NewBuilder(src, properties.GenConfig{Schedule: sim.Eager, Objects: objects})
	t.Cleanup(sb.Close)
	db := properties.NewDaemonSetBuilder(src, properties.ModeConfig{Schedule: sim.Eager, Unscheduled: properties.AnyUnscheduled, DottedNodes: true, Evict: true})
	t.Cleanup(db.Close)
	var m mixedTrace
	m.mixed = properties.CloneModeTrace(sb.Trace())
	m.mixed.Name = "generated-mixed"
	dsc := db.Trace().Cluster
	m.mixed.Cluster.DaemonSet, m.mixed.Cluster.Nodes, m.mixed.Cluster.Pods = dsc.DaemonSet, dsc.Nodes, dsc.Pods
	m.mixed = properties.CloneModeTrace(m.mixed)
	n := rapid.IntRange(1, 16).Draw(t, "ops")
	ssAt, dsAt := -1, -1
	for range n {
		var steps []sim.Step
		if src.Draw("part", 2) == 0 {
			k := len(sb.Trace().Steps)
			sb.Op(src)
			steps = sb.Trace().Steps[k:]
			ssAt += len(steps)
			for range steps {
				m.ssAt, m.dsAt = append(m.ssAt, ssAt), append(m.dsAt, dsAt)
			}
		} else {
			k := len(db.Trace().Steps)
			db.Op(src)
			steps = db.Trace().Steps[k:]
			for range steps {
				dsAt++
				m.ssAt, m.dsAt = append(m.ssAt, ssAt), append(m.dsAt, dsAt)
			}
		}
		m.mixed.Steps = append(m.mixed.Steps, steps...)
	}
	m.mixed = properties.CloneModeTrace(m.mixed)
	m.ss, m.ds = properties.CloneTrace(sb.Trace()), properties.CloneModeTrace(db.Trace())
	return m
}

// withoutUIDs returns a copy of c without the UIDs of its gap and
// overlap, keeping their counts.
func withoutUIDs(c *sim.NodeCheckpoint) *sim.NodeCheckpoint {
	if c == nil {
		return nil
	}
	v := *c
	v.Gap.UIDs, v.Overlap.UIDs = nil, nil
	return &v
}

// checkpointAt returns the checkpoint of res after step i (-1: the start).
func checkpointAt(res *sim.Result, i int) (sim.Checkpoint, bool) {
	for _, c := range res.Checkpoints {
		if c.Step == i {
			return c, true
		}
	}
	return sim.Checkpoint{}, false
}

// TestMixedVerdictIsConjunction: a compositional oracle for mixed traces,
// which have both a StatefulSet (ConfigMaps sharded by autosharding) and
// a DaemonSet (pods sharded by node). The two parts share the API server
// and nothing else a reducer reads, so at every quiescent point of a
// mixed trace, for every reducer (and v2.14.0, which knows
// --track-unscheduled-pods):
//
//   - complete (disjoint) is the conjunction of the ConfigMaps' complete
//     (disjoint) — the same trace with the DaemonSet, nodes, pods and
//     their ops removed — and the pods' — the same trace with the
//     StatefulSet, its objects and its ops removed —, each replayed on
//     its own at its last step at or before the point;
//   - the ConfigMaps' part of the point (pods, gap, overlap) is the
//     StatefulSet trace's, and the pods' part (Nodes) the DaemonSet
//     trace's, up to the UIDs of the gap and the overlap: a createPods
//     op's generated UIDs depend on its step's index, which the
//     interleaving changes (the counts must agree).
//
// Eager schedule only (see drawMixed).
func TestMixedVerdictIsConjunction(t *testing.T) {
	rapidChecks(t, mixedRapidChecks)
	reducers := model.Reducers()
	if r, ok := model.ReducerByName("v2.14.0"); ok {
		reducers = append(reducers, r)
	}
	verdicts := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		m := drawMixed(t)
		if err := m.mixed.Validate(); err != nil {
			t.Fatalf("the mixed trace is invalid: %v", err)
		}
		for _, r := range reducers {
			run := func(tr *sim.Trace) *sim.Result {
				res, err := sim.Run(tr, r, sim.Options{})
				if err != nil {
					t.Fatalf("%s: %v", r.Name(), err)
				}
				return res
			}
			mixed, ss, ds := run(m.mixed), run(m.ss), run(m.ds)
			fail := func(format string, args ...any) {
				data, _ := properties.Marshal(m.mixed)
				t.Fatalf("%s: %s\nthe mixed trace:\n%s", r.Name(), fmt.Sprintf(format, args...), data)
			}
			if len(mixed.Checkpoints) != len(m.mixed.Steps)+1 {
				fail("%d quiescent points for %d eager steps", len(mixed.Checkpoints), len(m.mixed.Steps))
			}
			for _, c := range mixed.Checkpoints {
				si, di := -1, -1
				if c.Step >= 0 {
					si, di = m.ssAt[c.Step], m.dsAt[c.Step]
				}
				a, ok1 := checkpointAt(ss, si)
				b, ok2 := checkpointAt(ds, di)
				if !ok1 || !ok2 {
					fail("after step %d: no quiescent point of the parts (ConfigMaps after their step %d: %v, pods after their step %d: %v)", c.Step, si, ok1, di, ok2)
				}
				verdicts[fmt.Sprintf("configmaps %v pods %v", a.Holds(), b.Holds())]++
				if c.Complete != (a.Complete && b.Complete) || c.Disjoint != (a.Disjoint && b.Disjoint) {
					fail("after step %d (%s): mixed complete=%v disjoint=%v; ConfigMaps complete=%v disjoint=%v; pods complete=%v disjoint=%v",
						c.Step, c.Op, c.Complete, c.Disjoint, a.Complete, a.Disjoint, b.Complete, b.Disjoint)
				}
				if !reflect.DeepEqual(c.Pods, a.Pods) || !reflect.DeepEqual(c.Gap, a.Gap) || !reflect.DeepEqual(c.Overlap, a.Overlap) {
					fail("after step %d (%s): the ConfigMaps' part differs: mixed %v gap %d overlap %d, alone %v gap %d overlap %d",
						c.Step, c.Op, c.Pods, c.Gap.Count, c.Overlap.Count, a.Pods, a.Gap.Count, a.Overlap.Count)
				}
				if !reflect.DeepEqual(withoutUIDs(c.Nodes), withoutUIDs(b.Nodes)) {
					fail("after step %d (%s): the pods' part differs:\nmixed %+v\nalone %+v", c.Step, c.Op, c.Nodes, b.Nodes)
				}
			}
		}
	})
	replayHint(t)
	t.Logf("quiescent points by the parts' verdicts: %v", verdicts)
	if !t.Failed() && len(verdicts) < 4 {
		t.Errorf("the mixed traces do not reach every combination of the parts' verdicts: %v", verdicts)
	}
}
