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
// sim.WatchEvent lets through, and stops. Unlike sim.Sim it can be cloned,
// so that it can be explored. The checker uses it to turn an abstract
// counterexample into a trace (it knows how many items a deliver must
// consume), and the tests use it as the unreduced reference exploration.
type cluster struct {
	r     model.Reducer
	api   sim.APIServer
	pods  []cpod    // every incarnation, in creation order
	inbox [][]citem // by ordinal
}

type citemKind uint8

const (
	citemGet citemKind = iota
	citemList
	citemEvent
	citemStop
)

type citem struct {
	kind  citemKind
	pod   int // index into pods
	event model.Watched
}

type cpod struct {
	ordinal  int
	state    model.PodState
	selector model.Selector
	watching bool
	stopping bool
}

// newCluster sets up the cluster as sim.New does: the StatefulSet with
// labels l and n replicas, its pods started and settled.
func newCluster(r model.Reducer, l LabelClass, n int) *cluster {
	c := &cluster{r: r, api: *newAPIServer(l, n)}
	c.reconcile()
	c.drain()
	return c
}

func (c *cluster) clone() *cluster {
	d := &cluster{r: c.r, api: c.api, pods: slices.Clone(c.pods), inbox: make([][]citem, len(c.inbox))}
	for o, in := range c.inbox {
		d.inbox[o] = slices.Clone(in)
	}
	return d
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
		items := c.api.List(sel)
		p.selector, p.watching = sel, true
		ev = model.Listed{Items: items}
	case citemEvent:
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
// replicas, resourceVersion), every incarnation that has not stopped (a
// stopped one can never change or be referred to again), and every inbox
// item. Incarnations are renumbered in creation order.
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
