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

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// DaemonSet sharding (doc.go, "DaemonSet sharding"): a KSM pod per node
// run with --node, explored like static sharding by replaying every path
// with the simulator under the explicit schedule.

// MaxDaemonSetNodes bounds DaemonSetOptions.MaxNodes.
const MaxDaemonSetNodes = 3

// DaemonSetOptions bound one DaemonSet sharding exploration.
type DaemonSetOptions struct {
	// Reducer runs the KSM pods: a release (its --node and
	// --track-unscheduled-pods rules) or a named reducer (nil: v2.14.0).
	Reducer model.Reducer
	// MaxNodes bounds the initial nodes (1..3).
	MaxNodes int
	// Depth bounds the cluster ops on a path (>= 0).
	Depth int
	// Unscheduled is cluster.daemonSet.unscheduled: "" (nothing serves
	// the pods bound to no node), sim.UnscheduledTrack or
	// sim.UnscheduledAll.
	Unscheduled string
	// Taints adds taint and untaint to the ops. A tainted node's pods
	// are exported by no KSM pod (the DaemonSet does not tolerate the
	// taint), so with them the shortest counterexample is a taint.
	Taints bool
	// Dotted names the nodes ip-10-0-0-<i>.ec2.internal instead of
	// node-<i>.
	Dotted bool
	// Workers replay in parallel; 0 means GOMAXPROCS, at most
	// MaxWorkers.
	Workers int
	// Progress, when set, is called about once a second from another
	// goroutine, starting two seconds into the run.
	Progress func(StaticProgress)

	maxStates int
	noReduce  bool
	visit     func(dsPath, *sim.Result)
}

// The kinds of DaemonSet ops, in alphabet order.
const (
	dsAddNode = iota
	dsRemoveNode
	dsTaint
	dsUntaint
	dsCreate // one pod on node arg, or unscheduled (arg 0)
	dsBind   // one unscheduled pod to node arg
)

// dsOp is an op; node is a name index: 0 is "" (unscheduled), i+1 the
// i-th node name.
type dsOp struct{ kind, node uint8 }

// settleLane marks a settle among a segment's deliveries.
const settleLane = 255

type dsSeg struct {
	op    dsOp
	lanes []uint8 // name indexes delivered from, then maybe settleLane
}

type dsPath struct {
	nodes       uint8 // initial nodes 0..n-1
	unscheduled uint8 // initial unscheduled pods
	segs        []dsSeg
}

func (p dsPath) key(noReduce bool) string {
	var b strings.Builder
	b.WriteByte(p.nodes)
	b.WriteByte(p.unscheduled)
	for _, s := range p.segs {
		b.WriteByte('|')
		b.WriteByte(s.op.kind)
		b.WriteByte(s.op.node)
		if noReduce {
			b.WriteByte(byte(len(s.lanes)))
			b.Write(s.lanes)
			continue
		}
		var counts [256]uint8
		hi, settled := 0, false
		for _, l := range s.lanes {
			if l == settleLane {
				settled = true
				continue
			}
			counts[l]++
			hi = max(hi, int(l)+1)
		}
		b.WriteByte(byte(hi))
		b.Write(counts[:hi])
		if settled {
			b.WriteByte('S')
		}
	}
	return b.String()
}

func (p dsPath) ops() int { return len(p.segs) }

func (p dsPath) settled() bool {
	if len(p.segs) == 0 {
		return false
	}
	l := p.segs[len(p.segs)-1].lanes
	return len(l) > 0 && l[len(l)-1] == settleLane
}

type daemonSetCheck struct{ opt DaemonSetOptions }

func (c *daemonSetCheck) name(i int) string {
	if c.opt.Dotted {
		return "ip-10-0-0-" + strconv.Itoa(i) + ".ec2.internal"
	}
	return "node-" + strconv.Itoa(i)
}

// dsState is what the ops leave: the existing nodes (name indexes), the
// tainted ones, and the unscheduled pods.
type dsState struct {
	exists, tainted map[uint8]bool
	unscheduled     int
	named           int // node names used
}

