package checker

import (
	"fmt"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// The cluster the checker explores: one StatefulSet in one namespace, as in
// the repository's traces.
const (
	Namespace       = "monitoring"
	StatefulSetName = "kube-state-metrics"
	// MaxReplicas is the largest --max-replicas the checker supports: the
	// abstract state of M pods must fit in one 64-bit key.
	MaxReplicas = 8
)

// A LabelClass is one of the four label maps a relabel can write: the
// original labels (the ones every exploration starts from), a superset of
// them, the original keys with one value changed, and the original labels
// with one key removed. These are the cases that matter to a label
// selector frozen from the original labels: a superset still matches, a
// changed value or a removed key does not (and the selector built from the
// labels with a key removed matches all four).
type LabelClass uint8

// The label classes.
const (
	Original LabelClass = iota
	Superset
	ChangedValue
	RemovedKey
	numLabels
)

var labelSets = [numLabels]map[string]string{
	Original: {"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0"},
	Superset: {"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0",
		"app.kubernetes.io/part-of": "monitoring"},
	ChangedValue: {"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.13.0"},
	RemovedKey:   {"app.kubernetes.io/name": "kube-state-metrics"},
}

var labelNames = [numLabels]string{"original", "superset", "changed value", "removed key"}

// Labels returns a copy of the label map of the class.
func (l LabelClass) Labels() map[string]string { return maps.Clone(labelSets[l]) }

// String names the class: "original", "superset", "changed value",
// "removed key".
func (l LabelClass) String() string {
	if l < numLabels {
		return labelNames[l]
	}
	return "LabelClass(" + strconv.Itoa(int(l)) + ")"
}

// Describe renders the class with the change it makes to the original
// labels, for reports.
func (l LabelClass) Describe() string {
	switch l {
	case Original:
		return "the original labels (app.kubernetes.io/version=2.12.0)"
	case Superset:
		return "a superset (adds app.kubernetes.io/part-of=monitoring)"
	case ChangedValue:
		return "a changed value (app.kubernetes.io/version=2.13.0)"
	case RemovedKey:
		return "a removed key (drops app.kubernetes.io/version)"
	}
	return l.String()
}

// labelClassOf returns the class of a label map, or false when it is none
// of the four.
func labelClassOf(l map[string]string) (LabelClass, bool) {
	for c := range numLabels {
		if maps.Equal(l, labelSets[c]) {
			return c, true
		}
	}
	return 0, false
}

// podName is the name of the pod with the given ordinal.
func podName(ordinal int) string { return StatefulSetName + "-" + strconv.Itoa(ordinal) }

// statefulSet builds the StatefulSet as the API server holds it with labels
// l, replicas n and resourceVersion rv.
func statefulSet(l LabelClass, n int, rv string) *appsv1.StatefulSet {
	r := int32(n)
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: StatefulSetName, Namespace: Namespace, ResourceVersion: rv, Labels: l.Labels()},
		Spec:       appsv1.StatefulSetSpec{Replicas: &r},
	}
}

// newAPIServer returns the simulator's API server holding the StatefulSet
// with labels l and replicas n.
func newAPIServer(l LabelClass, n int) *sim.APIServer {
	r := int32(n)
	return sim.NewAPIServer(Namespace, sim.StatefulSet{Name: StatefulSetName, Labels: l.Labels(), Replicas: &r})
}

// The abstract state of one pod ordinal is a small integer, a podCode:
//
//	0                      absent: no live incarnation (never created, or its stop is queued)
//	1                      starting: its GET and its LIST are queued
//	2+s                    detected with selector class s: its LIST is queued
//	2+S+(s*2+c)*(M+2)+k    watching with selector class s, the StatefulSet in
//	                       the informer cache (c=1) or not (c=0), and
//	                       configuration k: 0 is 0/0, 1+n is ordinal/n
//
// where S is the number of selector classes (distinct informer list
// options the reducer builds from the four label classes: 1 for the field
// selector, 4 for the label selector). Everything else a model.PodState
// holds is either fixed (the name, the StatefulSet name) or provably
// irrelevant (the cached object's content: Step reads only its
// resourceVersion, which is always older than a watch event's).
type podCode = uint8

