package properties

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// This file generates traces of the two sharding modes besides
// autosharding (issue 13): static sharding (KSM Deployments run with
// --shard and --total-shards, cluster.deployments) and DaemonSet sharding
// (a KSM pod per node run with --node, cluster.daemonSet). Like Builder,
// each builder draws every choice from a Source, in an order where 0 is the
// simplest choice, replays the trace as it grows and knows at every point
// which ops are valid. Unlike Builder, a mode builder replays one reducer
// (ModeConfig.Reducer): the deliveries it draws under the explicit
// schedule are tried on that replay, and the inboxes of DaemonSet sharding
// differ between releases (a pod run with a flag its release does not know
// exits and queues nothing).

// Sharding modes, as HuntOptions.Mode and `simrun hunt --mode` name them
// ("" is autosharding).
const (
	ModeStatic    = sim.ModeStatic
	ModeDaemonSet = sim.ModeDaemonSet
)

// Mode generator defaults.
const (
	// DefaultStaticObjects is the number of ConfigMaps a static trace
	// starts with: enough that every shard of up to DefaultMaxTotalShards
	// owns some, so a missing or doubled shard is almost surely seen.
	DefaultStaticObjects = 100
	// DefaultMaxTotalShards bounds the --total-shards a static trace
	// draws (1..4).
	DefaultMaxTotalShards = 4
	// DefaultPods is the number of pods a DaemonSet trace starts with at
	// most (0..DefaultPods).
	DefaultPods = 24
	// DefaultMaxNodes bounds the nodes a DaemonSet trace starts with
	// (1..DefaultMaxNodes).
	DefaultMaxNodes = 3
	// maxPodBatch bounds the pods one createPods or bind op touches.
	maxPodBatch = 5
)

// Strategies a static Deployment draws, simplest first.
const (
	StrategyDefault  = iota // RollingUpdate, maxSurge and maxUnavailable 25% (surge 1 for one replica)
	StrategyRecreate        // Recreate: the old pods stop before the new ones start
	StrategyNoSurge         // RollingUpdate, maxSurge 0, maxUnavailable 1: the old pod stops first
	numStrategies
)

// Strategy returns the strategy of one of the Strategy* choices.
func Strategy(choice int) *appsv1.DeploymentStrategy {
	switch choice {
	case StrategyRecreate:
		return &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	case StrategyNoSurge:
		zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
		return &appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &one}}
	}
	return nil
}

// What serves the pods bound to no node in a generated DaemonSet trace
// (ModeConfig.Unscheduled): sim.UnscheduledTrack, sim.UnscheduledAll, or
// UnscheduledNone; AnyUnscheduled draws one per trace.
const (
	UnscheduledNone = ""
	AnyUnscheduled  = "any"
)

// ModeConfig tunes the mode builders. The zero value gives the defaults.
type ModeConfig struct {
	// Reducer is the reducer the builder replays (field-selector if
	// empty): a named reducer or a release.
	Reducer string
	// Schedule is sim.Eager or sim.Explicit; empty draws one.
	Schedule string

	// Static sharding.

	// Objects is the number of initial ConfigMaps
	// (DefaultStaticObjects if 0).
	Objects int
	// MaxTotalShards bounds --total-shards (DefaultMaxTotalShards if 0).
	MaxTotalShards int
	// Misconfigure adds the ops that can break a static configuration:
	// apply one Deployment with any --shard and --total-shards (a
	// duplicate shard, a shard >= total, mixed totals) or with two
	// replicas (two pods on one shard), and delete a Deployment that
	// has pods. Without it every apply leaves the Deployments with pods
	// exactly shards 0..n-1 of one n, once each: a reshard to n applies
	// shards 0..n-1 of n, one replica each, and scales every other
	// Deployment to 0 replicas in the same apply.
	Misconfigure bool

	// DaemonSet sharding.

	// Pods bounds the pods the trace starts with (DefaultPods if 0).
	Pods int
	// MaxNodes bounds the initial nodes (DefaultMaxNodes if 0).
	MaxNodes int
	// Unscheduled is cluster.daemonSet.unscheduled: UnscheduledNone,
	// sim.UnscheduledTrack, sim.UnscheduledAll or AnyUnscheduled.
	Unscheduled string
	// NoUnscheduledPods generates no pod bound to no node: no initial
	// unscheduled pod, createPods always names a node, no bind.
	NoUnscheduledPods bool
	// DottedNodes draws, for each node, a cloud-style name with dots
	// (ip-10-0-0-1.ec2.internal), which v2.11.0 to v2.13.0 strip
	// (#2374), or a plain one (node-1); otherwise every name is plain.
	DottedNodes bool
	// Evict adds evict to what DaemonSetBuilder.Op draws: a node's KSM
	// pod is evicted and the DaemonSet controller replaces it (an empty
	// store until its first list). Off by default, so that the hunts
	// and their counterexamples stay the same.
	Evict bool
}

