package properties

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
	appsv1 "k8s.io/api/apps/v1"
)

// The generated cluster: the KSM StatefulSet of a typical install.
const (
	Namespace       = "monitoring"
	StatefulSetName = "kube-state-metrics"
)

// Generator defaults.
const (
	// DefaultObjects is the number of sharded objects a generated cluster
	// starts with: enough that a scale from n to m != n moves some object
	// (jump hash moves about |1/n - 1/m| of them), so a stale pod is almost
	// surely seen as a gap or an overlap.
	DefaultObjects = 200
	// DefaultMaxReplicas bounds the replicas a scale draws (0..8).
	DefaultMaxReplicas = 8
	// DefaultMaxInitialReplicas bounds the initial replicas (1..5).
	DefaultMaxInitialReplicas = 5
	// DefaultObjectSeed seeds the initial object UIDs.
	DefaultObjectSeed = 1
	// maxChurn bounds the objects one create or delete op touches.
	maxChurn = 20
	// MaxCacheLag bounds the writes a generated cacheLag op lags (0..3;
	// 0 ends the lag).
	MaxCacheLag = 3
)

// AnyDataPlane, as GenConfig.DataPlane, draws the data-plane schedule of
// each explicit trace: eager or explicit.
const AnyDataPlane = "any"

// OriginalLabels returns the labels a generated StatefulSet starts with:
// the two labels a Helm-installed KSM carries and, before v2.13.0, builds
// its StatefulSet selector from.
func OriginalLabels() map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":    "kube-state-metrics",
		"app.kubernetes.io/version": "2.12.0",
	}
}

// A LabelChoice is one label map a relabel op can write.
type LabelChoice struct {
	Name   string
	Labels map[string]string
}

// LabelChoices returns the label maps a relabel op draws from, in draw
// order, which is also the order shrinkers prefer: a changed value (the
// KSM upgrade story, version 2.12.0 -> 2.13.0) and a removed key, which
// both break a label selector built from the original labels, then a
// superset of the original labels (adding a label keeps such a selector
// matching) and the original labels again. Putting the breaking relabels
// first lets a shrinker that lowers choices reach the two-op essence of
// the bug instead of stopping at "superset, restart, original, scale".
func LabelChoices() []LabelChoice {
	changed := OriginalLabels()
	changed["app.kubernetes.io/version"] = "2.13.0"
	removed := OriginalLabels()
	delete(removed, "app.kubernetes.io/version")
	superset := OriginalLabels()
	superset["app.kubernetes.io/part-of"] = "monitoring"
	return []LabelChoice{
		{"changed value", changed},
		{"removed key", removed},
		{"superset", superset},
		{"original", OriginalLabels()},
	}
}

// BreaksSelector reports whether a selector built from the labels from
// stops matching a StatefulSet labelled to: some label of from is changed
// or removed. Adding labels breaks nothing.
func BreaksSelector(from, to map[string]string) bool {
	for k, v := range from {
		if w, ok := to[k]; !ok || w != v {
			return true
		}
	}
	return false
}

