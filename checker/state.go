package checker

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// state is the abstract state of the cluster: the StatefulSet's labels and
// spec.replicas, and the code of each pod ordinal (see podCode). There is
// no inbox: under the reductions the only items that can wait in an inbox
// are a live pod's GET and LIST, and the code says which are queued; with
// faults also a relist (a relist code) and the watch events of a pod
// whose selector does not match every label class (its podExt).
//
// Without those additions a state is stored as a 64-bit key: bits 0-3 hold
// replicas, bits 4-5 the label class, then each ordinal's code in w bits
// (w = 7 for the label selector, 5 for the field selector), and bit 63 is
// always set so that no key is zero (the visited set's empty slot). With
// them the key is a mixed-radix number (see layout), bit 63 set as well.
type state struct {
	l LabelClass
	r uint8
	c [MaxReplicas]podCode
	x [MaxReplicas]podExt

	// With cacheLag (System.lagged): the lag in writes (0 or 1), the
	// StatefulSet one write ago (0 before the first write, else
	// 1+L*(M+1)+R) and whether the history was compacted since the
	// latest write.
	lag, prev uint8
	k         bool
}

// podExt is what a watching pod whose selector does not match every label
// class carries under compact and disconnect: the watch events it has
// been sent and not yet delivered. Delivering a prefix of them puts its
// informer at a position (a resourceVersion) with some configuration; a
// disconnect there re-watches from that position, which after a
// compaction is answered with 410 Gone and a relist that keeps that
// configuration unless the StatefulSet then passes the selector. The code
// is the pod with every event delivered (the latest position); a and b
// are the configuration indexes (bit k: index k, see cfgIndex) of the
// earlier positions whose resourceVersion is compacted (a) or not yet
// (b); xz says of the latest position: 0 it is the latest write, 1 writes
// it did not see came since (the selector filtered them), 2 those writes
// and then a compaction came since.
type podExt struct {
	a, b uint16
	xz   uint8
}

// pending reports whether events are queued.
func (x podExt) pending() bool { return x.a|x.b != 0 }

const keyMarker = uint64(1) << 63

func (s *System) encode(st *state) uint64 {
	if s.layout != nil {
		return s.layout.encode(s, st)
	}
	w := s.width
	k := keyMarker | uint64(st.r) | uint64(st.l)<<4
	for o := range s.m {
		k |= uint64(st.c[o]) << (6 + w*o)
	}
	return k
}

func (s *System) decode(k uint64, st *state) {
	if s.layout != nil {
		s.layout.decode(s, k, st)
		return
	}
	w := s.width
	mask := uint64(1)<<w - 1
	st.r = uint8(k & 15)
	st.l = LabelClass(k >> 4 & 3)
	for o := range s.m {
		st.c[o] = podCode(k >> (6 + w*o) & mask)
	}
	for o := s.m; o < MaxReplicas; o++ {
		st.c[o] = codeAbsent
	}
}

// layout is the mixed-radix key of a System whose faults add to the
// state: replicas, label class, the cacheLag fields, then per ordinal a
// value that numbers its code and, for a code with fallback sets, the
// sets restricted to the configurations a position of that ordinal can
// have, and xz.
type layout struct {
	dom   [MaxReplicas][]uint8  // [o]: the configuration indexes a position of ordinal o can have
	off   [MaxReplicas][]uint64 // [o][code]: its first value; [o][ncodes]: the number of values
	nprev uint64
}

// keySpace returns the number of distinct keys of the layout for m pods
// (false when it does not fit in 63 bits), and the domain of each ordinal.
func (s *System) keySpace(m int) (uint64, [MaxReplicas][]uint8, bool) {
	var dom [MaxReplicas][]uint8
	cfgN := m + 2
	relBase := 2 + s.nsel + s.nsel*2*cfgN
	ncodes := relBase
	if s.relists {
		ncodes += s.nsel * cfgN
	}
	nonUniversal := 0
	for _, u := range s.universal {
		if !u {
			nonUniversal++
		}
	}
	total := uint64(m+1) * uint64(numLabels)
	if s.lagged {
		total *= 4 * (1 + uint64(numLabels)*uint64(m+1))
	}
	for o := range m {
		for k := range cfgN {
			// Without a lagging cache a live pod o has only seen
			// StatefulSets with more than o replicas; index 1 of pod 0
			// (0/0 as shard 0 of 0) is index 0.
			if (k == 0 || s.lagged || k-1 > o) && !(o == 0 && k == 1) {
				dom[o] = append(dom[o], uint8(k))
			}
		}
		count := uint64(ncodes)
		if s.extras {
			withExt := uint64(nonUniversal * 2 * cfgN)
			count += withExt * (3<<(2*len(dom[o])) - 1)
		}
		hi, lo := bits.Mul64(total, count)
		if hi != 0 || lo >= keyMarker {
			return 0, dom, false
		}
		total = lo
	}
	return total, dom, true
}