func (c *daemonSetCheck) state(p dsPath) dsState {
	st := dsState{exists: map[uint8]bool{}, tainted: map[uint8]bool{}, unscheduled: int(p.unscheduled), named: int(p.nodes)}
	for i := range int(p.nodes) {
		st.exists[uint8(i+1)] = true
	}
	for _, s := range p.segs {
		switch n := s.op.node; s.op.kind {
		case dsAddNode:
			st.exists[n] = true
			st.named++
		case dsRemoveNode:
			delete(st.exists, n)
			delete(st.tainted, n)
		case dsTaint:
			st.tainted[n] = true
		case dsUntaint:
			delete(st.tainted, n)
		case dsCreate:
			if n == 0 {
				st.unscheduled++
			}
		case dsBind:
			st.unscheduled--
		}
	}
	return st
}

func (st dsState) nodes() []uint8 {
	var out []uint8
	for n := range st.exists {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// alphabet: add a node (a new name), remove each node, with Taints
// taint or untaint each, create one pod on each node or unscheduled, bind one unscheduled
// pod to each node.
func (c *daemonSetCheck) alphabet(p dsPath) []dsOp {
	st := c.state(p)
	nodes := st.nodes()
	ops := []dsOp{{dsAddNode, uint8(st.named + 1)}}
	for _, n := range nodes {
		ops = append(ops, dsOp{dsRemoveNode, n})
	}
	for _, n := range nodes {
		switch {
		case !c.opt.Taints:
		case st.tainted[n]:
			ops = append(ops, dsOp{dsUntaint, n})
		default:
			ops = append(ops, dsOp{dsTaint, n})
		}
	}
	ops = append(ops, dsOp{dsCreate, 0})
	for _, n := range nodes {
		ops = append(ops, dsOp{dsCreate, n})
	}
	if st.unscheduled > 0 {
		for _, n := range nodes {
			ops = append(ops, dsOp{dsBind, n})
		}
	}
	return ops
}

// laneName is the node of name index n ("" for 0).
func (c *daemonSetCheck) laneName(n uint8) string {
	if n == 0 {
		return ""
	}
	return c.name(int(n) - 1)
}

func (c *daemonSetCheck) trace(p dsPath, name, description string) *sim.Trace {
	var nodes []string
	for i := range int(p.nodes) {
		nodes = append(nodes, c.name(i))
	}
	t := &sim.Trace{
		Name:        name,
		Description: description,
		Cluster: sim.Cluster{
			Namespace: Namespace,
			DaemonSet: &sim.DaemonSet{Name: "ksm", Unscheduled: c.opt.Unscheduled},
			Nodes:     nodes,
			Pods:      &sim.PodObjects{Generate: int(p.nodes) + int(p.unscheduled), Seed: 1, Unscheduled: int(p.unscheduled)},
		},
		Schedule: sim.Explicit,
		Steps:    []sim.Step{},
	}
	for _, s := range p.segs {
		n := c.laneName(s.op.node)
		var st sim.Step
		switch s.op.kind {
		case dsAddNode:
			st = sim.Step{Op: sim.OpAddNode, Node: &n}
		case dsRemoveNode:
			st = sim.Step{Op: sim.OpRemoveNode, Node: &n}
		case dsTaint:
			st = sim.Step{Op: sim.OpTaint, Node: &n}
		case dsUntaint:
			st = sim.Step{Op: sim.OpUntaint, Node: &n}
		case dsCreate:
			st = sim.Step{Op: sim.OpCreatePods, Node: &n, Generate: 1, Seed: 1}
		case dsBind:
			st = sim.Step{Op: sim.OpBind, Node: &n, Count: 1}
		}
		t.Steps = append(t.Steps, st)
		for _, l := range s.lanes {
			if l == settleLane {
				t.Steps = append(t.Steps, sim.Step{Op: sim.OpSettle})
				continue
			}
			last := &t.Steps[len(t.Steps)-1]
			if last.Op == sim.OpDeliver && *last.Node == c.laneName(l) {
				last.Count++
				continue
			}
			ln := c.laneName(l)
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpDeliver, Node: &ln, Count: 1})
		}
	}
	return t
}

type dsVisit struct {
	result    *sim.Result
	quiescent bool
	invalid   bool
}

func (c *daemonSetCheck) replay(p dsPath) (dsVisit, error) {
	t := c.trace(p, "daemonset", "")
	s := sim.New(t, c.opt.Reducer, sim.Options{})
	defer s.Close()
	for i := range t.Steps {
		if err := s.Apply(i); err != nil {
			var te *sim.TraceError
			if errors.As(err, &te) && t.Steps[i].Op == sim.OpDeliver {
				return dsVisit{invalid: true}, nil // that lane had nothing to deliver
			}
			return dsVisit{}, err
		}
	}
	return dsVisit{result: s.Finish(), quiescent: s.Quiescent()}, nil
}