// GenConfig tunes the generators. The zero value gives the defaults.
type GenConfig struct {
	// Objects is the number of initial objects (DefaultObjects if 0).
	Objects int
	// Schedule is sim.Eager or sim.Explicit; empty draws one.
	Schedule string
	// MaxReplicas bounds scale ops (DefaultMaxReplicas if 0).
	MaxReplicas int
	// MaxInitialReplicas bounds the initial replicas, drawn from
	// 1..MaxInitialReplicas (DefaultMaxInitialReplicas if 0).
	MaxInitialReplicas int
	// Faults adds the fault ops to what Op draws: compact, disconnect (a
	// non-empty subset of the existing pods) and cacheLag (0..MaxCacheLag
	// writes). Off by default, so that the fixed-seed tests and the
	// counterexamples under traces/regressions, generated without them,
	// stay the same.
	Faults bool
	// DataPlane is the data-plane schedule of an explicit trace: "" or
	// sim.Eager (each pod's objects stream is drained at the end of every
	// step), sim.Explicit (deliver ops take from it too, with "stream":
	// "objects", so ops can land in the middle of a relist), or
	// AnyDataPlane (drawn per trace). An eager trace always has the eager
	// data plane. The API server keeps its default configuration (watch
	// cache and WatchList on, pages of 500) unless NoWatchCache says
	// otherwise.
	DataPlane string
	// NoWatchCache generates traces whose API server runs without the
	// watch cache (cluster.apiServer.watchCache false), so that every
	// LIST is paged from etcd, where KSM's sharded List drops the
	// continue token of each page (#3065): the field-selector reducer is
	// expected to fail there. cacheLag, which needs the cache, is not
	// drawn. Off by default.
	NoWatchCache bool
	// PageSize is cluster.pageSize, the pager's limit (0: the default,
	// 500).
	PageSize int
	// APIServer draws the API server's configuration per trace, from the
	// Source, before anything else of the cluster: the watch cache on or
	// off, the WatchList gate on or off (each on, the default, as choice
	// 0), and cluster.pageSize, the default (choice 0: with the default
	// Objects, no list is paged) or Objects, Objects/2 or Objects/4, so
	// that lists are paged from the start or after a create. These are
	// what a release's data plane depends on: without the watch cache a
	// LIST from resourceVersion 0 is paged, where KSM's sharded List
	// dropped the continue token until v2.20.0 (#3065); with WatchList on,
	// v2.19.0's sharded Watch filters the initial-events-end bookmark
	// (#2973). It overrides NoWatchCache and PageSize. Hunt turns it on
	// for every release; off by default, so the fixed-seed tests and the
	// counterexamples under traces/regressions stay the same.
	APIServer bool
	// Reducers names reducers the builder replays besides model.Reducers,
	// e.g. a release ("v2.19.1"), so that Holds and Result answer for
	// them and every delivery it generates is valid for them too. Names
	// must be known to model.ReducerByName.
	Reducers []string
	// Failures draws the StatefulSet's podManagementPolicy per trace
	// (OrderedReady or Parallel; without it always Parallel) and adds
	// the pod failure ops to what Op draws: failStart (count 1..3),
	// crashLoop and recover (gen_failures.go). Off by default, so that
	// the fixed-seed tests, hunts, campaigns and the counterexamples
	// under traces/regressions stay the same.
	Failures bool
}

// FaultGenConfig is the generator configuration with the fault ops and
// the data plane drawn per explicit trace: what `simrun hunt --faults`
// and the fault properties use.
func FaultGenConfig() GenConfig {
	return GenConfig{Faults: true, DataPlane: AnyDataPlane}
}

func (c GenConfig) withDefaults() GenConfig {
	if c.Objects == 0 {
		c.Objects = DefaultObjects
	}
	if c.MaxReplicas == 0 {
		c.MaxReplicas = DefaultMaxReplicas
	}
	if c.MaxInitialReplicas == 0 {
		c.MaxInitialReplicas = DefaultMaxInitialReplicas
	}
	return c
}

// A Builder generates a valid trace one op at a time and replays it as it
// grows, against every reducer of model.Reducers (and GenConfig.Reducers)
// at once: each op is
// applied to one sim.Sim per reducer right after it is drawn, so the
// builder knows at every point which ops are valid (which pods exist,
// which objects are live, whose inbox holds something) and whether the
// properties hold.
//
// Like every trace, a generated one starts from a settled cluster (its
// pods have started), so every violation it shows is caused by its ops.
// Call Close when done with a builder.
type Builder struct {
	cfg      GenConfig
	trace    *sim.Trace
	reducers []model.Reducer
	runs     []*sim.Sim
	replicas int
	slots    int      // pod ordinals that have ever existed
	live     []string // live object UIDs, in creation order
	salt     int      // distinguishes the UIDs of successive creates
	looping  []int    // crash-looping ordinals (GenConfig.Failures), sorted
}

