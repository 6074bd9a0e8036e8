package checker

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// The reference exploration: the concrete cluster (every inbox item of the
// simulator, every incarnation, resourceVersions included) explored by
// brute force, one delivery at a time, with optional eager-delivery rules
// that implement the checker's reductions on the concrete system. Every
// rule off is the unreduced system: all sequences of ops and all
// interleavings of per-pod deliveries.

// rules selects the reductions applied to the concrete system.
type rules struct {
	ghosts bool // 1: items of an incarnation whose stop is queued are delivered at once
	events bool // 2: watch events of live pods are delivered at once
	starts bool // 3: start items whose delivery commutes with every op are delivered at once
}

func (r rules) String() string {
	var on []string
	if r.ghosts {
		on = append(on, "ghosts")
	}
	if r.events {
		on = append(on, "events")
	}
	if r.starts {
		on = append(on, "starts")
	}
	if len(on) == 0 {
		return "unreduced"
	}
	return strings.Join(on, "+")
}

// settle applies the eager rules until none applies.
func (r rules) settle(sys *System, c *cluster) {
	for changed := true; changed; {
		changed = false
		for o := range c.inbox {
			for len(c.inbox[o]) > 0 {
				head := c.inbox[o][0]
				p := c.pods[head.pod]
				eager := false
				switch {
				case r.ghosts && p.stopping:
					eager = true
				case r.events && head.kind == citemEvent && !p.stopping:
					eager = true
				case r.starts && (head.kind == citemGet || head.kind == citemList) && !p.stopping:
					code, err := sys.abstractPod(o, p.state)
					if err != nil {
						panic(err)
					}
					eager = sys.eager[o][code]
				}
				if !eager {
					break
				}
				c.deliver(o)
				changed = true
			}
		}
	}
}

// exploration is what an exploration reaches: every quiescent
// configuration with the fewest ops that reach it, and the fewest ops to a
// violation (-1: none).
type exploration struct {
	configs  map[string]int
	violated int
	distinct int
}

func (x exploration) String() string {
	return fmt.Sprintf("%d distinct states, %d quiescent configurations, first violation after %d ops", x.distinct, len(x.configs), x.violated)
}

// referenceExplore explores the concrete system of sys with up to k ops:
// relabel, scale, restart and the fault ops of sys (compact, cacheLag to
// 0..MaxCacheLag writes, disconnect any pod). Properties are evaluated by
// the simulator's own ObjectSet over one UID per trajectory class;
// evaluate cross-checks Classes.Evaluate on each.
func referenceExplore(t testing.TB, sys *System, k int, rl rules) exploration {
	t.Helper()
	uids, err := sys.classes.FindAllUIDs(1)
	if err != nil {
		t.Fatal(err)
	}
	objects := sim.NewObjectSet(uids)
	x := exploration{configs: map[string]int{}, violated: -1}
	seen := map[string]bool{}
	var layer []*cluster
	add := func(c *cluster, list *[]*cluster) {
		key := c.key()
		if !seen[key] {
			seen[key] = true
			*list = append(*list, c)
		}
	}
	for n := 1; n <= sys.m; n++ {
		c := newCluster(sys.reducer, Original, n)
		c.faulty = sys.faults != 0
		rl.settle(sys, c)
		add(c, &layer)
	}
	for depth := 0; ; depth++ {
		// Close the layer under single deliveries.
		for i := 0; i < len(layer); i++ {
			c := layer[i]
			if c.pending() == 0 {
				cfg := c.configuration()
				if d, ok := x.configs[cfg.String()]; !ok || depth < d {
					x.configs[cfg.String()] = depth
				}
				configs := make([]model.Config, len(cfg.Pods))
				for j, p := range cfg.Pods {
					configs[j] = model.Config{Shard: p.Shard, Total: p.Total}
				}
				cov := objects.Evaluate(configs, cfg.Replicas)
				v := sys.classes.Evaluate(configs, cfg.Replicas)
				if cov.Holds() != v.Holds() || cov.Complete != v.Gap.empty() || cov.Disjoint != v.Overlap.empty() {
					t.Fatalf("%s: sim.ObjectSet says complete=%v disjoint=%v, Classes says gap %v overlap %v", cfg, cov.Complete, cov.Disjoint, v.GapClasses(), v.OverlapClasses())
				}
				if !cov.Holds() && x.violated < 0 {
					x.violated = depth
				}
				continue
			}
			for o := range c.inbox {
				if len(c.inbox[o]) > 0 {
					d := c.clone()
					d.deliver(o)
					rl.settle(sys, d)
					add(d, &layer)
				}
			}
		}
		x.distinct = len(seen)
		if depth == k {
			return x
		}
		var next []*cluster
		for _, c := range layer {
			for l := range numLabels {
				d := c.clone()
				d.relabel(l)
				rl.settle(sys, d)
				add(d, &next)
			}
			for n := 0; n <= sys.m; n++ {
				d := c.clone()
				d.scale(n)
				rl.settle(sys, d)
				add(d, &next)
			}
			for o := range c.replicas() {
				d := c.clone()
				d.restart(o)
				rl.settle(sys, d)
				add(d, &next)
			}
			if sys.faults.Has(Compact) {
				d := c.clone()
				d.compact()
				rl.settle(sys, d)
				add(d, &next)
			}
			if sys.faults.Has(CacheLag) {
				for n := range MaxCacheLag + 1 {
					d := c.clone()
					d.cacheLag(n)
					rl.settle(sys, d)
					add(d, &next)
				}
			}
			if sys.faults.Has(Disconnect) {
				for o := range c.replicas() {
					d := c.clone()
					d.disconnect(o)
					rl.settle(sys, d)
					add(d, &next)
				}
			}
		}
		layer = next
	}
}

