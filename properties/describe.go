package properties

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// firstViolation returns the first quiescent checkpoint of res where a
// property fails, or nil.
func firstViolation(res *sim.Result) *sim.Checkpoint {
	if res == nil {
		return nil
	}
	for i := range res.Checkpoints {
		if !res.Checkpoints[i].Holds() {
			return &res.Checkpoints[i]
		}
	}
	return nil
}

// Classify names the violation res shows on t: its cause, the last scale
// (up or down) or restart before the first violated checkpoint, then its
// effect, "gap", "overlap" or "gap-and-overlap" — e.g. "scale-up-overlap",
// "scale-down-gap", "restart-gap" — then, if fault ops came before it,
// "with" and their kinds in trace order, e.g.
// "restart-gap-with-compact-disconnect". It returns "holds" when res
// holds.
func Classify(t *sim.Trace, res *sim.Result) string {
	c := firstViolation(res)
	if c == nil {
		return "holds"
	}
	effect := "gap-and-overlap"
	switch {
	case c.Gap.Count == 0:
		effect = "overlap"
	case c.Overlap.Count == 0:
		effect = "gap"
	}
	cause := ""
	replicas := int32(1)
	if r := t.Cluster.StatefulSet.Replicas; r != nil {
		replicas = *r
	}
	var faults []string
	for i := 0; i <= c.Step && i < len(t.Steps); i++ {
		s := t.Steps[i]
		if s.IsFault() {
			if f := faultName(s.Op); !slices.Contains(faults, f) {
				faults = append(faults, f)
			}
		}
		switch s.Op {
		case sim.OpScale:
			switch {
			case *s.Replicas > replicas:
				cause = "scale-up"
			case *s.Replicas < replicas:
				cause = "scale-down"
			}
			replicas = *s.Replicas
		case sim.OpRestart:
			cause = "restart"
		}
	}
	name := effect
	if cause != "" {
		name = cause + "-" + effect
	}
	if len(faults) > 0 {
		name += "-with-" + strings.Join(faults, "-")
	}
	return name
}

// faultName is a fault op's name as a part of a file name.
func faultName(op string) string {
	if op == sim.OpCacheLag {
		return "cache-lag"
	}
	return op
}

// describe says in words what the counterexample does and what goes
// wrong, for the trace's description.
func (c *Counterexample) describe() string {
	t, res := c.Trace, c.result()
	var b strings.Builder
	fmt.Fprintf(&b, "Found by `%s`", c.Origin)
	if c.Options.Reducer != "" {
		fmt.Fprintf(&b, " in generated trace %d", c.Index)
	}
	fmt.Fprintf(&b, " (%d steps, %s schedule) and shrunk to %d steps. ", len(c.Found.Steps), c.Found.Schedule, len(t.Steps))
	fmt.Fprintf(&b, "%s. ", story(t))
	if why := explain(t, res); why != "" {
		b.WriteString(why + " ")
	}
	for i, r := range c.Report.Results {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s: %s.", r.Reducer, sim.Verdict(r))
	}
	return b.String()
}

// story tells the steps of t in words.
func story(t *sim.Trace) string {
	replicas := *t.Cluster.StatefulSet.Replicas
	labels := t.Cluster.StatefulSet.Labels
	parts := []string{fmt.Sprintf("%s of StatefulSet %s labelled %s, started and settled; %s", plural(int(replicas), "pod"),
		t.Cluster.StatefulSet.Name, formatLabels(labels), plural(initialObjects(t), "object"))}
	if api := apiServerStory(t); api != "" {
		parts[0] += "; " + api
	}
	if t.DataPlane == sim.Explicit {
		parts[0] += "; the data plane is explicit: each pod's list pages and object events wait for deliveries from its objects stream"
	}
	for i, s := range t.Steps {
		var p string
		switch s.Op {
		case sim.OpRelabel:
			p = "relabel: " + labelDiff(labels, s.Labels)
			labels = s.Labels
		case sim.OpScale:
			p = fmt.Sprintf("scale %d -> %d", replicas, *s.Replicas)
			replicas = *s.Replicas
		default:
			p = FormatStep(s)
		}
		parts = append(parts, fmt.Sprintf("step %d %s", i, p))
	}
	return strings.Join(parts, "; ")
}

