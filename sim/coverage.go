package sim

import (
	"slices"

	"github.com/shardsim/shardsim/model"
)

// ObjectSet holds the live sharded objects, sorted by UID, with each UID's
// FNV-1a hash computed once when the object is created.
type ObjectSet struct {
	uids   []string
	hashes []uint64

	// owners[t] is every object's owner among t shards, kept from one
	// Evaluate to the next (totals repeat from step to step) and moved
	// with the entries when the set changes (only new entries are
	// hashed). At most maxCachedTotals are kept.
	owners map[int][]int32
	spare  [][]int32 // owner arrays of a dropped cache, for reuse
	gen    uint64    // counts the changes of the set

	// sizes[t][s] is how many live objects shard s of t owns, for the
	// totals ShardSizes was asked (at most maxSizedTotals), kept up to
	// date by Add and Delete from the hashes of the objects they move.
	sizes map[int][]int

	// Scratch for Evaluate, reused from one call to the next.
	counts []uint16   // per object: the pods keeping it, capped
	totals []int      // distinct totals, ascending
	served []uint16   // backing array of tables
	tables [][]uint16 // per total: the pods serving each shard, capped
}

// maxCachedTotals bounds the owner arrays an ObjectSet keeps: pods
// disagree on two or three totals at a time, rarely more. Every cached
// array moves with each create and delete, so more is not free.
const maxCachedTotals = 8

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

// Add inserts new UIDs, hashing each once. It costs O(k log n) string
// comparisons and one move of the existing entries, not a merge.
func (o *ObjectSet) Add(uids []string) {
	if len(uids) == 0 {
		return
	}
	o.gen++
	add := slices.Clone(uids)
	slices.Sort(add)
	n, k := len(o.uids), len(add)
	o.uids = slices.Grow(o.uids, k)[:n+k]
	o.hashes = slices.Grow(o.hashes, k)[:n+k]
	for t, own := range o.owners {
		o.owners[t] = slices.Grow(own, k)[:n+k]
	}
	// Fill from the back: add[j] goes before the existing entries not
	// less than it, which then move up by j+1. The cached owners move
	// with them; only the new entries are hashed.
	hi := n
	for j := k - 1; j >= 0; j-- {
		pos, _ := slices.BinarySearch(o.uids[:hi], add[j])
		copy(o.uids[pos+j+1:hi+j+1], o.uids[pos:hi])
		copy(o.hashes[pos+j+1:hi+j+1], o.hashes[pos:hi])
		h := model.HashUID(add[j])
		o.uids[pos+j], o.hashes[pos+j] = add[j], h
		for t, sz := range o.sizes {
			sz[model.Owner(h, t)]++
		}
		for t, own := range o.owners {
			copy(own[pos+j+1:hi+j+1], own[pos:hi])
			own[pos+j] = model.Owner(h, t)
		}
		hi = pos
	}
}

