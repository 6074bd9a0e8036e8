package checker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
	appsv1 "k8s.io/api/apps/v1"
)

// TestEveryPathReplays turns the path to every distinct quiescent state the
// checker reaches into an explicit trace (with one UID per trajectory
// class) and replays it with the simulator: the simulator must end at the
// same configuration, with the same verdict. This ties the whole
// abstraction (tables, the StatefulSet controller, the reductions) to the
// simulator, path by path.
func TestEveryPathReplays(t *testing.T) {
	testEveryPathReplays(t, 0, []struct{ m, k int }{{1, 3}, {3, 3}})
}

// TestEveryFaultPathReplays is TestEveryPathReplays with the fault ops:
// the traces have compact, cacheLag and disconnect steps, and the
// deliveries around a disconnect that make the re-watch get 410 Gone.
func TestEveryFaultPathReplays(t *testing.T) {
	bounds := []struct{ m, k int }{{1, 4}, {2, 4}, {3, 3}}
	if testing.Short() {
		bounds = []struct{ m, k int }{{1, 4}, {2, 3}}
	}
	testEveryPathReplays(t, allFaults, bounds)
	testEveryPathReplays(t, Compact|Disconnect, bounds[:1])
	testEveryPathReplays(t, Compact|CacheLag, bounds[:1])
}

func testEveryPathReplays(t *testing.T, f Faults, bounds []struct{ m, k int }) {
	for _, r := range model.Reducers() {
		for _, b := range bounds {
			for _, noEager := range []bool{false, true} {
				sys := mustFaultSystem(t, r, b.m, f)
				uids, err := sys.classes.FindAllUIDs(1)
				if err != nil {
					t.Fatal(err)
				}
				_, e, err := sys.explore(Options{Depth: b.k, Exhaustive: true, NoEagerStarts: noEager})
				if err != nil {
					t.Fatal(err)
				}
				replayed, violated, relists := 0, 0, 0
				var st state
				for i, k := range e.states {
					sys.decode(k, &st)
					if !sys.quiescent(&st) {
						continue
					}
					cx := e.counterexample(i)
					name := fmt.Sprintf("path-%d", i)
					tr, err := cx.trace(name, "", uids)
					if err != nil {
						t.Fatalf("%s M=%d K=%d state %d: %v", r.Name(), b.m, b.k, i, err)
					}
					data, err := formatTrace(tr)
					if err != nil {
						t.Fatal(err)
					}
					res, err := cx.replay(name, data)
					if err != nil {
						t.Fatalf("%s M=%d K=%d state %d (%s):\n%s\n%v", r.Name(), b.m, b.k, i, cx.Final, data, err)
					}
					replayed++
					if !res.Holds {
						violated++
					}
					if slices.ContainsFunc(cx.steps, func(t uint8) bool { _, f := disconnectOf(t); return t >= tDisconnect && f >= 0 }) {
						relists++
					}
				}
				t.Logf("%s faults %q M=%d K=%d eager starts %v: %d paths replayed, %d violated, %d with a disconnect that relists", r.Name(), f, b.m, b.k, !noEager, replayed, violated, relists)
			}
		}
	}
}

