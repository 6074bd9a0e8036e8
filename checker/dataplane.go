package checker

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
	appsv1 "k8s.io/api/apps/v1"
)

// The fixed part of the data-plane exploration (doc.go, "Releases and the
// data plane").
const (
	// DataPlanePageSize is the client-go pager's page size of every
	// explored cluster (cluster.pageSize).
	DataPlanePageSize = 4
	// DataPlaneObjects is the number of objects every explored cluster
	// starts with: two full pages and half of a third, so that a paged
	// LIST takes three pages and follows two continue tokens.
	DataPlaneObjects = 2*DataPlanePageSize + DataPlanePageSize/2
	// dataPlaneSeed and dataPlaneCreateSeed derive the initial UIDs and
	// the pool the create op takes from (sim.GenerateUIDs).
	dataPlaneSeed       = 1
	dataPlaneCreateSeed = 2
)

// MaxDataPlaneReplays bounds the replays of one data-plane exploration:
// beyond it the exploration stops with a TooManyReplaysError before
// replaying anything of the layer that would exceed it.
const MaxDataPlaneReplays = 2_000_000

// A Server is one configuration of the API server (cluster.apiServer).
type Server struct {
	WatchCache bool `json:"watchCache"`
	WatchList  bool `json:"watchList"`
}

// Servers are the API server configurations a data-plane exploration
// covers, in exploration order: the default (v1.37) first.
var Servers = []Server{{true, true}, {true, false}, {false, true}, {false, false}}

// String describes the configuration in words.
func (s Server) String() string {
	on := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	return fmt.Sprintf("watch cache %s, WatchList %s", on(s.WatchCache), on(s.WatchList))
}

func (s Server) spec() *sim.APIServerSpec {
	wc, wl := s.WatchCache, s.WatchList
	return &sim.APIServerSpec{WatchCache: &wc, WatchList: &wl}
}

// DataPlaneOptions bound one data-plane exploration.
type DataPlaneOptions struct {
	// Reducer runs the pods: a release, usually (model.Release), whose
	// data plane differs from the default's.
	Reducer model.Reducer
	// MaxReplicas bounds spec.replicas (1..MaxReplicas); the exploration
	// starts from a settled cluster of every replica count 1..MaxReplicas.
	MaxReplicas int
	// Depth bounds the number of ops on a path (>= 0).
	Depth int
	// Faults adds compact, disconnect one pod and cacheLag 0/1 (with the
	// watch cache only) to the ops.
	Faults Faults
	// Workers replay in parallel; 0 means GOMAXPROCS, at most MaxWorkers.
	// The result does not depend on it.
	Workers int
	// Progress, when set, is called about once a second from another
	// goroutine, starting two seconds into the run.
	Progress func(DataPlaneProgress)

	maxReplays int  // test knob: the limit of TooManyReplaysError (MaxDataPlaneReplays if 0)
	fromOne    bool // test knob: start from a settled cluster of 1 replica only
}

// TooManyReplaysError is returned when a data-plane exploration would
// replay more than MaxDataPlaneReplays sequences. Nothing is truncated:
// the exploration stops.
type TooManyReplaysError struct {
	Limit int // MaxDataPlaneReplays
	Depth int // the layer (number of ops) that would exceed it
	Need  int // replays up to and including that layer
}

func (e *TooManyReplaysError) Error() string {
	return fmt.Sprintf("the data-plane exploration needs %d replays up to %d ops, more than %d; explore smaller bounds", e.Need, e.Depth, e.Limit)
}

// The kinds of data-plane ops, in alphabet order.
const (
	dpScale = iota
	dpRestart
	dpCreate
	dpDelete
	dpCompact
	dpDisconnect
	dpCacheLag
)

type dpOp struct {
	kind uint8
	arg  int8 // scale: replicas; restart, disconnect: ordinal; cacheLag: writes
}

// A dpPath is a server, an initial replica count and a sequence of ops.
type dpPath struct {
	server  uint8
	initial uint8
	ops     []dpOp
}

// dpState is what the ops need to know of the cluster a path leads to.
type dpState struct {
	replicas int
	live     []string // sorted
	created  int      // objects created so far: the next create takes pool[created]
	lag      int
}

// dataPlane is one exploration's fixed data.
type dataPlane struct {
	opt     DataPlaneOptions
	initial []string // the initial objects, sorted
	pool    []string // the UIDs create takes, in order
}

