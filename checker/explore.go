package checker

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardsim/shardsim/model"
)

// Options bound and tune one exploration.
type Options struct {
	// Reducer is the reducer whose pods the cluster runs.
	Reducer model.Reducer
	// MaxReplicas bounds spec.replicas (1..MaxReplicas); the exploration
	// starts from every replica count 1..MaxReplicas.
	MaxReplicas int
	// Depth bounds the number of cluster ops on a path (>= 0); a fault op
	// counts as one.
	Depth int
	// Faults are the fault ops explored besides relabel, scale and
	// restart (none by default).
	Faults Faults
	// Workers expand the frontier in parallel; 0 means GOMAXPROCS, at most
	// MaxWorkers. The result does not depend on it.
	Workers int
	// NoEagerStarts turns the third reduction off: start items whose
	// delivery commutes with every op are then delivered like the others,
	// at every possible moment. For the tests that justify the reduction.
	NoEagerStarts bool
	// Progress, when set, is called about once a second from another
	// goroutine, starting two seconds into the run.
	Progress func(Progress)
	// Exhaustive explores every path within the bounds even after a
	// violation, counting the violating quiescent states (the
	// counterexample is still the first shortest one).
	Exhaustive bool
	// OnQuiescent, when set, is called for every distinct quiescent state,
	// in exploration order, with the number of ops that reach it first.
	// For tests: it slows the exploration down.
	OnQuiescent func(depth int, c Configuration, v Verdict)

	batch, chunk int  // test knobs: states per batch, states per chunk
	maxStates    int  // test knob: the limit of TooManyStatesError (MaxStates if 0)
	drains       bool // test knob: follow the drains without faults too
}

// MaxStates is the most distinct states an exploration can keep: a state
// records the index of the state it was first reached from in 32 bits.
const MaxStates = math.MaxUint32

// MaxWorkers bounds Options.Workers.
const MaxWorkers = 1024

// TooManyStatesError is returned when an exploration would keep more than
// MaxStates distinct states. Nothing is truncated: the exploration stops.
type TooManyStatesError struct {
	Limit    uint64 // MaxStates
	Depth    int    // the layer (number of ops) being explored
	Explored uint64 // states generated so far
}

func (e *TooManyStatesError) Error() string {
	return fmt.Sprintf("the exploration needs more than %d distinct states (at %d ops, after %d states explored), the most a 32-bit state index addresses; explore smaller bounds", e.Limit, e.Depth, e.Explored)
}

// Progress is a snapshot of a running exploration.
type Progress struct {
	Depth    int           // the layer (number of ops) being explored
	Explored uint64        // states generated so far, duplicates included
	Distinct uint64        // distinct states so far
	Frontier int           // distinct states discovered but not yet expanded
	Elapsed  time.Duration // since the exploration started
}

// Result is the outcome of an exploration.
type Result struct {
	Reducer     model.Reducer
	MaxReplicas int
	Depth       int // the bound
	Classes     int // jump-hash trajectory classes checked at each quiescent point
	Workers     int
	EagerStarts bool // the third reduction was on
	Faults      Faults
	// Holds is true when complete and disjoint hold for every class at
	// every quiescent point of every path within the bounds (safety at
	// quiescent points).
	Holds bool
	// Liveness is true when from every explored state, once ops stop,
	// delivering what is queued (one item per pod in turn, as the
	// simulator's drain does) ends at a quiescent point where complete and
	// disjoint hold for every class: "eventually complete and disjoint
	// once ops stop". A quiescent state drains to itself, and every drain
	// ends at a reachable quiescent state, which Holds covers; so Liveness
	// equals Holds, and a difference is a bug in the checker. Drained
	// counts the non-quiescent states whose drain was followed: all of
	// them with faults; none without, where every queued item is a GET or
	// a LIST delivered once, so that liveness is safety by construction.
	Liveness bool
	Drained  uint64
	// Explored counts the states generated, duplicates included (the
	// initial states and the target of every transition taken); Distinct
	// the states kept after deduplication; Quiescent the distinct
	// quiescent states, where the properties were checked; Violating
	// those where they fail (all of them only with Exhaustive).
	Explored, Distinct, Quiescent, Violating uint64
	// Reached is the deepest layer (number of ops) explored: Depth when the
	// properties hold, the counterexample's length otherwise.
	Reached int
	// Saturated is set when some layer before Depth added no new state:
	// the reachable state space is then closed under every transition, and
	// the verdict holds for any number of ops. SaturatedAt is the number
	// of ops after which nothing new is reachable.
	Saturated   bool
	SaturatedAt int
	// Elapsed is the wall time, building the transition tables included
	// (for Check; System.Check starts from tables already built).
	Elapsed time.Duration
	// Memory is the size of the visited set and the state arrays at the
	// end, in bytes.
	Memory uint64
	// Counterexample is the first shortest violating path, or nil.
	Counterexample *Counterexample
}