// randomTrace draws a trace of up to ops cluster ops (relabel among the
// four label classes, scale 0..m, restart one pod, and the fault ops of f:
// compact, cacheLag to 0..MaxCacheLag, disconnect one pod) from a settled
// cluster of 1..m replicas. Under the explicit schedule it interleaves
// random deliveries (their counts kept valid by following the cluster
// alongside) and settles. It returns the trace, the label class after
// each step, and the quiescent configurations the concrete cluster
// reaches (step -1 for the initial one).
func randomTrace(rng *rand.Rand, r model.Reducer, m, ops int, explicit bool, f Faults) (*sim.Trace, []LabelClass, map[int]Configuration) {
	n0 := int32(1 + rng.IntN(m))
	tr := &sim.Trace{
		Name: "random",
		Cluster: sim.Cluster{Namespace: Namespace, Objects: sim.Objects{Generate: 1, Seed: 1},
			StatefulSet: sim.StatefulSet{Name: StatefulSetName, Labels: Original.Labels(), Replicas: &n0, PodManagementPolicy: appsv1.ParallelPodManagement}},
		Schedule: sim.Eager,
	}
	if explicit {
		tr.Schedule = sim.Explicit
	}
	c := newCluster(r, Original, int(n0))
	quiet := map[int]Configuration{-1: c.configuration()}
	kinds := 3 + len(f.Names())
	var labels []LabelClass
	for done := 0; done < ops; {
		var st sim.Step
		if explicit && c.pending() > 0 && rng.IntN(3) > 0 {
			if rng.IntN(6) == 0 {
				st = sim.Step{Op: sim.OpSettle}
				c.drain()
			} else {
				var nonEmpty []int
				for o, in := range c.inbox {
					if len(in) > 0 {
						nonEmpty = append(nonEmpty, o)
					}
				}
				o := nonEmpty[rng.IntN(len(nonEmpty))]
				want, count := 1+rng.IntN(len(c.inbox[o])), 0
				for ; count < want && len(c.inbox[o]) > 0; count++ { // a stop purges items
					c.deliver(o)
				}
				st = sim.Step{Op: sim.OpDeliver, Pod: &o, Count: count}
			}
		} else {
			done++
			k := rng.IntN(kinds)
			if k >= 3 {
				k = 3 + slices.Index(FaultNames(), f.Names()[k-3])
			}
			switch {
			case k == 3:
				c.compact()
				st = sim.Step{Op: sim.OpCompact}
			case k == 4 && c.replicas() > 0:
				o := rng.IntN(c.replicas())
				c.disconnect(o)
				st = sim.Step{Op: sim.OpDisconnect, Pods: []int{o}}
			case k == 5:
				n := rng.IntN(MaxCacheLag + 1)
				c.cacheLag(n)
				st = sim.Step{Op: sim.OpCacheLag, Writes: &n}
			case k == 0:
				l := LabelClass(rng.IntN(int(numLabels)))
				c.relabel(l)
				st = sim.Step{Op: sim.OpRelabel, Labels: l.Labels()}
			case k == 1 || c.replicas() == 0:
				n := int32(rng.IntN(m + 1))
				c.scale(int(n))
				st = sim.Step{Op: sim.OpScale, Replicas: &n}
			default:
				o := rng.IntN(c.replicas())
				c.restart(o)
				st = sim.Step{Op: sim.OpRestart, Pods: []int{o}}
			}
			if !explicit {
				c.drain()
			}
		}
		tr.Steps = append(tr.Steps, st)
		labels = append(labels, c.labels())
		if c.pending() == 0 {
			quiet[len(tr.Steps)-1] = c.configuration()
		}
	}
	return tr, labels, quiet
}

// TestRandomTracesReachable: every quiescent configuration the simulator
// reaches on random traces (eager and explicit schedules) is one the
// checker reaches, within as many ops. Along the way the concrete cluster
// the checker exports with is compared with the simulator, checkpoint by
// checkpoint.
func TestRandomTracesReachable(t *testing.T) {
	testRandomTracesReachable(t, 0, 3, 3, 4000)
}

// TestRandomFaultTracesReachable is TestRandomTracesReachable with the
// fault ops, on longer traces: it compares the concrete cluster's
// StatefulSet informers (watch ends, 410s, relists, lagging LISTs) with
// the simulator's, and checks that the checker reaches everything the
// simulator does, on paths deeper than TestFaultsAgainstUnreduced's.
func TestRandomFaultTracesReachable(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 600
	}
	testRandomTracesReachable(t, allFaults, 2, 6, n)
	testRandomTracesReachable(t, allFaults, 3, 4, n)
	testRandomTracesReachable(t, Compact|Disconnect, 3, 5, n/2)
}

func testRandomTracesReachable(t *testing.T, f Faults, m, ops, traces int) {
	rng := rand.New(rand.NewPCG(5, 2026+uint64(f)))
	for _, r := range model.Reducers() {
		sys := mustFaultSystem(t, r, m, f)
		reach := checkerExplore(t, sys, ops, false, 1)
		seen := map[string]bool{}
		for i := range traces {
			explicit := i%3 != 0
			tr, labels, quiet := randomTrace(rng, r, m, ops, explicit, f)
			res, err := sim.Run(tr, r, sim.Options{})
			if err != nil {
				t.Fatalf("trace %d: %v", i, err)
			}
			if len(res.Checkpoints) != len(quiet) {
				t.Fatalf("trace %d: the simulator has %d checkpoints, the cluster %d", i, len(res.Checkpoints), len(quiet))
			}
			opsSoFar := 0
			next := 0
			for step := -1; step < len(tr.Steps); step++ {
				if step >= 0 && tr.Steps[step].IsClusterOp() {
					opsSoFar++
				}
				want, ok := quiet[step]
				if !ok {
					continue
				}
				cp := res.Checkpoints[next]
				next++
				l := Original
				if step >= 0 {
					l = labels[step]
				}
				got := Configuration{Labels: l, Replicas: cp.Replicas, Pods: cp.Pods}
				if cp.Step != step || got.String() != want.String() {
					t.Fatalf("trace %d step %d: the simulator is at %s (step %d), the cluster at %s", i, step, got, cp.Step, want)
				}
				d, ok := reach.configs[got.String()]
				if !ok || d > opsSoFar {
					t.Fatalf("%s trace %d step %d: the simulator reaches %s after %d ops; the checker: reached %v after %d", r.Name(), i, step, got, opsSoFar, ok, d)
				}
				seen[got.String()] = true
			}
		}
		t.Logf("%s faults %q M=%d K=%d: %d traces reach %d of the checker's %d quiescent configurations", r.Name(), f, m, ops, traces, len(seen), len(reach.configs))
	}
}