func newDataPlane(opt DataPlaneOptions) *dataPlane {
	d := &dataPlane{opt: opt}
	d.initial = slices.Sorted(slices.Values(sim.GenerateUIDs(DataPlaneObjects, dataPlaneSeed, 0)))
	d.pool = sim.GenerateUIDs(max(opt.Depth, 1), dataPlaneCreateSeed, 0)
	return d
}

// state follows the ops of p.
func (d *dataPlane) state(p dpPath) dpState {
	st := dpState{replicas: int(p.initial), live: slices.Clone(d.initial)}
	for _, op := range p.ops {
		d.apply(&st, op)
	}
	return st
}

func (d *dataPlane) apply(st *dpState, op dpOp) {
	switch op.kind {
	case dpScale:
		st.replicas = int(op.arg)
	case dpCreate:
		u := d.pool[st.created]
		st.created++
		i, _ := slices.BinarySearch(st.live, u)
		st.live = slices.Insert(st.live, i, u)
	case dpDelete:
		st.live = st.live[1:]
	case dpCacheLag:
		st.lag = int(op.arg)
	}
}

// alphabet returns the ops a path at st on server srv can take next, in
// alphabet order: scale to 0..M (not to spec.replicas: an update that
// changes nothing is not written), restart each pod, create one object,
// delete the first live object (in list order), and with faults compact,
// disconnect each pod, cacheLag 1 (0 to end a lag), with the watch cache
// only.
func (d *dataPlane) alphabet(st dpState, srv Server) []dpOp {
	var ops []dpOp
	for r := 0; r <= d.opt.MaxReplicas; r++ {
		if r != st.replicas {
			ops = append(ops, dpOp{dpScale, int8(r)})
		}
	}
	for o := range st.replicas {
		ops = append(ops, dpOp{dpRestart, int8(o)})
	}
	if st.created < len(d.pool) {
		ops = append(ops, dpOp{kind: dpCreate})
	}
	if len(st.live) > 0 {
		ops = append(ops, dpOp{kind: dpDelete})
	}
	if d.opt.Faults.Has(Compact) {
		ops = append(ops, dpOp{kind: dpCompact})
	}
	if d.opt.Faults.Has(Disconnect) {
		for o := range st.replicas {
			ops = append(ops, dpOp{dpDisconnect, int8(o)})
		}
	}
	if d.opt.Faults.Has(CacheLag) && srv.WatchCache {
		ops = append(ops, dpOp{dpCacheLag, int8(MaxCacheLag - min(st.lag, MaxCacheLag))})
	}
	return ops
}

// trace builds the eager trace of p.
func (d *dataPlane) trace(p dpPath, name, description string) *sim.Trace {
	srv := Servers[p.server]
	initial := int32(p.initial)
	t := &sim.Trace{
		Name:        name,
		Description: description,
		Cluster: sim.Cluster{
			Namespace:   Namespace,
			StatefulSet: sim.StatefulSet{Name: StatefulSetName, Labels: Original.Labels(), Replicas: &initial, PodManagementPolicy: appsv1.ParallelPodManagement},
			Objects:     sim.Objects{Generate: DataPlaneObjects, Seed: dataPlaneSeed},
			APIServer:   srv.spec(),
			PageSize:    DataPlanePageSize,
		},
		Schedule: sim.Eager,
		Steps:    []sim.Step{},
	}
	st := dpState{replicas: int(p.initial), live: slices.Clone(d.initial)}
	for _, op := range p.ops {
		var s sim.Step
		switch op.kind {
		case dpScale:
			n := int32(op.arg)
			s = sim.Step{Op: sim.OpScale, Replicas: &n}
		case dpRestart:
			s = sim.Step{Op: sim.OpRestart, Pods: []int{int(op.arg)}}
		case dpCreate:
			s = sim.Step{Op: sim.OpCreate, UIDs: []string{d.pool[st.created]}}
		case dpDelete:
			s = sim.Step{Op: sim.OpDelete, UIDs: []string{st.live[0]}}
		case dpCompact:
			s = sim.Step{Op: sim.OpCompact}
		case dpDisconnect:
			s = sim.Step{Op: sim.OpDisconnect, Pods: []int{int(op.arg)}}
		case dpCacheLag:
			n := int(op.arg)
			s = sim.Step{Op: sim.OpCacheLag, Writes: &n}
		}
		t.Steps = append(t.Steps, s)
		d.apply(&st, op)
	}
	return t
}

