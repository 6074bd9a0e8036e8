package checker

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Static sharding (doc.go, "Static sharding"): KSM Deployments run with
// --shard and --total-shards, explored by replaying every path with the
// simulator under the explicit schedule, like the data plane.

// Limits of the static sharding exploration.
const (
	// MaxStaticDeployments bounds StaticOptions.MaxDeployments.
	MaxStaticDeployments = 4
	// MaxStaticTotal bounds StaticOptions.MaxTotal.
	MaxStaticTotal = 4
	// MaxStaticStates bounds the distinct states of one exploration:
	// beyond it the exploration stops with a TooManyReplaysError before
	// replaying the layer that would exceed it.
	MaxStaticStates = 2_000_000
	// staticLanes bounds the lanes a path can use (one per Deployment
	// slot, a new one each time a deleted Deployment is re-created).
	staticLanes = MaxStaticDeployments + 64
)

// StaticStrategies are the Deployment strategies the static exploration
// starts from, one per run over every Deployment: RollingUpdate with
// maxSurge 1 (the API server's default 25% of one replica, rounded up:
// the new pod first), Recreate (every old pod stops before any new one
// starts) and RollingUpdate with maxSurge 0 and maxUnavailable 1 (the old
// pod first).
var StaticStrategies = []string{"RollingUpdate", "Recreate", "RollingUpdate-maxSurge-0"}

func staticStrategy(i int) *appsv1.DeploymentStrategy {
	switch i {
	case 1:
		return &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	case 2:
		zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
		return &appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &one}}
	}
	return nil
}

// StaticOptions bound one static sharding exploration.
type StaticOptions struct {
	// Reducer runs the pods (nil: field-selector). Static pods configure
	// from their flags, so it only decides the data plane.
	Reducer model.Reducer
	// MaxDeployments bounds the Deployments ksm-shard-0..k-1 (1..4).
	MaxDeployments int
	// MaxTotal bounds --total-shards (1..4).
	MaxTotal int
	// Depth bounds the cluster ops on a path (>= 0).
	Depth int
	// Misconfigure adds the ops that break a configuration: apply one
	// Deployment with any --shard in 0..MaxTotal and --total-shards in
	// 1..MaxTotal, and delete a Deployment that has a pod. Without it the
	// ops keep the Deployments with pods exactly shards 0..n-1 of one n.
	Misconfigure bool
	// Workers replay in parallel; 0 means GOMAXPROCS, at most
	// MaxWorkers. The result does not depend on it.
	Workers int
	// Progress, when set, is called about once a second from another
	// goroutine, starting two seconds into the run.
	Progress func(StaticProgress)

	maxStates int                       // test knob: the limit of TooManyReplaysError (MaxStaticStates if 0)
	noReduce  bool                      // test knob: keep every delivery order apart (no commutation of lanes)
	visit     func(stPath, *sim.Result) // test knob: sees every quiescent state (from one goroutine)
}

// The kinds of static ops, in alphabet order.
const (
	stReshard = iota // apply shards 0..arg-1 of arg; the other Deployments to 0 replicas
	stRestart        // restart the pod of Deployment arg
	stApply          // apply Deployment dep with --shard shard --total-shards arg (Misconfigure)
	stDelete         // delete Deployment dep (Misconfigure)
)

type stOp struct {
	kind  uint8
	dep   uint8
	shard uint8
	arg   uint8
}

// stSeg is one op and the lanes delivered from after it, in order.
type stSeg struct {
	op    stOp
	lanes []uint8
}

// stPath is a strategy, an initial number of shards and the segments.
type stPath struct {
	strategy uint8
	initial  uint8
	segs     []stSeg
}

// key identifies the state a path leads to: the ops and, after each,
// how many items each lane delivered (their order does not matter:
// deliveries to different lanes commute; TestStaticReduction checks it),
// or with noReduce the exact order.
func (p stPath) key(noReduce bool) string {
	var b strings.Builder
	b.WriteByte(p.strategy)
	b.WriteByte(p.initial)
	for _, s := range p.segs {
		b.WriteByte('|')
		b.WriteByte(s.op.kind)
		b.WriteByte(s.op.dep)
		b.WriteByte(s.op.shard)
		b.WriteByte(s.op.arg)
		if noReduce {
			b.WriteByte(byte(len(s.lanes)))
			b.Write(s.lanes)
			continue
		}
		var counts [staticLanes]uint8
		hi := 0
		for _, l := range s.lanes {
			counts[l]++
			hi = max(hi, int(l)+1)
		}
		b.WriteByte(byte(hi))
		b.Write(counts[:hi])
	}
	return b.String()
}