// checkerExplore runs the checker exhaustively and collects the same.
func checkerExplore(t testing.TB, sys *System, k int, noEager bool, workers int) exploration {
	t.Helper()
	x := exploration{configs: map[string]int{}, violated: -1}
	res, err := sys.Check(Options{Depth: k, NoEagerStarts: noEager, Exhaustive: true, Workers: workers,
		OnQuiescent: func(depth int, c Configuration, v Verdict) {
			if d, ok := x.configs[c.String()]; !ok || depth < d {
				x.configs[c.String()] = depth
			}
			if !v.Holds() && (x.violated < 0 || depth < x.violated) {
				x.violated = depth
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	x.distinct = int(res.Distinct)
	if res.Holds != (x.violated < 0) {
		t.Fatalf("Holds = %v but the first violation is after %d ops", res.Holds, x.violated)
	}
	if cx := res.Counterexample; cx != nil && cx.Ops() != x.violated {
		t.Fatalf("counterexample has %d ops, the first violation is after %d", cx.Ops(), x.violated)
	}
	return x
}

// sameExploration reports how two explorations differ: verdict, depth of
// the first violation, and the quiescent configurations with their depths.
func sameExploration(a, b exploration) error {
	if a.violated != b.violated {
		return fmt.Errorf("first violation after %d ops vs %d", a.violated, b.violated)
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(a.configs)) {
		if d, ok := b.configs[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("only in the first: %s (after %d ops)", k, a.configs[k]))
		} else if d != a.configs[k] {
			diffs = append(diffs, fmt.Sprintf("%s: first reached after %d ops vs %d", k, a.configs[k], d))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b.configs)) {
		if _, ok := a.configs[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("only in the second: %s (after %d ops)", k, b.configs[k]))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("... and %d more", len(diffs)-10))
		}
		return fmt.Errorf("%d differences:\n  %s", len(diffs), strings.Join(diffs, "\n  "))
	}
	return nil
}

func mustSystem(t testing.TB, r model.Reducer, m int) *System {
	t.Helper()
	sys, err := NewSystem(r, m)
	if err != nil {
		t.Fatal(err)
	}
	return sys
}

// TestReductions justifies each reduction: on small bounds, the
// exploration with the reduction reaches the same quiescent
// configurations, each after the same fewest ops, and the same verdict and
// shortest-violation length as the exploration without it. The chain is
// unreduced -> ghosts -> events -> ghosts+events (the concrete system the
// abstraction encodes) -> the checker without eager starts -> the checker
// with them, and ghosts+events+starts on the concrete system as well.
func TestReductions(t *testing.T) {
	bounds := []struct{ m, k int }{{1, 3}, {2, 3}, {3, 2}, {3, 3}}
	if testing.Short() {
		bounds = bounds[:3]
	}
	for _, r := range model.Reducers() {
		for _, b := range bounds {
			t.Run(fmt.Sprintf("%s/M=%d,K=%d", r.Name(), b.m, b.k), func(t *testing.T) {
				sys := mustSystem(t, r, b.m)
				base := referenceExplore(t, sys, b.k, rules{})
				t.Logf("unreduced: %s", base)
				for _, rl := range []rules{{ghosts: true}, {events: true}, {ghosts: true, events: true}, {ghosts: true, events: true, starts: true}} {
					x := referenceExplore(t, sys, b.k, rl)
					t.Logf("%s: %s", rl, x)
					if err := sameExploration(base, x); err != nil {
						t.Errorf("reduction %s changes the exploration: %v", rl, err)
					}
				}
				for _, noEager := range []bool{true, false} {
					x := checkerExplore(t, sys, b.k, noEager, 1)
					t.Logf("checker (eager starts %v): %s", !noEager, x)
					if err := sameExploration(base, x); err != nil {
						t.Errorf("checker (eager starts %v) differs from the unreduced exploration: %v", !noEager, err)
					}
				}
			})
		}
	}
}

func mustFaultSystem(t testing.TB, r model.Reducer, m int, f Faults) *System {
	t.Helper()
	sys, err := NewFaultSystem(r, m, f)
	if err != nil {
		t.Fatal(err)
	}
	return sys
}

// TestFaultsAgainstUnreduced justifies the abstraction of the fault ops:
// on small bounds the unreduced concrete exploration (every inbox item
// of the simulator delivered one at a time, the fault ops as the
// simulator runs them) and the checker, with and without eager starts,
// reach the same quiescent configurations, each after the same fewest
// ops, with the same verdict and the same length of the shortest
// counterexample; for every subset of the fault ops.
//
// Every subset is explored at M=1 K=3, M=2 K=3 and M=3 K=2; all three
// faults also at M=3 K=3, M=2 K=4 and M=1 K=5 (not with -short), where
// the faults reach configurations nothing else does (at M=2 K=4, 40
// quiescent configurations of the label selector against 37 without).
func TestFaultsAgainstUnreduced(t *testing.T) {
	type bound struct{ m, k int }
	type run struct {
		f      Faults
		bounds []bound
	}
	var runs []run
	for _, f := range faultSets {
		runs = append(runs, run{f, []bound{{1, 3}, {2, 3}, {3, 2}}})
	}
	if !testing.Short() {
		runs = append(runs, run{allFaults, []bound{{3, 3}, {2, 4}, {1, 5}}})
	}
	for _, r := range model.Reducers() {
		for _, run := range runs {
			f := run.f
			for _, b := range run.bounds {
				t.Run(fmt.Sprintf("%s/%s/M=%d,K=%d", r.Name(), f, b.m, b.k), func(t *testing.T) {
					sys := mustFaultSystem(t, r, b.m, f)
					base := referenceExplore(t, sys, b.k, rules{})
					t.Logf("unreduced: %s", base)
					for _, noEager := range []bool{true, false} {
						x := checkerExplore(t, sys, b.k, noEager, 1)
						t.Logf("checker (eager starts %v): %s", !noEager, x)
						if err := sameExploration(base, x); err != nil {
							t.Errorf("checker (eager starts %v) differs from the unreduced exploration: %v", !noEager, err)
						}
					}
				})
			}
		}
	}
}
