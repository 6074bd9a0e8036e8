package checker

// The visited set: nParts open-addressing hash tables of 64-bit keys with
// linear probing, one per partition of the key space (the top bits of the
// key's hash). Partitions let workers insert in parallel without locks,
// each owning whole partitions, and grow one at a time, which keeps the
// peak memory of a resize small. Zero marks an empty slot; every state key
// has its top bit set.

const (
	partBits = 6
	nParts   = 1 << partBits
)

// mix is the splitmix64 finalizer: a bijection that spreads the few bits
// a state key changes from one state to the next over all 64.
func mix(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	k ^= k >> 31
	return k
}

func partOf(h uint64) int { return int(h >> (64 - partBits)) }

type table struct {
	slots []uint64
	n     int
}

// insert adds key (whose hash is h) and reports whether it was absent.
func (t *table) insert(key, h uint64) bool {
	if (t.n+1)*4 > len(t.slots)*3 { // keep the load at most 3/4
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.slots[i] {
		case 0:
			t.slots[i] = key
			t.n++
			return true
		case key:
			return false
		}
	}
}

// has reports whether key (whose hash is h) is in the table.
func (t *table) has(key, h uint64) bool {
	if len(t.slots) == 0 {
		return false
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.slots[i] {
		case 0:
			return false
		case key:
			return true
		}
	}
}

func (t *table) grow() {
	size := max(2*len(t.slots), 1024)
	old := t.slots
	t.slots = make([]uint64, size)
	mask := uint64(size - 1)
	for _, k := range old {
		if k == 0 {
			continue
		}
		i := mix(k) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = k
	}
}

// visited is the partitioned set.
type visited [nParts]table

// bytes returns the memory the slots take.
func (v *visited) bytes() uint64 {
	var b uint64
	for i := range v {
		b += uint64(len(v[i].slots)) * 8
	}
	return b
}