// DataPlaneProgress is a snapshot of a running data-plane exploration.
type DataPlaneProgress struct {
	Depth   int           // the layer (number of ops) being replayed
	Replays uint64        // paths replayed so far
	Layer   int           // paths in the layer being replayed
	Elapsed time.Duration // since the exploration started
}

// String renders a progress snapshot on one line.
func (p DataPlaneProgress) String() string {
	r := 0.0
	if p.Elapsed > 0 {
		r = float64(p.Replays) / p.Elapsed.Seconds()
	}
	return fmt.Sprintf("data plane, depth %d: %s paths replayed, %s in this layer, %s replays/s, %s",
		p.Depth, group(p.Replays), group(uint64(p.Layer)), rate(r), roundDuration(p.Elapsed))
}

// DataPlaneResult is the outcome of a data-plane exploration.
type DataPlaneResult struct {
	Reducer     model.Reducer
	MaxReplicas int
	Depth       int // the bound
	Faults      Faults
	Workers     int
	// Holds is true when complete and disjoint hold at every quiescent
	// point of every explored path.
	Holds bool
	// Layers counts the paths replayed with each number of ops, up to the
	// deepest layer explored (Reached); Replays is their sum, Checkpoints
	// the quiescent points the replays judged (each path's last one is
	// new; the others were judged as its prefixes). Violating counts the
	// violating paths of the last layer.
	Layers      []int
	Replays     uint64
	Checkpoints uint64
	Violating   int
	Reached     int
	Elapsed     time.Duration
	// Counterexample is the first violating path of the shallowest
	// violating layer, in exploration order, or nil.
	Counterexample *DataPlaneCounterexample
}

// ReplaysPerSecond is Replays over Elapsed.
func (r *DataPlaneResult) ReplaysPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Replays) / r.Elapsed.Seconds()
}

// DataPlaneCounterexample is a shortest violating path of the data-plane
// exploration: an API server configuration, an initial replica count and
// the ops, an eager trace.
type DataPlaneCounterexample struct {
	d    *dataPlane
	path dpPath
	// Server is the API server configuration; Initial the replica count
	// the cluster starts settled with.
	Server  Server
	Initial int
	// Steps are the ops, as trace steps.
	Steps []sim.Step
	// Result is the simulator's replay of the path: its last checkpoint
	// is the violation.
	Result *sim.Result
}

// Ops is the number of ops of the counterexample.
func (cx *DataPlaneCounterexample) Ops() int { return len(cx.Steps) }