// initialObjects is the number of objects t starts with.
func initialObjects(t *sim.Trace) int {
	return len(t.Cluster.Objects.UIDs) + t.Cluster.Objects.Generate
}

// apiServerStory describes the API server's configuration where it is not
// the default, or returns "".
func apiServerStory(t *sim.Trace) string {
	cfg := t.Cluster.Config()
	var parts []string
	if !cfg.WatchCache {
		parts = append(parts, "no watch cache (every LIST is paged from etcd)")
	}
	if !cfg.WatchList {
		parts = append(parts, "WatchList off")
	}
	if cfg.PageSize != model.DefaultPageSize {
		parts = append(parts, fmt.Sprintf("pages of %d", cfg.PageSize))
	}
	if len(parts) == 0 {
		return ""
	}
	return "the API server has " + strings.Join(parts, ", ")
}

// labelDiff describes how the labels change from old to cur.
func labelDiff(old, cur map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(old)) {
		if v, ok := cur[k]; !ok {
			parts = append(parts, "remove "+k)
		} else if v != old[k] {
			parts = append(parts, fmt.Sprintf("%s %s -> %s", k, old[k], v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		if _, ok := old[k]; !ok {
			parts = append(parts, fmt.Sprintf("add %s=%s", k, cur[k]))
		}
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// explain says why the pods of the first violated checkpoint disagree,
// or, when their configurations agree with spec.replicas, which pods
// export other than their shard keeps.
func explain(t *sim.Trace, res *sim.Result) string {
	c := firstViolation(res)
	if c == nil {
		return ""
	}
	if agree(c) {
		if why := dataPlaneCause(t, res.Reducer); why != "" {
			return explainExports(t, c) + " " + why
		}
		return explainExports(t, c)
	}
	var smaller, larger, none []string
	var smallTotal, largeTotal int
	for _, p := range c.Pods {
		switch {
		case p.Total == 0:
			none = append(none, fmt.Sprint(p.Pod))
		case p.Total < c.Replicas:
			smaller, smallTotal = append(smaller, fmt.Sprint(p.Pod)), p.Total
		case p.Total > c.Replicas:
			larger, largeTotal = append(larger, fmt.Sprint(p.Pod)), p.Total
		}
	}
	label := res.Reducer == "label-selector"
	var out []string
	if len(smaller)+len(larger) > 0 {
		stale := append(slices.Clone(smaller), larger...)
		if label {
			out = append(out, podList(stale)+" started before the relabel. The label selector frozen at pod start no longer matches the StatefulSet: the API server sent DELETED (ignored: KSM has no DeleteFunc) and filters out every later update, the scale included.")
		} else {
			out = append(out, podList(stale)+" never learned the current replica count.")
		}
	}
	if len(smaller) > 0 {
		out = append(out, fmt.Sprintf("Holding the old, smaller total %d while spec.replicas is %d, %s the objects jump hash moves to the new shards, which the new pods export too: overlap.", smallTotal, c.Replicas, verb(smaller, "keeps", "keep")))
	}
	if len(larger) > 0 {
		out = append(out, fmt.Sprintf("Holding the old, larger total %d while spec.replicas is %d, %s the objects of the removed shards to pods that no longer exist: gap.", largeTotal, c.Replicas, verb(larger, "leaves", "leave")))
	}
	if len(none) > 0 && c.Replicas > 0 {
		if label {
			out = append(out, podList(none)+" read the StatefulSet (GET) before the relabel and listed it after: the LIST with the old labels returns nothing, no Add ever comes, and nothing is served: gap.")
		} else {
			out = append(out, podList(none)+" never received the StatefulSet and nothing is served: gap.")
		}
	}
	return strings.Join(out, " ")
}

// plural renders "1 pod", "2 pods".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// podList renders "Pod 0" or "Pods 0, 2".
func podList(ordinals []string) string {
	if len(ordinals) == 1 {
		return "Pod " + ordinals[0]
	}
	return "Pods " + strings.Join(ordinals, ", ")
}

// verb renders "pod 0 keeps" or "pods 0, 1 keep".
func verb(ordinals []string, one, many string) string {
	if len(ordinals) == 1 {
		return "pod " + ordinals[0] + " " + one
	}
	return "pods " + strings.Join(ordinals, ", ") + " " + many
}

// agree reports whether the serving pods of c are one per ordinal below
// spec.replicas, each holding shard i of spec.replicas with its own
// ordinal i: then the configurations partition the objects and a
// violation lies in what the pods export.
func agree(c *sim.Checkpoint) bool {
	if len(c.Pods) != c.Replicas {
		return false
	}
	seen := map[int]bool{}
	for _, p := range c.Pods {
		if p.Total != c.Replicas || int(p.Shard) != p.Pod || seen[p.Pod] {
			return false
		}
		seen[p.Pod] = true
	}
	return true
}

// explainExports says which pods of c export another number of objects
// than their shard keeps among the live ones.
func explainExports(t *sim.Trace, c *sim.Checkpoint) string {
	live := liveAt(t, c.Step)
	var out []string
	for _, p := range c.Pods {
		keeps := 0
		for _, u := range live {
			if model.Keeps(u, p.Shard, p.Total) {
				keeps++
			}
		}
		if p.Exported != keeps {
			out = append(out, fmt.Sprintf("pod %d (%d/%d) exports %s where its shard keeps %d", p.Pod, p.Shard, p.Total, plural(p.Exported, "object"), keeps))
		}
	}
	msg := fmt.Sprintf("Every pod's configuration agrees with spec.replicas=%d, but not what the pods export (their stores)", c.Replicas)
	if len(out) == 0 {
		return msg + "."
	}
	return msg + ": " + strings.Join(out, "; ") + "."
}

// dataPlaneCause names the known KSM bug of the reducer's sharded
// ListWatch that the API server of t exposes, or returns "": v2.19.0's
// sharded Watch filtering the initial-events-end bookmark of a watch list
// (#2973), or the sharded List dropping the continue token of a LIST
// paged from etcd (#3065). It says nothing where fault ops could have
// paged a list some other way.
func dataPlaneCause(t *sim.Trace, reducer string) string {
	r, ok := model.ReducerByName(reducer)
	if !ok {
		return ""
	}
	rules, cfg := r.ListWatch(), t.Cluster.Config()
	if rules.WatchList && cfg.WatchList {
		if rules.FiltersBookmarks {
			return "Each reflector fills its store with a watch list and waits for its k8s.io/initial-events-end bookmark; KSM's sharded Watch filters that bookmark by its empty UID, which one shard owns, so the other shards never finish their initial sync (#2973, fixed in v2.19.1)."
		}
		return ""
	}
	if !rules.DropsContinue || cfg.WatchCache || slices.ContainsFunc(t.Steps, sim.Step.IsFault) {
		return ""
	}
	return fmt.Sprintf("Without the watch cache every LIST is paged from etcd (pages of %d) and KSM's sharded List drops the continue token, so each store holds only what its shard owns in the first page (#3065, fixed in v2.20.0).", cfg.PageSize)
}

// liveAt returns the live objects of t after step (-1: initially).
func liveAt(t *sim.Trace, step int) []string {
	live := slices.Clone(t.Cluster.Objects.UIDs)
	live = append(live, sim.GenerateUIDs(t.Cluster.Objects.Generate, t.Cluster.Objects.Seed, 0)...)
	for i := 0; i <= step && i < len(t.Steps); i++ {
		switch s := t.Steps[i]; s.Op {
		case sim.OpCreate:
			live = append(live, s.UIDs...)
			live = append(live, sim.GenerateUIDs(s.Generate, s.Seed, i+1)...)
		case sim.OpDelete:
			live = slices.DeleteFunc(live, func(u string) bool { return slices.Contains(s.UIDs, u) })
		}
	}
	return live
}