const (
	codeAbsent   podCode = 0
	codeStarting podCode = 1
)

// Abstract watch events, as a pod with an open watch receives them: none,
// DELETED, ADDED with n replicas (2+n), MODIFIED with n replicas
// (2+(M+1)+n).
const (
	evNone    = 0
	evDeleted = 1
)

// System is the abstract transition system of one reducer with at most M
// pods and a set of fault ops, as tables. Every table is filled by running the simulator's and
// the model's own code on concrete objects (model.Step, sim.WatchEvent,
// sim.APIServer, model.ParseSelector) and abstracting the result; the
// tests check, over all abstract inputs, that the abstraction commutes
// with those functions.
type System struct {
	reducer model.Reducer
	m       int
	faults  Faults

	nsel      int
	selOf     [numLabels]uint8     // label class -> selector class of a pod that read it at start
	opts      []metav1.ListOptions // selector class -> informer list options
	sels      []model.Selector     // selector class -> the API server's parsed selector
	universal []bool               // selector class -> it matches every label class

	// What the faults add to the state (see faults in doc.go); all false
	// without faults, and for a reducer whose every selector is universal.
	extras  bool // per-pod fallback sets: compact and disconnect
	relists bool // relist codes: compact with disconnect or cacheLag
	lagged  bool // the cache lag and the StatefulSet one write ago: cacheLag
	relBase int  // the first relist code

	cfgN   int // configurations per (selector, cached): 0/0 and ordinal/0..M
	ncodes int
	width  int // bits per pod code in a state key
	nev    int

	got    [MaxReplicas][numLabels]podCode // [o][L]: starting -> after the GET
	list   [MaxReplicas][]podCode          // [o][(s*numLabels+L)*(M+1)+R]: detected(s) -> after the LIST
	ev     []uint8                         // [s][write]: the event a watch with selector s sees
	step   [MaxReplicas][]podCode          // [o][code*nev+ev]: watching -> after the event
	eager  [MaxReplicas][]bool             // [o][code]: the queued start item commutes with every op
	relist [MaxReplicas][]podCode          // [o][((s*cfgN+k)*numLabels+L)*(M+1)+R]: relist code (s, k) -> after the relist

	layout *layout // mixed-radix keys, when the faults add to the state

	classes *Classes
}

// NewSystem builds the tables of reducer r for at most m pods, without
// faults.
func NewSystem(r model.Reducer, m int) (*System, error) { return NewFaultSystem(r, m, 0) }