// StatesPerSecond is Explored over Elapsed.
func (r *Result) StatesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Explored) / r.Elapsed.Seconds()
}

const (
	defaultBatch = 1 << 16
	defaultChunk = 1 << 10
)

type record struct {
	key    uint64
	parent uint32
	trans  uint8
	fresh  bool
}

type chunkOut struct {
	recs      []record         // successors in generation order
	parts     [nParts][]uint32 // indices into recs, by partition of the key
	fresh     int
	explored  uint64
	quiescent uint64
	violating uint64
	drained   uint64
	violation int // index of the first violating state in the chunk, or -1
	deadEnd   int // index of the first state whose drain ends violated or never ends, or -1
}

type explorer struct {
	sys     *System
	opt     Options
	eager   bool
	drains  bool // follow the drain of every non-quiescent state (liveness)
	workers int

	// Every distinct state, in discovery order; layer j is
	// states[layers[j]:layers[j+1]]. parent and trans say how each was
	// first reached.
	states []uint64
	parent []uint32
	trans  []uint8
	layers []int
	seen   visited

	chunks []chunkOut

	explored, quiescent, violating uint64
	drained                        uint64
	firstViolation                 int
	firstDeadEnd                   int   // the first state whose drain ends violated or never ends, or -1
	err                            error // set when the exploration has to stop
	depth                          atomic.Int64
	progExplored                   atomic.Uint64
	progDistinct                   atomic.Uint64
	progFrontier                   atomic.Int64
}

// Check explores every path within the bounds and reports whether the
// properties hold, with the first shortest counterexample when they do
// not.
func Check(opt Options) (*Result, error) {
	if opt.Reducer == nil {
		return nil, errors.New("no reducer")
	}
	if opt.Depth < 0 {
		return nil, fmt.Errorf("depth must be at least 0, got %d", opt.Depth)
	}
	start := time.Now()
	sys, err := NewFaultSystem(opt.Reducer, opt.MaxReplicas, opt.Faults)
	if err != nil {
		return nil, err
	}
	res, err := sys.Check(opt)
	if err == nil {
		res.Elapsed = time.Since(start) // building the tables included
	}
	return res, err
}

// Check explores with the tables of s (opt.Reducer and opt.MaxReplicas
// are ignored; opt.Faults must be none or those of s).
func (s *System) Check(opt Options) (*Result, error) {
	res, _, err := s.explore(opt)
	return res, err
}