func (s *System) buildLayout() error {
	lay := &layout{}
	if _, dom, ok := s.keySpace(s.m); ok {
		lay.dom = dom
	} else {
		most := 0
		for m := 1; m < s.m; m++ {
			if _, _, ok := s.keySpace(m); ok {
				most = m
			}
		}
		var what []string
		if s.extras {
			what = append(what, "each pod's queued watch events and the configurations they lead through")
		}
		if s.lagged {
			what = append(what, "the StatefulSet one write ago")
		}
		return fmt.Errorf("reducer %s with faults %s: the state of %d pods (with %s) does not fit in a 64-bit key: at most %d replicas", s.reducer.Name(), s.faults, s.m, strings.Join(what, " and "), most)
	}
	if s.lagged {
		lay.nprev = 1 + uint64(numLabels)*uint64(s.m+1)
	}
	for o := range s.m {
		ext := uint64(3) << (2 * len(lay.dom[o]))
		off := make([]uint64, s.ncodes+1)
		for c := range podCode(s.ncodes) {
			n := uint64(1)
			if s.hasExt(c) {
				n = ext
			}
			off[c+1] = off[c] + n
		}
		lay.off[o] = off
	}
	s.layout = lay
	return nil
}

func (lay *layout) encode(s *System, st *state) uint64 {
	var v uint64
	for o := s.m - 1; o >= 0; o-- {
		c := st.c[o]
		pv := lay.off[o][c]
		if s.hasExt(c) {
			d := len(lay.dom[o])
			x := st.x[o]
			pv += (lay.pack(o, x.a)<<d|lay.pack(o, x.b))*3 + uint64(x.xz)
		} else if st.x[o] != (podExt{}) {
			panic(fmt.Sprintf("checker: pod %d in code %d carries fallback sets %+v", o, c, st.x[o]))
		}
		v = v*lay.off[o][s.ncodes] + pv
	}
	if s.lagged {
		v = v*lay.nprev + uint64(st.prev)
		v = v*2 + uint64(st.lag)
		v *= 2
		if st.k {
			v++
		}
	}
	v = v*uint64(numLabels) + uint64(st.l)
	v = v*uint64(s.m+1) + uint64(st.r)
	return keyMarker | v
}

func (lay *layout) decode(s *System, key uint64, st *state) {
	v := key &^ keyMarker
	m1 := uint64(s.m + 1)
	*st = state{r: uint8(v % m1)}
	v /= m1
	st.l = LabelClass(v % uint64(numLabels))
	v /= uint64(numLabels)
	if s.lagged {
		st.k = v%2 == 1
		v /= 2
		st.lag = uint8(v % 2)
		v /= 2
		st.prev = uint8(v % lay.nprev)
		v /= lay.nprev
	}
	for o := range s.m {
		off := lay.off[o]
		n := off[s.ncodes]
		pv := v % n
		v /= n
		c := sort.Search(s.ncodes, func(i int) bool { return off[i+1] > pv })
		st.c[o] = podCode(c)
		if rest := pv - off[c]; rest > 0 {
			d := len(lay.dom[o])
			st.x[o].xz = uint8(rest % 3)
			rest /= 3
			st.x[o].b = lay.unpack(o, rest&(1<<d-1))
			st.x[o].a = lay.unpack(o, rest>>d)
		}
	}
}

// pack maps a set of configuration indexes of ordinal o to bits of its
// domain.
func (lay *layout) pack(o int, set uint16) uint64 {
	var out uint64
	for i, k := range lay.dom[o] {
		if set&(1<<k) != 0 {
			out |= 1 << i
			set &^= 1 << k
		}
	}
	if set != 0 {
		panic(fmt.Sprintf("checker: pod %d has a position with configuration index outside %v: %b", o, lay.dom[o], set))
	}
	return out
}

func (lay *layout) unpack(o int, bits uint64) uint16 {
	var set uint16
	for i, k := range lay.dom[o] {
		if bits&(1<<i) != 0 {
			set |= 1 << k
		}
	}
	return set
}

