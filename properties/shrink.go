package properties

import (
	"maps"
	"slices"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Fails reports whether t is a counterexample for the named reducer: it
// is a valid trace, every reducer of model.Reducers and the named one (a
// release, say) replays it without error to a quiescent end (so that
// every verdict covers the whole trace), and the named reducer violates a
// property at some quiescent point. It reports false for a reducer
// model.ReducerByName does not know.
func Fails(t *sim.Trace, reducer string) bool {
	if _, ok := model.ReducerByName(reducer); !ok {
		return false
	}
	c := CloneTrace(t)
	if c.Validate() != nil {
		return false
	}
	failed := false
	// The named reducer first: most candidates of a shrink hold, and
	// then the other replays are not needed.
	rs := replayed(reducer)
	slices.SortStableFunc(rs, func(a, b model.Reducer) int {
		return boolIndex(a.Name() != reducer) - boolIndex(b.Name() != reducer)
	})
	for _, r := range rs {
		res, err := sim.Run(c, r, sim.Options{})
		if err != nil || res.Pending > 0 {
			return false
		}
		if r.Name() == reducer {
			if res.Holds {
				return false
			}
			failed = true
		}
	}
	return failed
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Shrink returns the smallest variant of the counterexample t it finds
// that still fails for the named reducer (see Fails). t itself is not
// modified. The result uses the explicit schedule, so that every point of
// the interleaving can be named, and ends with a settle unless it already
// ends quiescent.
//
// It shrinks to a fixpoint, in passes: drop the objects the violation does
// not touch; remove chunks of steps, halving the chunk down to single
// steps (delta debugging); fold a first scale into the initial replica
// count; lower replica counts; restart (and disconnect) single pods
// instead of several; prefer the relabels LabelChoices lists first; merge
// consecutive deliveries to one pod and consecutive settles; remove a step
// together with the deliveries of the inbox items it queued; lower cache
// lags; replace the explicit data plane with the eager one. Where the API
// server is not in its default configuration (GenConfig.APIServer) it
// also moves each of its fields and the page size back to the default,
// lowers the page size and drops initial objects in chunks: with paged
// lists, which objects a shard's store misses depends on the objects
// before them in list order, so keeping only the affected ones is not
// enough. Every candidate is replayed in full against every reducer, so
// the result is valid and fails by construction.
func Shrink(t *sim.Trace, reducer string) *sim.Trace {
	cur := toExplicit(t)
	if !Fails(cur, reducer) {
		return cur
	}
	try := func(c *sim.Trace) bool {
		if c != nil && Fails(c, reducer) {
			cur = c
			return true
		}
		return false
	}
	try(affectedOnly(cur, reducer))
	for changed := true; changed; {
		changed = false
		for _, pass := range []func(*sim.Trace, func(*sim.Trace) bool) bool{
			removeSteps, absorbFirstScale, lowerInitialReplicas, lowerScales, singleRestarts, simplerLabels, mergeSteps, removeWithFewerDeliveries,
			lowerCacheLags, eagerDataPlane, defaultAPIServer, lowerPageSize, fewerObjects(IsRelease(reducer)),
			fewerCreated(IsRelease(reducer)), createdAtStart(IsRelease(reducer)),
		} {
			for pass(cur, try) {
				changed = true
			}
		}
	}
	try(affectedOnly(cur, reducer))
	if (nonDefaultAPIServer(cur) || IsRelease(reducer)) && !slices.IsSorted(cur.Cluster.Objects.UIDs) {
		// In list order, as affectedOnly leaves them.
		c := CloneTrace(cur)
		slices.Sort(c.Cluster.Objects.UIDs)
		try(c)
	}
	return cur
}

// toExplicit returns a copy of t under the explicit schedule, ending with
// a settle: an eager trace gets a settle after every op, which is what the
// eager schedule does.
func toExplicit(t *sim.Trace) *sim.Trace {
	c := CloneTrace(t)
	if c.Schedule == sim.Explicit {
		if len(c.Steps) == 0 || c.Steps[len(c.Steps)-1].Op != sim.OpSettle {
			c.Steps = append(c.Steps, sim.Step{Op: sim.OpSettle})
		}
		return c
	}
	c.Schedule = sim.Explicit
	var steps []sim.Step
	for _, s := range c.Steps {
		steps = append(steps, s, sim.Step{Op: sim.OpSettle})
	}
	c.Steps = steps
	return c
}

// affectedOnly keeps only the objects in the gap or the overlap of the
// first violated checkpoint of reducer, sorted: which pods keep an object
// depends on that object alone, so they stay affected without the others.
func affectedOnly(t *sim.Trace, reducer string) *sim.Trace {
	r, ok := model.ReducerByName(reducer)
	if !ok {
		return nil
	}
	res, err := sim.Run(CloneTrace(t), r, sim.Options{})
	if err != nil {
		return nil
	}
	keep := map[string]bool{}
	for _, c := range res.Checkpoints {
		if !c.Holds() {
			for _, u := range c.Gap.UIDs {
				keep[u] = true
			}
			for _, u := range c.Overlap.UIDs {
				keep[u] = true
			}
			break
		}
	}
	if len(keep) == 0 {
		return nil
	}
	c := CloneTrace(t)
	drop := func(u string) bool { return !keep[u] }
	c.Cluster.Objects.UIDs = slices.DeleteFunc(c.Cluster.Objects.UIDs, drop)
	slices.Sort(c.Cluster.Objects.UIDs)
	steps := []sim.Step{}
	for _, s := range c.Steps {
		if s.Op == sim.OpCreate || s.Op == sim.OpDelete {
			s.UIDs = slices.DeleteFunc(s.UIDs, drop)
			slices.Sort(s.UIDs)
			if len(s.UIDs) == 0 {
				continue
			}
		}
		steps = append(steps, s)
	}
	c.Steps = steps
	return c
}

// without returns a copy of t without steps [i, j).
func without(t *sim.Trace, i, j int) *sim.Trace {
	c := CloneTrace(t)
	c.Steps = slices.Delete(c.Steps, i, j)
	return c
}

// removeSteps removes chunks of steps. It reports whether it removed any.
func removeSteps(t *sim.Trace, try func(*sim.Trace) bool) bool {
	removed := false
	for size := max(1, len(t.Steps)/2); size >= 1; size /= 2 {
		for i := 0; i+size <= len(t.Steps); {
			c := without(t, i, i+size)
			if try(c) {
				t, removed = c, true
				continue
			}
			i++
		}
	}
	return removed
}

// absorbFirstScale folds a first step that scales into the initial
// replica count.
func absorbFirstScale(t *sim.Trace, try func(*sim.Trace) bool) bool {
	if len(t.Steps) < 1 || t.Steps[0].Op != sim.OpScale || *t.Steps[0].Replicas == 0 {
		return false
	}
	c := without(t, 0, 1)
	if len(c.Steps) > 0 && c.Steps[0].Op == sim.OpSettle {
		c.Steps = slices.Delete(c.Steps, 0, 1)
	}
	r := *t.Steps[0].Replicas
	c.Cluster.StatefulSet.Replicas = &r
	return try(c)
}

// lowerInitialReplicas tries each smaller initial replica count from 1 up.
func lowerInitialReplicas(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for r := int32(1); r < *t.Cluster.StatefulSet.Replicas; r++ {
		c := CloneTrace(t)
		c.Cluster.StatefulSet.Replicas = &r
		if try(c) {
			return true
		}
	}
	return false
}

// lowerScales tries each smaller value of each scale op, from 0 up.
func lowerScales(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i, s := range t.Steps {
		if s.Op != sim.OpScale {
			continue
		}
		for r := int32(0); r < *s.Replicas; r++ {
			c := CloneTrace(t)
			c.Steps[i].Replicas = &r
			if try(c) {
				return true
			}
		}
	}
	return false
}

// singleRestarts restarts (or disconnects) one pod where a restart (or a
// disconnect) names several.
func singleRestarts(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i, s := range t.Steps {
		if (s.Op != sim.OpRestart && s.Op != sim.OpDisconnect) || len(s.Pods) < 2 {
			continue
		}
		for _, p := range s.Pods {
			c := CloneTrace(t)
			c.Steps[i].Pods = []int{p}
			if try(c) {
				return true
			}
		}
	}
	return false
}

// lowerCacheLags tries each smaller lag of each cacheLag op, from 0 up.
func lowerCacheLags(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i, s := range t.Steps {
		if s.Op != sim.OpCacheLag {
			continue
		}
		for w := 0; w < *s.Writes; w++ {
			c := CloneTrace(t)
			c.Steps[i].Writes = &w
			if try(c) {
				return true
			}
		}
	}
	return false
}

// eagerDataPlane tries the eager data plane in place of the explicit
// one: without the deliveries from objects streams, which the eager data
// plane makes at the end of every step.
func eagerDataPlane(t *sim.Trace, try func(*sim.Trace) bool) bool {
	if t.DataPlane != sim.Explicit {
		return false
	}
	c := CloneTrace(t)
	c.DataPlane = ""
	c.Steps = slices.DeleteFunc(c.Steps, func(s sim.Step) bool { return s.Op == sim.OpDeliver && s.Stream == sim.StreamObjects })
	return try(c)
}

// nonDefaultAPIServer reports whether t's API server or page size differ
// from the defaults.
func nonDefaultAPIServer(t *sim.Trace) bool {
	return t.Cluster.APIServer != nil || t.Cluster.PageSize != 0
}

// defaultAPIServer moves one field of the API server's configuration, or
// the page size, back to its default (the trace then omits it).
func defaultAPIServer(t *sim.Trace, try func(*sim.Trace) bool) bool {
	if a := t.Cluster.APIServer; a != nil {
		if a.WatchList != nil {
			c := CloneTrace(t)
			c.Cluster.APIServer.WatchList = nil
			if c.Cluster.APIServer.WatchCache == nil {
				c.Cluster.APIServer = nil
			}
			if try(c) {
				return true
			}
		}
		if a.WatchCache != nil {
			c := CloneTrace(t)
			c.Cluster.APIServer.WatchCache = nil
			if c.Cluster.APIServer.WatchList == nil {
				c.Cluster.APIServer = nil
			}
			// cacheLag needs the watch cache, which is back: nothing to
			// drop.
			if try(c) {
				return true
			}
		}
	}
	if t.Cluster.PageSize != 0 {
		c := CloneTrace(t)
		c.Cluster.PageSize = 0
		if try(c) {
			return true
		}
	}
	return false
}

// lowerPageSize tries a page size of 1, then half the current one: fewer
// objects then fill more than a page.
func lowerPageSize(t *sim.Trace, try func(*sim.Trace) bool) bool {
	p := t.Cluster.PageSize
	if p <= 1 {
		return false
	}
	for _, q := range []int{1, p / 2} {
		if q < 1 || q >= p {
			continue
		}
		c := CloneTrace(t)
		c.Cluster.PageSize = q
		if try(c) {
			return true
		}
	}
	return false
}

// fewerObjects returns a pass that removes chunks of the initial objects,
// halving the chunk down to single objects, for a release (all) or where
// the API server is not in its default configuration. With the defaults,
// affectedOnly keeps only the objects the violation touches, each
// independently of the others, which is all the named reducers' shrinks
// do (their counterexamples under traces/regressions stay as they are);
// with paged lists that is not enough.
func fewerObjects(all bool) func(*sim.Trace, func(*sim.Trace) bool) bool {
	return func(t *sim.Trace, try func(*sim.Trace) bool) bool {
		if !all && !nonDefaultAPIServer(t) {
			return false
		}
		return removeObjects(t, try)
	}
}

// fewerCreated returns a pass that removes chunks of the objects each
// create op creates, for a release (all) or where the API server is not
// in its default configuration (see fewerObjects).
func fewerCreated(all bool) func(*sim.Trace, func(*sim.Trace) bool) bool {
	return func(t *sim.Trace, try func(*sim.Trace) bool) bool {
		if !all && !nonDefaultAPIServer(t) {
			return false
		}
		removed := false
		for i := range t.Steps {
			if t.Steps[i].Op != sim.OpCreate {
				continue
			}
			for size := max(1, len(t.Steps[i].UIDs)/2); size >= 1; size /= 2 {
				for j := 0; j+size <= len(t.Steps[i].UIDs) && len(t.Steps[i].UIDs) > size; {
					c := CloneTrace(t)
					c.Steps[i].UIDs = slices.Delete(c.Steps[i].UIDs, j, j+size)
					if try(c) {
						t, removed = c, true
						continue
					}
					j++
				}
			}
		}
		return removed
	}
}

// createdAtStart returns a pass that moves the objects of a create op to
// the initial objects, for a release (all) or where the API server is not
// in its default configuration (see fewerObjects): a violation that does
// not need the create to come late is shown from the start.
func createdAtStart(all bool) func(*sim.Trace, func(*sim.Trace) bool) bool {
	return func(t *sim.Trace, try func(*sim.Trace) bool) bool {
		if !all && !nonDefaultAPIServer(t) {
			return false
		}
		for i, s := range t.Steps {
			if s.Op != sim.OpCreate || s.Generate > 0 {
				continue
			}
			c := without(t, i, i+1)
			c.Cluster.Objects.UIDs = append(c.Cluster.Objects.UIDs, s.UIDs...)
			slices.Sort(c.Cluster.Objects.UIDs)
			if try(c) {
				return true
			}
		}
		return false
	}
}

// removeObjects removes chunks of the initial objects, halving the chunk
// down to single objects (delta debugging). It reports whether it removed
// any.
func removeObjects(t *sim.Trace, try func(*sim.Trace) bool) bool {
	removed := false
	for size := max(1, len(t.Cluster.Objects.UIDs)/2); size >= 1; size /= 2 {
		for i := 0; i+size <= len(t.Cluster.Objects.UIDs); {
			c := CloneTrace(t)
			c.Cluster.Objects.UIDs = slices.Delete(c.Cluster.Objects.UIDs, i, i+size)
			if try(c) {
				t, removed = c, true
				continue
			}
			i++
		}
	}
	return removed
}

// labelRank orders label maps for the shrinker: the index in
// LabelChoices, whose order is the shrinkers' preference; labels that are
// not a choice rank last.
func labelRank(l map[string]string) int {
	choices := LabelChoices()
	for i, c := range choices {
		if maps.Equal(c.Labels, l) {
			return i
		}
	}
	return len(choices)
}

// simplerLabels rewrites a relabel to a label choice of lower rank.
func simplerLabels(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i, s := range t.Steps {
		if s.Op != sim.OpRelabel {
			continue
		}
		rank := labelRank(s.Labels)
		for _, c := range LabelChoices() {
			if labelRank(c.Labels) >= rank {
				continue
			}
			n := CloneTrace(t)
			n.Steps[i].Labels = c.Labels
			if try(n) {
				return true
			}
		}
	}
	return false
}

// mergeSteps merges a deliver into the previous deliver to the same pod
// from the same stream and a settle into a previous settle, and lowers
// deliver counts.
func mergeSteps(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i := 1; i < len(t.Steps); i++ {
		prev, s := t.Steps[i-1], t.Steps[i]
		switch {
		case s.Op == sim.OpSettle && prev.Op == sim.OpSettle:
		case s.Op == sim.OpDeliver && prev.Op == sim.OpDeliver && *s.Pod == *prev.Pod && s.Stream == prev.Stream:
		default:
			continue
		}
		c := without(t, i, i+1)
		if s.Op == sim.OpDeliver {
			c.Steps[i-1].Count += s.Count
		}
		if try(c) {
			return true
		}
	}
	for i, s := range t.Steps {
		if s.Op == sim.OpDeliver && s.Count > 1 {
			c := CloneTrace(t)
			c.Steps[i].Count--
			if try(c) {
				return true
			}
		}
	}
	return false
}

// removeWithFewerDeliveries removes a step together with some of the
// deliveries after it: removing a relabel or a restart removes the items
// it queued, so the deliveries that followed may then deliver too much
// (a replay error) or run past the point that mattered.
func removeWithFewerDeliveries(t *sim.Trace, try func(*sim.Trace) bool) bool {
	for i := range t.Steps {
		if !t.Steps[i].IsClusterOp() {
			continue
		}
		c := without(t, i, i+1)
		for j := i; j < len(c.Steps); j++ {
			if c.Steps[j].Op != sim.OpDeliver {
				continue
			}
			for d := 1; d <= c.Steps[j].Count; d++ {
				n := CloneTrace(c)
				if n.Steps[j].Count -= d; n.Steps[j].Count == 0 {
					n.Steps = slices.Delete(n.Steps, j, j+1)
				}
				if try(n) {
					return true
				}
			}
		}
	}
	return false
}
