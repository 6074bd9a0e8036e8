package checker

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Classes are the jump-hash trajectory classes of objects over totals
// 1..M. Jump hash is monotone: going from n to n+1 buckets a key either
// stays in its bucket or moves to the new bucket n. So the owners of an
// object over totals 1..M are fixed by M-1 yes/no choices, and there are
// 2^(M-1) trajectories. Class c has bit n-1 set (1 <= n < M) iff the
// object moves to bucket n going from n to n+1 buckets.
//
// Whether a pod with configuration shard/total keeps an object depends
// only on the object's class (for totals 1..M; total 0 keeps nothing), so
// checking complete and disjoint for every class checks them for every
// possible UID, provided every class has some UID: TestEveryClassHasAUID
// finds one for each class for M <= 8.
type Classes struct {
	m     int
	n     int                                    // 2^(M-1)
	masks [MaxReplicas + 1][MaxReplicas]classSet // [total][shard]: the classes that shard keeps
	all   classSet
}

// classSet is a set of classes, a bitset: 2^(8-1) = 128 classes at most.
type classSet [2]uint64

func (a classSet) or(b classSet) classSet  { return classSet{a[0] | b[0], a[1] | b[1]} }
func (a classSet) and(b classSet) classSet { return classSet{a[0] & b[0], a[1] & b[1]} }
func (a classSet) andNot(b classSet) classSet {
	return classSet{a[0] &^ b[0], a[1] &^ b[1]}
}
func (a classSet) empty() bool { return a[0]|a[1] == 0 }
func (a classSet) len() int    { return bits.OnesCount64(a[0]) + bits.OnesCount64(a[1]) }

// list returns the members, ascending.
func (a classSet) list() []int {
	var out []int
	for w := range a {
		for x := a[w]; x != 0; x &= x - 1 {
			out = append(out, w*64+bits.TrailingZeros64(x))
		}
	}
	return out
}

// NewClasses returns the trajectory classes over totals 1..m.
func NewClasses(m int) *Classes {
	c := &Classes{m: m, n: 1 << (m - 1)}
	for cl := range c.n {
		c.all[cl/64] |= 1 << (cl % 64)
		for total := 1; total <= m; total++ {
			o := c.Owner(cl, total)
			c.masks[total][o][cl/64] |= 1 << (cl % 64)
		}
	}
	return c
}

// Len returns the number of classes, 2^(M-1).
func (c *Classes) Len() int { return c.n }

// Owner returns the shard that owns the objects of class cl among total
// shards (1 <= total <= M): the last bucket the trajectory moved to below
// total, or 0.
func (c *Classes) Owner(cl int, total int) int32 {
	owner := int32(0)
	for n := 1; n < total; n++ {
		if cl&(1<<(n-1)) != 0 {
			owner = int32(n)
		}
	}
	return owner
}

// Of returns the class of the object whose UID hashes to key
// (model.HashUID).
func (c *Classes) Of(key uint64) int {
	cl := 0
	for n := 1; n < c.m; n++ {
		if model.Owner(key, n+1) == int32(n) {
			cl |= 1 << (n - 1)
		}
	}
	return cl
}

// Describe renders a class as its owners for totals 1..M, e.g.
// "owners 0,1,1,3 for 1..4 shards".
func (c *Classes) Describe(cl int) string {
	parts := make([]string, c.m)
	for n := 1; n <= c.m; n++ {
		parts[n-1] = strconv.Itoa(int(c.Owner(cl, n)))
	}
	return fmt.Sprintf("owner %s for 1..%d shards", strings.Join(parts, ","), c.m)
}

// keeps returns the classes a pod with configuration cfg keeps.
func (c *Classes) keeps(cfg model.Config) classSet {
	if cfg.Total <= 0 || cfg.Total > c.m || cfg.Shard < 0 || int(cfg.Shard) >= cfg.Total {
		return classSet{}
	}
	return c.masks[cfg.Total][cfg.Shard]
}

// Verdict is the outcome of the properties at one quiescent point, for
// every trajectory class at once.
type Verdict struct {
	Gap     classSet // classes no serving pod keeps (empty when 0 replicas are desired)
	Overlap classSet // classes kept by two or more pods
}

// Holds reports whether complete and disjoint hold for every class.
func (v Verdict) Holds() bool { return v.Gap.empty() && v.Overlap.empty() }

// GapClasses and OverlapClasses list the violating classes.
func (v Verdict) GapClasses() []int     { return v.Gap.list() }
func (v Verdict) OverlapClasses() []int { return v.Overlap.list() }

// Evaluate checks complete and disjoint for every class against the
// configurations of the serving pods, with desired replicas (0: complete is
// not required). When every pod that keeps anything has the same total n
// and they serve n distinct shards (so shards 0..n-1 each once) jump hash partitions the keys and there is nothing to compute;
// otherwise two words of bit operations per pod cover all classes.
func (c *Classes) Evaluate(configs []model.Config, desired int) Verdict {
	var shards uint32
	keepers, total, agree := 0, -1, true
	for _, cfg := range configs {
		if cfg.Total <= 0 || cfg.Shard < 0 || int(cfg.Shard) >= cfg.Total {
			continue
		}
		keepers++
		agree = agree && (total < 0 || cfg.Total == total) && cfg.Total <= c.m && shards&(1<<cfg.Shard) == 0
		shards |= 1 << cfg.Shard
		total = cfg.Total
	}
	if agree && keepers > 0 && keepers == total {
		return Verdict{}
	}
	var covered, overlap classSet
	for _, cfg := range configs {
		k := c.keeps(cfg)
		overlap = overlap.or(covered.and(k))
		covered = covered.or(k)
	}
	v := Verdict{Overlap: overlap}
	if desired > 0 {
		v.Gap = c.all.andNot(covered)
	}
	return v
}

// FindUID returns a UID of class cl: the first of a deterministic stream
// of version-4 UUIDs (sim.GenerateUIDs with the given seed) whose
// trajectory is cl. The rarest class over 1..M has probability 1/M!, so
// the search takes a few tens of thousands of hashes for M = 8.
func (c *Classes) FindUID(cl int, seed uint64) (string, error) {
	if cl < 0 || cl >= c.n {
		return "", fmt.Errorf("class %d out of range", cl)
	}
	const batch = 4096
	for salt := range 1 << 12 {
		for _, u := range sim.GenerateUIDs(batch, seed, salt) {
			if c.Of(model.HashUID(u)) == cl {
				return u, nil
			}
		}
	}
	return "", fmt.Errorf("no UID of class %d (%s) among %d candidates", cl, c.Describe(cl), batch<<12)
}

// FindAllUIDs returns one UID per class, searching one stream until every
// class has a representative.
func (c *Classes) FindAllUIDs(seed uint64) ([]string, error) {
	out := make([]string, c.n)
	left := c.n
	const batch = 4096
	for salt := 0; left > 0 && salt < 1<<12; salt++ {
		for _, u := range sim.GenerateUIDs(batch, seed, salt) {
			if cl := c.Of(model.HashUID(u)); out[cl] == "" {
				out[cl] = u
				left--
			}
		}
	}
	if left > 0 {
		return out, fmt.Errorf("%d of %d classes have no UID among %d candidates", left, c.n, batch<<12)
	}
	return out, nil
}
