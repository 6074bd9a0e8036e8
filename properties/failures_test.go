package properties_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
	appsv1 "k8s.io/api/apps/v1"
)

// failureRapidChecks is the number of traces each pod failure property
// checks (a quarter with -short).
const failureRapidChecks = 800

// minFailureOps and maxFailureOps bound the ops of a generated pod
// failure trace.
const minFailureOps, maxFailureOps = 4, 24

// failureTrace draws a trace of minFailureOps..maxFailureOps ops with cfg (pod
// failures on) through rapid and returns its builder, settled at the end
// under the explicit schedule so that every failure plays out.
func failureTrace(t *rapid.T, cfg properties.GenConfig) *properties.Builder {
	src := rapidSource{t}
	b := properties.NewBuilder(src, cfg)
	t.Cleanup(b.Close)
	n := rapid.IntRange(minFailureOps, maxFailureOps).Draw(t, "ops")
	for range n {
		b.Op(src)
	}
	b.Settle()
	return b
}

func fatalTrace(t *rapid.T, b *properties.Builder, format string, args ...any) {
	data, _ := properties.Marshal(properties.CloneTrace(b.Trace()))
	t.Fatalf("%s (%s)\nthe trace (save it and run: simrun --trace FILE --log):\n%s", fmt.Sprintf(format, args...), b.PodManagementPolicy(), data)
}

// failureWalk is the test's own account of the pod failures of a replay,
// computed from the trace's ops and the event log only (nothing of the
// simulator's state): which ordinals crash-loop, which pods are alive,
// and what each failStart promised. It is the oracle of the failure
// properties.
type failureWalk struct {
	tr  *sim.Trace
	log []sim.LogEntry
	pos int // next log entry
	op  int // next step whose op is not applied yet

	looping   map[int]bool      // a crashLoop op named it, no recover or failStart since
	blocked   map[int]bool      // looping, and a start-up GET has failed since the crashLoop
	promised  map[int]*failPlan // live failStart plans, by ordinal
	newest    map[int]string    // the newest pod of each ordinal
	alive     map[string]bool   // pods created and not yet stopped
	lastGet   map[string]bool   // per pod: did its last start-up GET fail
	createdAt map[string]int    // per pod: the step that created it
	replicas  int
	live      map[string]bool // live objects

	// Violations.
	aboveBlocked []string // (a) a pod above a crash-looping ordinal created
	plans        []string // (b) a failStart's GETs out of order
}

// failPlan is what a failStart of count c promised an ordinal: its next c
// start-up GETs fail, then one succeeds.
type failPlan struct {
	step, count, failed int
	seen                bool // a GET of the ordinal since the op
}

func newFailureWalk(tr *sim.Trace, res *sim.Result) *failureWalk {
	w := &failureWalk{tr: tr, log: res.Log, looping: map[int]bool{}, blocked: map[int]bool{}, promised: map[int]*failPlan{},
		newest: map[int]string{}, alive: map[string]bool{}, lastGet: map[string]bool{}, createdAt: map[string]int{},
		replicas: int(*tr.Cluster.StatefulSet.Replicas), live: map[string]bool{}}
	for _, u := range tr.Cluster.Objects.UIDs {
		w.live[u] = true
	}
	return w
}

// applyOp applies step i's op to the oracle's state.
func (w *failureWalk) applyOp(i int) {
	st := w.tr.Steps[i]
	switch st.Op {
	case sim.OpCrashLoop:
		for _, o := range st.Pods {
			w.looping[o] = true
			delete(w.promised, o)
		}
	case sim.OpRecover:
		for _, o := range st.Pods {
			delete(w.looping, o)
			delete(w.blocked, o)
			delete(w.promised, o)
		}
	case sim.OpFailStart:
		for _, o := range st.Pods {
			delete(w.looping, o)
			delete(w.blocked, o)
			w.promised[o] = &failPlan{step: i, count: st.Count}
		}
	case sim.OpScale:
		w.replicas = int(*st.Replicas)
	case sim.OpCreate:
		for _, u := range st.UIDs {
			w.live[u] = true
		}
	case sim.OpDelete:
		for _, u := range st.UIDs {
			delete(w.live, u)
		}
	}
}

// advance consumes the log up to and including step last (-1: the
// setup), applying each step's op before its first entry.
func (w *failureWalk) advance(last int) {
	for {
		next := last + 1
		if w.pos < len(w.log) {
			next = min(next, w.log[w.pos].Step)
		}
		for w.op <= next && w.op <= last && w.op < len(w.tr.Steps) {
			w.applyOp(w.op)
			w.op++
		}
		if w.pos >= len(w.log) || w.log[w.pos].Step > last {
			return
		}
		w.entry(w.log[w.pos])
		w.pos++
	}
}