// NewBuilder draws a cluster (the schedule, unless cfg fixes it, and 1 to
// cfg.MaxInitialReplicas replicas) and returns a builder for a trace
// starting there.
func NewBuilder(src Source, cfg GenConfig) *Builder {
	cfg = cfg.withDefaults()
	schedule := cfg.Schedule
	if schedule == "" {
		schedule = []string{sim.Eager, sim.Explicit}[src.Draw("schedule", 2)]
	}
	dataPlane := ""
	if schedule == sim.Explicit {
		switch cfg.DataPlane {
		case sim.Explicit:
			dataPlane = sim.Explicit
		case AnyDataPlane:
			dataPlane = []string{"", sim.Explicit}[src.Draw("data plane", 2)]
		}
	}
	var api *sim.APIServerSpec
	pageSize := cfg.PageSize
	if cfg.APIServer {
		api, pageSize = drawAPIServer(src, cfg.Objects)
	} else if cfg.NoWatchCache {
		off := false
		api = &sim.APIServerSpec{WatchCache: &off}
	}
	replicas := 1 + src.Draw("initial replicas", cfg.MaxInitialReplicas)
	r32 := int32(replicas)
	uids := initialUIDs(cfg.Objects)
	policy := appsv1.ParallelPodManagement
	if cfg.Failures {
		policy = drawPolicy(src)
	}
	t := &sim.Trace{
		Name: "generated",
		Cluster: sim.Cluster{
			Namespace:   Namespace,
			StatefulSet: sim.StatefulSet{Name: StatefulSetName, Labels: OriginalLabels(), Replicas: &r32, PodManagementPolicy: policy},
			Objects:     sim.Objects{UIDs: uids},
		},
		Schedule:  schedule,
		DataPlane: dataPlane,
		Steps:     []sim.Step{},
	}
	t.Cluster.PageSize, t.Cluster.APIServer = pageSize, api
	b := &Builder{cfg: cfg, trace: t, reducers: replayed(cfg.Reducers...), replicas: replicas, slots: replicas, live: slices.Clone(uids)}
	for _, r := range b.reducers {
		b.runs = append(b.runs, sim.New(t, r, sim.Options{}))
	}
	return b
}

// drawAPIServer draws the API server's configuration and page size for a
// cluster of n objects (GenConfig.APIServer). Fields left at their
// defaults are omitted, so a trace that draws the defaults is written as
// one that never drew.
func drawAPIServer(src Source, n int) (*sim.APIServerSpec, int) {
	var api sim.APIServerSpec
	if src.Draw("watch cache off", 2) == 1 {
		off := false
		api.WatchCache = &off
	}
	if src.Draw("watch list off", 2) == 1 {
		off := false
		api.WatchList = &off
	}
	pageSize := 0
	if k := src.Draw("page size", 4); k > 0 {
		pageSize = max(1, n>>(k-1))
	}
	if api.WatchCache == nil && api.WatchList == nil {
		return nil, pageSize
	}
	return &api, pageSize
}

// replayed returns the reducers a builder, and a shrink, replays:
// model.Reducers and the named ones not among them, in that order. It
// panics on an unknown name.
func replayed(names ...string) []model.Reducer {
	rs := model.Reducers()
	for _, name := range names {
		if slices.ContainsFunc(rs, func(r model.Reducer) bool { return r.Name() == name }) {
			continue
		}
		r, ok := model.ReducerByName(name)
		if !ok {
			panic(fmt.Sprintf("properties: unknown reducer %q, want %s", name, model.KnownReducers()))
		}
		rs = append(rs, r)
	}
	return rs
}

// Close releases the replays.
func (b *Builder) Close() {
	for _, run := range b.runs {
		run.Close()
	}
}

var (
	uidCacheMu sync.Mutex
	uidCache   = map[int][]string{}
)

// initialUIDs returns the n initial object UIDs, generated once per n.
func initialUIDs(n int) []string {
	uidCacheMu.Lock()
	defer uidCacheMu.Unlock()
	u, ok := uidCache[n]
	if !ok {
		u = sim.GenerateUIDs(n, DefaultObjectSeed, 0)
		uidCache[n] = u
	}
	return slices.Clone(u)
}