// Delete removes UIDs; unknown UIDs are ignored. It costs O(k log n)
// string comparisons and one move of the remaining entries.
func (o *ObjectSet) Delete(uids []string) {
	idx := make([]int, 0, len(uids))
	for _, u := range uids {
		i, ok := slices.BinarySearch(o.uids, u)
		for ; ok && i < len(o.uids) && o.uids[i] == u; i++ {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return
	}
	o.gen++
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		for t, sz := range o.sizes {
			sz[model.Owner(o.hashes[i], t)]--
		}
	}
	w := idx[0] // entries before the first removed one stay put
	for j, i := range idx {
		next := len(o.uids)
		if j+1 < len(idx) {
			next = idx[j+1]
		}
		copy(o.uids[w:], o.uids[i+1:next])
		copy(o.hashes[w:], o.hashes[i+1:next])
		for _, own := range o.owners {
			copy(own[w:], own[i+1:next])
		}
		w += next - i - 1
	}
	clear(o.uids[w:]) // drop the references to the removed strings
	o.uids, o.hashes = o.uids[:w], o.hashes[:w]
	for t, own := range o.owners {
		o.owners[t] = own[:w]
	}
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
// makes one pass over the objects per distinct total, never one per pod:
// a pass of jump.Hash over the cached UID hashes the first time a total is
// seen since the set last changed, a table lookup after that.
func (o *ObjectSet) Evaluate(configs []model.Config, desired int) Coverage {
	return o.EvaluateStores(configs, nil, nil, desired)
}

// maxSizedTotals bounds the totals ShardSizes keeps: each costs a jump
// hash per object created or deleted.
const maxSizedTotals = 64

// ShardSizes returns how many live objects each shard of t (t >= 1) owns.
// The slice must not be modified; it is valid until the set changes. A
// total asked before costs nothing: the counts move with every create and
// delete.
func (o *ObjectSet) ShardSizes(t int) []int {
	if sz, ok := o.sizes[t]; ok {
		return sz
	}
	if len(o.sizes) >= maxSizedTotals || o.sizes == nil {
		o.sizes = make(map[int][]int)
	}
	sz := make([]int, t)
	if own, ok := o.owners[t]; ok {
		for _, w := range own[:len(o.uids)] {
			sz[w]++
		}
	} else {
		for _, h := range o.hashes {
			sz[model.Owner(h, t)]++
		}
	}
	o.sizes[t] = sz
	return sz
}

// Owners returns every live object's owner among t shards (t >= 1), in
// UID order, from the cache Evaluate keeps. The slice must not be
// modified; it is valid until the set changes.
func (o *ObjectSet) Owners(t int) []int32 {
	if own, ok := o.owners[t]; ok {
		return own[:len(o.uids)]
	}
	own := o.newOwners(t)
	for i, h := range o.hashes {
		own[i] = model.Owner(h, t)
	}
	return own
}

// recount adds the stores to counts, then recounts exactly the objects a
// behind pod misses: each such UID is counted once per configuration
// keeping it (configs includes the behind pods'), once per store holding
// it, minus once per behind list naming it. Stores and behind lists are
// sorted; UIDs that are not live are ignored.
func (o *ObjectSet) recount(counts []uint16, configs []model.Config, stores, behind [][]string) {
	for _, st := range stores {
		for _, u := range st {
			if i, ok := slices.BinarySearch(o.uids, u); ok {
				counts[i] = min(counts[i]+1, 2)
			}
		}
	}
	for _, b := range behind {
		for _, u := range b {
			i, ok := slices.BinarySearch(o.uids, u)
			if !ok {
				continue
			}
			n := 0
			for _, c := range configs {
				if keepsSome(c) && model.Owner(o.hashes[i], c.Total) == c.Shard {
					n++
				}
			}
			for _, st := range stores {
				if _, in := slices.BinarySearch(st, u); in {
					n++
				}
			}
			for _, other := range behind {
				if _, in := slices.BinarySearch(other, u); in {
					n--
				}
			}
			counts[i] = uint16(min(max(n, 0), 2))
		}
	}
}

// EvaluateStores is Evaluate over three kinds of pods: those judged by
// their configuration (configs); those judged by the UIDs their stores
// hold (stores, each sorted; UIDs that are not live are ignored); and
// pods that are behind: judged by their configuration (in configs) except
// for the live objects they keep and have not been told of yet (behind,
// one sorted list per such pod). Each store and behind UID costs binary
// searches; with neither it is Evaluate.
func (o *ObjectSet) EvaluateStores(configs []model.Config, stores, behind [][]string, desired int) Coverage {
	// The distinct totals among the configurations that keep anything,
	// ascending, and served[t][s]: the pods serving shard s of totals[t],
	// capped at 2 (two is already an overlap), so that the per-object sums
	// below fit in a uint16 for up to MaxReplicas distinct totals.
	totals := o.totals[:0]
	size := 0
	for _, c := range configs {
		if !keepsSome(c) {
			continue
		}
		if i, found := slices.BinarySearch(totals, c.Total); !found {
			totals = slices.Insert(totals, i, c.Total)
			size += c.Total
		}
	}
	o.totals = totals
	if cap(o.served) < size {
		o.served = make([]uint16, size)
	}
	arena := o.served[:size]
	clear(arena)
	served := o.tables[:0]
	for _, t := range totals {
		served, arena = append(served, arena[:t:t]), arena[t:]
	}
	o.tables = served
	for _, c := range configs {
		if !keepsSome(c) {
			continue
		}
		i, _ := slices.BinarySearch(totals, c.Total)
		m := served[i]
		m[c.Shard] = min(m[c.Shard]+1, 2)
	}
	if len(o.uids) == 0 {
		return Coverage{Complete: true, Disjoint: true, FastPath: true}
	}
	if len(stores) == 0 && len(behind) == 0 && len(totals) == 1 && !slices.ContainsFunc(served[0], func(k uint16) bool { return k != 1 }) {
		return Coverage{Complete: true, Disjoint: true, FastPath: true}
	}

	// One pass per distinct total: jump hash over the cached hashes
	// (recording the owners), or the owners recorded before.
	counts := o.scratch()
	hashes := o.hashes[:len(counts)]
	for ti, t := range totals {
		m := served[ti]
		if own, ok := o.owners[t]; ok {
			own = own[:len(counts)]
			for i, w := range own {
				counts[i] += m[w]
			}
			continue
		}
		own := o.newOwners(t)
		for i, h := range hashes {
			w := model.Owner(h, t)
			own[i] = w
			counts[i] += m[w]
		}
	}
	o.recount(counts, configs, stores, behind)

	// Size Gap and Overlap exactly before filling them.
	gaps, overlaps := 0, 0
	for _, k := range counts {
		gaps += b2i(k == 0)
		overlaps += b2i(k > 1)
	}
	if desired <= 0 {
		gaps = 0
	}
	c := Coverage{Complete: gaps == 0, Disjoint: overlaps == 0}
	if gaps == 0 && overlaps == 0 {
		return c
	}
	// Branch-free fill: every index is written to both slices, and kept
	// by advancing past it; the spare last element takes the writes that
	// are not kept. Gap and Overlap stay nil when empty.
	gap, overlap := make([]int, gaps+1), make([]int, overlaps+1)
	needGap := b2i(gaps > 0) // with 0 desired replicas, k == 0 is no gap
	g, v := 0, 0
	for i, k := range counts {
		gap[g] = i
		g += b2i(k == 0) & needGap
		overlap[v] = i
		v += b2i(k > 1)
	}
	if gaps > 0 {
		c.Gap = gap[:gaps:gaps]
	}
	if overlaps > 0 {
		c.Overlap = overlap[:overlaps:overlaps]
	}
	return c
}

// newOwners returns an owner array for total t, entered in the cache, to
// be filled by the caller.
func (o *ObjectSet) newOwners(t int) []int32 {
	if len(o.owners) >= maxCachedTotals {
		o.dropOwners()
	}
	if o.owners == nil {
		o.owners = make(map[int][]int32, maxCachedTotals)
	}
	var own []int32
	if n := len(o.spare); n > 0 && cap(o.spare[n-1]) >= len(o.hashes) {
		own, o.spare = o.spare[n-1][:len(o.hashes)], o.spare[:n-1]
	} else {
		own = make([]int32, len(o.hashes))
	}
	o.owners[t] = own
	return own
}

// dropOwners empties the owner cache (the set changed), keeping the
// arrays for reuse.
func (o *ObjectSet) dropOwners() {
	for _, own := range o.owners {
		o.spare = append(o.spare, own)
	}
	clear(o.owners)
}

// keepsSome reports whether a pod with configuration c keeps any object.
func keepsSome(c model.Config) bool {
	return c.Total > 0 && c.Shard >= 0 && int(c.Shard) < c.Total
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scratch returns o.counts zeroed, one entry per live object.
func (o *ObjectSet) scratch() []uint16 {
	if cap(o.counts) < len(o.uids) {
		o.counts = make([]uint16, len(o.uids))
	}
	o.counts = o.counts[:len(o.uids)]
	clear(o.counts)
	return o.counts
}