func (c ModeConfig) withDefaults() ModeConfig {
	if c.Reducer == "" {
		c.Reducer = model.FieldSelector{}.Name()
	}
	if c.Objects == 0 {
		c.Objects = DefaultStaticObjects
	}
	if c.MaxTotalShards == 0 {
		c.MaxTotalShards = DefaultMaxTotalShards
	}
	if c.Pods == 0 {
		c.Pods = DefaultPods
	}
	if c.MaxNodes == 0 {
		c.MaxNodes = DefaultMaxNodes
	}
	return c
}

// modeBuilder is what both mode builders share: the trace, its replay
// against one reducer, and the ops drawn by weight.
type modeBuilder struct {
	cfg   ModeConfig
	trace *sim.Trace
	run   *sim.Sim
}

func newModeBuilder(src Source, cfg ModeConfig, t *sim.Trace) modeBuilder {
	r, ok := model.ReducerByName(cfg.Reducer)
	if !ok {
		panic(fmt.Sprintf("properties: unknown reducer %q, want %s", cfg.Reducer, model.KnownReducers()))
	}
	t.Schedule = cfg.Schedule
	if t.Schedule == "" {
		t.Schedule = []string{sim.Eager, sim.Explicit}[src.Draw("schedule", 2)]
	}
	return modeBuilder{cfg: cfg, trace: t, run: sim.New(t, r, sim.Options{})}
}

// Trace returns the trace built so far. It is shared with the builder:
// clone it (CloneModeTrace) before changing it.
func (b *modeBuilder) Trace() *sim.Trace { return b.trace }

// Schedule is the trace's schedule.
func (b *modeBuilder) Schedule() string { return b.trace.Schedule }

// Reducer is the name of the reducer the builder replays.
func (b *modeBuilder) Reducer() string { return b.cfg.Reducer }

// Result returns the replay so far.
func (b *modeBuilder) Result() *sim.Result { return b.run.Finish() }

// Holds reports whether both properties have held at every quiescent
// point so far.
func (b *modeBuilder) Holds() bool { return b.Result().Holds }

// Close releases the replay.
func (b *modeBuilder) Close() { b.run.Close() }

// CanDeliver reports whether a deliver op may be valid: the schedule is
// explicit and the replay is not quiescent.
func (b *modeBuilder) CanDeliver() bool {
	return b.trace.Schedule == sim.Explicit && !b.run.Quiescent()
}

// Settle drains every inbox. It reports false under the eager schedule.
func (b *modeBuilder) Settle() bool {
	if b.trace.Schedule != sim.Explicit {
		return false
	}
	b.apply(sim.Step{Op: sim.OpSettle})
	return true
}

func (b *modeBuilder) apply(st sim.Step) {
	b.trace.Steps = append(b.trace.Steps, st)
	i := len(b.trace.Steps) - 1
	if err := b.run.Apply(i); err != nil {
		panic(fmt.Sprintf("properties: %s cannot replay generated step %d (%s): %v", b.cfg.Reducer, i, st.Op, err))
	}
}

// tryDeliver appends a deliver step of one item and replays it; if the
// replay refuses it (the inbox is empty, or its head waits, as a Recreate
// rollout's new pod waits for the old ones), which a deliver checks before
// it changes anything, the step is taken back.
func (b *modeBuilder) tryDeliver(st sim.Step) bool {
	st.Op, st.Count = sim.OpDeliver, 1
	b.trace.Steps = append(b.trace.Steps, st)
	if err := b.run.Apply(len(b.trace.Steps) - 1); err != nil {
		b.trace.Steps = b.trace.Steps[:len(b.trace.Steps)-1]
		return false
	}
	return true
}

// draw picks one of ops by weight.
func drawOp(src Source, ops []opWeight) string {
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	n := src.Draw("op", total)
	for _, o := range ops {
		if n < o.weight {
			return o.op
		}
		n -= o.weight
	}
	return ops[0].op
}