// Transitions, as a byte: a relabel to label class l (tRelabel+l), a scale
// to n replicas (tScale+n), a restart of pod o (tRestart+o), a delivery to
// pod o (tDeliver+o: its next queued start item, its relist, or its
// queued watch events), a compaction (tCompact), a cache lag of n writes
// (tCacheLag+n), a disconnect of pod o (tDisconnect+o*disconnectStride+f:
// f = 0 when it changes nothing the checker keeps, else 1 plus the
// configuration index of the compacted position the pod relists from).
// tInitial marks an initial state.
const (
	tRelabel         = 0
	tScale           = 4
	tRestart         = 16
	tDeliver         = 24
	tCompact         = 32
	tCacheLag        = 33
	tDisconnect      = 40
	disconnectStride = MaxReplicas + 3
	tInitial         = 255
)

func isOp(t uint8) bool { return t < tDeliver || t >= tCompact && t != tInitial }

// initial returns the settled cluster with n replicas: labels original,
// pods 0..n-1 started (GET, then LIST, with nothing in between) and
// configured n/ordinal, as sim.New leaves it.
func (s *System) initial(n int) state {
	st := state{l: Original, r: uint8(n)}
	for o := range n {
		c := s.deliverTo(o, codeStarting, Original, n)
		st.c[o] = s.deliverTo(o, c, Original, n)
	}
	return st
}

// apply performs transition t on st. With eager set, queued start items
// whose delivery commutes with every op are then delivered at once (the
// third reduction, see README).
func (s *System) apply(st *state, t uint8, eager bool) {
	l, n := st.l, int(st.r)
	switch {
	case t < tScale: // relabel: the write's watch events are delivered at once
		s.write(st, LabelClass(t-tRelabel), n)
	case t < tRestart: // scale: write, then the StatefulSet controller
		n2 := int(t - tScale)
		s.write(st, l, n2)
		for o := range s.m {
			switch {
			case o >= n2:
				st.c[o], st.x[o] = codeAbsent, podExt{} // its stop is queued: it serves nothing from its stop on
			case st.c[o] == codeAbsent:
				st.c[o] = codeStarting
			}
		}
	case t < tDeliver: // restart: the old incarnation's stop, the new one's start
		st.c[t-tRestart], st.x[t-tRestart] = codeStarting, podExt{}
	case t < tCompact:
		s.deliver(st, int(t-tDeliver))
	case t == tCompact:
		s.compact(st)
	case t < tDisconnect:
		if s.lagged {
			st.lag = t - tCacheLag
		}
	default:
		o, f := int(t-tDisconnect)/disconnectStride, int(t-tDisconnect)%disconnectStride
		if f > 0 { // its events up to a compacted position delivered, then 410 Gone on the re-watch
			st.c[o], st.x[o] = s.relistCode(s.sel(st.c[o]), f-1), podExt{}
		}
	}
	if eager {
		s.settleEager(st)
	}
}

// write is a write of the StatefulSet to (l2, n2): every watching pod's
// watch event, delivered at once, or, for a pod with fallback sets, queued
// as a new position.
func (s *System) write(st *state, l2 LabelClass, n2 int) {
	l, n := st.l, int(st.r)
	w := s.writeIndex(l, n, l2, n2)
	for o := range s.m {
		c := st.c[o]
		if !s.isWatching(c) {
			continue
		}
		e := s.ev[s.evIndex(s.sel(c), w)]
		if !s.hasExt(c) {
			st.c[o] = s.step[o][int(c)*s.nev+int(e)]
			continue
		}
		x := &st.x[o]
		switch {
		case e == evNone:
			x.xz = max(x.xz, 1)
		case x.xz == 2:
			x.a |= 1 << s.cfgIndex(c)
		default:
			x.b |= 1 << s.cfgIndex(c)
		}
		if e != evNone {
			st.c[o] = s.step[o][int(c)*s.nev+int(e)]
			x.xz = 0
		}
	}
	if s.lagged {
		st.prev = uint8(1 + int(l)*(s.m+1) + n)
		st.k = false
	}
	st.l, st.r = l2, uint8(n2)
}

// compact is the compact op: every position older than the latest write
// is compacted.
func (s *System) compact(st *state) {
	for o := range s.m {
		if s.hasExt(st.c[o]) {
			x := &st.x[o]
			x.a, x.b = x.a|x.b, 0
			if x.xz == 1 {
				x.xz = 2
			}
		}
	}
	st.k = s.lagged
}

// fallbacks returns the configuration indexes (as a bit set) a disconnect
// of pod o can leave it to relist with: those of its compacted positions.
func (s *System) fallbacks(st *state, o int) uint16 {
	c := st.c[o]
	if !s.hasExt(c) {
		return 0
	}
	f := st.x[o].a
	if st.x[o].xz == 2 {
		f |= 1 << s.cfgIndex(c)
	}
	return f
}

// pendingPod reports whether pod o has something to deliver.
func (s *System) pendingPod(st *state, o int) bool {
	c := st.c[o]
	return s.isPending(c) || s.isRelist(c) || st.x[o].pending()
}