// NewFaultSystem builds the tables of reducer r for at most m pods whose
// explorations also take the fault ops f.
func NewFaultSystem(r model.Reducer, m int, f Faults) (*System, error) {
	if m < 1 || m > MaxReplicas {
		return nil, fmt.Errorf("max replicas must be between 1 and %d, got %d", MaxReplicas, m)
	}
	if f&^allFaults != 0 {
		return nil, fmt.Errorf("unknown faults %#x", uint8(f))
	}
	s := &System{reducer: r, m: m, cfgN: m + 2, faults: f}
	// Selector classes: the distinct list options the reducer builds from
	// the StatefulSet as read at start, one per label class or fewer.
	for l := range numLabels {
		o := r.ListOptions(statefulSet(l, 1, "1"))
		idx := -1
		for i, p := range s.opts {
			if p == o {
				idx = i
			}
		}
		if idx < 0 {
			sel, err := model.ParseSelector(o)
			if err != nil {
				return nil, fmt.Errorf("reducer %s: the API server rejects the informer's selector for labels %s: %w", r.Name(), l, err)
			}
			idx = len(s.opts)
			s.opts = append(s.opts, o)
			s.sels = append(s.sels, sel)
		}
		s.selOf[l] = uint8(idx)
	}
	s.nsel = len(s.opts)
	partial := false
	for _, sel := range s.sels {
		all := true
		for l := range numLabels {
			all = all && sel.Matches(statefulSet(l, 1, "1"))
		}
		s.universal = append(s.universal, all)
		partial = partial || !all
	}
	s.extras = partial && f.Has(Compact|Disconnect)
	s.relists = partial && f.Has(Compact) && (f.Has(Disconnect) || f.Has(CacheLag))
	s.lagged = partial && f.Has(CacheLag)
	s.relBase = 2 + s.nsel + s.nsel*2*s.cfgN
	s.ncodes = s.relBase
	if s.relists {
		s.ncodes += s.nsel * s.cfgN
	}
	s.nev = 2 + 2*(m+1)
	s.width = codeBits(s.ncodes)
	if !s.extras && !s.lagged && 6+m*s.width > 63 {
		return nil, fmt.Errorf("reducer %s: %d pod states do not fit %d pods in a 64-bit key", r.Name(), s.ncodes, m)
	}
	s.classes = NewClasses(m)
	if err := s.build(); err != nil {
		return nil, fmt.Errorf("reducer %s: %w", r.Name(), err)
	}
	if s.extras || s.lagged {
		if err := s.buildLayout(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Faults returns the fault ops the explorations take.
func (s *System) Faults() Faults { return s.faults }

// Reducer returns the reducer whose transitions the tables hold.
func (s *System) Reducer() model.Reducer { return s.reducer }

// MaxReplicas returns the bound on pods the tables were built for.
func (s *System) MaxReplicas() int { return s.m }

// Classes returns the jump-hash trajectory classes over totals 1..M.
func (s *System) Classes() *Classes { return s.classes }

func codeBits(n int) int {
	b := 0
	for (1 << b) < n {
		b++
	}
	return b
}

// Code constructors and accessors.

func (s *System) detected(sel int) podCode { return podCode(2 + sel) }

func (s *System) watching(sel int, cached bool, cfg int) podCode {
	c := 0
	if cached {
		c = 1
	}
	return podCode(2 + s.nsel + (sel*2+c)*s.cfgN + cfg)
}

// relistCode is a pod with selector class sel whose informer's watch
// ended with 410 Gone: its ERROR event or its relist is queued, and it
// holds configuration cfg (see watching) until the relist.
func (s *System) relistCode(sel, cfg int) podCode { return podCode(s.relBase + sel*s.cfgN + cfg) }

func (s *System) isDetected(c podCode) bool { return c >= 2 && int(c) < 2+s.nsel }
func (s *System) isWatching(c podCode) bool { return int(c) >= 2+s.nsel && int(c) < s.relBase }
func (s *System) isRelist(c podCode) bool   { return int(c) >= s.relBase }

// isPending reports whether the code has a start item (GET or LIST)
// queued.
func (s *System) isPending(c podCode) bool { return c == codeStarting || s.isDetected(c) }

// sel returns the selector class of a detected, watching or relist code.
func (s *System) sel(c podCode) int {
	switch {
	case s.isDetected(c):
		return int(c) - 2
	case s.isRelist(c):
		return (int(c) - s.relBase) / s.cfgN
	}
	return (int(c) - 2 - s.nsel) / (2 * s.cfgN)
}

func (s *System) cached(c podCode) bool { return ((int(c)-2-s.nsel)/s.cfgN)%2 == 1 }

// cfgIndex returns the configuration index of a watching or relist code:
// 0 is 0/0, 1+n is ordinal/n.
func (s *System) cfgIndex(c podCode) int {
	if s.isRelist(c) {
		return (int(c) - s.relBase) % s.cfgN
	}
	return (int(c) - 2 - s.nsel) % s.cfgN
}

// config returns the configuration of a watching or relist pod with
// ordinal o.
func (s *System) config(o int, c podCode) model.Config { return s.cfgOf(o, s.cfgIndex(c)) }

// cfgOf returns configuration index k of ordinal o.
func (s *System) cfgOf(o, k int) model.Config {
	if k == 0 {
		return model.Config{}
	}
	return model.Config{Shard: int32(o), Total: k - 1}
}

// hasExt reports whether a pod in code c carries fallback sets (podExt):
// it watches through a selector that does not match every label class, and
// the faults can make it relist.
func (s *System) hasExt(c podCode) bool {
	return s.extras && s.isWatching(c) && !s.universal[s.sel(c)]
}

func (s *System) added(n int) uint8    { return uint8(2 + n) }
func (s *System) modified(n int) uint8 { return uint8(2 + s.m + 1 + n) }

// writeIndex numbers a write (l1, n1) -> (l2, n2) of the StatefulSet.
func (s *System) writeIndex(l1 LabelClass, n1 int, l2 LabelClass, n2 int) int {
	m1 := s.m + 1
	return ((int(l1)*m1+n1)*int(numLabels)+int(l2))*m1 + n2
}

func (s *System) evIndex(sel int, w int) int {
	m1 := s.m + 1
	return sel*int(numLabels)*m1*int(numLabels)*m1 + w
}

// abstractEvent maps a watch event to its abstract form.
func (s *System) abstractEvent(ev model.Watched, ok bool) (uint8, error) {
	if !ok {
		return evNone, nil
	}
	switch ev.Type {
	case watch.Deleted:
		return evDeleted, nil
	case watch.Added, watch.Modified:
		if ev.Object.Spec.Replicas == nil {
			return 0, fmt.Errorf("watch event without replicas")
		}
		n := int(*ev.Object.Spec.Replicas)
		if n < 0 || n > s.m {
			return 0, fmt.Errorf("watch event with %d replicas", n)
		}
		if ev.Type == watch.Added {
			return s.added(n), nil
		}
		return s.modified(n), nil
	}
	return 0, fmt.Errorf("unexpected watch event %s", ev.Type)
}

// concreteEvent is a watch event of abstract kind e, carrying an object at
// resourceVersion rv with labels l.
func (s *System) concreteEvent(e uint8, l LabelClass, rv string) (model.Watched, bool) {
	switch {
	case e == evNone:
		return model.Watched{}, false
	case e == evDeleted:
		return model.Watched{Type: watch.Deleted, Object: statefulSet(l, 1, rv)}, true
	case int(e) < 2+s.m+1:
		return model.Watched{Type: watch.Added, Object: statefulSet(l, int(e)-2, rv)}, true
	}
	return model.Watched{Type: watch.Modified, Object: statefulSet(l, int(e)-2-s.m-1, rv)}, true
}

// selIndex returns the selector class of a pod's informer list options.
func (s *System) selIndex(o metav1.ListOptions) (int, error) {
	for i, p := range s.opts {
		if p == o {
			return i, nil
		}
	}
	return 0, fmt.Errorf("list options %+v are not built from any label class", o)
}

// abstractPod returns the code of the pod state p of ordinal o.
func (s *System) abstractPod(o int, p model.PodState) (podCode, error) {
	if p.Name != podName(o) {
		return 0, fmt.Errorf("pod %q is not ordinal %d", p.Name, o)
	}
	switch p.Phase {
	case model.Stopped:
		return codeAbsent, nil
	case model.Starting:
		return codeStarting, nil
	}
	if p.StatefulSetName != StatefulSetName {
		return 0, fmt.Errorf("pod %s detected StatefulSet %q", p.Name, p.StatefulSetName)
	}
	sel, err := s.selIndex(p.ListOptions)
	if err != nil {
		return 0, err
	}
	if p.Phase == model.Detected {
		return s.detected(sel), nil
	}
	cached := false
	for name := range p.Cache {
		if name != StatefulSetName {
			return 0, fmt.Errorf("pod %s caches StatefulSet %q", p.Name, name)
		}
		cached = true
	}
	cfg := 0
	switch c := p.Config; {
	case c == model.Config{}:
	case int(c.Shard) == o && c.Total >= 0 && c.Total <= s.m:
		cfg = 1 + c.Total
	default:
		return 0, fmt.Errorf("pod %s has configuration %s", p.Name, c)
	}
	return s.watching(sel, cached, cfg), nil
}

// concretePod returns a pod state of ordinal o with code c. The variant picks
// among concretizations that differ only in what the abstraction drops:
// the cached StatefulSet's labels and replicas (its resourceVersion is
// always "1", older than every event its callers deliver).
func (s *System) concretePod(o int, c podCode, variant int) model.PodState {
	p := model.NewPod(podName(o))
	switch {
	case c == codeAbsent:
		p.Phase = model.Stopped
		return p
	case c == codeStarting:
		return p
	}
	sel := s.sel(c)
	p.StatefulSetName = StatefulSetName
	p.ListOptions = s.opts[sel]
	p.Phase = model.Detected
	if s.isDetected(c) {
		return p
	}
	p.Phase = model.Watching
	p.Cache = map[string]*appsv1.StatefulSet{}
	// A relist code's cache may hold the StatefulSet or not (what the
	// relist does depends on neither): odd variants hold it.
	if s.isWatching(c) && s.cached(c) || s.isRelist(c) && variant%2 == 1 {
		p.Cache[StatefulSetName] = statefulSet(LabelClass(variant%int(numLabels)), variant%(s.m+1), "1")
	}
	p.Config = s.config(o, c)
	return p
}

// build fills the tables.
func (s *System) build() error {
	m1 := s.m + 1
	// Watch events: what a watch with each selector class sees of every
	// write an op can make (a relabel or a scale), through the API
	// server's own update and the cacher's transition rules.
	s.ev = make([]uint8, s.nsel*int(numLabels)*m1*int(numLabels)*m1)
	for sel := range s.nsel {
		for l1 := range numLabels {
			for n1 := 0; n1 <= s.m; n1++ {
				for l2 := range numLabels {
					for n2 := 0; n2 <= s.m; n2++ {
						if (l1 == l2) == (n1 == n2) {
							continue // not one op's write (no write, or two changes at once)
						}
						api := newAPIServer(l1, n1)
						old, cur := api.Update(func(ss *appsv1.StatefulSet) {
							ss.Labels = l2.Labels()
							r := int32(n2)
							ss.Spec.Replicas = &r
						})
						if cur == nil {
							return fmt.Errorf("write %s/%d -> %s/%d was not written", l1, n1, l2, n2)
						}
						e, err := s.abstractEvent(sim.WatchEvent(s.sels[sel], old, cur))
						if err != nil {
							return err
						}
						s.ev[s.evIndex(sel, s.writeIndex(l1, n1, l2, n2))] = e
					}
				}
			}
		}
	}
	for o := range s.m {
		// The start-up GET, from every label class.
		for l := range numLabels {
			api := newAPIServer(l, 1)
			p, _ := model.Step(s.reducer, model.NewPod(podName(o)), model.Got{StatefulSet: api.StatefulSet})
			c, err := s.abstractPod(o, p)
			if err != nil {
				return err
			}
			if !s.isDetected(c) {
				return fmt.Errorf("GET left pod %d in phase %s", o, p.Phase)
			}
			s.got[o][l] = c
		}
		// The LIST, for every selector class and API server state.
		s.list[o] = make([]podCode, s.nsel*int(numLabels)*m1)
		for sel := range s.nsel {
			for l := range numLabels {
				for n := 0; n <= s.m; n++ {
					api := newAPIServer(l, n)
					p, _ := model.Step(s.reducer, s.concretePod(o, s.detected(sel), 0), model.Listed{Items: api.List(s.sels[sel])})
					c, err := s.abstractPod(o, p)
					if err != nil {
						return err
					}
					if !s.isWatching(c) {
						return fmt.Errorf("LIST left pod %d in phase %s", o, p.Phase)
					}
					s.list[o][(sel*int(numLabels)+int(l))*m1+n] = c
				}
			}
		}
		// Watch events, for every watching code.
		s.step[o] = make([]podCode, s.ncodes*s.nev)
		for c := range podCode(s.ncodes) {
			for e := range uint8(s.nev) {
				next := c
				if s.isWatching(c) {
					if ev, ok := s.concreteEvent(e, Original, "2"); ok {
						p, _ := model.Step(s.reducer, s.concretePod(o, c, 0), ev)
						var err error
						if next, err = s.abstractPod(o, p); err != nil {
							return err
						}
					}
				}
				s.step[o][int(c)*s.nev+int(e)] = next
			}
		}
	}
	for o := range s.m {
		s.eager[o] = make([]bool, s.ncodes)
		for c := range podCode(s.ncodes) {
			s.eager[o][c] = s.isPending(c) && s.commutes(o, c)
		}
	}
	if s.relists {
		// The relist after 410 Gone, for every configuration the pod
		// holds and every API server state: model.Step's Listed on a
		// Watching pod (client-go's Replace). The listed object is newer
		// than anything the pod caches (it relists because writes it
		// missed were compacted), and whether it caches the StatefulSet
		// must not matter.
		for o := range s.m {
			s.relist[o] = make([]podCode, s.nsel*s.cfgN*int(numLabels)*m1)
			for sel := range s.nsel {
				for k := range s.cfgN {
					for l := range numLabels {
						for n := 0; n <= s.m; n++ {
							next, err := s.relistStep(o, s.relistCode(sel, k), l, n, 0)
							if err != nil {
								return err
							}
							if other, err := s.relistStep(o, s.relistCode(sel, k), l, n, 1); err != nil || other != next {
								return fmt.Errorf("pod %d: a relist's outcome depends on its informer cache (%v)", o, err)
							}
							s.relist[o][((sel*s.cfgN+k)*int(numLabels)+int(l))*m1+n] = next
						}
					}
				}
			}
		}
	}
	return nil
}

// relistStep runs model.Step for the relist of a pod of ordinal o in
// relist code c (concretized by variant) with the API server at (l, n).
func (s *System) relistStep(o int, c podCode, l LabelClass, n int, variant int) (podCode, error) {
	listed := model.Listed{}
	for _, ss := range newAPIServer(l, n).List(s.sels[s.sel(c)]) {
		ss = ss.DeepCopy()
		ss.ResourceVersion = "2"
		listed.Items = append(listed.Items, ss)
	}
	p, _ := model.Step(s.reducer, s.concretePod(o, c, variant), listed)
	next, err := s.abstractPod(o, p)
	if err == nil && !s.isWatching(next) {
		err = fmt.Errorf("relist left pod %d in phase %s", o, p.Phase)
	}
	return next, err
}

// deliverTo is the pod's next start item delivered with the API server at
// (l, n): the GET from starting, the LIST from detected.
func (s *System) deliverTo(o int, c podCode, l LabelClass, n int) podCode {
	if c == codeStarting {
		return s.got[o][l]
	}
	return s.list[o][(s.sel(c)*int(numLabels)+int(l))*(s.m+1)+n]
}

// onWrite is a pod's state after the write (l1, n1) -> (l2, n2), its watch
// event (if any) delivered.
func (s *System) onWrite(o int, c podCode, l1 LabelClass, n1 int, l2 LabelClass, n2 int) podCode {
	if !s.isWatching(c) {
		return c
	}
	e := s.ev[s.evIndex(s.sel(c), s.writeIndex(l1, n1, l2, n2))]
	return s.step[o][int(c)*s.nev+int(e)]
}

// commutes reports whether delivering the queued start item of a pod of
// ordinal o in state c commutes with every op that leaves the pod alive,
// from every API server state: delivering it, then the op (and the op's
// watch event), gives the same pod state as the op, then delivering it.
// Ops that stop the pod overwrite its state either way; ops on other pods
// and other pods' deliveries touch neither this pod nor the API server.
func (s *System) commutes(o int, c podCode) bool {
	for l := range numLabels {
		for n := o + 1; n <= s.m; n++ { // the pod is alive, so n > o
			before := s.deliverTo(o, c, l, n)
			for l2 := range numLabels {
				if l2 != l && s.onWrite(o, before, l, n, l2, n) != s.deliverTo(o, c, l2, n) {
					return false
				}
			}
			for n2 := o + 1; n2 <= s.m; n2++ {
				if n2 != n && s.onWrite(o, before, l, n, l, n2) != s.deliverTo(o, c, l, n2) {
					return false
				}
			}
		}
	}
	return true
}

// describeCode renders a pod's abstract state for reports.
func (s *System) describeCode(o int, c podCode) string {
	switch {
	case c == codeAbsent:
		return ""
	case c == codeStarting:
		return fmt.Sprintf("%d:GET queued", o)
	case s.isDetected(c):
		return fmt.Sprintf("%d:LIST queued", o)
	case s.isRelist(c):
		return fmt.Sprintf("%d:%s relist queued", o, s.config(o, c))
	}
	return fmt.Sprintf("%d:%s", o, s.config(o, c))
}