// Trace returns the trace built so far. It is shared with the builder:
// clone it (CloneTrace) before changing it.
func (b *Builder) Trace() *sim.Trace { return b.trace }

// Schedule is the trace's schedule.
func (b *Builder) Schedule() string { return b.trace.Schedule }

// DataPlane is the trace's data-plane schedule: sim.Explicit, or "" for
// the eager one.
func (b *Builder) DataPlane() string { return b.trace.DataPlane }

// Live returns the live object UIDs after the last op, in creation
// order.
func (b *Builder) Live() []string { return slices.Clone(b.live) }

// Faults reports whether the builder's Op draws fault ops.
func (b *Builder) Faults() bool { return b.cfg.Faults }

// Replicas is the StatefulSet's replica count after the last op.
func (b *Builder) Replicas() int { return b.replicas }

// Result returns the replay so far for the named reducer.
func (b *Builder) Result(reducer string) *sim.Result {
	for i, r := range b.reducers {
		if r.Name() == reducer {
			return b.runs[i].Finish()
		}
	}
	panic(fmt.Sprintf("properties: unknown reducer %q", reducer))
}

// Holds reports whether both properties have held at every quiescent
// point so far for the named reducer.
func (b *Builder) Holds(reducer string) bool { return b.Result(reducer).Holds }

func (b *Builder) apply(st sim.Step) {
	b.trace.Steps = append(b.trace.Steps, st)
	i := len(b.trace.Steps) - 1
	for j, run := range b.runs {
		if err := run.Apply(i); err != nil {
			// Only a deliver can fail, and deliveries go through
			// tryDeliver: this is a bug in the builder.
			panic(fmt.Sprintf("properties: %s cannot replay generated step %d (%s): %v", b.reducers[j].Name(), i, st.Op, err))
		}
	}
}

// Relabel writes one of LabelChoices.
func (b *Builder) Relabel(src Source) {
	choices := LabelChoices()
	c := choices[src.Draw("labels", len(choices))]
	b.apply(sim.Step{Op: sim.OpRelabel, Labels: c.Labels})
}

// Scale sets the replicas to 0..cfg.MaxReplicas.
func (b *Builder) Scale(src Source) {
	n := src.Draw("replicas", b.cfg.MaxReplicas+1)
	r := int32(n)
	b.replicas = n
	b.slots = max(b.slots, n)
	b.apply(sim.Step{Op: sim.OpScale, Replicas: &r})
}

// CanRestart reports whether a pod exists to restart.
func (b *Builder) CanRestart() bool { return b.replicas > 0 }

// Restart restarts a non-empty subset of the existing pods. It reports
// false, drawing nothing, when there is no pod.
func (b *Builder) Restart(src Source) bool {
	if !b.CanRestart() {
		return false
	}
	b.apply(sim.Step{Op: sim.OpRestart, Pods: b.somePods(src, "restart")})
	return true
}