// explore is Check, also returning the explorer (for tests that look at
// every state).
func (s *System) explore(opt Options) (*Result, *explorer, error) {
	start := time.Now()
	if opt.Depth < 0 {
		return nil, nil, fmt.Errorf("depth must be at least 0, got %d", opt.Depth)
	}
	if opt.Workers < 0 || opt.Workers > MaxWorkers {
		return nil, nil, fmt.Errorf("workers must be between 0 (GOMAXPROCS) and %d, got %d", MaxWorkers, opt.Workers)
	}
	if opt.Faults != 0 && opt.Faults != s.faults {
		return nil, nil, fmt.Errorf("faults %q, but the tables were built for %q", opt.Faults, s.faults)
	}
	if opt.maxStates <= 0 {
		opt.maxStates = MaxStates
	}
	e := &explorer{sys: s, opt: opt, eager: !opt.NoEagerStarts, drains: s.faults != 0 || opt.drains, workers: opt.Workers}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	if e.opt.batch <= 0 {
		e.opt.batch = defaultBatch
	}
	if e.opt.chunk <= 0 {
		e.opt.chunk = defaultChunk
	}
	e.chunks = make([]chunkOut, (e.opt.batch+e.opt.chunk-1)/e.opt.chunk)

	if opt.Progress != nil {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { e.report(start, done) })
		defer wg.Wait()
		defer close(done)
	}

	viol, saturated := e.run()
	if e.err != nil {
		return nil, nil, e.err
	}
	res := &Result{
		Reducer: s.reducer, MaxReplicas: s.m, Depth: opt.Depth, Classes: s.classes.Len(),
		Workers: e.workers, EagerStarts: e.eager, Faults: s.faults,
		Holds:    viol < 0,
		Liveness: viol < 0 && e.firstViolation < 0 && e.firstDeadEnd < 0,
		Drained:  e.drained,
		Explored: e.explored, Distinct: uint64(len(e.states)), Quiescent: e.quiescent, Violating: e.violating,
		Reached: len(e.layers) - 1,
		Memory:  e.seen.bytes() + uint64(cap(e.states))*8 + uint64(cap(e.parent))*4 + uint64(cap(e.trans)),
	}
	if saturated {
		res.Reached, res.Saturated, res.SaturatedAt = opt.Depth, true, len(e.layers)-2
	}
	if viol >= 0 {
		if !opt.Exhaustive {
			res.Reached = e.layerOf(viol)
		}
		res.Counterexample = e.counterexample(viol)
	}
	res.Elapsed = time.Since(start)
	return res, e, nil
}

