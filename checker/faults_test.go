package checker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

var faultSets = []Faults{Compact, Disconnect, CacheLag, Compact | Disconnect, Compact | CacheLag, Disconnect | CacheLag, allFaults}

func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want Faults
		err  string
	}{
		{nil, 0, ""},
		{[]string{"compact", "disconnect"}, Compact | Disconnect, ""},
		{[]string{"cacheLag", "compact", "disconnect"}, allFaults, ""},
		{[]string{"compact", "nope"}, 0, `unknown fault "nope": want a comma-separated subset of compact,disconnect,cacheLag`},
		{[]string{"cachelag"}, 0, `unknown fault "cachelag"`},
		{[]string{"compact", "compact"}, 0, "fault compact is given twice"},
		{[]string{""}, 0, "empty fault name"},
	} {
		got, err := ParseFaults(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseFaults(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseFaults(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := ParseFaults(got.Names()); err != nil || back != got {
			t.Errorf("%v does not round-trip: %v, %v", got, back, err)
		}
	}
	if got := allFaults.String(); got != "compact,disconnect,cacheLag" {
		t.Errorf("String() = %q", got)
	}
}

// TestFaultsFieldSelectorHolds: the field selector holds with every fault
// op, and the faults add no distinct state (every pod's selector matches
// every StatefulSet, so relists, replays and lagging LISTs all end at the
// current one): only the explored transitions grow.
func TestFaultsFieldSelectorHolds(t *testing.T) {
	for _, b := range []struct{ m, k int }{{4, 4}, {MaxReplicas, MaxReplicas}} {
		plain, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: b.m, Depth: b.k})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range faultSets {
			res, err := Check(Options{Reducer: model.FieldSelector{}, MaxReplicas: b.m, Depth: b.k, Faults: f})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Holds || !res.Liveness || res.Counterexample != nil || res.Faults != f {
				t.Fatalf("field-selector %s M=%d K=%d: holds %v, liveness %v", f, b.m, b.k, res.Holds, res.Liveness)
			}
			if res.Distinct != plain.Distinct || res.Quiescent != plain.Quiescent || res.Explored <= plain.Explored {
				t.Fatalf("field-selector %s M=%d K=%d: %d distinct, %d quiescent, %d explored; without faults %d, %d, %d",
					f, b.m, b.k, res.Distinct, res.Quiescent, res.Explored, plain.Distinct, plain.Quiescent, plain.Explored)
			}
		}
	}
}

// TestFaultsLabelSelectorRelabelBug: with faults the label selector still
// fails after a relabel and a scale, the shortest counterexample of two
// ops, which the simulator replays to violated.
func TestFaultsLabelSelectorRelabelBug(t *testing.T) {
	for _, f := range faultSets {
		res, err := Check(Options{Reducer: model.LabelSelector{}, MaxReplicas: 3, Depth: 3, Faults: f})
		if err != nil {
			t.Fatal(err)
		}
		cx := res.Counterexample
		if res.Holds || res.Liveness || cx == nil || cx.Ops() != 2 || cx.Deliveries() != 0 {
			t.Fatalf("%s: holds %v, liveness %v, counterexample %+v", f, res.Holds, res.Liveness, cx)
		}
		if got := cx.Summary(); !strings.Contains(got, "relabel to changed value, then scale to 1") {
			t.Errorf("%s: %s", f, got)
		}
		x, err := cx.Export("relabel-bug")
		if err != nil {
			t.Fatal(err)
		}
		if x.Replay.Holds || x.Trace.Schedule != sim.Explicit {
			t.Fatalf("%s: the exported trace holds", f)
		}
	}
}

// TestFaultOnlyCounterexamples finds, with the label selector, quiescent
// configurations that violate the properties and that no path without
// faults reaches within the same bounds, and exports the path to each: the
// trace has the fault steps (with a disconnect, the deliveries around it
// that make its re-watch get 410 Gone), and the simulator replays it to
// the same violation. One: from 2 replicas, scale to 3, relabel to a
// changed value, compact, disconnect pod 1: pod 1 drops its queued
// MODIFIED and DELETED, relists, finds nothing and keeps 1/2 beside pod
// 0's 0/3. Another: from 1 replica, scale to 2, compact, cacheLag 1,
// relabel: the new pod 1's LIST reads the StatefulSet before the scale
// (1 replica), its watch gets 410, and its relist after the relabel finds
// nothing, so it keeps 1/1 and exports nothing.
func TestFaultOnlyCounterexamples(t *testing.T) {
	for _, tc := range []struct {
		m, k int
		f    Faults
		want []string
	}{
		{3, 4, Compact | Disconnect, []string{sim.OpCompact, sim.OpDisconnect}},
		{2, 4, Compact | CacheLag, []string{sim.OpCompact, sim.OpCacheLag}},
	} {
		found := faultOnlyCounterexamples(t, tc.m, tc.k, tc.f, tc.want)
		if found == 0 {
			t.Fatalf("%s M=%d K=%d: no violation that only faults reach", tc.f, tc.m, tc.k)
		}
	}
}