func (w *failureWalk) entry(e sim.LogEntry) {
	switch e.Kind {
	case sim.LogCreated:
		for k := range w.blocked {
			if k >= e.Pod {
				continue
			}
			w.aboveBlocked = append(w.aboveBlocked, fmt.Sprintf("after step %d pod %d is created while pod %d crash-loops", e.Step, e.Pod, k))
		}
		w.newest[e.Pod] = e.PodUID
		w.alive[e.PodUID] = true
		w.createdAt[e.PodUID] = e.Step
	case sim.LogStopped:
		delete(w.alive, e.PodUID)
	case sim.LogGet:
		failed := strings.HasPrefix(e.Event, "GET failed")
		w.lastGet[e.PodUID] = failed
		if failed && w.looping[e.Pod] {
			w.blocked[e.Pod] = true
		}
		if p := w.promised[e.Pod]; p != nil {
			p.seen = true
			want := p.failed < p.count
			if failed != want {
				w.plans = append(w.plans, fmt.Sprintf("after failStart count %d at step %d, GET %d of ordinal %d (step %d) failed=%v, want %v",
					p.count, p.step, p.failed+1, e.Pod, e.Step, failed, want))
			}
			if failed {
				p.failed++
			} else {
				delete(w.promised, e.Pod) // the plan is fulfilled
			}
		}
	}
}