func (e *explorer) report(start time.Time, done <-chan struct{}) {
	first := time.NewTimer(2 * time.Second)
	defer first.Stop()
	select {
	case <-done:
		return
	case <-first.C:
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		e.opt.Progress(Progress{
			Depth:    int(e.depth.Load()),
			Explored: e.progExplored.Load(),
			Distinct: e.progDistinct.Load(),
			Frontier: int(e.progFrontier.Load()),
			Elapsed:  time.Since(start),
		})
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// run explores layer by layer and returns the index of the first
// violating state, or -1, and whether the state space saturated. Layer j holds the states first reached with j
// ops. Deliveries cost nothing, so each layer is first closed under
// deliveries (the closure pass, which also checks every quiescent state),
// and only then expanded by ops into the next layer.
func (e *explorer) run() (int, bool) {
	s := e.sys
	e.layers = []int{0}
	e.firstViolation, e.firstDeadEnd = -1, -1
	for n := 1; n <= s.m; n++ {
		st := s.initial(n)
		k := s.encode(&st)
		e.explored++
		if e.seen[partOf(mix(k))].insert(k, mix(k)) {
			e.states = append(e.states, k)
			e.parent = append(e.parent, uint32(n))
			e.trans = append(e.trans, tInitial)
		}
	}
	for j := 0; ; j++ {
		e.depth.Store(int64(j))
		// Closure: the cursor runs over the layer while deliveries append
		// to it.
		for cur := e.layers[j]; cur < len(e.states); {
			hi := min(cur+e.opt.batch, len(e.states))
			v := e.batch(cur, hi, false)
			if e.err != nil {
				return -1, false
			}
			if v >= 0 && e.firstViolation < 0 {
				e.firstViolation = v
				if !e.opt.Exhaustive {
					return v, false
				}
			}
			cur = hi
		}
		if j == e.opt.Depth {
			return e.firstViolation, false
		}
		end := len(e.states)
		e.layers = append(e.layers, end)
		for cur := e.layers[j]; cur < end; {
			hi := min(cur+e.opt.batch, end)
			e.batch(cur, hi, true)
			if e.err != nil {
				return -1, false
			}
			cur = hi
		}
		if len(e.states) == end {
			return e.firstViolation, true // no new state: deeper layers are empty
		}
	}
}

// layerOf returns the layer of state i.
func (e *explorer) layerOf(i int) int {
	j := 0
	for j+1 < len(e.layers) && e.layers[j+1] <= i {
		j++
	}
	return j
}

// parallel runs f(0..n-1) on the workers.
func (e *explorer) parallel(n int, f func(i int)) { parallelFor(n, e.workers, f) }

// parallelFor runs f(0..n-1) on up to workers goroutines, each taking the
// next index; with one worker (or one index) in order, on this goroutine.
func parallelFor(n, workers int, f func(i int)) {
	if workers == 1 || n == 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// replayEach replays every path on workers goroutines (parallelFor),
// counting each in done; what names the paths in the error of one that
// does not replay.
func replayEach[P, V any](paths []P, workers int, done *atomic.Uint64, what string, replay func(P) (V, error)) ([]V, error) {
	out := make([]V, len(paths))
	errs := make([]error, len(paths))
	parallelFor(len(paths), workers, func(i int) {
		out[i], errs[i] = replay(paths[i])
		done.Add(1)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("checker: a %s path does not replay: %w", what, err)
	}
	return out, nil
}

// batch expands states[lo:hi] (by ops, or by deliveries with the
// quiescent check) and appends the new states. It returns the index of the
// first violating state among them, or -1. New states are appended in
// generation order (that of a sequential expansion), whatever the
// workers.
func (e *explorer) batch(lo, hi int, ops bool) int {
	nc := (hi - lo + e.opt.chunk - 1) / e.opt.chunk
	e.parallel(nc, func(ci int) {
		a := lo + ci*e.opt.chunk
		e.expand(&e.chunks[ci], a, min(a+e.opt.chunk, hi), ops)
	})
	// Insert, partition by partition in parallel, chunk by chunk in order,
	// so that the first of duplicate successors is the one kept.
	e.parallel(nParts, func(p int) {
		t := &e.seen[p]
		for ci := range nc {
			c := &e.chunks[ci]
			for _, i := range c.parts[p] {
				r := &c.recs[i]
				r.fresh = t.insert(r.key, mix(r.key))
			}
		}
	})
	base := len(e.states)
	total := 0
	viol := -1
	for ci := range nc {
		c := &e.chunks[ci]
		c.fresh = 0
		for i := range c.recs {
			if c.recs[i].fresh {
				c.fresh++
			}
		}
		total += c.fresh
		e.explored += c.explored
		e.quiescent += c.quiescent
		e.violating += c.violating
		e.drained += c.drained
		if viol < 0 && c.violation >= 0 {
			viol = c.violation
		}
		if e.firstDeadEnd < 0 && c.deadEnd >= 0 {
			e.firstDeadEnd = c.deadEnd
		}
	}
	if uint64(base)+uint64(total) > uint64(e.opt.maxStates) {
		e.err = &TooManyStatesError{Limit: uint64(e.opt.maxStates), Depth: int(e.depth.Load()), Explored: e.explored}
		for ci := range nc {
			c := &e.chunks[ci]
			c.recs = c.recs[:0]
			for p := range c.parts {
				c.parts[p] = c.parts[p][:0]
			}
		}
		return -1
	}
	e.states = grow(e.states, total)
	e.parent = grow(e.parent, total)
	e.trans = grow(e.trans, total)
	offs := make([]int, nc)
	for ci, off := 0, base; ci < nc; ci++ {
		offs[ci] = off
		off += e.chunks[ci].fresh
	}
	e.parallel(nc, func(ci int) {
		w := offs[ci]
		c := &e.chunks[ci]
		for _, r := range c.recs {
			if r.fresh {
				e.states[w], e.parent[w], e.trans[w] = r.key, r.parent, r.trans
				w++
			}
		}
		c.recs = c.recs[:0]
		for p := range c.parts {
			c.parts[p] = c.parts[p][:0]
		}
	})
	if e.opt.OnQuiescent != nil && !ops {
		e.observe(lo, hi)
	}
	e.progExplored.Store(e.explored)
	e.progDistinct.Store(uint64(len(e.states)))
	e.progFrontier.Store(int64(len(e.states) - hi))
	return viol
}

// grow extends s by n elements.
func grow[T any](s []T, n int) []T {
	if len(s)+n > cap(s) {
		bigger := make([]T, len(s), max(2*cap(s), len(s)+n, 1024))
		copy(bigger, s)
		s = bigger
	}
	return s[:len(s)+n]
}

// expand generates the successors of states[lo:hi] into c.
func (e *explorer) expand(c *chunkOut, lo, hi int, ops bool) {
	s := e.sys
	c.explored, c.quiescent, c.violating, c.drained, c.violation, c.deadEnd = 0, 0, 0, 0, -1, -1
	var st, next state
	emit := func(parent int, t uint8) {
		next = st
		s.apply(&next, t, e.eager)
		k := s.encode(&next)
		p := partOf(mix(k))
		c.parts[p] = append(c.parts[p], uint32(len(c.recs)))
		c.recs = append(c.recs, record{key: k, parent: uint32(parent), trans: t})
		c.explored++
	}
	for i := lo; i < hi; i++ {
		s.decode(e.states[i], &st)
		if !ops {
			pending := false
			for o := range s.m {
				if s.pendingPod(&st, o) {
					pending = true
					emit(i, tDeliver+uint8(o))
				}
			}
			if !pending {
				c.quiescent++
				if !s.evaluate(&st).Holds() {
					c.violating++
					if c.violation < 0 {
						c.violation = i
					}
				}
				continue
			}
			// Liveness: once ops stop, the drain ends at a quiescent
			// point where the properties hold. Without faults every
			// queued item is a pod's GET or LIST, so the drain ends at a
			// quiescent state the closure checks: liveness is safety,
			// and the drains are followed only when a test asks.
			if !e.drains {
				continue
			}
			c.drained++
			end, ok := s.drain(st, e.eager)
			if (!ok || !s.evaluate(&end).Holds()) && c.deadEnd < 0 {
				c.deadEnd = i
			}
			continue
		}
		for l := range numLabels {
			if l != st.l {
				emit(i, tRelabel+uint8(l))
			}
		}
		for n := 0; n <= s.m; n++ {
			if n != int(st.r) {
				emit(i, tScale+uint8(n))
			}
		}
		for o := range int(st.r) {
			if st.c[o] != codeStarting { // restarting a pod that has not started changes nothing
				emit(i, tRestart+uint8(o))
			}
		}
		if s.faults == 0 {
			continue
		}
		if s.faults.Has(Compact) {
			emit(i, tCompact)
		}
		if s.faults.Has(CacheLag) {
			for n := range MaxCacheLag + 1 {
				if n != int(st.lag) {
					emit(i, tCacheLag+uint8(n))
				}
			}
		}
		if s.faults.Has(Disconnect) {
			for o := range int(st.r) {
				t := uint8(tDisconnect + o*disconnectStride)
				f := s.fallbacks(&st, o)
				if f == 0 {
					emit(i, t) // the pod re-watches and misses nothing
				}
				for k := range s.cfgN {
					if f&(1<<k) != 0 {
						emit(i, t+1+uint8(k))
					}
				}
			}
		}
	}
}

// drainRounds bounds a drain: a pod delivers at most its GET, its LIST, a
// relist and its queued watch events.
const drainRounds = 8

// drain delivers what st has queued, as the simulator's drain does (one
// delivery per pod in ordinal order, round after round), and returns the
// quiescent state it ends at, or false when it does not end.
func (s *System) drain(st state, eager bool) (state, bool) {
	for range drainRounds {
		busy := false
		for o := range s.m {
			if s.pendingPod(&st, o) {
				busy = true
				s.apply(&st, tDeliver+uint8(o), eager)
			}
		}
		if !busy {
			return st, true
		}
	}
	return st, s.quiescent(&st)
}

// observe reports the quiescent states of states[lo:hi] to OnQuiescent.
func (e *explorer) observe(lo, hi int) {
	s := e.sys
	var st state
	for i := lo; i < hi; i++ {
		s.decode(e.states[i], &st)
		if s.quiescent(&st) {
			e.opt.OnQuiescent(e.layerOf(i), s.configuration(&st), s.evaluate(&st))
		}
	}
}
