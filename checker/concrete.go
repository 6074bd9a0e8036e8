package checker

import (
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// cluster is the concrete system, item for item as the simulator runs it
// (sim.Sim with the model backend): the simulator's API server, every pod
// incarnation as a model.PodState folded with model.Step, and one FIFO
// inbox per ordinal holding GET and LIST items, the watch events that
// sim.WatchEvent lets through, stops, and with faults the informer's
// "watch closed" and "ERROR 410 Gone" items and relists. Unlike sim.Sim it
// can be cloned, so that it can be explored. The checker uses it to turn
// an abstract counterexample into a trace (it knows how many items a
// deliver must consume), and the tests use it as the unreduced reference
// exploration.
//
// The data plane (each pod's objects reflector) is not here: with the
// checker's fixed objects and the default API server it ends every drain
// holding what the pod's configuration keeps (doc.go, "Faults"), so at
// quiescent points the configurations say what the pods export.
//
// The history of the StatefulSet's writes, the compaction and the cache
// lag are kept here too: sim.APIServer keeps them unexported (watchFrom,
// listAt, lagged). This is a second copy of those few rules of
// sim/apiserver.go and sim/dataplane.go, checked against the simulator by
// the tests that replay the checker's paths and random fault traces.
type cluster struct {
	r     model.Reducer
	api   sim.APIServer
	pods  []cpod    // every incarnation, in creation order
	inbox [][]citem // by ordinal

	hist      []*appsv1.StatefulSet // the StatefulSet after each write, its creation first
	compacted uint64                // the compaction's resourceVersion (0: none)
	lag       int                   // the watch cache's lag in writes

	// faulty makes key include what only fault ops make matter: the
	// history, the compaction, the lag, each informer's resourceVersion.
	faulty bool
}

type citemKind uint8

const (
	citemGet citemKind = iota
	citemList
	citemEvent
	citemStop
	citemWatchEnd // the informer's watch closed (a disconnect)
	citemExpired  // the informer's watch got ERROR 410 Gone
)

type citem struct {
	kind   citemKind
	pod    int // index into pods
	event  model.Watched
	relist bool // citemList: a relist after 410 Gone
}

type cpod struct {
	ordinal  int
	state    model.PodState
	selector model.Selector
	watching bool
	stopping bool
	ssRV     uint64 // the informer's last synced resourceVersion
}

// newCluster sets up the cluster as sim.New does: the StatefulSet with
// labels l and n replicas, its pods started and settled.
func newCluster(r model.Reducer, l LabelClass, n int) *cluster {
	c := &cluster{r: r, api: *newAPIServer(l, n)}
	c.hist = []*appsv1.StatefulSet{c.api.StatefulSet}
	c.reconcile()
	c.drain()
	return c
}

func (c *cluster) clone() *cluster {
	d := *c
	d.pods = slices.Clone(c.pods)
	d.hist = slices.Clip(c.hist)
	d.inbox = make([][]citem, len(c.inbox))
	for o, in := range c.inbox {
		d.inbox[o] = slices.Clone(in)
	}
	return &d
}

func (c *cluster) replicas() int { return int(*c.api.StatefulSet.Spec.Replicas) }

func (c *cluster) labels() LabelClass {
	l, ok := labelClassOf(c.api.StatefulSet.Labels)
	if !ok {
		panic("checker: StatefulSet labels outside the four label classes")
	}
	return l
}

func (c *cluster) relabel(l LabelClass) {
	c.write(func(ss *appsv1.StatefulSet) { ss.Labels = l.Labels() })
}

func (c *cluster) scale(n int) {
	c.write(func(ss *appsv1.StatefulSet) { r := int32(n); ss.Spec.Replicas = &r })
	c.reconcile()
}

func (c *cluster) restart(o int) {
	if p := c.newest(o); p >= 0 {
		c.stop(p)
	}
	c.create(o)
}

// write is sim.Sim.write: update the StatefulSet, queue the watch events.
func (c *cluster) write(mutate func(*appsv1.StatefulSet)) {
	old, cur := c.api.Update(mutate)
	if cur == nil {
		return
	}
	c.hist = append(slices.Clip(c.hist), cur)
	for i := range c.pods {
		p := &c.pods[i]
		if !p.watching {
			continue
		}
		if ev, ok := sim.WatchEvent(p.selector, old, cur); ok {
			c.inbox[p.ordinal] = append(c.inbox[p.ordinal], citem{kind: citemEvent, pod: i, event: ev})
		}
	}
}

// reconcile is the StatefulSet controller of sim.Sim.reconcile.
func (c *cluster) reconcile() {
	want := c.replicas()
	for len(c.inbox) < want {
		c.inbox = append(c.inbox, nil)
	}
	for o := range c.inbox {
		p := c.newest(o)
		alive := p >= 0 && !c.pods[p].stopping && c.pods[p].state.Phase != model.Stopped
		switch {
		case o < want && !alive:
			c.create(o)
		case o >= want && alive:
			c.stop(p)
		}
	}
}

func (c *cluster) newest(o int) int {
	for i := len(c.pods) - 1; i >= 0; i-- {
		if c.pods[i].ordinal == o {
			return i
		}
	}
	return -1
}

func (c *cluster) create(o int) {
	c.pods = append(c.pods, cpod{ordinal: o, state: model.NewPod(podName(o))})
	p := len(c.pods) - 1
	c.inbox[o] = append(c.inbox[o], citem{kind: citemGet, pod: p}, citem{kind: citemList, pod: p})
}

func (c *cluster) stop(p int) {
	if c.pods[p].stopping || c.pods[p].state.Phase == model.Stopped {
		return
	}
	c.pods[p].stopping = true
	c.inbox[c.pods[p].ordinal] = append(c.inbox[c.pods[p].ordinal], citem{kind: citemStop, pod: p})
}

func (c *cluster) pending() int {
	n := 0
	for _, in := range c.inbox {
		n += len(in)
	}
	return n
}

// drain is sim.Sim.drain: one item per pod in ordinal order, round after
// round.
func (c *cluster) drain() {
	for c.pending() > 0 {
		for o := range c.inbox {
			if len(c.inbox[o]) > 0 {
				c.deliver(o)
			}
		}
	}
}

// rv is the API server's resourceVersion: only the StatefulSet is written.
func (c *cluster) rv() uint64 { return model.ParseResourceVersion(c.api.StatefulSet.ResourceVersion) }

// compact is sim.Sim.compact: the history is compacted at the current
// resourceVersion.
func (c *cluster) compact() { c.compacted = c.rv() }

// cacheLag is sim.Sim.cacheLag.
func (c *cluster) cacheLag(writes int) { c.lag = writes }

// lagged is sim.APIServer.lagged with the watch cache: the revision a read
// with resourceVersion "0" sees.
func (c *cluster) lagged() uint64 {
	rv := c.rv()
	if c.lag == 0 {
		return rv
	}
	return max(rv-min(uint64(c.lag), rv), 1)
}

// listAt is sim.APIServer.listAt: a LIST with sel as of revision rv.
func (c *cluster) listAt(sel model.Selector, rv uint64) []*appsv1.StatefulSet {
	ss := c.hist[0]
	for _, w := range c.hist[1:] {
		if model.ParseResourceVersion(w.ResourceVersion) > rv {
			break
		}
		ss = w
	}
	if sel.Matches(ss) {
		return []*appsv1.StatefulSet{ss}
	}
	return nil
}

// watchStatefulSet is sim.Sim.watchStatefulSet with sim.APIServer.watchFrom:
// pod i's informer watches from its last synced resourceVersion; the
// writes after it are replayed, or, from a compacted one, 410 Gone.
func (c *cluster) watchStatefulSet(i int) {
	p := &c.pods[i]
	if p.state.Phase == model.Stopped || p.stopping {
		return
	}
	if p.ssRV < c.compacted {
		c.inbox[p.ordinal] = append(c.inbox[p.ordinal], citem{kind: citemExpired, pod: i})
		return
	}
	p.watching = true
	for j, w := range c.hist[1:] {
		if model.ParseResourceVersion(w.ResourceVersion) <= p.ssRV {
			continue
		}
		if ev, ok := sim.WatchEvent(p.selector, c.hist[j], w); ok {
			c.inbox[p.ordinal] = append(c.inbox[p.ordinal], citem{kind: citemEvent, pod: i, event: ev})
		}
	}
}

// disconnect is sim.Sim.disconnect for the StatefulSet informer: its watch
// ends, the events sent on it and not yet read are lost.
func (c *cluster) disconnect(o int) {
	i := c.newest(o)
	if i < 0 || c.pods[i].state.Phase == model.Stopped || !c.pods[i].watching {
		return
	}
	c.pods[i].watching = false
	c.inbox[o] = slices.DeleteFunc(c.inbox[o], func(x citem) bool { return x.pod == i && x.kind == citemEvent })
	c.inbox[o] = append(c.inbox[o], citem{kind: citemWatchEnd, pod: i})
}

// deliver is sim.Sim.deliver: the head of pod o's inbox, through
// model.Step.
func (c *cluster) deliver(o int) {
	it := c.inbox[o][0]
	c.inbox[o] = c.inbox[o][1:]
	p := &c.pods[it.pod]
	var ev model.Event
	switch it.kind {
	case citemGet:
		ev = model.Got{StatefulSet: c.api.StatefulSet}
	case citemList:
		sel, err := model.ParseSelector(p.state.ListOptions)
		if err != nil {
			return // LIST failed: the informer never syncs
		}
		// The first LIST asks resourceVersion "0" (a lagging cache
		// answers it); a relist asks the last one, answered at the
		// current revision.
		rv := c.rv()
		if !it.relist {
			rv = c.lagged()
		}
		p.selector, p.ssRV = sel, rv
		ev = model.Listed{Items: c.listAt(sel, rv)}
		defer c.watchStatefulSet(it.pod)
	case citemWatchEnd:
		c.watchStatefulSet(it.pod)
		return
	case citemExpired:
		c.inbox[o] = append(c.inbox[o], citem{kind: citemList, pod: it.pod, relist: true})
		return
	case citemEvent:
		p.ssRV = model.ParseResourceVersion(it.event.Object.ResourceVersion)
		ev = it.event
	case citemStop:
		ev = model.Stop{}
		p.watching = false
		c.inbox[o] = slices.DeleteFunc(c.inbox[o], func(x citem) bool { return x.pod == it.pod })
	}
	p.state, _ = model.Step(c.r, p.state, ev)
}

// configs is sim.Sim.Configs: every serving pod, by ordinal then
// incarnation.
func (c *cluster) configs() []sim.PodConfig {
	var out []sim.PodConfig
	for _, p := range c.pods {
		if p.state.Serving() {
			out = append(out, sim.PodConfig{Pod: p.ordinal, Shard: p.state.Config.Shard, Total: p.state.Config.Total})
		}
	}
	slices.SortStableFunc(out, func(a, b sim.PodConfig) int { return a.Pod - b.Pod })
	return out
}

// configuration returns the configuration at a quiescent point.
func (c *cluster) configuration() Configuration {
	return Configuration{Labels: c.labels(), Replicas: c.replicas(), Pods: c.configs()}
}

// key encodes the whole concrete state canonically: the API server (labels,
// replicas, resourceVersion, the history of writes, the compaction, the
// cache lag), every incarnation that has not stopped (a stopped one can
// never change or be referred to again), and every inbox item.
// Incarnations are renumbered in creation order.
func (c *cluster) key() string {
	var b strings.Builder
	num := make([]int, len(c.pods))
	n := 0
	for i, p := range c.pods {
		num[i] = -1
		if p.state.Phase != model.Stopped {
			num[i] = n
			n++
		}
	}
	obj := func(ss *appsv1.StatefulSet) {
		l, _ := labelClassOf(ss.Labels)
		b.WriteString(strconv.Itoa(int(l)))
		b.WriteByte('/')
		if ss.Spec.Replicas != nil {
			b.WriteString(strconv.Itoa(int(*ss.Spec.Replicas)))
		}
		b.WriteByte('@')
		b.WriteString(ss.ResourceVersion)
	}
	obj(c.api.StatefulSet)
	if c.faulty {
		for _, w := range c.hist {
			b.WriteString(",h")
			obj(w)
		}
		b.WriteString(",c" + strconv.FormatUint(c.compacted, 10) + ",l" + strconv.Itoa(c.lag))
	}
	for i, p := range c.pods {
		if num[i] < 0 {
			continue
		}
		b.WriteString("|p")
		b.WriteString(strconv.Itoa(p.ordinal))
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(int(p.state.Phase)))
		b.WriteByte(',')
		b.WriteString(p.state.StatefulSetName)
		b.WriteByte(',')
		b.WriteString(p.state.ListOptions.LabelSelector)
		b.WriteByte(',')
		b.WriteString(p.state.ListOptions.FieldSelector)
		b.WriteByte(',')
		b.WriteString(p.state.Config.String())
		if p.watching {
			b.WriteString(",w")
		}
		if p.stopping {
			b.WriteString(",s")
		}
		if c.faulty {
			b.WriteString(",v" + strconv.FormatUint(p.ssRV, 10))
		}
		for _, name := range sortedNames(p.state.Cache) {
			b.WriteString(",c:" + name + "=")
			obj(p.state.Cache[name])
		}
	}
	for o, in := range c.inbox {
		b.WriteString("|i")
		b.WriteString(strconv.Itoa(o))
		for _, it := range in {
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(int(it.kind)))
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(num[it.pod]))
			if it.kind == citemEvent {
				b.WriteString(string(it.event.Type))
				obj(it.event.Object)
			}
			if it.relist {
				b.WriteByte('r')
			}
		}
	}
	return b.String()
}

func sortedNames(m map[string]*appsv1.StatefulSet) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