func (p stPath) ops() int { return len(p.segs) }

func (p stPath) deliveries() int {
	n := 0
	for _, s := range p.segs {
		n += len(s.lanes)
	}
	return n
}

// stDeployment is a Deployment as the ops leave it.
type stDeployment struct {
	exists          bool
	shard, total    int
	replicas        int
	lane            int // the lane of its one slot, when it has had a pod
	hasLane         bool
	strategy        uint8
	appliedReplicas bool // replicas set explicitly (0 or 1)
}

// staticCheck is one exploration's fixed data.
type staticCheck struct {
	opt     StaticOptions
	objects []string // one UID per trajectory class over totals 1..MaxTotal
}

// deployments follows the ops of p.
func (c *staticCheck) deployments(p stPath) ([]stDeployment, int) {
	deps := make([]stDeployment, c.opt.MaxDeployments)
	lanes := 0
	alloc := func(d *stDeployment) {
		if d.replicas > 0 && !d.hasLane {
			d.lane, d.hasLane = lanes, true
			lanes++
		}
	}
	for i := range int(p.initial) {
		deps[i] = stDeployment{exists: true, shard: i, total: int(p.initial), replicas: 1, strategy: p.strategy}
		alloc(&deps[i])
	}
	for _, s := range p.segs {
		op := s.op
		switch op.kind {
		case stReshard:
			n := int(op.arg)
			for i := range deps {
				d := &deps[i]
				switch {
				case i < n:
					if !d.exists {
						*d = stDeployment{exists: true, strategy: p.strategy}
					}
					d.shard, d.total, d.replicas = i, n, 1
				case d.exists:
					d.replicas, d.appliedReplicas = 0, true
				}
			}
			for i := range deps {
				alloc(&deps[i])
			}
		case stApply:
			d := &deps[op.dep]
			if !d.exists {
				*d = stDeployment{exists: true, strategy: p.strategy}
			}
			d.shard, d.total, d.replicas, d.appliedReplicas = int(op.shard), int(op.arg), 1, false
			alloc(d)
		case stDelete:
			deps[op.dep] = stDeployment{}
		}
	}
	return deps, lanes
}

// alphabet returns the ops a path can take next, in alphabet order:
// reshard to 1..min(MaxDeployments, MaxTotal) shards when that changes
// the Deployments, restart each Deployment's pod, and with Misconfigure
// apply each Deployment with each --shard 0..MaxTotal and --total-shards
// 1..MaxTotal it does not already have, and delete each existing
// Deployment.
func (c *staticCheck) alphabet(p stPath) []stOp {
	deps, _ := c.deployments(p)
	var ops []stOp
	for n := 1; n <= min(c.opt.MaxDeployments, c.opt.MaxTotal); n++ {
		same := true
		for i, d := range deps {
			want := i < n
			if want && (!d.exists || d.shard != i || d.total != n || d.replicas != 1) || !want && d.exists && d.replicas != 0 {
				same = false
			}
		}
		if !same {
			ops = append(ops, stOp{kind: stReshard, arg: uint8(n)})
		}
	}
	for i, d := range deps {
		if d.exists && d.replicas > 0 {
			ops = append(ops, stOp{kind: stRestart, dep: uint8(i)})
		}
	}
	if !c.opt.Misconfigure {
		return ops
	}
	for i, d := range deps {
		for total := 1; total <= c.opt.MaxTotal; total++ {
			for shard := 0; shard <= c.opt.MaxTotal; shard++ {
				if d.exists && d.replicas == 1 && d.shard == shard && d.total == total {
					continue
				}
				ops = append(ops, stOp{kind: stApply, dep: uint8(i), shard: uint8(shard), arg: uint8(total)})
			}
		}
	}
	for i, d := range deps {
		if d.exists {
			ops = append(ops, stOp{kind: stDelete, dep: uint8(i)})
		}
	}
	return ops
}