// Static sharding ops a StaticBuilder draws besides sim's.
const (
	// OpReshard is an apply to shards 0..n-1 of n, one replica each, the
	// other Deployments scaled to 0 (a valid configuration).
	OpReshard = "reshard"
	// OpMisapply is an apply of one Deployment with any flags and one
	// or two replicas (ModeConfig.Misconfigure).
	OpMisapply = "misapply"
)

// StaticDeploymentName is the name of the Deployment a static trace runs
// shard i in when it is valid.
func StaticDeploymentName(i int) string { return "ksm-shard-" + strconv.Itoa(i) }

// A StaticBuilder generates a valid static sharding trace one op at a
// time: Deployments ksm-shard-0..n-1 on --shard i --total-shards n, each
// with a drawn strategy, over ConfigMaps.
type StaticBuilder struct {
	modeBuilder
	deps  []sim.Deployment // the Deployments, as last applied, in creation order
	lanes map[string][]int // by Deployment: the lane of each slot
	next  int              // lanes allocated
	extra int              // Deployments misapply created
	live  []string
	salt  int
}

// NewStaticBuilder draws a static cluster (the schedule unless cfg fixes
// it, 1..cfg.MaxTotalShards shards, a strategy per Deployment) and returns
// a builder for a trace starting there.
func NewStaticBuilder(src Source, cfg ModeConfig) *StaticBuilder {
	cfg = cfg.withDefaults()
	uids := initialUIDs(cfg.Objects)
	t := &sim.Trace{
		Name:    "generated-static",
		Cluster: sim.Cluster{Namespace: Namespace, Objects: sim.Objects{UIDs: uids}},
		Steps:   []sim.Step{},
	}
	b := &StaticBuilder{lanes: map[string][]int{}, live: slices.Clone(uids)}
	n := 1 + src.Draw("total shards", cfg.MaxTotalShards)
	for i := range n {
		d := sim.Deployment{Name: StaticDeploymentName(i), Shard: int32(i), TotalShards: n, Strategy: Strategy(src.Draw("strategy", numStrategies))}
		t.Cluster.Deployments = append(t.Cluster.Deployments, d)
	}
	b.track(t.Cluster.Deployments)
	b.modeBuilder = newModeBuilder(src, cfg, t)
	return b
}

// track follows the Deployments an apply writes, and allocates their
// lanes as the simulator does: by Deployment, then by slot, each slot
// when first wanted.
func (b *StaticBuilder) track(specs []sim.Deployment) {
	for _, d := range specs {
		i := slices.IndexFunc(b.deps, func(x sim.Deployment) bool { return x.Name == d.Name })
		if i < 0 {
			b.deps = append(b.deps, d)
		} else {
			b.deps[i] = d
		}
		for len(b.lanes[d.Name]) < replicasOf(d) {
			b.lanes[d.Name] = append(b.lanes[d.Name], b.next)
			b.next++
		}
	}
}

func replicasOf(d sim.Deployment) int {
	if d.Replicas == nil {
		return 1
	}
	return int(*d.Replicas)
}

// Deployments returns the Deployments after the last op, in creation
// order.
func (b *StaticBuilder) Deployments() []sim.Deployment { return slices.Clone(b.deps) }

// Live returns the live ConfigMaps after the last op.
func (b *StaticBuilder) Live() []string { return slices.Clone(b.live) }

// liveLanes returns the lanes that hold a pod a restart can delete.
func (b *StaticBuilder) liveLanes() []int {
	var out []int
	for _, d := range b.deps {
		out = append(out, b.lanes[d.Name][:replicasOf(d)]...)
	}
	slices.Sort(out)
	return out
}

// Reshard applies shards 0..n-1 of a drawn n (1..MaxTotalShards), one
// replica each, keeping each existing Deployment's strategy and drawing
// one for a new Deployment, and scales every other Deployment to 0
// replicas in the same apply.
func (b *StaticBuilder) Reshard(src Source) {
	n := 1 + src.Draw("total shards", b.cfg.MaxTotalShards)
	var specs []sim.Deployment
	for i := range n {
		name := StaticDeploymentName(i)
		d := sim.Deployment{Name: name, Shard: int32(i), TotalShards: n}
		if j := slices.IndexFunc(b.deps, func(x sim.Deployment) bool { return x.Name == name }); j >= 0 {
			d.Strategy = b.deps[j].Strategy
		} else {
			d.Strategy = Strategy(src.Draw("strategy", numStrategies))
		}
		specs = append(specs, d)
	}
	for _, d := range b.deps {
		if !slices.ContainsFunc(specs, func(x sim.Deployment) bool { return x.Name == d.Name }) && replicasOf(d) > 0 {
			zero := int32(0)
			d.Replicas = &zero
			specs = append(specs, d)
		}
	}
	b.track(specs)
	b.apply(sim.Step{Op: sim.OpApply, Deployments: specs})
}