func faultOnlyCounterexamples(t *testing.T, m, k int, f Faults, want []string) int {
	sys := mustSystem(t, model.LabelSelector{}, m)
	plain := checkerExplore(t, sys, k, false, 1)
	fsys := mustFaultSystem(t, model.LabelSelector{}, m, f)
	_, e, err := fsys.explore(Options{Depth: k, Exhaustive: true})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	var st state
	for i, key := range e.states {
		fsys.decode(key, &st)
		if !fsys.quiescent(&st) || fsys.evaluate(&st).Holds() {
			continue
		}
		cfg := fsys.configuration(&st)
		if _, ok := plain.configs[cfg.String()]; ok {
			continue
		}
		found++
		cx := e.counterexample(i)
		x, err := cx.Export(fmt.Sprintf("fault-only-%d", i))
		if err != nil {
			t.Fatalf("%s: %v", cfg, err)
		}
		var ops []string
		for _, s := range x.Trace.Steps {
			ops = append(ops, s.Op)
		}
		for _, op := range want {
			if !slices.Contains(ops, op) || x.Replay.Holds {
				t.Fatalf("%s: trace ops %v, replay holds %v\n%s", cfg, ops, x.Replay.Holds, x.JSON)
			}
		}
		t.Logf("%s: %s; trace ops %v", cfg, cx.Summary(), ops)
	}
	return found
}

// TestLivenessIsSafety: following the drain of every non-quiescent state
// (the simulator's order) ends at a quiescent state the exploration
// visited, and the liveness verdict equals the safety verdict, with and
// without faults.
func TestLivenessIsSafety(t *testing.T) {
	for _, r := range model.Reducers() {
		for _, f := range []Faults{0, Compact | Disconnect, allFaults} {
			for _, b := range []struct{ m, k int }{{1, 4}, {2, 4}, {3, 3}} {
				for _, exhaustive := range []bool{false, true} {
					sys := mustFaultSystem(t, r, b.m, f)
					res, e, err := sys.explore(Options{Depth: b.k, Exhaustive: exhaustive, drains: true})
					if err != nil {
						t.Fatal(err)
					}
					if res.Liveness != res.Holds {
						t.Fatalf("%s %q M=%d K=%d: liveness %v, safety %v", r.Name(), f, b.m, b.k, res.Liveness, res.Holds)
					}
					if !exhaustive {
						continue
					}
					var st state
					drained := 0
					for _, key := range e.states {
						sys.decode(key, &st)
						if sys.quiescent(&st) {
							continue
						}
						end, ok := sys.drain(st, true)
						k := sys.encode(&end)
						if !ok || !sys.quiescent(&end) || !e.seen[partOf(mix(k))].has(k, mix(k)) {
							t.Fatalf("%s %q M=%d K=%d: the drain of %s ends (%v) at %s, not a visited quiescent state",
								r.Name(), f, b.m, b.k, sys.describeState(&st), ok, sys.describeState(&end))
						}
						drained++
					}
					if uint64(drained) != res.Drained {
						t.Fatalf("%s %q M=%d K=%d: %d non-quiescent states, %d drained", r.Name(), f, b.m, b.k, drained, res.Drained)
					}
				}
			}
		}
	}
}

// TestFaultWorkersDoNotChangeTheResult: with faults, too, the counts, the
// order of the states and the counterexample do not depend on the
// workers.
func TestFaultWorkersDoNotChangeTheResult(t *testing.T) {
	for _, tc := range []struct {
		r          model.Reducer
		m, k       int
		f          Faults
		exhaustive bool
	}{
		{model.LabelSelector{}, 3, 3, allFaults, true},
		{model.LabelSelector{}, 3, 3, Compact | Disconnect, false},
		{model.FieldSelector{}, 5, 5, allFaults, true},
	} {
		sys := mustFaultSystem(t, tc.r, tc.m, tc.f)
		var first *Result
		var firstStates []uint64
		for _, w := range []int{1, 2, 3, 8} {
			res, e, err := sys.explore(Options{Depth: tc.k, Workers: w, Exhaustive: tc.exhaustive, batch: 300, chunk: 7})
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first, firstStates = res, e.states
				continue
			}
			if res.Holds != first.Holds || res.Liveness != first.Liveness || res.Explored != first.Explored || res.Distinct != first.Distinct ||
				res.Quiescent != first.Quiescent || res.Drained != first.Drained || !slices.Equal(e.states, firstStates) {
				t.Fatalf("%s %s: %d workers give %+v, 1 worker %+v", tc.r.Name(), tc.f, w, res, first)
			}
			if (res.Counterexample == nil) != (first.Counterexample == nil) ||
				res.Counterexample != nil && !slices.Equal(res.Counterexample.steps, first.Counterexample.steps) {
				t.Fatalf("%s %s: %d workers choose another counterexample", tc.r.Name(), tc.f, w)
			}
		}
	}
}