func staticName(i int) string { return "ksm-shard-" + strconv.Itoa(i) }

// spec is Deployment i's spec as an apply writes it.
func (c *staticCheck) spec(i int, d stDeployment) sim.Deployment {
	s := sim.Deployment{Name: staticName(i), Shard: int32(d.shard), TotalShards: d.total, Strategy: staticStrategy(int(d.strategy))}
	if d.appliedReplicas || d.replicas != 1 {
		r := int32(d.replicas)
		s.Replicas = &r
	}
	return s
}

// base is the trace of p's start: the Deployments, the objects, the
// explicit schedule, no step.
func (c *staticCheck) base(p stPath, name, description string) *sim.Trace {
	t := &sim.Trace{
		Name:        name,
		Description: description,
		Cluster:     sim.Cluster{Namespace: Namespace, Objects: sim.Objects{UIDs: slices.Clone(c.objects)}},
		Schedule:    sim.Explicit,
		Steps:       []sim.Step{},
	}
	for i := range int(p.initial) {
		t.Cluster.Deployments = append(t.Cluster.Deployments, sim.Deployment{Name: staticName(i), Shard: int32(i), TotalShards: int(p.initial), Strategy: staticStrategy(int(p.strategy))})
	}
	return t
}

// step is the trace step of op, taken at a path whose Deployments are
// before (the op's effect is in after).
func (c *staticCheck) step(op stOp, before, after []stDeployment) sim.Step {
	switch op.kind {
	case stRestart:
		return sim.Step{Op: sim.OpRestart, Pods: []int{before[op.dep].lane}}
	case stDelete:
		return sim.Step{Op: sim.OpDeleteDeployment, Name: staticName(int(op.dep))}
	case stApply:
		return sim.Step{Op: sim.OpApply, Deployments: []sim.Deployment{c.spec(int(op.dep), after[op.dep])}}
	}
	var specs []sim.Deployment
	for i, d := range after {
		if d.exists && (i < int(op.arg) || before[i].replicas != 0) {
			specs = append(specs, c.spec(i, d))
		}
	}
	return sim.Step{Op: sim.OpApply, Deployments: specs}
}

// trace builds the explicit trace of p: each op, then its deliveries,
// one item each, merged per lane run.
func (c *staticCheck) trace(p stPath, name, description string) *sim.Trace {
	t := c.base(p, name, description)
	cur := stPath{strategy: p.strategy, initial: p.initial}
	for _, s := range p.segs {
		before, _ := c.deployments(cur)
		cur.segs = append(cur.segs, stSeg{op: s.op})
		after, _ := c.deployments(cur)
		t.Steps = append(t.Steps, c.step(s.op, before, after))
		for _, l := range s.lanes {
			n := len(t.Steps) - 1
			if last := t.Steps[n]; last.Op == sim.OpDeliver && *last.Pod == int(l) {
				t.Steps[n].Count++
				continue
			}
			lane := int(l)
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpDeliver, Pod: &lane, Count: 1})
		}
	}
	return t
}

// stVisit is what a replay of a path says: whether it holds, whether its
// end is quiescent, and the lanes that can deliver next.
type stVisit struct {
	result    *sim.Result
	quiescent bool
	pending   []uint8
	invalid   bool // a delivery the simulator refuses (a Recreate pod waiting)
}

func (c *staticCheck) replay(p stPath) (stVisit, error) {
	t := c.trace(p, "static", "")
	s := sim.New(t, c.opt.Reducer, sim.Options{})
	defer s.Close()
	for i := range t.Steps {
		if err := s.Apply(i); err != nil {
			var te *sim.TraceError
			if errors.As(err, &te) && t.Steps[i].Op == sim.OpDeliver {
				return stVisit{invalid: true}, nil
			}
			return stVisit{}, err
		}
	}
	v := stVisit{result: s.Finish(), quiescent: s.Quiescent()}
	_, lanes := c.deployments(p)
	for l := range lanes {
		if s.Pending(l) > 0 {
			v.pending = append(v.pending, uint8(l))
		}
	}
	return v, nil
}