// crashLooping returns the ordinals below spec.replicas that crash-loop
// now: a crashLoop op named them, and their newest pod is alive with a
// failed last start-up GET.
func (w *failureWalk) crashLooping() []int {
	var out []int
	for o := range w.looping {
		u := w.newest[o]
		if o < w.replicas && u != "" && w.alive[u] && w.lastGet[u] {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// served returns the ordinals whose newest pod is alive and started: its
// last start-up GET succeeded.
func (w *failureWalk) served() map[int]bool {
	out := map[int]bool{}
	for o, u := range w.newest {
		if w.alive[u] && !w.lastGet[u] && w.gotten(u) {
			out[o] = true
		}
	}
	return out
}

// gotten reports whether pod u has done a start-up GET.
func (w *failureWalk) gotten(u string) bool {
	_, ok := w.lastGet[u]
	return ok
}

// unfinished returns, at a quiescent point, the failStart plans whose
// ordinal's newest pod is alive and took part in the plan (created after
// the op, or had a GET since) without the plan being fulfilled: a pod
// still failing, or waiting, with nothing left to deliver.
func (w *failureWalk) unfinished() []string {
	var out []string
	for o, p := range w.promised {
		u := w.newest[o]
		if u == "" || !w.alive[u] || !(p.seen || w.createdAt[u] >= p.step) {
			continue
		}
		out = append(out, fmt.Sprintf("ordinal %d: failStart count %d at step %d, %d failed GETs and no success at a quiescent point", o, p.count, p.step, p.failed))
	}
	slices.Sort(out)
	return out
}

// TestCrashLoopBlocksOrderedReadyRandom (a): under OrderedReady, while an
// ordinal k crash-loops (a crashLoop op named it and a start-up GET of it
// has failed since, until a recover or failStart names it), the
// StatefulSet controller creates no pod above k — checked in the event
// log (LogCreated carries the ordinal) of any generated trace, by an
// oracle computed here from the trace's ops and the log (failureWalk),
// under both schedules. A restart's re-creation counts too: under
// OrderedReady the controller re-creates a deleted pod, as any missing
// one, only once every pod below it is Running and Ready.
func TestCrashLoopBlocksOrderedReadyRandom(t *testing.T) {
	rapidChecks(t, failureRapidChecks)
	blocked := 0
	rapid.Check(t, func(t *rapid.T) {
		b := failureTrace(t, properties.GenConfig{Failures: true})
		if b.PodManagementPolicy() != appsv1.OrderedReadyPodManagement {
			return
		}
		res := b.Result(model.FieldSelector{}.Name())
		w := newFailureWalk(b.Trace(), res)
		w.advance(len(b.Trace().Steps))
		if len(w.aboveBlocked) > 0 {
			fatalTrace(t, b, "%s", strings.Join(w.aboveBlocked, "; "))
		}
		if len(w.blocked) > 0 {
			blocked++
		}
	})
	replayHint(t)
	t.Logf("%d traces end with a blocked ordinal", blocked)
	if !t.Failed() && blocked == 0 {
		t.Error("no generated OrderedReady trace ends with a crash-looping ordinal")
	}
}

// TestFailStartCountsRandom (b): a failStart of count c on an ordinal
// makes exactly c failed start-up GETs of it, then a successful one, in
// the event log — whichever incarnations they belong to: the count is the
// ordinal's, so a pod deleted while it fails (a restart, a scale-down)
// passes the rest to its replacement, and only an ordinal without a pod
// ends with the plan unfinished. A recover, crashLoop or later failStart
// of the ordinal replaces the plan. Also, at every quiescent point no
// alive pod that took part in a plan is left with the plan unfinished.
// The oracle is failureWalk, from the trace's ops and the log only.
func TestFailStartCountsRandom(t *testing.T) {
	rapidChecks(t, failureRapidChecks)
	fulfilled := 0
	rapid.Check(t, func(t *rapid.T) {
		b := failureTrace(t, properties.GenConfig{Failures: true})
		tr := b.Trace()
		res := b.Result(model.FieldSelector{}.Name())
		w := newFailureWalk(tr, res)
		plans := 0
		for _, s := range tr.Steps {
			if s.Op == sim.OpFailStart {
				plans += len(s.Pods)
			}
		}
		for _, c := range res.Checkpoints {
			w.advance(c.Step)
			if u := w.unfinished(); len(u) > 0 {
				fatalTrace(t, b, "after step %d: %s", c.Step, strings.Join(u, "; "))
			}
		}
		w.advance(len(tr.Steps))
		if len(w.plans) > 0 {
			fatalTrace(t, b, "%s", strings.Join(w.plans, "; "))
		}
		fulfilled += plans - len(w.promised)
	})
	replayHint(t)
	if !t.Failed() && fulfilled == 0 {
		t.Error("no failStart was generated and played out")
	}
}

// TestPodManagementPolicyQuiescentPointsRandom (c): without failure ops,
// under the eager schedule, OrderedReady and Parallel reach the same
// quiescent points for every reducer, over the generator's full op set
// (relabels, scales, restarts, object churn, and the fault ops compact,
// disconnect and cacheLag). The rapid version of
// sim.TestPodManagementPolicyQuiescentPoints: the Parallel replay is the
// builder's, the OrderedReady one a fresh replay of the same trace with
// the policy changed — each the other's oracle.
func TestPodManagementPolicyQuiescentPointsRandom(t *testing.T) {
	rapidChecks(t, failureRapidChecks/2)
	rapid.Check(t, func(t *rapid.T) {
		b := failureTrace(t, properties.GenConfig{Schedule: sim.Eager, Faults: true})
		tr := properties.CloneTrace(b.Trace())
		tr.Cluster.StatefulSet.PodManagementPolicy = appsv1.OrderedReadyPodManagement
		for _, r := range model.Reducers() {
			res, err := sim.Run(tr, r, sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// OrderedReady takes longer to get there: compare the states.
			par, ord := sim.Untimed(b.Result(r.Name()).Checkpoints), sim.Untimed(res.Checkpoints)
			res.Checkpoints = ord
			if !reflect.DeepEqual(res.Checkpoints, par) {
				for i := range min(len(par), len(res.Checkpoints)) {
					if !reflect.DeepEqual(par[i], res.Checkpoints[i]) {
						fatalTrace(t, b, "%s: after step %d OrderedReady reaches %+v, Parallel %+v", r.Name(), par[i].Step, res.Checkpoints[i], par[i])
					}
				}
				fatalTrace(t, b, "%s: %d quiescent points under OrderedReady, %d under Parallel", r.Name(), len(res.Checkpoints), len(par))
			}
		}
	})
	replayHint(t)
}

// TestCrashLoopLeavesShardUnserved (d): for the field-selector reducer,
// at every quiescent point where an ordinal k below spec.replicas
// crash-loops (failureWalk.crashLooping), the live objects that shard k
// of spec.replicas keeps (model.Keeps, counted here) are all in the gap.
// So the claim "violated whenever it has at least one object" needs a
// qualifier: at least one live object of shard k — shard k of n keeps
// about 1/n of the objects and may keep none of a few (the test draws 1,
// 3 or 200 objects to reach both cases). The exact condition, checked
// too, with or without a crash loop: a quiescent point holds iff every
// live object's shard among spec.replicas has a started pod (vacuously at
// 0 replicas) (alive, its
// last start-up GET succeeded) — under OrderedReady the ordinals above k
// are not created, so their shards go unserved as well, and a pod at an
// ordinal >= spec.replicas, which OrderedReady does not delete while k is
// not Ready, keeps nothing. At a quiescent point every started
// field-selector pod has read the current spec.replicas. Both policies,
// both schedules; the oracle (failureWalk) reads the trace's ops and the
// event log only.
func TestCrashLoopLeavesShardUnserved(t *testing.T) {
	rapidChecks(t, failureRapidChecks)
	seen := map[bool]int{} // crash-looping points with and without objects of the shard
	verdicts := map[bool]int{}
	rapid.Check(t, func(t *rapid.T) {
		objects := rapid.SampledFrom([]int{1, 3, 200}).Draw(t, "objects")
		b := failureTrace(t, properties.GenConfig{Failures: true, Objects: objects})
		tr := b.Trace()
		res := b.Result(model.FieldSelector{}.Name())
		w := newFailureWalk(tr, res)
		for _, c := range res.Checkpoints {
			w.advance(c.Step)
			served := w.served()
			holds := true // at 0 replicas nothing is to be exported
			for u := range w.live {
				if w.replicas == 0 {
					break
				}
				if !served[int(model.Owner(model.HashUID(u), w.replicas))] {
					holds = false
					break
				}
			}
			if c.Holds() != holds {
				fatalTrace(t, b, "after step %d: the simulator says complete=%v disjoint=%v, the oracle holds=%v (started ordinals %v, %d replicas, %d live objects)",
					c.Step, c.Complete, c.Disjoint, holds, served, w.replicas, len(w.live))
			}
			loops := w.crashLooping()
			if len(loops) > 0 {
				verdicts[holds]++
			}
			for _, k := range loops {
				var owned []string
				for u := range w.live {
					if model.Keeps(u, int32(k), w.replicas) {
						owned = append(owned, u)
					}
				}
				seen[len(owned) > 0]++
				if len(owned) == 0 {
					continue
				}
				if c.Complete {
					fatalTrace(t, b, "after step %d pod %d crash-loops below %d replicas, %d live objects are its shard's, yet the point is complete", c.Step, k, w.replicas, len(owned))
				}
				if c.Gap.Count < len(owned) {
					fatalTrace(t, b, "after step %d pod %d crash-loops, %d live objects are its shard's, the gap has %d", c.Step, k, len(owned), c.Gap.Count)
				}
				if len(c.Gap.UIDs) < c.Gap.Count {
					continue // the report capped the UIDs
				}
				for _, u := range owned {
					if _, ok := slices.BinarySearch(c.Gap.UIDs, u); !ok {
						fatalTrace(t, b, "after step %d pod %d crash-loops, object %s is its shard's and not in the gap", c.Step, k, u)
					}
				}
			}
		}
	})
	replayHint(t)
	t.Logf("crash-looping points with objects of the shard / without: %d / %d; holding / violated: %d / %d", seen[true], seen[false], verdicts[true], verdicts[false])
	if !t.Failed() && (seen[true] == 0 || seen[false] == 0) {
		t.Errorf("crash-looping points with objects of the shard and without: %v", seen)
	}
}

// TestBuilderFailureTracesReplayAsBuilt: with GenConfig.Failures (and the
// faults and the explicit data plane besides) the builder's traces are
// valid trace files whose replay from scratch gives exactly the
// checkpoints the builder saw — so every explicit delivery it generated
// took an item from a lane that had one, under OrderedReady too, where
// pods appear one at a time; across the seeds both policies, both
// schedules and every failure op occur.
func TestBuilderFailureTracesReplayAsBuilt(t *testing.T) {
	replay := "go test ./properties -run '^TestBuilderFailureTracesReplayAsBuilt$'"
	seen := map[string]int{}
	seeds := uint64(30)
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		cfg := properties.FaultGenConfig()
		cfg.Failures, cfg.Objects = true, 50
		src := properties.NewRandSource(seed, 0)
		b := properties.NewBuilder(src, cfg)
		for range 40 {
			b.Op(src)
		}
		tr := properties.CloneTrace(b.Trace())
		data, err := properties.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(tr.Cluster.StatefulSet.PodManagementPolicy)+" "+tr.Schedule]++
		for _, s := range tr.Steps {
			seen[s.Op]++
		}
		checkReplaysAsBuilt(t, b, seed, data, replay)
		b.Close()
	}
	for _, want := range []string{"OrderedReady eager", "OrderedReady explicit", "Parallel eager", "Parallel explicit",
		sim.OpFailStart, sim.OpCrashLoop, sim.OpRecover, sim.OpDeliver, sim.OpRestart, sim.OpScale} {
		if seen[want] == 0 {
			t.Errorf("no %q in the generated traces with failures (seen: %v)", want, seen)
		}
	}
}