// deliver is a delivery to pod o: its GET or LIST, its relist, or all its
// queued watch events.
func (s *System) deliver(st *state, o int) {
	c := st.c[o]
	l, n := st.l, int(st.r)
	switch {
	case c == codeStarting:
		st.c[o] = s.got[o][l]
	case s.isDetected(c):
		s.listPod(st, o)
	case s.isRelist(c):
		st.c[o] = s.relist[o][((s.sel(c)*s.cfgN+s.cfgIndex(c))*int(numLabels)+int(l))*(s.m+1)+n]
		st.x[o] = podExt{}
	default:
		st.x[o].a, st.x[o].b = 0, 0
	}
}

// listPod is pod o's informer LIST. A lagging watch cache answers it with
// the StatefulSet one write ago; the watch from there replays the latest
// write, or, when it was compacted, gets 410 Gone and the pod relists.
// Through a selector that matches every label class each of these ends
// at the current StatefulSet, as an up-to-date LIST does.
func (s *System) listPod(st *state, o int) {
	c := st.c[o]
	l, n := st.l, int(st.r)
	if !s.lagged || st.lag == 0 || st.prev == 0 || s.universal[s.sel(c)] {
		st.c[o] = s.deliverTo(o, c, l, n)
		return
	}
	pl, pn := LabelClass(int(st.prev-1)/(s.m+1)), int(st.prev-1)%(s.m+1)
	at := s.deliverTo(o, c, pl, pn)
	if st.k {
		st.c[o] = s.relistCode(s.sel(at), s.cfgIndex(at))
		return
	}
	e := s.ev[s.evIndex(s.sel(at), s.writeIndex(pl, pn, l, n))]
	st.c[o] = s.step[o][int(at)*s.nev+int(e)]
	if s.hasExt(at) {
		if e == evNone {
			st.x[o] = podExt{xz: 1}
		} else {
			st.x[o] = podExt{b: 1 << s.cfgIndex(at)}
		}
	}
}

// settleEager delivers every queued start item that commutes with all ops.
func (s *System) settleEager(st *state) {
	for o := range s.m {
		for s.eager[o][st.c[o]] {
			s.deliver(st, o)
		}
	}
}

// quiescent reports whether nothing is queued.
func (s *System) quiescent(st *state) bool {
	for o := range s.m {
		if s.pendingPod(st, o) {
			return false
		}
	}
	return true
}

// evaluate checks the properties at st, which must be quiescent.
func (s *System) evaluate(st *state) Verdict {
	var cfgs [MaxReplicas]model.Config
	n := 0
	for o := range s.m {
		if s.isWatching(st.c[o]) {
			cfgs[n] = s.config(o, st.c[o])
			n++
		}
	}
	return s.classes.Evaluate(cfgs[:n], int(st.r))
}

// Configuration is what a quiescent point looks like from outside: the
// StatefulSet's labels and spec.replicas and the configuration of every
// serving pod, by ordinal (the form of sim.Checkpoint.Pods).
type Configuration struct {
	Labels   LabelClass
	Replicas int
	Pods     []sim.PodConfig
}

// String renders the configuration canonically, e.g.
// "labels=original replicas=2 pods=0:0/2,1:1/2".
func (c Configuration) String() string {
	parts := make([]string, len(c.Pods))
	for i, p := range c.Pods {
		parts[i] = fmt.Sprintf("%d:%d/%d", p.Pod, p.Shard, p.Total)
	}
	return fmt.Sprintf("labels=%s replicas=%d pods=%s", c.Labels, c.Replicas, strings.Join(parts, ","))
}

// configuration returns the configuration of a quiescent state.
func (s *System) configuration(st *state) Configuration {
	c := Configuration{Labels: st.l, Replicas: int(st.r)}
	for o := range s.m {
		if st.c[o] != codeAbsent {
			cfg := s.config(o, st.c[o])
			c.Pods = append(c.Pods, sim.PodConfig{Pod: o, Shard: cfg.Shard, Total: cfg.Total})
		}
	}
	return c
}

// describeState renders the pods of st, e.g. "0:0/2 1:GET queued"; a pod
// with watch events queued shows the configuration they lead to.
func (s *System) describeState(st *state) string {
	var parts []string
	for o := range s.m {
		d := s.describeCode(o, st.c[o])
		if st.x[o].pending() {
			d = fmt.Sprintf("%d:events queued (then %s)", o, s.config(o, st.c[o]))
		}
		if d != "" {
			parts = append(parts, d)
		}
	}
	if len(parts) == 0 {
		return "no pods"
	}
	return strings.Join(parts, " ")
}