// TestFaultStateKeyRoundTrip encodes and decodes states with fallback sets
// and the cache-lag fields, on the mixed-radix keys.
func TestFaultStateKeyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		m int
		f Faults
	}{{3, allFaults}, {4, Compact | Disconnect}, {7, CacheLag}, {2, Compact | CacheLag}} {
		s := mustFaultSystem(t, model.LabelSelector{}, tc.m, tc.f)
		if s.layout == nil {
			t.Fatalf("%s M=%d: no mixed-radix layout", tc.f, tc.m)
		}
		for range 20000 {
			var st state
			st.l = LabelClass(rng.IntN(int(numLabels)))
			st.r = uint8(rng.IntN(s.m + 1))
			if s.lagged {
				st.lag = uint8(rng.IntN(MaxCacheLag + 1))
				st.prev = uint8(rng.IntN(int(s.layout.nprev)))
				st.k = rng.IntN(2) == 1
			}
			for o := range s.m {
				st.c[o] = podCode(rng.IntN(s.ncodes))
				if s.hasExt(st.c[o]) {
					for _, k := range s.layout.dom[o] {
						if rng.IntN(2) == 1 {
							st.x[o].a |= 1 << k
						}
						if rng.IntN(2) == 1 {
							st.x[o].b |= 1 << k
						}
					}
					st.x[o].xz = uint8(rng.IntN(3))
				}
			}
			k := s.encode(&st)
			var back state
			s.decode(k, &back)
			if back != st || k&keyMarker == 0 {
				t.Fatalf("%s M=%d: %+v -> %x -> %+v", tc.f, tc.m, st, k, back)
			}
		}
	}
}

// TestFaultSystemBounds: the mixed-radix keys bound M with the label
// selector, and NewFaultSystem says how far; the field selector keeps
// fixed-width keys with any faults.
func TestFaultSystemBounds(t *testing.T) {
	for _, tc := range []struct {
		f    Faults
		most int
	}{{Compact | Disconnect, 4}, {allFaults, 3}, {CacheLag, 7}, {Compact, MaxReplicas}, {Disconnect, MaxReplicas}} {
		for m := 1; m <= MaxReplicas; m++ {
			_, err := NewFaultSystem(model.LabelSelector{}, m, tc.f)
			if (err == nil) != (m <= tc.most) {
				t.Fatalf("label-selector %s M=%d: %v", tc.f, m, err)
			}
			if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("at most %d replicas", tc.most)) {
				t.Fatalf("label-selector %s M=%d: %v", tc.f, m, err)
			}
		}
	}
	for _, f := range faultSets {
		s := mustFaultSystem(t, model.FieldSelector{}, MaxReplicas, f)
		if s.layout != nil || s.extras || s.relists || s.lagged {
			t.Fatalf("field-selector %s: the faults add to the state", f)
		}
	}
	if _, err := NewFaultSystem(model.FieldSelector{}, 2, 1<<6); err == nil {
		t.Fatal("unknown faults accepted")
	}
}

// TestRelistMatchesModelStep compares the relist table with model.Step's
// Listed on a Watching pod, over every relist code, API server state and
// concretization (the informer cache holding any StatefulSet or none).
func TestRelistMatchesModelStep(t *testing.T) {
	s := mustFaultSystem(t, model.LabelSelector{}, 3, allFaults)
	checked := 0
	for o := range s.m {
		for c := range podCode(s.ncodes) {
			if !s.isRelist(c) {
				continue
			}
			for v := range 8 {
				from := s.concretePod(o, c, v)
				for l := range numLabels {
					for n := 0; n <= s.m; n++ {
						var items []*appsv1.StatefulSet
						for _, ss := range newAPIServer(l, n).List(s.sels[s.sel(c)]) {
							ss = ss.DeepCopy()
							ss.ResourceVersion = "9"
							items = append(items, ss)
						}
						p, _ := model.Step(s.reducer, from, model.Listed{Items: items})
						got, err := s.abstractPod(o, p)
						st := state{l: l, r: uint8(n)}
						st.c[o] = c
						s.deliver(&st, o)
						if err != nil || got != st.c[o] {
							t.Fatalf("pod %d relist code %d variant %d at %s/%d: Step gives %d (%v), table %d", o, c, v, l, n, got, err, st.c[o])
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d relists compared with model.Step", checked)
}
