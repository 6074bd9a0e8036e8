package checker

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/sim"
)

// TestStaticValidReshardsHold: with the ops that keep the Deployments on
// shards 0..n-1 of one n (reshard, restart), complete and disjoint hold
// at every quiescent point of every path and delivery order, for every
// strategy.
func TestStaticValidReshardsHold(t *testing.T) {
	opts := StaticOptions{MaxDeployments: 3, MaxTotal: 3, Depth: 2}
	if testing.Short() {
		opts.MaxDeployments, opts.MaxTotal = 2, 2
	}
	res, err := CheckStatic(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Holds || res.Counterexample != nil {
		t.Fatalf("violated: %s", res.Counterexample.Summary())
	}
	if res.Quiescent == 0 || res.States <= res.Quiescent || len(res.Layers) != 3 {
		t.Fatalf("explored %d states, %d quiescent, layers %v", res.States, res.Quiescent, res.Layers)
	}
}

// TestStaticMisconfigureFindsShortest: with misconfigured applies, the
// shortest counterexample is one apply (a second Deployment on shard 0 of
// 1 next to the first), delivered; it exports to a trace the simulator
// replays violated.
func TestStaticMisconfigureFindsShortest(t *testing.T) {
	res, err := CheckStatic(StaticOptions{MaxDeployments: 2, MaxTotal: 2, Depth: 2, Misconfigure: true})
	if err != nil {
		t.Fatal(err)
	}
	cx := res.Counterexample
	if res.Holds || cx == nil {
		t.Fatal("holds with misconfigured applies")
	}
	if cx.Ops() != 1 {
		t.Errorf("counterexample of %d ops, want 1: %s", cx.Ops(), cx.Summary())
	}
	x, err := cx.Export("cx")
	if err != nil {
		t.Fatal(err)
	}
	if x.Trace.Schedule != sim.Explicit || x.Trace.Expect["field-selector"] != sim.Violated {
		t.Errorf("exported trace: schedule %q, expect %v", x.Trace.Schedule, x.Trace.Expect)
	}
	var b strings.Builder
	if err := res.WriteText(&b, x, "/tmp/cx.json"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"VIOLATED: shortest counterexample: 1 cluster op", "trace: /tmp/cx.json", "replayed with the simulator: VIOLATED"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestStaticReduction: counting deliveries per lane instead of keeping
// their order (deliveries to different lanes commute) loses nothing: on
// small bounds the reduced and the unreduced exploration reach the same
// quiescent points (the ops, and what the pods serve there) and the same
// verdicts.
func TestStaticReduction(t *testing.T) {
	for _, mis := range []bool{false, true} {
		opts := StaticOptions{MaxDeployments: 2, MaxTotal: 2, Depth: 2, Misconfigure: mis}
		if mis {
			opts.Depth = 1
		}
		points := func(noReduce bool) ([]string, *StaticResult) {
			seen := map[string]bool{}
			o := opts
			o.noReduce = noReduce
			o.visit = func(p stPath, r *sim.Result) {
				var ops []byte
				for _, s := range p.segs {
					ops = append(ops, s.op.kind, s.op.dep, s.op.shard, s.op.arg)
				}
				c := r.Checkpoints[len(r.Checkpoints)-1]
				seen[fmt.Sprintf("%d %d %v %v %v %v", p.strategy, p.initial, ops, c.Pods, c.Complete, c.Disjoint)] = true
			}
			res, err := CheckStatic(o)
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
			t.Fatalf("misconfigure %v: reduced holds %v, %d quiescent points; unreduced holds %v, %d", mis, rr.Holds, len(reduced), fr.Holds, len(full))
		}
		if !mis && rr.States >= fr.States { // with misconfigure both stop at the first violation
			t.Errorf("misconfigure %v: the reduction saves nothing: %d states, %d without", mis, rr.States, fr.States)
		}
		t.Logf("misconfigure %v: %d states reduced, %d unreduced, %d quiescent points", mis, rr.States, fr.States, len(reduced))
	}
}

// TestStaticRefuses: bad bounds are refused; an exploration beyond the
// state limit stops with a TooManyReplaysError.
func TestStaticRefuses(t *testing.T) {
	for _, o := range []StaticOptions{
		{MaxDeployments: 0, MaxTotal: 2},
		{MaxDeployments: MaxStaticDeployments + 1, MaxTotal: 2},
		{MaxDeployments: 2, MaxTotal: 0},
		{MaxDeployments: 2, MaxTotal: MaxStaticTotal + 1},
		{MaxDeployments: 2, MaxTotal: 2, Depth: -1},
		{MaxDeployments: 2, MaxTotal: 2, Workers: -1},
	} {
		if _, err := CheckStatic(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	_, err := CheckStatic(StaticOptions{MaxDeployments: 3, MaxTotal: 3, Depth: 3, maxStates: 100})
	var tm *TooManyReplaysError
	if !errors.As(err, &tm) {
		t.Fatalf("got %v, want a TooManyReplaysError", err)
	}
}