// StaticProgress is a snapshot of a running static exploration.
type StaticProgress struct {
	Depth   int    // ops of the layer being explored
	States  uint64 // distinct states replayed so far
	Elapsed time.Duration
}

// String renders a progress snapshot on one line.
func (p StaticProgress) String() string {
	r := 0.0
	if p.Elapsed > 0 {
		r = float64(p.States) / p.Elapsed.Seconds()
	}
	return fmt.Sprintf("static sharding, depth %d: %s states replayed, %s states/s, %s", p.Depth, group(p.States), rate(r), roundDuration(p.Elapsed))
}

// StaticResult is the outcome of a static sharding exploration.
type StaticResult struct {
	Options StaticOptions
	Workers int
	// Holds is true when complete and disjoint hold at every quiescent
	// point of every explored path.
	Holds bool
	// States counts the distinct states replayed (each a path of ops and
	// deliveries, up to the order of deliveries to different lanes);
	// Quiescent those that end quiescent, whose last point the simulator
	// judged; Layers the states by number of ops.
	States, Quiescent uint64
	Layers            []int
	// Reached is the deepest layer explored; Saturated reports that it
	// added no op sequence (every path stops before it).
	Reached int
	Elapsed time.Duration
	// Counterexample is a violating path of the fewest ops, and among
	// those of the fewest deliveries (the first in exploration order),
	// or nil.
	Counterexample *StaticCounterexample
}

// StaticCounterexample is a shortest violating path of the static
// exploration.
type StaticCounterexample struct {
	c    *staticCheck
	path stPath
	// Strategy is the Deployments' strategy (StaticStrategies); Initial
	// the shards 0..n-1 of n the cluster starts settled with.
	Strategy string
	Initial  int
	// Steps are the ops and deliveries, as trace steps.
	Steps []sim.Step
	// Result is the simulator's replay of the path: its last checkpoint
	// is the violation.
	Result *sim.Result
}

// Ops is the number of cluster ops of the counterexample.
func (cx *StaticCounterexample) Ops() int { return cx.path.ops() }