// CheckDataPlane explores, breadth first, every sequence of up to
// opt.Depth ops from a settled cluster of every replica count on every
// API server configuration, each replayed by the simulator with
// opt.Reducer, and reports whether complete and disjoint hold at every
// quiescent point, with the first shortest counterexample when they do
// not.
func CheckDataPlane(opt DataPlaneOptions) (*DataPlaneResult, error) {
	start := time.Now()
	switch {
	case opt.Reducer == nil:
		return nil, errors.New("no reducer")
	case opt.Depth < 0:
		return nil, fmt.Errorf("depth must be at least 0, got %d", opt.Depth)
	case opt.MaxReplicas < 1 || opt.MaxReplicas > MaxReplicas:
		return nil, fmt.Errorf("max replicas must be between 1 and %d, got %d", MaxReplicas, opt.MaxReplicas)
	case opt.Workers < 0 || opt.Workers > MaxWorkers:
		return nil, fmt.Errorf("workers must be between 0 (GOMAXPROCS) and %d, got %d", MaxWorkers, opt.Workers)
	}
	if opt.Faults&^allFaults != 0 {
		return nil, fmt.Errorf("unknown faults %#x", uint8(opt.Faults))
	}
	limit := opt.maxReplays
	if limit <= 0 {
		limit = MaxDataPlaneReplays
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	d := newDataPlane(opt)
	res := &DataPlaneResult{Reducer: opt.Reducer, MaxReplicas: opt.MaxReplicas, Depth: opt.Depth, Faults: opt.Faults, Workers: workers, Holds: true}

	var layer []dpPath
	for s := range Servers {
		for n := 1; n <= opt.MaxReplicas && (n == 1 || !opt.fromOne); n++ {
			layer = append(layer, dpPath{server: uint8(s), initial: uint8(n)})
		}
	}
	var prog struct {
		depth    atomic.Int64
		replays  atomic.Uint64
		frontier atomic.Int64
	}
	if opt.Progress != nil {
		defer reportProgress(start, func(el time.Duration) {
			opt.Progress(DataPlaneProgress{Depth: int(prog.depth.Load()), Replays: prog.replays.Load(), Layer: int(prog.frontier.Load()), Elapsed: el})
		})()
	}
	total := 0
	for depth := 0; ; depth++ {
		total += len(layer)
		if total > limit {
			return nil, &TooManyReplaysError{Limit: limit, Depth: depth, Need: total}
		}
		prog.depth.Store(int64(depth))
		prog.frontier.Store(int64(len(layer)))
		violated, err := d.replayLayer(layer, workers, &prog.replays)
		if err != nil {
			return nil, err
		}
		res.Layers = append(res.Layers, len(layer))
		res.Replays += uint64(len(layer))
		for _, p := range layer {
			res.Checkpoints += uint64(len(p.ops) + 1)
		}
		res.Reached = depth
		if first := slices.IndexFunc(violated, func(r *sim.Result) bool { return r != nil }); first >= 0 {
			for _, r := range violated {
				if r != nil {
					res.Violating++
				}
			}
			res.Holds = false
			p := layer[first]
			cx := &DataPlaneCounterexample{d: d, path: p, Server: Servers[p.server], Initial: int(p.initial), Result: violated[first]}
			cx.Steps = d.trace(p, "", "").Steps
			res.Counterexample = cx
			break
		}
		if depth == opt.Depth {
			break
		}
		var next []dpPath
		for _, p := range layer {
			st := d.state(p)
			for _, op := range d.alphabet(st, Servers[p.server]) {
				next = append(next, dpPath{server: p.server, initial: p.initial, ops: append(slices.Clip(p.ops), op)})
			}
		}
		layer = next
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// replayLayer replays every path of a layer on workers goroutines and
// returns, per path, the simulator's result when it is violated (nil
// when it holds).
func (d *dataPlane) replayLayer(layer []dpPath, workers int, done *atomic.Uint64) ([]*sim.Result, error) {
	return replayEach(layer, workers, done, "data-plane", func(p dpPath) (*sim.Result, error) {
		r, err := sim.Run(d.trace(p, "dataplane", ""), d.opt.Reducer, sim.Options{})
		if err != nil || r.Holds {
			return nil, err
		}
		return r, nil
	})
}

// DataPlaneExport is a data-plane counterexample as an ordinary trace
// file.
type DataPlaneExport struct {
	// Trace is the replayable trace: the cluster (API server, page size,
	// objects), the ops under the eager schedule, and the expect
	// {reducer: violated}.
	Trace *sim.Trace
	// JSON is the trace file's content.
	JSON []byte
	// Replay is the simulator's result for the parsed trace, which Export
	// checks is violated at its last step.
	Replay *sim.Result
}

// Export turns the counterexample into a trace file named name, parses
// it back and replays it with the simulator, which must say violated at
// the last step. An error means the exploration and the file disagree.
func (cx *DataPlaneCounterexample) Export(name string) (*DataPlaneExport, error) {
	r := cx.d.opt.Reducer
	t := cx.d.trace(cx.path, name, "Found by simrun check ("+r.Name()+", data plane): "+cx.Summary())
	t.Expect = map[string]string{r.Name(): sim.Violated}
	return exportTrace(t, name, r, true)
}

// exportTrace formats t as a trace file named name and replays it against
// r: the export stands only if the replay is violated at its last
// quiescent point (with atLastStep, the point of its last step).
func exportTrace(t *sim.Trace, name string, r model.Reducer, atLastStep bool) (*DataPlaneExport, error) {
	data, err := formatTrace(t)
	if err != nil {
		return nil, err
	}
	data = bytes.Replace(data, []byte("\"steps\": [\n  ],"), []byte("\"steps\": [],"), 1) // no op
	parsed, err := sim.ParseTrace(name+".json", data)
	if err != nil {
		return nil, fmt.Errorf("checker: the exported trace does not parse: %w", err)
	}
	rep, err := sim.Replay(parsed, []model.Reducer{r}, sim.Options{})
	if err != nil {
		return nil, fmt.Errorf("checker: the exported trace does not replay: %w", err)
	}
	res := rep.Results[0]
	last := res.Checkpoints[len(res.Checkpoints)-1]
	switch {
	case atLastStep && (res.Holds || last.Holds() || last.Step != len(parsed.Steps)-1):
		return nil, fmt.Errorf("checker: the exported trace replays %s, not violated at its last step", sim.Verdict(res))
	case res.Holds || last.Holds():
		return nil, fmt.Errorf("checker: the exported trace replays %s, not violated at its last quiescent point", sim.Verdict(res))
	}
	return &DataPlaneExport{Trace: t, JSON: data, Replay: res}, nil
}

// Summary is a one-line account of the counterexample.
func (cx *DataPlaneCounterexample) Summary() string {
	var ops []string
	for _, s := range cx.Steps {
		ops = append(ops, describeDataPlaneStep(s))
	}
	how := "with no op"
	if len(ops) > 0 {
		how = strings.Join(ops, ", then ")
	}
	last := cx.Result.Checkpoints[len(cx.Result.Checkpoints)-1]
	return fmt.Sprintf("%s, %d objects in pages of %d, from %d settled %s, %s: %s",
		cx.Server, DataPlaneObjects, DataPlanePageSize, cx.Initial, plural(cx.Initial, "replica", "replicas"), how, describeCheckpoint(last))
}

// Describe tells the path in plain words, one line per point: the
// settled start, then each op with the quiescent point it ends at.
func (cx *DataPlaneCounterexample) Describe() []string {
	cps := cx.Result.Checkpoints
	lines := []string{fmt.Sprintf("start settled with spec.replicas=%d, %d objects, on an API server with %s, pages of %d => %s",
		cx.Initial, DataPlaneObjects, cx.Server, DataPlanePageSize, describeCheckpoint(cps[0]))}
	for i, s := range cx.Steps {
		lines = append(lines, describeDataPlaneStep(s)+" => "+describeCheckpoint(cps[i+1]))
	}
	return lines
}

// describeDataPlaneStep names an op of the data-plane alphabet.
func describeDataPlaneStep(s sim.Step) string {
	switch s.Op {
	case sim.OpScale:
		return fmt.Sprintf("scale to %d", *s.Replicas)
	case sim.OpRestart:
		return fmt.Sprintf("restart pod %d", s.Pods[0])
	case sim.OpCreate:
		return "create object " + s.UIDs[0]
	case sim.OpDelete:
		return "delete object " + s.UIDs[0]
	case sim.OpDisconnect:
		return fmt.Sprintf("disconnect pod %d", s.Pods[0])
	case sim.OpCacheLag:
		return fmt.Sprintf("cacheLag %d", *s.Writes)
	}
	return s.Op
}

// describeCheckpoint tells what the pods export at a quiescent point and
// what fails there.
func describeCheckpoint(c sim.Checkpoint) string {
	pods := make([]string, len(c.Pods))
	for i, p := range c.Pods {
		pods[i] = fmt.Sprintf("%d:%d/%d=%d", p.Pod, p.Shard, p.Total, p.Exported)
	}
	out := fmt.Sprintf("spec.replicas=%d, %d objects, pods (ordinal:shard/total=exported) %s", c.Replicas, c.Objects, orNone(strings.Join(pods, " ")))
	if c.Holds() {
		return out + ": complete and disjoint"
	}
	var what []string
	if c.Gap.Count > 0 {
		w := fmt.Sprintf("NOT COMPLETE: %d of %d objects exported by no pod", c.Gap.Count, c.Objects)
		if len(c.Gap.UIDs) > 0 {
			w += " (e.g. UID " + c.Gap.UIDs[0] + ")"
		}
		what = append(what, w)
	}
	if c.Overlap.Count > 0 {
		w := fmt.Sprintf("NOT DISJOINT: %d of %d objects exported twice", c.Overlap.Count, c.Objects)
		if len(c.Overlap.UIDs) > 0 {
			w += " (e.g. UID " + c.Overlap.UIDs[0] + ")"
		}
		what = append(what, w)
	}
	return out + ": " + strings.Join(what, "; ")
}