// Misapply applies one Deployment, an existing one or a new one, with a
// drawn --shard (0..MaxTotalShards), --total-shards (1..MaxTotalShards)
// and one or two replicas, keeping its strategy.
func (b *StaticBuilder) Misapply(src Source) {
	k := src.Draw("deployment", len(b.deps)+1)
	if k == len(b.deps) {
		b.extra++
	}
	d := sim.Deployment{Name: "ksm-extra-" + strconv.Itoa(b.extra)}
	if k < len(b.deps) {
		d = b.deps[k]
	} else {
		d.Strategy = Strategy(src.Draw("strategy", numStrategies))
	}
	d.Shard = int32(src.Draw("shard", b.cfg.MaxTotalShards+1))
	d.TotalShards = 1 + src.Draw("misapplied total shards", b.cfg.MaxTotalShards)
	d.Replicas = nil
	if src.Draw("two replicas", 2) == 1 {
		two := int32(2)
		d.Replicas = &two
	}
	b.track([]sim.Deployment{d})
	b.apply(sim.Step{Op: sim.OpApply, Deployments: []sim.Deployment{d}})
}

// CanDeleteDeployment reports whether a Deployment exists to delete; only
// ones without pods unless Misconfigure.
func (b *StaticBuilder) CanDeleteDeployment() bool { return len(b.deletable()) > 0 }

func (b *StaticBuilder) deletable() []string {
	var out []string
	for _, d := range b.deps {
		if b.cfg.Misconfigure || replicasOf(d) == 0 {
			out = append(out, d.Name)
		}
	}
	return out
}

// DeleteDeployment deletes a drawn Deployment (CanDeleteDeployment). It
// reports false, drawing nothing, when there is none.
func (b *StaticBuilder) DeleteDeployment(src Source) bool {
	names := b.deletable()
	if len(names) == 0 {
		return false
	}
	name := names[src.Draw("delete deployment", len(names))]
	b.deps = slices.DeleteFunc(b.deps, func(x sim.Deployment) bool { return x.Name == name })
	delete(b.lanes, name)
	b.apply(sim.Step{Op: sim.OpDeleteDeployment, Name: name})
	return true
}

// CanRestart reports whether a pod exists to restart.
func (b *StaticBuilder) CanRestart() bool { return len(b.liveLanes()) > 0 }

// Restart restarts the pod of one drawn lane (the ReplicaSet replaces it
// at once). It reports false, drawing nothing, when there is no pod.
func (b *StaticBuilder) Restart(src Source) bool {
	lanes := b.liveLanes()
	if len(lanes) == 0 {
		return false
	}
	b.apply(sim.Step{Op: sim.OpRestart, Pods: []int{lanes[src.Draw("restart lane", len(lanes))]}})
	return true
}

// Create adds 1..20 ConfigMaps with fresh UIDs.
func (b *StaticBuilder) Create(src Source) {
	k := 1 + src.Draw("create count", maxChurn)
	b.salt++
	uids := sim.GenerateUIDs(k, DefaultObjectSeed+1, b.salt)
	uids = slices.DeleteFunc(uids, func(u string) bool { return slices.Contains(b.live, u) })
	if len(uids) == 0 {
		return
	}
	b.live = append(b.live, uids...)
	b.apply(sim.Step{Op: sim.OpCreate, UIDs: uids})
}

