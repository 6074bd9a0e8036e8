package properties

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Hunts in the other sharding modes (HuntOptions.Mode, `simrun hunt
// --mode`): the traces come from StaticBuilder (with misconfigured
// applies) or DaemonSetBuilder (the unscheduled pods tracked by
// --track-unscheduled-pods, as KSM documents it; dotted node names),
// replayed against the hunted reducer only, and a shrinker of
// their own (ShrinkMode) reduces the first one that fails.

// modeConfig is the generator configuration of a mode hunt.
func (o HuntOptions) modeConfig() ModeConfig {
	return ModeConfig{Reducer: o.Reducer, Misconfigure: true, Unscheduled: sim.UnscheduledTrack, DottedNodes: true}
}

// checkMode refuses an unknown mode and generator options that do not
// apply to a mode hunt.
func (o HuntOptions) checkMode() error {
	switch o.Mode {
	case "":
		return nil
	case ModeStatic, ModeDaemonSet:
	default:
		return fmt.Errorf("unknown mode %q, want %q (static sharding) or %q (DaemonSet sharding); empty for autosharding", o.Mode, ModeStatic, ModeDaemonSet)
	}
	if o.Gen.Faults || o.Gen.APIServer {
		return fmt.Errorf("the fault ops and the drawn API server are autosharding's: not with mode %s", o.Mode)
	}
	return nil
}

// generateMode draws one trace of the hunt's mode of 1..opts.MaxOps ops
// and returns it, cut after the op that broke opts.Reducer's properties,
// or nil if they held.
func generateMode(src Source, opts HuntOptions) *sim.Trace {
	type builder interface {
		Op(Source) string
		Holds() bool
		Trace() *sim.Trace
		Close()
	}
	var b builder
	if opts.Mode == ModeStatic {
		b = NewStaticBuilder(src, opts.modeConfig())
	} else {
		b = NewDaemonSetBuilder(src, opts.modeConfig())
	}
	defer b.Close()
	if !b.Holds() {
		return CloneModeTrace(b.Trace()) // the cluster it starts from
	}
	n := 1 + src.Draw("ops", opts.MaxOps)
	for range n {
		b.Op(src)
		if !b.Holds() {
			return CloneModeTrace(b.Trace())
		}
	}
	return nil
}

// FailsMode reports whether t, a static or DaemonSet sharding trace, is
// a counterexample for the named reducer: it is valid, the reducer
// replays it without error to a quiescent end and violates a property at
// a quiescent point. Unlike Fails it replays that reducer only: the
// explicit deliveries of a DaemonSet trace are valid for the releases
// whose KSM pods queue the same items.
func FailsMode(t *sim.Trace, reducer string) bool {
	r, ok := model.ReducerByName(reducer)
	if !ok {
		return false
	}
	c := CloneModeTrace(t)
	if c.Validate() != nil {
		return false
	}
	res, err := sim.Run(c, r, sim.Options{})
	return err == nil && res.Pending == 0 && !res.Holds
}

// toExplicitMode is toExplicit for a mode trace.
func toExplicitMode(t *sim.Trace) *sim.Trace {
	c := CloneModeTrace(t)
	if c.Schedule != sim.Explicit {
		c.Schedule = sim.Explicit
		var steps []sim.Step
		for _, s := range c.Steps {
			steps = append(steps, s, sim.Step{Op: sim.OpSettle})
		}
		c.Steps = steps
	}
	if len(c.Steps) == 0 || c.Steps[len(c.Steps)-1].Op != sim.OpSettle {
		c.Steps = append(c.Steps, sim.Step{Op: sim.OpSettle})
	}
	return c
}

// ShrinkMode returns the smallest variant of the static or DaemonSet
// sharding counterexample t it finds that still fails for the named
// reducer (FailsMode), under the explicit schedule, ending with a settle
// unless it ends quiescent. It shrinks to a fixpoint: remove chunks of
// steps (delta debugging), merge consecutive deliveries to one lane or
// node and consecutive settles; for static sharding drop the initial
// Deployments one at a time and keep only the ConfigMaps of the first
// violation; for DaemonSet sharding drop initial nodes, halve the initial
// pods and the unscheduled ones, and shrink createPods and bind counts
// to 1.
func ShrinkMode(t *sim.Trace, reducer string) *sim.Trace {
	cur := toExplicitMode(t)
	if !FailsMode(cur, reducer) {
		return cur
	}
	try := func(c *sim.Trace) bool {
		if c != nil && FailsMode(c, reducer) {
			cur = c
			return true
		}
		return false
	}
	try(affectedConfigMaps(cur, reducer))
	for changed := true; changed; {
		changed = false
		for _, pass := range []func(*sim.Trace, func(*sim.Trace) bool) bool{
			removeModeSteps, dropSettles, mergeModeDeliveries, fewerDeployments, fewerNodes, fewerPods, smallerBatches,
		} {
			for pass(cur, try) {
				changed = true
			}
		}
	}
	try(affectedConfigMaps(cur, reducer))
	if cur.Steps == nil {
		cur.Steps = []sim.Step{}
	}
	return cur
}

// removeModeSteps removes chunks of steps, halving the chunk size down to
// single steps.
func removeModeSteps(t *sim.Trace, try func(*sim.Trace) bool) bool {
	removed := false
	for size := max(1, len(t.Steps)/2); size >= 1; size /= 2 {
		for i := 0; i+size <= len(t.Steps); {
			c := CloneModeTrace(t)
			c.Steps = slices.Delete(c.Steps, i, i+size)
			if try(c) {
				t, removed = c, true
				continue
			}
			i++
		}
	}
	return removed
}

// dropSettles removes a settle that is not the last step.
func dropSettles(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i := len(t.Steps) - 2; i >= 0; i-- {
		if t.Steps[i].Op == sim.OpSettle {
			c := CloneModeTrace(t)
			c.Steps = slices.Delete(c.Steps, i, i+1)
			if try(c) {
				return true
			}
		}
	}
	return false
}

// sameLane reports whether two deliver steps take from the same lane or
// node.
func sameLane(a, b sim.Step) bool {
	if a.Op != sim.OpDeliver || b.Op != sim.OpDeliver || a.Stream != b.Stream {
		return false
	}
	switch {
	case a.Pod != nil && b.Pod != nil:
		return *a.Pod == *b.Pod
	case a.Node != nil && b.Node != nil:
		return *a.Node == *b.Node
	}
	return false
}

// mergeModeDeliveries merges consecutive deliveries to one lane or node.
func mergeModeDeliveries(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i := 0; i+1 < len(t.Steps); i++ {
		if sameLane(t.Steps[i], t.Steps[i+1]) {
			c := CloneModeTrace(t)
			c.Steps[i].Count += c.Steps[i+1].Count
			c.Steps = slices.Delete(c.Steps, i+1, i+2)
			if try(c) {
				return true
			}
		}
	}
	return false
}

// fewerDeployments drops one initial Deployment.
func fewerDeployments(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i := range t.Cluster.Deployments {
		if len(t.Cluster.Deployments) == 1 {
			return false
		}
		c := CloneModeTrace(t)
		c.Cluster.Deployments = slices.Delete(c.Cluster.Deployments, i, i+1)
		if try(c) {
			return true
		}
	}
	return false
}

// fewerNodes drops one initial node (and lowers the pods bound in turn
// accordingly: the trace must still be valid).
func fewerNodes(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i := range t.Cluster.Nodes {
		c := CloneModeTrace(t)
		c.Cluster.Nodes = slices.Delete(c.Cluster.Nodes, i, i+1)
		if try(c) {
			return true
		}
	}
	return false
}

// fewerPods halves the initial pods, then the unscheduled ones among
// them.
func fewerPods(t *sim.Trace, try func(*sim.Trace) bool) bool {
	p := t.Cluster.Pods
	if p == nil {
		return false
	}
	if p.Generate > 0 {
		c := CloneModeTrace(t)
		c.Cluster.Pods.Generate /= 2
		c.Cluster.Pods.Unscheduled = min(c.Cluster.Pods.Unscheduled, c.Cluster.Pods.Generate)
		if try(c) {
			return true
		}
	}
	if p.Unscheduled > 0 {
		c := CloneModeTrace(t)
		c.Cluster.Pods.Unscheduled /= 2
		if try(c) {
			return true
		}
	}
	return false
}

// smallerBatches lowers a createPods' generate or a bind's count to 1.
func smallerBatches(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i, s := range t.Steps {
		c := CloneModeTrace(t)
		switch {
		case s.Op == sim.OpCreatePods && s.Generate > 1:
			c.Steps[i].Generate = 1
		case s.Op == sim.OpBind && s.Count > 1:
			c.Steps[i].Count = 1
		default:
			continue
		}
		if try(c) {
			return true
		}
	}
	return false
}

// affectedConfigMaps keeps only the ConfigMaps in the gap or the overlap
// of the first violated checkpoint of a static trace (nil for a trace
// without ConfigMaps or without such a point).
func affectedConfigMaps(t *sim.Trace, reducer string) *sim.Trace {
	if t.Cluster.Deployments == nil {
		return nil
	}
	r, _ := model.ReducerByName(reducer)
	res, err := sim.Run(CloneModeTrace(t), r, sim.Options{})
	if err != nil {
		return nil
	}
	c := firstViolation(res)
	if c == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, u := range append(slices.Clone(c.Gap.UIDs), c.Overlap.UIDs...) {
		keep[u] = true
	}
	if len(keep) == 0 {
		return nil
	}
	x := CloneModeTrace(t)
	drop := func(u string) bool { return !keep[u] }
	x.Cluster.Objects.UIDs = slices.DeleteFunc(x.Cluster.Objects.UIDs, drop)
	slices.Sort(x.Cluster.Objects.UIDs)
	var steps []sim.Step
	for _, s := range x.Steps {
		if s.Op == sim.OpCreate || s.Op == sim.OpDelete {
			s.UIDs = slices.DeleteFunc(s.UIDs, drop)
			if len(s.UIDs) == 0 {
				continue
			}
		}
		steps = append(steps, s)
	}
	x.Steps = steps
	return x
}

// prepareMode shrinks found, a static or DaemonSet sharding trace that
// violates the properties of opts.Reducer, and readies it for export: a
// name "<reducer>-<mode>-<kind>-seed-<seed>", Expect filled for the
// reducers that replay it (the hunted one violated), and a description.
func prepareMode(found *sim.Trace, opts HuntOptions, index int) (*Counterexample, error) {
	if !FailsMode(toExplicitMode(found), opts.Reducer) {
		return nil, fmt.Errorf("properties: the trace to prepare does not violate %s", opts.Reducer)
	}
	start := time.Now()
	c := &Counterexample{Reducer: opts.Reducer, Origin: huntOrigin(opts), Options: opts, Index: index, Found: CloneModeTrace(found)}
	c.Trace = ShrinkMode(found, opts.Reducer)
	t := c.Trace
	rs := replayed(opts.Reducer)
	var results []*sim.Result
	t.Expect = map[string]string{}
	for _, r := range rs {
		res, err := sim.Run(CloneModeTrace(t), r, sim.Options{})
		if err != nil || res.Pending > 0 {
			continue // its KSM pods queue other items: the explicit deliveries are not its
		}
		results = append(results, res)
		t.Expect[r.Name()] = sim.Holds
		if !res.Holds {
			t.Expect[r.Name()] = sim.Violated
		}
	}
	c.Report = &sim.Report{Results: results}
	res := c.result()
	if res == nil || res.Holds {
		return nil, fmt.Errorf("properties: the shrunk %s counterexample does not replay violated", opts.Mode)
	}
	c.Kind = opts.Mode + "-" + modeKind(t, res)
	t.Name = fmt.Sprintf("%s-%s-seed-%d", opts.Reducer, c.Kind, opts.Seed)
	var b strings.Builder
	fmt.Fprintf(&b, "Found by `%s` in generated trace %d (%d steps, %s schedule) and shrunk to %d steps. ", c.Origin, index, len(found.Steps), found.Schedule, len(t.Steps))
	fmt.Fprintf(&b, "%s. ", modeStory(t))
	for i, r := range results {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s: %s.", r.Reducer, sim.Verdict(r))
	}
	t.Description = b.String()
	c.Report.Trace, c.Report.Description = t.Name, t.Description
	c.ShrinkTime = time.Since(start)
	return c, nil
}

// modeStory tells a static or DaemonSet sharding trace in words.
func modeStory(t *sim.Trace) string {
	var parts []string
	if t.Cluster.DaemonSet != nil {
		nodes := "no node"
		if len(t.Cluster.Nodes) > 0 {
			nodes = "nodes " + strings.Join(t.Cluster.Nodes, ", ")
		}
		p := "DaemonSet " + t.Cluster.DaemonSet.Name + " on " + nodes
		if u := t.Cluster.DaemonSet.Unscheduled; u != "" {
			p += ", unscheduled pods: " + u
		}
		if pods := t.Cluster.Pods; pods != nil {
			p += fmt.Sprintf("; %s, %d of them unscheduled", plural(pods.Generate, "pod"), pods.Unscheduled)
		}
		parts = append(parts, p)
	} else {
		var ds []string
		for _, d := range t.Cluster.Deployments {
			ds = append(ds, fmt.Sprintf("%s %d/%d", d.Name, d.Shard, d.TotalShards))
		}
		parts = append(parts, "Deployments "+strings.Join(ds, ", ")+"; "+plural(initialObjects(t), "ConfigMap"))
	}
	for i, s := range t.Steps {
		parts = append(parts, fmt.Sprintf("step %d %s", i, FormatModeStep(s)))
	}
	return strings.Join(parts, "; ")
}

// FormatModeStep renders a step of a static or DaemonSet sharding trace
// on one line.
func FormatModeStep(s sim.Step) string {
	switch s.Op {
	case sim.OpApply:
		var ds []string
		for _, d := range s.Deployments {
			r := 1
			if d.Replicas != nil {
				r = int(*d.Replicas)
			}
			ds = append(ds, fmt.Sprintf("%s %d/%d x%d", d.Name, d.Shard, d.TotalShards, r))
		}
		return "apply " + strings.Join(ds, ", ")
	case sim.OpDeleteDeployment:
		return "delete Deployment " + s.Name
	case sim.OpRestart:
		return fmt.Sprintf("restart lanes %v", s.Pods)
	case sim.OpAddNode, sim.OpRemoveNode, sim.OpTaint, sim.OpUntaint:
		return s.Op + " " + *s.Node
	case sim.OpCreatePods:
		if *s.Node == "" {
			return fmt.Sprintf("create %d unscheduled pods", s.Generate)
		}
		return fmt.Sprintf("create %d pods on %s", s.Generate, *s.Node)
	case sim.OpBind:
		return fmt.Sprintf("bind %d unscheduled pods to %s", s.Count, *s.Node)
	case sim.OpDeliver:
		if s.Node != nil {
			who := *s.Node
			if who == "" {
				who = "the unscheduled pods' KSM pod"
			}
			return fmt.Sprintf("deliver %d item(s) to %s", s.Count, who)
		}
		return fmt.Sprintf("deliver %d item(s) to lane %d", s.Count, *s.Pod)
	}
	return FormatStep(s)
}

// modeSummary is Summary for a static or DaemonSet sharding
// counterexample.
func (c *Counterexample) modeSummary() string {
	var b strings.Builder
	t := c.Trace
	fmt.Fprintf(&b, "%s: %s mode, schedule %s\n", t.Name, c.Options.Mode, t.Schedule)
	fmt.Fprintf(&b, "  %s\n", strings.SplitN(modeStory(t), "; step ", 2)[0])
	for i, s := range t.Steps {
		fmt.Fprintf(&b, "  step %d: %s\n", i, FormatModeStep(s))
	}
	for _, res := range c.Report.Results {
		fmt.Fprintf(&b, "  %s: %s\n", res.Reducer, sim.Verdict(res))
	}
	return b.String()
}

// modeKind names the violation res shows on t: the last cluster op at or
// before the first violated checkpoint ("initial" if none), then "gap",
// "overlap" or "gap-and-overlap", over the ConfigMaps and the pods.
func modeKind(t *sim.Trace, res *sim.Result) string {
	c := firstViolation(res)
	if c == nil {
		return "holds"
	}
	gap, overlap := c.Gap.Count, c.Overlap.Count
	if n := c.Nodes; n != nil {
		gap += n.Gap.Count
		overlap += n.Overlap.Count
	}
	effect := "gap-and-overlap"
	switch {
	case gap == 0:
		effect = "overlap"
	case overlap == 0:
		effect = "gap"
	}
	cause := "initial"
	for i := 0; i <= c.Step && i < len(t.Steps); i++ {
		if s := t.Steps[i]; s.IsClusterOp() {
			cause = kebab(s.Op)
		}
	}
	return cause + "-" + effect
}

// kebab turns an op name (deleteDeployment) into a file name part
// (delete-deployment).
func kebab(op string) string {
	var b strings.Builder
	for _, r := range op {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('-')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