// somePods draws a non-empty subset of the existing pods, sorted.
func (b *Builder) somePods(src Source, what string) []int {
	rest := make([]int, b.replicas)
	for i := range rest {
		rest[i] = i
	}
	k := 1 + src.Draw(what+" count", b.replicas)
	var pods []int
	for range k {
		i := src.Draw(what+" pod", len(rest))
		pods = append(pods, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	slices.Sort(pods)
	return pods
}

// Compact compacts the API server's history at the current
// resourceVersion: a watch or an exact read from an older one gets 410
// Gone.
func (b *Builder) Compact() { b.apply(sim.Step{Op: sim.OpCompact}) }

// CanDisconnect reports whether a pod exists to disconnect.
func (b *Builder) CanDisconnect() bool { return b.replicas > 0 }

// Disconnect ends every watch of a non-empty subset of the existing pods
// (an API server restart, a network blip). It reports false, drawing
// nothing, when there is no pod.
func (b *Builder) Disconnect(src Source) bool {
	if !b.CanDisconnect() {
		return false
	}
	b.apply(sim.Step{Op: sim.OpDisconnect, Pods: b.somePods(src, "disconnect")})
	return true
}

// CanCacheLag reports whether the API server has the watch cache that
// a cacheLag op makes lag.
func (b *Builder) CanCacheLag() bool { return b.trace.Cluster.Config().WatchCache }

// CacheLag makes reads with resourceVersion "0" see the state 0..MaxCacheLag
// writes ago (0 ends the lag). It reports false, drawing nothing, when the
// API server has no watch cache.
func (b *Builder) CacheLag(src Source) bool {
	if !b.CanCacheLag() {
		return false
	}
	w := src.Draw("cache lag writes", MaxCacheLag+1)
	b.apply(sim.Step{Op: sim.OpCacheLag, Writes: &w})
	return true
}

// Create adds 1..20 objects with fresh UIDs.
func (b *Builder) Create(src Source) {
	k := 1 + src.Draw("create count", maxChurn)
	b.salt++
	uids := sim.GenerateUIDs(k, DefaultObjectSeed+1, b.salt)
	uids = slices.DeleteFunc(uids, func(u string) bool { return slices.Contains(b.live, u) })
	if len(uids) == 0 {
		return // a collision of random UUIDs: nothing to create
	}
	b.live = append(b.live, uids...)
	b.apply(sim.Step{Op: sim.OpCreate, UIDs: uids})
}

// CanDelete reports whether an object is live.
func (b *Builder) CanDelete() bool { return len(b.live) > 0 }

// Delete deletes 1..20 live objects. It reports false, drawing nothing,
// when no object is live.
func (b *Builder) Delete(src Source) bool {
	if !b.CanDelete() {
		return false
	}
	k := 1 + src.Draw("delete count", min(maxChurn, len(b.live)))
	var uids []string
	for range k {
		i := src.Draw("delete object", len(b.live))
		uids = append(uids, b.live[i])
		b.live = slices.Delete(b.live, i, i+1)
	}
	b.apply(sim.Step{Op: sim.OpDelete, UIDs: uids})
	return true
}

// CanDeliver reports whether a deliver op may be valid: the schedule is
// explicit and no reducer's replay is quiescent.
func (b *Builder) CanDeliver() bool {
	if b.trace.Schedule != sim.Explicit {
		return false
	}
	for _, run := range b.runs {
		if run.Quiescent() {
			return false
		}
	}
	return true
}

// Deliver delivers the next item of one pod's inbox: the first pod, from
// a drawn ordinal on, whose inbox holds an item in every reducer's replay
// (inboxes differ between reducers: a selector that matches neither the
// old nor the new StatefulSet lets no event through). Under the explicit
// data plane it first draws the stream, the pod's StatefulSet inbox or
// its objects stream, and falls back to the other one. If no pod
// qualifies it settles instead. It reports false, drawing nothing, unless
// CanDeliver.
func (b *Builder) Deliver(src Source) bool {
	if !b.CanDeliver() {
		return false
	}
	streams := []string{""}
	if b.trace.DataPlane == sim.Explicit {
		streams = []string{"", sim.StreamObjects}
		if src.Draw("deliver stream", 2) == 1 {
			streams = []string{sim.StreamObjects, ""}
		}
	}
	start := src.Draw("deliver pod", b.slots)
	for _, stream := range streams {
		for k := range b.slots {
			if b.tryDeliver((start+k)%b.slots, stream) {
				return true
			}
		}
	}
	b.Settle()
	return true
}

// tryDeliver appends "deliver pod 1" from the stream ("": the StatefulSet
// inbox) if it holds an item in every reducer's replay.
func (b *Builder) tryDeliver(pod int, stream string) bool {
	for _, run := range b.runs {
		pending := run.Pending(pod)
		if stream == sim.StreamObjects {
			pending = run.PendingObjects(pod)
		}
		if pending == 0 {
			return false
		}
	}
	p := pod
	b.trace.Steps = append(b.trace.Steps, sim.Step{Op: sim.OpDeliver, Pod: &p, Count: 1, Stream: stream})
	i := len(b.trace.Steps) - 1
	for _, run := range b.runs {
		if err := run.Apply(i); err != nil {
			panic("properties: a deliver the replay said it could take failed: " + err.Error())
		}
	}
	return true
}

// Settle drains every inbox. It reports false under the eager schedule,
// where settle is not an op.
func (b *Builder) Settle() bool {
	if b.trace.Schedule != sim.Explicit {
		return false
	}
	b.apply(sim.Step{Op: sim.OpSettle})
	return true
}

type opWeight struct {
	op     string
	weight int
}

// Op draws one op that is valid now, weighted towards the ops that
// matter (relabel, scale, and under the explicit schedule deliveries),
// applies it and returns its name. With GenConfig.Faults it draws the
// fault ops (compact, disconnect, cacheLag) too.
func (b *Builder) Op(src Source) string {
	ops := []opWeight{{sim.OpRelabel, 3}, {sim.OpScale, 3}, {sim.OpCreate, 1}}
	if b.CanRestart() {
		ops = append(ops, opWeight{sim.OpRestart, 2})
	}
	if b.CanDelete() {
		ops = append(ops, opWeight{sim.OpDelete, 1})
	}
	if b.trace.Schedule == sim.Explicit {
		ops = append(ops, opWeight{sim.OpSettle, 2})
		if b.CanDeliver() {
			ops = append(ops, opWeight{sim.OpDeliver, 8})
		}
	}
	if b.cfg.Faults {
		ops = append(ops, opWeight{sim.OpCompact, 1})
		if b.CanCacheLag() {
			ops = append(ops, opWeight{sim.OpCacheLag, 1})
		}
		if b.CanDisconnect() {
			ops = append(ops, opWeight{sim.OpDisconnect, 2})
		}
	}
	if b.cfg.Failures {
		ops = b.failureOps(ops)
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	n := src.Draw("op", total)
	op := ops[0].op
	for _, o := range ops {
		if n < o.weight {
			op = o.op
			break
		}
		n -= o.weight
	}
	switch op {
	case sim.OpRelabel:
		b.Relabel(src)
	case sim.OpScale:
		b.Scale(src)
	case sim.OpRestart:
		b.Restart(src)
	case sim.OpCreate:
		b.Create(src)
	case sim.OpDelete:
		b.Delete(src)
	case sim.OpDeliver:
		b.Deliver(src)
	case sim.OpSettle:
		b.Settle()
	case sim.OpCompact:
		b.Compact()
	case sim.OpCacheLag:
		b.CacheLag(src)
	case sim.OpDisconnect:
		b.Disconnect(src)
	case sim.OpFailStart, sim.OpCrashLoop, sim.OpRecover:
		b.failureOp(src, op)
	}
	return op
}

// CloneTrace returns a deep copy of t.
func CloneTrace(t *sim.Trace) *sim.Trace {
	c := *t
	c.Cluster.StatefulSet.Labels = maps.Clone(t.Cluster.StatefulSet.Labels)
	if r := t.Cluster.StatefulSet.Replicas; r != nil {
		v := *r
		c.Cluster.StatefulSet.Replicas = &v
	}
	c.Cluster.Objects.UIDs = slices.Clone(t.Cluster.Objects.UIDs)
	if a := t.Cluster.APIServer; a != nil {
		v := *a
		if a.WatchCache != nil {
			w := *a.WatchCache
			v.WatchCache = &w
		}
		if a.WatchList != nil {
			w := *a.WatchList
			v.WatchList = &w
		}
		c.Cluster.APIServer = &v
	}
	c.Expect = maps.Clone(t.Expect)
	c.Steps = make([]sim.Step, len(t.Steps))
	for i, s := range t.Steps {
		c.Steps[i] = cloneStep(s)
	}
	return &c
}

func cloneStep(s sim.Step) sim.Step {
	s.Labels = maps.Clone(s.Labels)
	if s.Replicas != nil {
		v := *s.Replicas
		s.Replicas = &v
	}
	if s.Pod != nil {
		v := *s.Pod
		s.Pod = &v
	}
	if s.Writes != nil {
		v := *s.Writes
		s.Writes = &v
	}
	s.Pods = slices.Clone(s.Pods)
	s.UIDs = slices.Clone(s.UIDs)
	return s
}