// CheckStatic explores, breadth first by number of ops, every sequence of
// up to opt.Depth ops from a settled cluster of Deployments on shards
// 0..n-1 of n (every n in 1..min(MaxDeployments, MaxTotal), every
// strategy of StaticStrategies) and every order of the lanes' deliveries
// between them, each path replayed by the simulator, and reports whether
// complete and disjoint hold at every quiescent point, with a shortest
// counterexample when they do not.
func CheckStatic(opt StaticOptions) (*StaticResult, error) {
	start := time.Now()
	if opt.Reducer == nil {
		opt.Reducer = model.FieldSelector{}
	}
	switch {
	case opt.Depth < 0:
		return nil, fmt.Errorf("depth must be at least 0, got %d", opt.Depth)
	case opt.MaxDeployments < 1 || opt.MaxDeployments > MaxStaticDeployments:
		return nil, fmt.Errorf("max deployments must be between 1 and %d, got %d", MaxStaticDeployments, opt.MaxDeployments)
	case opt.MaxTotal < 1 || opt.MaxTotal > MaxStaticTotal:
		return nil, fmt.Errorf("max total shards must be between 1 and %d, got %d", MaxStaticTotal, opt.MaxTotal)
	case opt.Workers < 0 || opt.Workers > MaxWorkers:
		return nil, fmt.Errorf("workers must be between 0 (GOMAXPROCS) and %d, got %d", MaxWorkers, opt.Workers)
	case opt.Depth > staticLanes-MaxStaticDeployments:
		return nil, fmt.Errorf("depth must be at most %d, got %d", staticLanes-MaxStaticDeployments, opt.Depth)
	}
	limit := opt.maxStates
	if limit <= 0 {
		limit = MaxStaticStates
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	objects, err := NewClasses(opt.MaxTotal).FindAllUIDs(1)
	if err != nil {
		return nil, err
	}
	c := &staticCheck{opt: opt, objects: objects}
	res := &StaticResult{Options: opt, Workers: workers, Holds: true}

	var states atomic.Uint64
	var depthNow atomic.Int64
	if opt.Progress != nil {
		defer reportProgress(start, func(el time.Duration) {
			opt.Progress(StaticProgress{Depth: int(depthNow.Load()), States: states.Load(), Elapsed: el})
		})()
	}

	seen := map[string]bool{}
	var layer []stPath // paths of this many ops, their deliveries still to explore
	for s := range StaticStrategies {
		for n := 1; n <= min(opt.MaxDeployments, opt.MaxTotal); n++ {
			p := stPath{strategy: uint8(s), initial: uint8(n)}
			seen[p.key(opt.noReduce)] = true
			layer = append(layer, p)
		}
	}
	total := len(layer)
	for depth := 0; ; depth++ {
		depthNow.Store(int64(depth))
		var all []stPath // every state of this layer, deliveries explored
		var next []stPath
		frontier := layer
		for len(frontier) > 0 {
			visits, err := c.replayAll(frontier, workers, &states)
			if err != nil {
				return nil, err
			}
			var more []stPath
			for i, p := range frontier {
				v := visits[i]
				if v.invalid {
					continue
				}
				all = append(all, p)
				if v.quiescent {
					res.Quiescent++
					if opt.visit != nil {
						opt.visit(p, v.result)
					}
				}
				if !v.result.Holds && res.Counterexample == nil {
					res.Holds = false
					res.Counterexample = &StaticCounterexample{c: c, path: p, Strategy: StaticStrategies[p.strategy], Initial: int(p.initial),
						Steps: c.trace(p, "", "").Steps, Result: v.result}
				}
				for _, l := range v.pending {
					if len(p.segs) == 0 {
						break // the settled start: nothing is queued
					}
					q := p
					q.segs = slices.Clone(p.segs)
					q.segs[len(q.segs)-1].lanes = append(slices.Clone(q.segs[len(q.segs)-1].lanes), l)
					if k := q.key(opt.noReduce); !seen[k] {
						seen[k] = true
						more = append(more, q)
					}
				}
				if depth < opt.Depth && v.result.Holds {
					for _, op := range c.alphabet(p) {
						q := p
						q.segs = append(slices.Clip(p.segs), stSeg{op: op})
						if k := q.key(opt.noReduce); !seen[k] {
							seen[k] = true
							next = append(next, q)
						}
					}
				}
			}
			if res.Counterexample != nil {
				break
			}
			total += len(more)
			if total > limit {
				return nil, &TooManyReplaysError{Limit: limit, Depth: depth, Need: total}
			}
			frontier = more
		}
		res.Layers = append(res.Layers, len(all))
		res.States += uint64(len(all))
		res.Reached = depth
		if res.Counterexample != nil || depth == opt.Depth || len(next) == 0 {
			break
		}
		total += len(next)
		if total > limit {
			return nil, &TooManyReplaysError{Limit: limit, Depth: depth + 1, Need: total}
		}
		layer = next
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// replayAll replays every path on workers goroutines.
func (c *staticCheck) replayAll(paths []stPath, workers int, done *atomic.Uint64) ([]stVisit, error) {
	return replayEach(paths, workers, done, "static sharding", c.replay)
}

// Bounds describes the exploration's bounds in words.
func (o StaticOptions) Bounds() string {
	ops := fmt.Sprintf("reshard to shards 0..n-1 of n (n in 1..%d; the other Deployments scaled to 0 in the same apply), restart a Deployment's pod", min(o.MaxDeployments, o.MaxTotal))
	if o.Misconfigure {
		ops += fmt.Sprintf(", apply one Deployment with --shard 0..%d and --total-shards 1..%d, delete a Deployment", o.MaxTotal, o.MaxTotal)
	}
	return fmt.Sprintf("start settled with Deployments ksm-shard-0..n-1 on shards 0..n-1 of n (n in 1..%d, one replica each), every strategy (%s) for all of them; "+
		"up to %d cluster ops: %s; every order of the lanes' deliveries between them (explicit schedule)",
		min(o.MaxDeployments, o.MaxTotal), strings.Join(StaticStrategies, ", "), o.Depth, ops)
}

// Export turns the counterexample into a trace file named name, parses
// it back and replays it with the simulator, which must say violated at
// its last checkpoint.
func (cx *StaticCounterexample) Export(name string) (*DataPlaneExport, error) {
	r := cx.c.opt.Reducer
	t := cx.c.trace(cx.path, name, "Found by simrun check --mode static ("+r.Name()+"): "+cx.Summary())
	t.Expect = map[string]string{r.Name(): sim.Violated}
	return exportTrace(t, name, r, false)
}

// Summary is a one-line account of the counterexample.
func (cx *StaticCounterexample) Summary() string {
	var ops []string
	for _, s := range cx.Steps {
		ops = append(ops, describeStaticStep(s))
	}
	how := "with no op"
	if len(ops) > 0 {
		how = strings.Join(ops, ", then ")
	}
	last := cx.Result.Checkpoints[len(cx.Result.Checkpoints)-1]
	return fmt.Sprintf("%d ConfigMaps (one per trajectory class), Deployments on shards 0..%d of %d (%s), %s: %s",
		len(cx.c.objects), cx.Initial-1, cx.Initial, cx.Strategy, how, describeCheckpoint(last))
}

func describeStaticStep(s sim.Step) string {
	switch s.Op {
	case sim.OpApply:
		var parts []string
		for _, d := range s.Deployments {
			r := 1
			if d.Replicas != nil {
				r = int(*d.Replicas)
			}
			parts = append(parts, fmt.Sprintf("%s %d/%d x%d", d.Name, d.Shard, d.TotalShards, r))
		}
		return "apply " + strings.Join(parts, ", ")
	case sim.OpDeleteDeployment:
		return "delete " + s.Name
	case sim.OpRestart:
		return fmt.Sprintf("restart lane %d", s.Pods[0])
	case sim.OpDeliver:
		return fmt.Sprintf("deliver %d to lane %d", s.Count, *s.Pod)
	}
	return s.Op
}

// WriteText writes the report of a static exploration: the bounds, the
// verdict, the counts and the counterexample with its trace (x, written
// to path when path is not empty).
func (r *StaticResult) WriteText(w io.Writer, x *DataPlaneExport, path string) error {
	o := r.Options
	var b strings.Builder
	fmt.Fprintf(&b, "check --mode static %s\n", o.Reducer.Name())
	fmt.Fprintf(&b, "  bounds   %s\n", o.Bounds())
	fmt.Fprintf(&b, "  objects  every possible UID: %d ConfigMaps, one per jump-hash trajectory class over totals 1..%d (a shard >= its total keeps none)\n\n", 1<<(o.MaxTotal-1), o.MaxTotal)
	if r.Holds {
		fmt.Fprintf(&b, "verdict: holds for all UIDs: complete and disjoint at every quiescent point of every path within the bounds\n")
	} else {
		cx := r.Counterexample
		fmt.Fprintf(&b, "verdict: VIOLATED: shortest counterexample: %d %s, %d explicit %s\n", cx.Ops(), plural(cx.Ops(), "cluster op", "cluster ops"), cx.path.deliveries(), plural(cx.path.deliveries(), "delivery", "deliveries"))
		fmt.Fprintf(&b, "  %s\n", cx.Summary())
		if path != "" {
			fmt.Fprintf(&b, "  trace: %s\n", path)
		}
		if x != nil {
			fmt.Fprintf(&b, "  replayed with the simulator: %s\n", sim.Verdict(x.Replay))
		}
	}
	fmt.Fprintf(&b, "\n  states           %d distinct (paths of ops and deliveries, up to the order of deliveries to different lanes)\n", r.States)
	fmt.Fprintf(&b, "  quiescent states %d checked\n", r.Quiescent)
	fmt.Fprintf(&b, "  by ops           %v\n", r.Layers)
	fmt.Fprintf(&b, "  depth            %d of %d\n", r.Reached, o.Depth)
	fmt.Fprintf(&b, "  wall time        %s\n", roundDuration(r.Elapsed))
	fmt.Fprintf(&b, "  workers          %d\n", r.Workers)
	_, err := io.WriteString(w, b.String())
	return err
}
