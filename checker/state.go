package checker

import (
	"fmt"
	"strings"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// state is the abstract state of the cluster: the StatefulSet's labels and
// spec.replicas, and the code of each pod ordinal (see podCode). There is
// no inbox: under the reductions the only items that can wait in an inbox
// are a live pod's GET and LIST, and the code says which are queued.
//
// A state is stored as a 64-bit key: bits 0-3 hold replicas, bits 4-5 the
// label class, then each ordinal's code in w bits (w = 7 for the label
// selector, 5 for the field selector), and bit 63 is always set so that no
// key is zero (the visited set's empty slot).
type state struct {
	l LabelClass
	r uint8
	c [MaxReplicas]podCode
}

const keyMarker = uint64(1) << 63

func (s *System) encode(st *state) uint64 {
	w := s.width
	k := keyMarker | uint64(st.r) | uint64(st.l)<<4
	for o := range s.m {
		k |= uint64(st.c[o]) << (6 + w*o)
	}
	return k
}

func (s *System) decode(k uint64, st *state) {
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

// Transitions, as a byte: a relabel to label class l (tRelabel+l), a scale
// to n replicas (tScale+n), a restart of pod o (tRestart+o), a delivery of
// the next queued start item of pod o (tDeliver+o). tInitial marks an
// initial state.
const (
	tRelabel = 0
	tScale   = 4
	tRestart = 16
	tDeliver = 24
	tInitial = 255
)

func isOp(t uint8) bool { return t < tDeliver }

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
		l2 := LabelClass(t - tRelabel)
		for o := range s.m {
			st.c[o] = s.onWrite(o, st.c[o], l, n, l2, n)
		}
		st.l = l2
	case t < tRestart: // scale: write, then the StatefulSet controller
		n2 := int(t - tScale)
		for o := range s.m {
			st.c[o] = s.onWrite(o, st.c[o], l, n, l, n2)
			switch {
			case o >= n2:
				st.c[o] = codeAbsent // its stop is queued: it serves nothing from its stop on
			case st.c[o] == codeAbsent:
				st.c[o] = codeStarting
			}
		}
		st.r = uint8(n2)
	case t < tDeliver: // restart: the old incarnation's stop, the new one's start
		st.c[t-tRestart] = codeStarting
	default:
		o := int(t - tDeliver)
		st.c[o] = s.deliverTo(o, st.c[o], l, n)
	}
	if eager {
		s.settleEager(st)
	}
}

// settleEager delivers every queued start item that commutes with all ops.
func (s *System) settleEager(st *state) {
	for o := range s.m {
		for s.eager[o][st.c[o]] {
			st.c[o] = s.deliverTo(o, st.c[o], st.l, int(st.r))
		}
	}
}

// quiescent reports whether no start item is queued.
func (s *System) quiescent(st *state) bool {
	for o := range s.m {
		if s.isPending(st.c[o]) {
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

// describeState renders the pods of st, e.g. "0:0/2 1:GET queued".
func (s *System) describeState(st *state) string {
	var parts []string
	for o := range s.m {
		if d := s.describeCode(o, st.c[o]); d != "" {
			parts = append(parts, d)
		}
	}
	if len(parts) == 0 {
		return "no pods"
	}
	return strings.Join(parts, " ")
}
