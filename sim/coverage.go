package sim

import (
	"slices"
	"sort"

	"github.com/shardsim/shardsim/model"
)

// ObjectSet holds the live sharded objects, sorted by UID, with each UID's
// FNV-1a hash computed once when the object is created.
type ObjectSet struct {
	uids   []string
	hashes []uint64
	counts []uint16 // scratch for Evaluate
}

// NewObjectSet returns a set holding uids (which must be distinct).
func NewObjectSet(uids []string) *ObjectSet {
	o := &ObjectSet{}
	o.Add(uids)
	return o
}

// Len is the number of live objects.
func (o *ObjectSet) Len() int { return len(o.uids) }

// UIDs returns the live UIDs, sorted. The slice must not be modified.
func (o *ObjectSet) UIDs() []string { return o.uids }

// Add inserts new UIDs.
func (o *ObjectSet) Add(uids []string) {
	if len(uids) == 0 {
		return
	}
	add := slices.Clone(uids)
	slices.Sort(add)
	merged := make([]string, 0, len(o.uids)+len(add))
	hashes := make([]uint64, 0, len(o.uids)+len(add))
	i, j := 0, 0
	for i < len(o.uids) || j < len(add) {
		if j == len(add) || (i < len(o.uids) && o.uids[i] < add[j]) {
			merged, hashes = append(merged, o.uids[i]), append(hashes, o.hashes[i])
			i++
			continue
		}
		merged, hashes = append(merged, add[j]), append(hashes, model.HashUID(add[j]))
		j++
	}
	o.uids, o.hashes = merged, hashes
}

// Delete removes UIDs; unknown UIDs are ignored.
func (o *ObjectSet) Delete(uids []string) {
	gone := make(map[string]bool, len(uids))
	for _, u := range uids {
		gone[u] = true
	}
	n := 0
	for i, u := range o.uids {
		if !gone[u] {
			o.uids[n], o.hashes[n] = u, o.hashes[i]
			n++
		}
	}
	o.uids, o.hashes = o.uids[:n], o.hashes[:n]
}

// Coverage is the verdict of the properties at one point.
type Coverage struct {
	Complete bool
	Disjoint bool
	// Gap holds the indices (into UIDs) of objects no serving pod keeps;
	// it is empty while the desired replica count is 0, when completeness
	// is not required. Overlap holds the objects kept more than once.
	Gap, Overlap []int
	// FastPath is true when the verdict needed no per-object work.
	FastPath bool
}

// Holds reports whether both properties hold.
func (c Coverage) Holds() bool { return c.Complete && c.Disjoint }

// Evaluate checks completeness and disjointness of the objects against the
// configurations of the serving pods. desired is the StatefulSet's
// replica count: with 0 desired replicas completeness is not required.
//
// Cost: when every configuration that keeps anything has the same total n
// and shards 0..n-1 are each served exactly once, jump hash guarantees
// exactly-once coverage and Evaluate does no per-object work. Otherwise it
// makes one pass of jump.Hash over the cached UID hashes per distinct
// total, never one per pod.
func (o *ObjectSet) Evaluate(configs []model.Config, desired int) Coverage {
	// served[t][s] counts the pods serving shard s of total t, capped at 2
	// (two is already an overlap), so that the per-object sums below fit in
	// a uint16 for up to MaxReplicas distinct totals.
	served := map[int][]uint16{}
	for _, c := range configs {
		if c.Total <= 0 || c.Shard < 0 || int(c.Shard) >= c.Total {
			continue // keeps nothing
		}
		m := served[c.Total]
		if m == nil {
			m = make([]uint16, c.Total)
			served[c.Total] = m
		}
		m[c.Shard] = min(m[c.Shard]+1, 2)
	}
	if len(o.uids) == 0 {
		return Coverage{Complete: true, Disjoint: true, FastPath: true}
	}
	if len(served) == 1 {
		for _, m := range served {
			if !slices.ContainsFunc(m, func(k uint16) bool { return k != 1 }) {
				return Coverage{Complete: true, Disjoint: true, FastPath: true}
			}
		}
	}
	totals := make([]int, 0, len(served))
	for t := range served {
		totals = append(totals, t)
	}
	sort.Ints(totals)
	counts := o.scratch()
	for _, t := range totals {
		m := served[t]
		for i, h := range o.hashes {
			counts[i] += m[model.Owner(h, t)]
		}
	}
	c := Coverage{}
	for i, k := range counts {
		switch {
		case k == 0 && desired > 0:
			c.Gap = append(c.Gap, i)
		case k > 1:
			c.Overlap = append(c.Overlap, i)
		}
	}
	c.Complete, c.Disjoint = len(c.Gap) == 0, len(c.Overlap) == 0
	return c
}

func (o *ObjectSet) scratch() []uint16 {
	if cap(o.counts) < len(o.uids) {
		o.counts = make([]uint16, len(o.uids))
	}
	o.counts = o.counts[:len(o.uids)]
	clear(o.counts)
	return o.counts
}