// Delete deletes 1..20 live ConfigMaps. It reports false, drawing nothing,
// when none is live.
func (b *StaticBuilder) Delete(src Source) bool {
	if len(b.live) == 0 {
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

// Deliver delivers the next item of one lane's inbox: the first lane, from
// a drawn one on, whose next item can be delivered; if none can, it
// settles. It reports false, drawing nothing, unless CanDeliver.
func (b *StaticBuilder) Deliver(src Source) bool {
	if !b.CanDeliver() {
		return false
	}
	start := src.Draw("deliver lane", b.next)
	for k := range b.next {
		lane := (start + k) % b.next
		if b.run.Pending(lane) > 0 && b.tryDeliver(sim.Step{Pod: &lane}) {
			return true
		}
	}
	b.Settle()
	return true
}

// Op draws one op that is valid now, applies it and returns its name:
// reshard, restart, create and delete ConfigMaps, delete a Deployment
// without pods, and under the explicit schedule deliver and settle; with
// Misconfigure also misapply and delete any Deployment.
func (b *StaticBuilder) Op(src Source) string {
	ops := []opWeight{{OpReshard, 4}, {sim.OpCreate, 1}}
	if b.CanRestart() {
		ops = append(ops, opWeight{sim.OpRestart, 2})
	}
	if len(b.live) > 0 {
		ops = append(ops, opWeight{sim.OpDelete, 1})
	}
	if b.CanDeleteDeployment() {
		ops = append(ops, opWeight{sim.OpDeleteDeployment, 1})
	}
	if b.cfg.Misconfigure {
		ops = append(ops, opWeight{OpMisapply, 3})
	}
	if b.trace.Schedule == sim.Explicit {
		ops = append(ops, opWeight{sim.OpSettle, 2})
		if b.CanDeliver() {
			ops = append(ops, opWeight{sim.OpDeliver, 8})
		}
	}
	op := drawOp(src, ops)
	switch op {
	case OpReshard:
		b.Reshard(src)
	case OpMisapply:
		b.Misapply(src)
	case sim.OpRestart:
		b.Restart(src)
	case sim.OpCreate:
		b.Create(src)
	case sim.OpDelete:
		b.Delete(src)
	case sim.OpDeleteDeployment:
		b.DeleteDeployment(src)
	case sim.OpDeliver:
		b.Deliver(src)
	case sim.OpSettle:
		b.Settle()
	}
	return op
}

// A DaemonSetBuilder generates a valid DaemonSet sharding trace one op at
// a time: DaemonSet ksm over 1..MaxNodes nodes, pods bound to them (and,
// unless NoUnscheduledPods, some bound to none), and node ops, pod
// creations and bindings.
type DaemonSetBuilder struct {
	modeBuilder
	nodes   []string        // existing nodes, in creation order
	tainted map[string]bool // existing tainted nodes
	named   int             // nodes ever named
	dotted  bool
	pending int // unscheduled pods
}

// NewDaemonSetBuilder draws a DaemonSet cluster (the schedule unless cfg
// fixes it, what serves the unscheduled pods if cfg says AnyUnscheduled,
// 1..MaxNodes nodes, 0..Pods pods of which up to maxPodBatch unscheduled)
// and returns a builder for a trace starting there.
func NewDaemonSetBuilder(src Source, cfg ModeConfig) *DaemonSetBuilder {
	cfg = cfg.withDefaults()
	unscheduled := cfg.Unscheduled
	if unscheduled == AnyUnscheduled {
		unscheduled = []string{sim.UnscheduledTrack, UnscheduledNone, sim.UnscheduledAll}[src.Draw("unscheduled", 3)]
	}
	b := &DaemonSetBuilder{tainted: map[string]bool{}, dotted: cfg.DottedNodes}
	k := 1 + src.Draw("nodes", cfg.MaxNodes)
	for range k {
		b.nodes = append(b.nodes, b.nodeName(src))
	}
	pods := &sim.PodObjects{Generate: src.Draw("pods", cfg.Pods+1), Seed: 1}
	if !cfg.NoUnscheduledPods {
		pods.Unscheduled = src.Draw("unscheduled pods", min(maxPodBatch, pods.Generate)+1)
	}
	b.pending = pods.Unscheduled
	t := &sim.Trace{
		Name: "generated-daemonset",
		Cluster: sim.Cluster{
			Namespace: Namespace,
			DaemonSet: &sim.DaemonSet{Name: "ksm", Unscheduled: unscheduled},
			Nodes:     slices.Clone(b.nodes),
			Pods:      pods,
		},
		Steps: []sim.Step{},
	}
	b.modeBuilder = newModeBuilder(src, cfg, t)
	return b
}

// nodeName names a new node: node-<k>, or with DottedNodes, drawn, the
// cloud-style ip-10-0-0-<k>.ec2.internal.
func (b *DaemonSetBuilder) nodeName(src Source) string {
	b.named++
	if b.dotted && src.Draw("dotted node name", 2) == 1 {
		return fmt.Sprintf("ip-10-0-0-%d.ec2.internal", b.named)
	}
	return fmt.Sprintf("node-%d", b.named)
}

// Nodes returns the existing nodes after the last op.
func (b *DaemonSetBuilder) Nodes() []string { return slices.Clone(b.nodes) }

// Tainted returns the tainted nodes after the last op.
func (b *DaemonSetBuilder) Tainted() map[string]bool { return maps.Clone(b.tainted) }

// Unscheduled is what serves the pods bound to no node
// (cluster.daemonSet.unscheduled).
func (b *DaemonSetBuilder) Unscheduled() string { return b.trace.Cluster.DaemonSet.Unscheduled }

func strPtr(s string) *string { return &s }

// AddNode adds a node with a new name; the DaemonSet runs a KSM pod on it.
func (b *DaemonSetBuilder) AddNode(src Source) {
	n := b.nodeName(src)
	b.nodes = append(b.nodes, n)
	b.apply(sim.Step{Op: sim.OpAddNode, Node: strPtr(n)})
}

// drawNode draws one of nodes, or reports false, drawing nothing, if
// there is none.
func drawNode(src Source, what string, nodes []string) (string, bool) {
	if len(nodes) == 0 {
		return "", false
	}
	return nodes[src.Draw(what, len(nodes))], true
}

// RemoveNode deletes a drawn node, its KSM pod and the pods bound to it.
// It reports false, drawing nothing, when there is no node.
func (b *DaemonSetBuilder) RemoveNode(src Source) bool {
	n, ok := drawNode(src, "remove node", b.nodes)
	if !ok {
		return false
	}
	b.nodes = slices.DeleteFunc(b.nodes, func(x string) bool { return x == n })
	delete(b.tainted, n)
	b.apply(sim.Step{Op: sim.OpRemoveNode, Node: strPtr(n)})
	return true
}

func (b *DaemonSetBuilder) withTaint(tainted bool) []string {
	var out []string
	for _, n := range b.nodes {
		if b.tainted[n] == tainted {
			out = append(out, n)
		}
	}
	return out
}

// Taint taints a drawn untainted node: its KSM pod is evicted. It reports
// false, drawing nothing, when every node is tainted.
func (b *DaemonSetBuilder) Taint(src Source) bool {
	n, ok := drawNode(src, "taint node", b.withTaint(false))
	if !ok {
		return false
	}
	b.tainted[n] = true
	b.apply(sim.Step{Op: sim.OpTaint, Node: strPtr(n)})
	return true
}

// Untaint removes the taint of a drawn tainted node. It reports false,
// drawing nothing, when no node is tainted.
func (b *DaemonSetBuilder) Untaint(src Source) bool {
	n, ok := drawNode(src, "untaint node", b.withTaint(true))
	if !ok {
		return false
	}
	delete(b.tainted, n)
	b.apply(sim.Step{Op: sim.OpUntaint, Node: strPtr(n)})
	return true
}

// Evict evicts a drawn node's KSM pod; the DaemonSet controller replaces
// it, and the new pod's store is empty until its first list (on a tainted
// node there is no KSM pod to evict: the op changes nothing). It reports
// false, drawing nothing, when there is no node.
func (b *DaemonSetBuilder) Evict(src Source) bool {
	n, ok := drawNode(src, "evict node", b.nodes)
	if !ok {
		return false
	}
	b.apply(sim.Step{Op: sim.OpEvict, Node: strPtr(n)})
	return true
}

// CreatePods creates 1..maxPodBatch pods bound to a drawn node, or
// (unless NoUnscheduledPods) to none.
func (b *DaemonSetBuilder) CreatePods(src Source) {
	targets := slices.Clone(b.nodes)
	if !b.cfg.NoUnscheduledPods {
		targets = append([]string{""}, targets...)
	}
	if len(targets) == 0 {
		return // no node, and no unscheduled pod wanted
	}
	n := targets[src.Draw("create pods on", len(targets))]
	k := 1 + src.Draw("create pods", maxPodBatch)
	if n == "" {
		b.pending += k
	}
	b.apply(sim.Step{Op: sim.OpCreatePods, Node: strPtr(n), Generate: k, Seed: 1})
}

// CanBind reports whether an unscheduled pod and a node exist.
func (b *DaemonSetBuilder) CanBind() bool { return b.pending > 0 && len(b.nodes) > 0 }

// Bind binds 1..maxPodBatch unscheduled pods to a drawn node. It reports
// false, drawing nothing, unless CanBind.
func (b *DaemonSetBuilder) Bind(src Source) bool {
	if !b.CanBind() {
		return false
	}
	n, _ := drawNode(src, "bind to", b.nodes)
	k := 1 + src.Draw("bind count", min(maxPodBatch, b.pending))
	b.pending -= k
	b.apply(sim.Step{Op: sim.OpBind, Node: strPtr(n), Count: k})
	return true
}

// Deliver delivers the next item of one KSM pod's queue: the first of the
// existing nodes' (and the unscheduled pods' Deployment's, "" ), from a
// drawn one on, that holds one; if none does (only a removed node's
// queue is left) it settles. It reports false, drawing nothing, unless
// CanDeliver.
func (b *DaemonSetBuilder) Deliver(src Source) bool {
	if !b.CanDeliver() {
		return false
	}
	lanes := slices.Clone(b.nodes)
	if b.Unscheduled() != UnscheduledNone {
		lanes = append([]string{""}, lanes...)
	}
	if len(lanes) > 0 {
		start := src.Draw("deliver node", len(lanes))
		for k := range lanes {
			n := lanes[(start+k)%len(lanes)]
			if b.tryDeliver(sim.Step{Node: strPtr(n)}) {
				return true
			}
		}
	}
	b.Settle()
	return true
}

// Op draws one op that is valid now, applies it and returns its name:
// addNode, removeNode, taint, untaint, createPods, bind, and under the
// explicit schedule deliver and settle.
func (b *DaemonSetBuilder) Op(src Source) string {
	ops := []opWeight{{sim.OpCreatePods, 3}, {sim.OpAddNode, 2}}
	if len(b.nodes) > 0 {
		ops = append(ops, opWeight{sim.OpRemoveNode, 1})
	}
	if len(b.withTaint(false)) > 0 {
		ops = append(ops, opWeight{sim.OpTaint, 2})
	}
	if len(b.withTaint(true)) > 0 {
		ops = append(ops, opWeight{sim.OpUntaint, 2})
	}
	if b.CanBind() {
		ops = append(ops, opWeight{sim.OpBind, 3})
	}
	if b.cfg.Evict && len(b.nodes) > 0 {
		ops = append(ops, opWeight{sim.OpEvict, 2})
	}
	if b.trace.Schedule == sim.Explicit {
		ops = append(ops, opWeight{sim.OpSettle, 2})
		if b.CanDeliver() {
			ops = append(ops, opWeight{sim.OpDeliver, 8})
		}
	}
	op := drawOp(src, ops)
	switch op {
	case sim.OpAddNode:
		b.AddNode(src)
	case sim.OpRemoveNode:
		b.RemoveNode(src)
	case sim.OpTaint:
		b.Taint(src)
	case sim.OpUntaint:
		b.Untaint(src)
	case sim.OpCreatePods:
		b.CreatePods(src)
	case sim.OpBind:
		b.Bind(src)
	case sim.OpEvict:
		b.Evict(src)
	case sim.OpDeliver:
		b.Deliver(src)
	case sim.OpSettle:
		b.Settle()
	}
	return op
}

// CloneModeTrace returns a deep copy of t, the fields of static and
// DaemonSet sharding included (CloneTrace shares them).
func CloneModeTrace(t *sim.Trace) *sim.Trace {
	c := CloneTrace(t)
	c.Cluster.Deployments = cloneDeployments(t.Cluster.Deployments)
	if d := t.Cluster.DaemonSet; d != nil {
		v := *d
		c.Cluster.DaemonSet = &v
	}
	c.Cluster.Nodes = slices.Clone(t.Cluster.Nodes)
	if p := t.Cluster.Pods; p != nil {
		v := *p
		c.Cluster.Pods = &v
	}
	for i := range c.Steps {
		s := &c.Steps[i]
		s.Deployments = cloneDeployments(s.Deployments)
		if s.Node != nil {
			v := *s.Node
			s.Node = &v
		}
	}
	return c
}

func cloneDeployments(ds []sim.Deployment) []sim.Deployment {
	if ds == nil {
		return nil
	}
	out := make([]sim.Deployment, len(ds))
	for i, d := range ds {
		if d.Replicas != nil {
			v := *d.Replicas
			d.Replicas = &v
		}
		d.Strategy = d.Strategy.DeepCopy()
		out[i] = d
	}
	return out
}