// CheckDaemonSet explores, breadth first by number of ops, every sequence
// of up to opt.Depth ops from a settled cluster of 1..MaxNodes nodes with
// one pod each and 0 or 1 unscheduled pod, and every order of the KSM
// pods' deliveries between them, each path replayed by the simulator, and
// reports whether complete and disjoint hold at every quiescent point,
// with a shortest counterexample when they do not.
func CheckDaemonSet(opt DaemonSetOptions) (*StaticResult, *DaemonSetCounterexample, error) {
	start := time.Now()
	if opt.Reducer == nil {
		opt.Reducer, _ = model.ReleaseByVersion("v2.14.0")
	}
	switch {
	case opt.Depth < 0 || opt.Depth > 32:
		return nil, nil, fmt.Errorf("depth must be between 0 and 32, got %d", opt.Depth)
	case opt.MaxNodes < 1 || opt.MaxNodes > MaxDaemonSetNodes:
		return nil, nil, fmt.Errorf("max nodes must be between 1 and %d, got %d", MaxDaemonSetNodes, opt.MaxNodes)
	case opt.Workers < 0 || opt.Workers > MaxWorkers:
		return nil, nil, fmt.Errorf("workers must be between 0 (GOMAXPROCS) and %d, got %d", MaxWorkers, opt.Workers)
	}
	switch opt.Unscheduled {
	case "", sim.UnscheduledTrack, sim.UnscheduledAll:
	default:
		return nil, nil, fmt.Errorf("unscheduled must be empty, %q or %q, got %q", sim.UnscheduledTrack, sim.UnscheduledAll, opt.Unscheduled)
	}
	limit := opt.maxStates
	if limit <= 0 {
		limit = MaxStaticStates
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	c := &daemonSetCheck{opt: opt}
	res := &StaticResult{Workers: workers, Holds: true}
	var cx *DaemonSetCounterexample

	var states atomic.Uint64
	var depthNow atomic.Int64
	if opt.Progress != nil {
		defer reportProgress(start, func(el time.Duration) {
			opt.Progress(StaticProgress{Depth: int(depthNow.Load()), States: states.Load(), Elapsed: el})
		})()
	}
	seen := map[string]bool{}
	var layer []dsPath
	for n := 1; n <= opt.MaxNodes; n++ {
		for u := range 2 {
			p := dsPath{nodes: uint8(n), unscheduled: uint8(u)}
			seen[p.key(opt.noReduce)] = true
			layer = append(layer, p)
		}
	}
	total := len(layer)
	for depth := 0; ; depth++ {
		depthNow.Store(int64(depth))
		var next []dsPath
		count := 0
		frontier := layer
		for len(frontier) > 0 {
			visits, err := c.replayAll(frontier, workers, &states)
			if err != nil {
				return nil, nil, err
			}
			var more []dsPath
			for i, p := range frontier {
				v := visits[i]
				if v.invalid {
					continue
				}
				count++
				if v.quiescent {
					res.Quiescent++
					if opt.visit != nil {
						opt.visit(p, v.result)
					}
				}
				if !v.result.Holds && cx == nil {
					res.Holds = false
					cx = &DaemonSetCounterexample{c: c, path: p, Steps: c.trace(p, "", "").Steps, Result: v.result}
				}
				if !v.quiescent && len(p.segs) > 0 && !p.settled() {
					st := c.state(p)
					lanes := st.nodes()
					if opt.Unscheduled != "" {
						lanes = append([]uint8{0}, lanes...)
					}
					for _, l := range append(lanes, settleLane) {
						q := p
						q.segs = slices.Clone(p.segs)
						q.segs[len(q.segs)-1].lanes = append(slices.Clone(q.segs[len(q.segs)-1].lanes), l)
						if k := q.key(opt.noReduce); !seen[k] {
							seen[k] = true
							more = append(more, q)
						}
					}
				}
				if depth < opt.Depth && v.result.Holds {
					for _, op := range c.alphabet(p) {
						q := p
						q.segs = append(slices.Clip(p.segs), dsSeg{op: op})
						if k := q.key(opt.noReduce); !seen[k] {
							seen[k] = true
							next = append(next, q)
						}
					}
				}
			}
			if cx != nil {
				break
			}
			total += len(more)
			if total > limit {
				return nil, nil, &TooManyReplaysError{Limit: limit, Depth: depth, Need: total}
			}
			frontier = more
		}
		res.Layers = append(res.Layers, count)
		res.States += uint64(count)
		res.Reached = depth
		if cx != nil || depth == opt.Depth || len(next) == 0 {
			break
		}
		total += len(next)
		if total > limit {
			return nil, nil, &TooManyReplaysError{Limit: limit, Depth: depth + 1, Need: total}
		}
		layer = next
	}
	res.Elapsed = time.Since(start)
	return res, cx, nil
}

func (c *daemonSetCheck) replayAll(paths []dsPath, workers int, done *atomic.Uint64) ([]dsVisit, error) {
	return replayEach(paths, workers, done, "DaemonSet sharding", c.replay)
}

// DaemonSetCounterexample is a shortest violating path of the DaemonSet
// exploration.
type DaemonSetCounterexample struct {
	c    *daemonSetCheck
	path dsPath
	// Steps are the ops and deliveries, as trace steps.
	Steps []sim.Step
	// Result is the simulator's replay of the path.
	Result *sim.Result
}

// Ops is the number of cluster ops of the counterexample.
func (cx *DaemonSetCounterexample) Ops() int { return cx.path.ops() }

// Trace is the counterexample as an explicit trace named name, expecting
// the reducer violated; the caller checks it with sim.
func (cx *DaemonSetCounterexample) Trace(name string) *sim.Trace {
	t := cx.c.trace(cx.path, name, "Found by checker.CheckDaemonSet ("+cx.c.opt.Reducer.Name()+")")
	t.Expect = map[string]string{cx.c.opt.Reducer.Name(): sim.Violated}
	return t
}

// Bounds describes the DaemonSet exploration's bounds in words.
func (o DaemonSetOptions) Bounds() string {
	u := o.Unscheduled
	if u == "" {
		u = "none"
	}
	taints := ""
	if o.Taints {
		taints = ", taint or untaint one"
	}
	return fmt.Sprintf("start settled with 1..%d nodes, one pod bound to each, 0 or 1 unscheduled pod (unscheduled: %s); up to %d cluster ops: add a node, remove one%s, "+
		"create one pod on a node or unscheduled, bind one unscheduled pod; every order of the KSM pods' deliveries between them, a settle delivering what a removed node's KSM pod has queued",
		o.MaxNodes, u, o.Depth, taints)
}

// WriteDaemonSetText writes the report of a DaemonSet exploration.
//
// path, when not empty, is where the counterexample's trace was written.
func WriteDaemonSetText(w io.Writer, o DaemonSetOptions, r *StaticResult, cx *DaemonSetCounterexample, path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "check --mode daemonset %s\n  bounds   %s\n\n", o.Reducer.Name(), o.Bounds())
	if cx == nil {
		b.WriteString("verdict: holds: complete and disjoint at every quiescent point of every path within the bounds\n")
	} else {
		fmt.Fprintf(&b, "verdict: VIOLATED: shortest counterexample: %d %s\n", cx.Ops(), plural(cx.Ops(), "cluster op", "cluster ops"))
		for _, s := range cx.Steps {
			n := ""
			if s.Node != nil {
				n = " " + strconv.Quote(*s.Node)
			}
			fmt.Fprintf(&b, "  %s%s\n", s.Op, n)
		}
		fmt.Fprintf(&b, "  %s\n", sim.Verdict(cx.Result))
		if path != "" {
			fmt.Fprintf(&b, "  trace: %s\n", path)
		}
	}
	fmt.Fprintf(&b, "\n  states           %d distinct\n  quiescent states %d checked\n  by ops           %v\n  wall time        %s\n", r.States, r.Quiescent, r.Layers, roundDuration(r.Elapsed))
	_, err := io.WriteString(w, b.String())
	return err
}

// Export turns the counterexample into a trace file named name, parses it
// back and replays it with the simulator, which must say violated at its
// last quiescent point.
func (cx *DaemonSetCounterexample) Export(name string) (*DataPlaneExport, error) {
	r := cx.c.opt.Reducer
	t := cx.Trace(name)
	t.Description = "Found by simrun check --mode daemonset (" + r.Name() + "): " + sim.Verdict(cx.Result)
	return exportTrace(t, name, r, false)
}
