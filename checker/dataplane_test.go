package checker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

func release(t *testing.T, v string) model.Release {
	t.Helper()
	r, ok := model.ReleaseByVersion(v)
	if !ok {
		t.Fatalf("no release %s", v)
	}
	return r
}

// replayExport parses an exported data-plane trace and replays it with
// each reducer, returning whether each holds.
func replayExport(t *testing.T, x *DataPlaneExport, rs ...model.Reducer) []bool {
	t.Helper()
	tr, err := sim.ParseTrace(x.Trace.Name+".json", x.JSON)
	if err != nil {
		t.Fatalf("the exported trace does not parse: %v\n%s", err, x.JSON)
	}
	rep, err := sim.Replay(tr, rs, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]bool, len(rs))
	for i, r := range rep.Results {
		out[i] = r.Holds
	}
	return out
}

// TestDataPlane3065: v2.19.1's shortest data-plane counterexample is
// #3065: without the watch cache (and WatchList), the first LIST is paged
// and every shard keeps only what it owns of the first page. Its trace
// replays violated on v2.19.1 and holds on v2.20.0; v2.20.0 holds within
// the same bounds.
func TestDataPlane3065(t *testing.T) {
	res, err := CheckDataPlane(DataPlaneOptions{Reducer: release(t, "v2.19.1"), MaxReplicas: 3, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	cx := res.Counterexample
	if res.Holds || cx == nil {
		t.Fatal("v2.19.1 holds")
	}
	if cx.Ops() > 3 || cx.Server != (Server{false, false}) || cx.Initial < 2 {
		t.Fatalf("counterexample: %d ops on %s from %d replicas", cx.Ops(), cx.Server, cx.Initial)
	}
	last := cx.Result.Checkpoints[len(cx.Result.Checkpoints)-1]
	// Every pod keeps what it owns among the first page: the objects
	// after it are exported by no pod, none twice.
	if last.Gap.Count != last.Objects-DataPlanePageSize || last.Overlap.Count != 0 {
		t.Fatalf("gap %d, overlap %d of %d objects, want a gap of all but the first page", last.Gap.Count, last.Overlap.Count, last.Objects)
	}
	x, err := cx.Export("cx")
	if err != nil {
		t.Fatal(err)
	}
	if got := replayExport(t, x, release(t, "v2.19.1"), release(t, "v2.20.0")); got[0] || !got[1] {
		t.Fatalf("the trace holds on v2.19.1: %v, on v2.20.0: %v; want false, true\n%s", got[0], got[1], x.JSON)
	}
	if x.Trace.Expect["v2.19.1"] != sim.Violated {
		t.Errorf("expect %v", x.Trace.Expect)
	}

	fixed, err := CheckDataPlane(DataPlaneOptions{Reducer: release(t, "v2.20.0"), MaxReplicas: 3, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !fixed.Holds || fixed.Counterexample != nil || fixed.Reached != 3 {
		t.Fatalf("v2.20.0: holds %v, reached %d", fixed.Holds, fixed.Reached)
	}
	if fixed.Replays != uint64(sum(fixed.Layers)) || len(fixed.Layers) != 4 {
		t.Errorf("layers %v, replays %d", fixed.Layers, fixed.Replays)
	}
	if testing.Short() {
		return
	}
	// With every fault op too (about 15,000 replays, seconds).
	fixed, err = CheckDataPlane(DataPlaneOptions{Reducer: release(t, "v2.20.0"), MaxReplicas: 3, Depth: 3, Faults: allFaults})
	if err != nil {
		t.Fatal(err)
	}
	if !fixed.Holds {
		t.Fatalf("v2.20.0 with faults: %s", fixed.Counterexample.Summary())
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TestDataPlane3065FromOneReplica: from one replica (shard 0 of 1 is the
// plain ListWatch, which pages correctly) #3065 takes one op, a scale.
func TestDataPlane3065FromOneReplica(t *testing.T) {
	res, err := CheckDataPlane(DataPlaneOptions{Reducer: release(t, "v2.19.1"), MaxReplicas: 3, Depth: 3, fromOne: true})
	if err != nil {
		t.Fatal(err)
	}
	cx := res.Counterexample
	if cx == nil || cx.Ops() != 1 || cx.Steps[0].Op != sim.OpScale || cx.Server != (Server{false, false}) {
		t.Fatalf("counterexample %+v", cx)
	}
	x, err := cx.Export("cx")
	if err != nil {
		t.Fatal(err)
	}
	if got := replayExport(t, x, release(t, "v2.19.1"), release(t, "v2.20.0")); got[0] || !got[1] {
		t.Fatalf("holds on v2.19.1: %v, on v2.20.0: %v\n%s", got[0], got[1], x.JSON)
	}
	var b bytes.Buffer
	if err := res.WriteText(&b, x, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shortest counterexample: 1 op", "1. scale to ", "watch cache off, WatchList off", "violated at step 0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestDataPlane2973: v2.19.0's shortest counterexample is #2973 on the
// default API server: every pod is configured right, yet the pods whose
// shard does not own the bookmark's empty UID never sync and export
// nothing. v2.19.1 replays the trace and holds.
func TestDataPlane2973(t *testing.T) {
	res, err := CheckDataPlane(DataPlaneOptions{Reducer: release(t, "v2.19.0"), MaxReplicas: 3, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	cx := res.Counterexample
	if cx == nil || cx.Server != (Server{true, true}) || cx.Ops() > 3 {
		t.Fatalf("counterexample %+v", cx)
	}
	last := cx.Result.Checkpoints[len(cx.Result.Checkpoints)-1]
	empty := 0
	for i, p := range last.Pods {
		if p.Total != last.Replicas || p.Shard != int32(i) {
			t.Fatalf("pods %+v do not agree with spec.replicas=%d: not #2973's shape", last.Pods, last.Replicas)
		}
		if p.Exported == 0 {
			empty++
		}
	}
	if empty == 0 || last.Gap.Count == 0 || last.Overlap.Count != 0 {
		t.Fatalf("at %+v: want configured pods exporting nothing, a gap and no overlap", last)
	}
	x, err := cx.Export("cx")
	if err != nil {
		t.Fatal(err)
	}
	if got := replayExport(t, x, release(t, "v2.19.0"), release(t, "v2.19.1")); got[0] || !got[1] {
		t.Fatalf("holds on v2.19.0: %v, on v2.19.1: %v\n%s", got[0], got[1], x.JSON)
	}
}

// TestDataPlaneReleases: every release up to v2.19.1 drops the continue
// token (#3065), so each has a data-plane counterexample; v2.20.0 holds.
// With faults too, at smaller bounds.
func TestDataPlaneReleases(t *testing.T) {
	for _, r := range model.Releases() {
		for _, faults := range []Faults{0, allFaults} {
			depth := 2
			if testing.Short() && faults != 0 {
				depth = 1
			}
			res, err := CheckDataPlane(DataPlaneOptions{Reducer: r, MaxReplicas: 2, Depth: depth, Faults: faults})
			if err != nil {
				t.Fatal(err)
			}
			if want := r.Version == "v2.20.0"; res.Holds != want {
				t.Errorf("%s faults %q: holds %v, want %v", r.Version, faults, res.Holds, want)
			}
			if cx := res.Counterexample; cx != nil {
				if _, err := cx.Export("cx"); err != nil {
					t.Errorf("%s: %v", r.Version, err)
				}
			}
		}
	}
}

// TestDataPlaneDeterministic: the result does not depend on the number of
// workers.
func TestDataPlaneDeterministic(t *testing.T) {
	for _, v := range []string{"v2.19.1", "v2.20.0"} {
		var reports []string
		for _, w := range []int{1, 3, 8} {
			res, err := CheckDataPlane(DataPlaneOptions{Reducer: release(t, v), MaxReplicas: 2, Depth: 2, Faults: Compact | Disconnect, Workers: w, fromOne: true})
			if err != nil {
				t.Fatal(err)
			}
			j := res.JSON(nil, "")
			j.WallSeconds, j.Workers = 0, 0
			data, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			reports = append(reports, string(data))
		}
		for _, r := range reports[1:] {
			if r != reports[0] {
				t.Fatalf("%s: results differ with the number of workers:\n%s\n%s", v, reports[0], r)
			}
		}
	}
}

func TestDataPlaneTooManyReplays(t *testing.T) {
	_, err := CheckDataPlane(DataPlaneOptions{Reducer: release(t, "v2.20.0"), MaxReplicas: 3, Depth: 3, maxReplays: 100})
	var tm *TooManyReplaysError
	if !errors.As(err, &tm) || tm.Depth != 2 {
		t.Fatalf("err %v, want a TooManyReplaysError at 2 ops", err)
	}
}

// TestDataPlaneAlphabet pins the ops a path can take.
func TestDataPlaneAlphabet(t *testing.T) {
	d := newDataPlane(DataPlaneOptions{MaxReplicas: 2, Depth: 2, Faults: allFaults})
	st := d.state(dpPath{initial: 1})
	var names []string
	tr := func(op dpOp) string {
		return describeDataPlaneStep(d.trace(dpPath{initial: 1, ops: []dpOp{op}}, "", "").Steps[0])
	}
	for _, op := range d.alphabet(st, Servers[0]) {
		names = append(names, strings.Fields(tr(op))[0]+fmt.Sprint(op.arg))
	}
	if got, want := strings.Join(names, " "), "scale0 scale2 restart0 create0 delete0 compact0 disconnect0 cacheLag1"; got != want {
		t.Errorf("alphabet %s, want %s", got, want)
	}
	if n := len(d.alphabet(st, Servers[3])); n != len(names)-1 {
		t.Errorf("without the watch cache %d ops, want no cacheLag", n)
	}
	if len(d.initial) != DataPlaneObjects || DataPlaneObjects <= 2*DataPlanePageSize {
		t.Errorf("%d objects, pages of %d: want more than two pages", len(d.initial), DataPlanePageSize)
	}
}
