package checker

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestFieldSelectorHolds is the first half of the "done when":
// with up to 3 replicas and 3 ops the field selector holds for all UIDs.
func TestFieldSelectorHolds(t *testing.T) {
	res, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: 3, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Holds || res.Counterexample != nil || res.Reached != 3 || res.Classes != 4 {
		t.Fatalf("field-selector M=3 K=3: holds %v, reached %d, %d classes", res.Holds, res.Reached, res.Classes)
	}
}

// TestLabelSelectorCounterexample is the second half: the label selector
// fails after two ops, one of them a relabel, and the exported trace
// replays to violated with the simulator.
func TestLabelSelectorCounterexample(t *testing.T) {
	res, err := Check(Options{Reducer: model.LabelSelector{}, MaxReplicas: 3, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	cx := res.Counterexample
	if res.Holds || cx == nil {
		t.Fatal("label-selector M=3 K=3 holds")
	}
	if cx.Ops() != 2 || res.Reached != 2 {
		t.Fatalf("counterexample with %d ops (reached %d), want 2", cx.Ops(), res.Reached)
	}
	var relabels int
	for _, st := range cx.steps {
		if st < tScale {
			relabels++
		}
	}
	if relabels != 1 {
		t.Fatalf("counterexample with %d relabels, want 1", relabels)
	}
	x, err := cx.Export("check-label-selector-m3-k3")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := sim.ParseTrace("exported.json", x.JSON)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Replay(parsed, []model.Reducer{model.LabelSelector{}}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Holds() || parsed.Expect["label-selector"] != sim.Violated || parsed.Schedule != sim.Explicit {
		t.Fatalf("exported trace: holds %v, expect %v, schedule %s", rep.Holds(), parsed.Expect, parsed.Schedule)
	}
	for c, u := range x.UIDs {
		if got := cx.sys.classes.Of(model.HashUID(u)); got != c {
			t.Fatalf("UID %s is of class %d, chosen for %d", u, got, c)
		}
	}
	text := strings.Join(cx.Describe(), "\n")
	for _, want := range []string{"relabel", "scale", "DELETED", "NOT COMPLETE"} {
		if !strings.Contains(text, want) {
			t.Errorf("description lacks %q:\n%s", want, text)
		}
	}
}

// TestGetListRace: with one replica the only label-selector failure is
// the race of traces/get-list-race.json: a restart, the GET, a relabel,
// then the LIST finds nothing. The counterexample has explicit deliveries,
// and the exported trace replays to violated.
func TestGetListRace(t *testing.T) {
	res, err := Check(Options{Reducer: model.LabelSelector{}, MaxReplicas: 1, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	cx := res.Counterexample
	if cx == nil || cx.Ops() != 2 || cx.Deliveries() == 0 {
		t.Fatalf("want a 2-op counterexample with deliveries, got %+v", cx)
	}
	x, err := cx.Export("race")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, st := range x.Trace.Steps {
		ops = append(ops, st.Op)
	}
	if want := []string{"restart", "deliver", "relabel", "deliver", "settle"}; !slices.Equal(ops, want) {
		t.Fatalf("trace ops %v, want %v\n%s", ops, want, x.JSON)
	}
	if len(cx.Verdict.GapClasses()) == 0 {
		t.Fatalf("want a gap, got %+v", cx.Verdict)
	}
}

// TestWorkersDoNotChangeTheResult runs the same explorations with 1, 2, 3
// and 8 workers and tiny batches and chunks (so that many chunks run in
// parallel): the counts, the order of the distinct states, and the
// counterexample are identical.
func TestWorkersDoNotChangeTheResult(t *testing.T) {
	for _, tc := range []struct {
		r          model.Reducer
		m, k       int
		exhaustive bool
		noEager    bool
	}{
		{model.LabelSelector{}, 4, 4, true, false},
		{model.LabelSelector{}, 4, 3, false, false},
		{model.FieldSelector{}, 5, 5, true, true},
	} {
		sys := mustSystem(t, tc.r, tc.m)
		var first *Result
		var firstStates []uint64
		for _, w := range []int{1, 2, 3, 8} {
			res, e, err := sys.explore(Options{Depth: tc.k, Workers: w, Exhaustive: tc.exhaustive, NoEagerStarts: tc.noEager, batch: 300, chunk: 7})
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first, firstStates = res, e.states
				continue
			}
			if res.Holds != first.Holds || res.Explored != first.Explored || res.Distinct != first.Distinct ||
				res.Quiescent != first.Quiescent || res.Violating != first.Violating || res.Reached != first.Reached {
				t.Fatalf("%s M=%d K=%d: %d workers give %+v, 1 worker %+v", tc.r.Name(), tc.m, tc.k, w, res, first)
			}
			if !slices.Equal(e.states, firstStates) {
				t.Fatalf("%s: %d workers discover the states in another order", tc.r.Name(), w)
			}
			if (res.Counterexample == nil) != (first.Counterexample == nil) ||
				res.Counterexample != nil && (!slices.Equal(res.Counterexample.steps, first.Counterexample.steps) || res.Counterexample.Initial != first.Counterexample.Initial) {
				t.Fatalf("%s: %d workers choose another counterexample", tc.r.Name(), w)
			}
		}
		// The default batch and chunk sizes explore the same states.
		res, err := sys.Check(Options{Depth: tc.k, Exhaustive: tc.exhaustive, NoEagerStarts: tc.noEager})
		if err != nil {
			t.Fatal(err)
		}
		if res.Distinct != first.Distinct || res.Explored != first.Explored && tc.exhaustive {
			t.Fatalf("default sizes: %d distinct, %d explored; small: %d, %d", res.Distinct, res.Explored, first.Distinct, first.Explored)
		}
	}
}

// TestSaturation: the field selector's reachable states stop growing after
// two ops, and the checker says so.
func TestSaturation(t *testing.T) {
	res, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: 4, Depth: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Holds || !res.Saturated || res.SaturatedAt != 2 || res.Reached != 10 {
		t.Fatalf("saturated %v at %d, reached %d", res.Saturated, res.SaturatedAt, res.Reached)
	}
	small, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: 4, Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if small.Distinct != res.Distinct {
		t.Fatalf("depth 2: %d distinct states, depth 10: %d", small.Distinct, res.Distinct)
	}
}

func TestDepthZero(t *testing.T) {
	for _, r := range model.Reducers() {
		res, err := Check(Options{Reducer: r, MaxReplicas: 4, Depth: 0})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Holds || res.Distinct != 4 || res.Quiescent != 4 {
			t.Fatalf("%s depth 0: %+v", r.Name(), res)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Reducer: model.FieldSelector{}, MaxReplicas: 0, Depth: 1},
		{Reducer: model.FieldSelector{}, MaxReplicas: MaxReplicas + 1, Depth: 1},
		{Reducer: model.FieldSelector{}, MaxReplicas: 2, Depth: -1},
		{MaxReplicas: 2, Depth: 1},
	} {
		if _, err := Check(o); err == nil {
			t.Errorf("Check(%+v) succeeded", o)
		}
	}
}

func TestProgressString(t *testing.T) {
	p := Progress{Depth: 3, Explored: 1234567, Distinct: 1000, Frontier: 12, Elapsed: 2 * time.Second}
	want := "depth 3: 1,234,567 states explored, 1,000 distinct, frontier 12, 617k states/s, 2s"
	if got := p.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestProgressCallback: a run longer than two seconds reports progress
// from another goroutine; a short one does not.
func TestProgressCallback(t *testing.T) {
	called := false
	_, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: 3, Depth: 3, Progress: func(Progress) { called = true }})
	if err != nil {
		t.Fatal(err)
	}
	if called {
		t.Fatal("progress reported for a run shorter than two seconds")
	}
}

// TestTooManyStates: an exploration that would keep more distinct states
// than a 32-bit index addresses stops with a TooManyStatesError instead of
// truncating indexes (the limit is lowered to make the test fast); at the
// limit itself it completes. Workers out of range are refused.
func TestTooManyStates(t *testing.T) {
	sys := mustSystem(t, model.LabelSelector{}, 3)
	full, _, err := sys.explore(Options{Depth: 3, Exhaustive: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit int
		fail  bool
	}{
		{int(full.Distinct) - 1, true},
		{50, true},
		{int(full.Distinct), false},
	} {
		res, _, err := sys.explore(Options{Depth: 3, Exhaustive: true, maxStates: tc.limit, batch: 64, chunk: 8})
		var tm *TooManyStatesError
		if !tc.fail {
			if err != nil || res.Distinct != full.Distinct {
				t.Errorf("limit %d: %v, %+v", tc.limit, err, res)
			}
			continue
		}
		if !errors.As(err, &tm) || res != nil || tm.Limit != uint64(tc.limit) || !strings.Contains(err.Error(), "32-bit state index") {
			t.Errorf("limit %d of %d states: %v, %+v", tc.limit, full.Distinct, err, res)
		}
	}
	for _, w := range []int{-1, MaxWorkers + 1, 1000000} {
		if _, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: 2, Depth: 1, Workers: w}); err == nil || !strings.Contains(err.Error(), "workers must be between 0") {
			t.Errorf("workers %d: %v", w, err)
		}
	}
	if MaxStates != 1<<32-1 {
		t.Errorf("MaxStates %d", MaxStates)
	}
}
