package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

// This file is DaemonSet sharding (KSM README, "Daemonset sharding"): the
// objects are Pods, each bound to a node or to none; a KSM DaemonSet runs
// one pod per node with --resources=pods --node=<node>, whose store lists
// and watches the pods through the field selector spec.nodeName=<node>;
// and optionally one more KSM pod, a Deployment's, serves the pods no
// node runs. The API server filters lists and watches by the selector, so
// a binding ("" -> X) is a DELETED event for the spec.nodeName= watcher and
// an ADDED one for the spec.nodeName=X watcher (the watch cache's
// cacheWatcher: an object that leaves the selector is DELETED, one that
// enters it ADDED). Each KSM pod's store is a model.Reflector of shard 0
// of 1: KSM's NewShardedListWatch returns the plain ListWatch then, so
// none of the sharded List's or Watch's quirks apply.

// podSalt separates the UIDs generated for pods from the objects' (step i
// uses podSalt - i).
const podSalt = -1

// nodeLaneItem is what a node lane asks a KSM pod to do.
type nodeItemKind int

const (
	nodeStart nodeItemKind = iota // the KSM process starts: its flags give its selector
	nodePage                      // the answer to its reflector's LIST or watch list
	nodeEvent                     // a write of the pods through its watch
	nodeStop                      // the KSM pod is deleted
)

type nodeItem struct {
	kind  nodeItemKind
	inst  *nodeInstance
	event model.ObjectsWatched
	due   time.Duration // as item's (clock.go)
	seq   uint64
}

// podWrite is one write of the pods, at one resourceVersion: created,
// deleted or (re)bound pods, each with its node before and after.
type podWrite struct {
	rv   uint64
	uids []string
	from []string // node before; absent: the pod did not exist
	to   []string // node after; absent: the pod no longer exists
	was  []bool   // the pod existed before
	is   []bool   // the pod exists after
}

// nodeInstance is one KSM pod of DaemonSet sharding.
type nodeInstance struct {
	lane     int
	name     string
	uid      string
	runner   PodRunner // nil: the model's own (no backend pod)
	flags    model.Flags
	started  bool
	stopping bool
	stopped  bool
	failed   string // KSM exited on its flags: it never serves
	selector model.NodeSelector
	data     model.Reflector
	watching bool // its watch is open: pod writes reach it
}

// nodeLane is one node's KSM pod slot (or the unscheduled pods'
// Deployment's): its queue and its newest pod.
type nodeLane struct {
	node    string // "" for the unscheduled pods' Deployment
	tainted bool
	removed bool
	queue   []nodeItem
	newest  *nodeInstance
	created int
}

// daemonSetSharding is the DaemonSet sharding part of a replay.
type daemonSetSharding struct {
	spec      DaemonSet
	rules     model.NodeRules
	listWatch model.ListWatchRules
	pageSize  int

	lanes   []*nodeLane
	insts   []*nodeInstance // serving or starting, in creation order
	created int             // DaemonSet pods created, for their names

	pods map[string]string // live pod UID -> its node ("" unscheduled)
	// byNode is the live pods by node ("" the unscheduled ones, the
	// scheduler's queue for bind).
	byNode map[string]map[string]bool
	writes []podWrite
	// cover counts, per live pod, the stores that hold it; gap and
	// overlap are the live pods held by none and by two or more.
	cover        map[string]int
	gap, overlap map[string]bool
}

// setupDaemonSet starts DaemonSet sharding: the nodes, their KSM pods,
// the unscheduled pods' Deployment, and the pods.
func (s *Sim) setupDaemonSet(t *Trace) {
	c := t.Cluster
	d := &daemonSetSharding{
		spec: *c.DaemonSet, rules: model.NodeRulesOf(s.reducer), listWatch: s.reducer.ListWatch(),
		pageSize: s.apiConfig.PageSize, pods: map[string]string{}, byNode: map[string]map[string]bool{},
		cover: map[string]int{}, gap: map[string]bool{}, overlap: map[string]bool{},
	}
	s.ds = d
	switch d.spec.Unscheduled {
	case UnscheduledTrack, UnscheduledAll:
		s.addNodeLane("")
	}
	for _, n := range c.Nodes {
		s.addNodeLane(n)
	}
	if c.Pods != nil {
		uids := GenerateUIDs(c.Pods.Generate, c.Pods.Seed, podSalt)
		bound := len(uids) - c.Pods.Unscheduled
		nodes := make([]string, len(uids))
		for i := range uids {
			if i < bound && len(c.Nodes) > 0 {
				nodes[i] = c.Nodes[i%len(c.Nodes)]
			}
		}
		s.writePods(uids, nodes)
	}
}

// addNodeLane adds the lane of a node ("" the unscheduled pods'
// Deployment) and creates its KSM pod.
func (s *Sim) addNodeLane(node string) {
	d := s.ds
	for _, l := range d.lanes {
		if l.node == node && !l.removed {
			return
		}
	}
	d.lanes = append(d.lanes, &nodeLane{node: node})
	s.createNodeInstance(len(d.lanes) - 1)
}

// laneOf returns the lane of node, or -1.
func (d *daemonSetSharding) laneOf(node string) int {
	return slices.IndexFunc(d.lanes, func(l *nodeLane) bool { return l.node == node && !l.removed })
}

// createNodeInstance creates a KSM pod in lane i, with the flags of the
// DaemonSet's pod template (or of the unscheduled pods' Deployment).
func (s *Sim) createNodeInstance(i int) {
	d := s.ds
	l := d.lanes[i]
	l.created++
	f := model.Flags{TotalShards: 1, Resource: "pods"}
	d.created++
	name := d.spec.Name + "-" + strconv.Itoa(d.created) // a DaemonSet pod's name is generated
	switch {
	case l.node != "":
		f.Node = l.node
	case d.spec.Unscheduled == UnscheduledTrack:
		f.TrackUnscheduledPods = true
		name = d.spec.Name + "-unscheduled-" + strconv.Itoa(l.created)
	default:
		name = d.spec.Name + "-all-pods-" + strconv.Itoa(l.created)
	}
	s.nextUID++
	inst := &nodeInstance{lane: i, name: name, flags: f, uid: fmt.Sprintf("pod-%d", s.nextUID)}
	if _, ok := s.backend.(modelBackend); !ok && s.err == nil {
		fb := s.backend.(FlagsBackend) // New checked it
		var err error
		if inst.runner, err = fb.NewPodWithFlags(name, inst.uid, f); err != nil {
			s.err = fmt.Errorf("%s backend: create pod %s: %w", s.backend.Name(), name, err)
		}
	}
	l.newest = inst
	d.insts = append(d.insts, inst)
	s.pushNode(l, nodeItem{kind: nodeStart, inst: inst})
	s.logf(LogCreated, -1, name, "created with %s; start queued", strings.Join(f.Args(name, s.api.Namespace), " "))
}

// stopNodeInstance queues the deletion of lane i's KSM pod.
func (s *Sim) stopNodeInstance(i int) {
	l := s.ds.lanes[i]
	inst := l.newest
	if inst == nil || inst.stopping || inst.stopped {
		return
	}
	inst.stopping = true
	s.pushNode(l, nodeItem{kind: nodeStop, inst: inst})
	s.logf(LogDeletionQueued, -1, inst.name, "deletion queued")
}

// applyNodeOp replays one DaemonSet sharding op.
func (s *Sim) applyNodeOp(i int, st Step) {
	d := s.ds
	switch st.Op {
	case OpAddNode:
		s.logf(LogWrite, -1, "", "node %s added", *st.Node)
		s.addNodeLane(*st.Node)
	case OpRemoveNode:
		l := d.laneOf(*st.Node)
		s.logf(LogWrite, -1, "", "node %s deleted: its KSM pod stops; the pod garbage collector deletes the pods bound to it", *st.Node)
		if l >= 0 {
			s.stopNodeInstance(l)
			d.lanes[l].removed = true
		}
		var gone []string
		for u, n := range d.pods {
			if n == *st.Node {
				gone = append(gone, u)
			}
		}
		slices.Sort(gone)
		s.deletePods(gone)
	case OpTaint:
		l := d.laneOf(*st.Node)
		d.lanes[l].tainted = true
		s.logf(LogWrite, -1, "", "node %s tainted (NoExecute): its KSM pod is evicted and the DaemonSet does not replace it", *st.Node)
		s.stopNodeInstance(l)
	case OpEvict:
		l := d.laneOf(*st.Node)
		lane := d.lanes[l]
		if lane.tainted || lane.newest == nil || lane.newest.stopping || lane.newest.stopped {
			s.logf(LogNoWrite, -1, "", "node %s: no KSM pod to evict", *st.Node)
			break
		}
		s.logf(LogWrite, -1, "", "node %s: its KSM pod is evicted (deleted); the DaemonSet controller creates another there", *st.Node)
		s.stopNodeInstance(l)
		s.createNodeInstance(l)
	case OpUntaint:
		l := d.laneOf(*st.Node)
		lane := d.lanes[l]
		s.logf(LogWrite, -1, "", "node %s untainted: the DaemonSet runs a KSM pod on it again", *st.Node)
		if lane.tainted {
			lane.tainted = false
			if lane.newest == nil || lane.newest.stopping || lane.newest.stopped {
				s.createNodeInstance(l)
			}
		}
	case OpCreatePods:
		uids := GenerateUIDs(st.Generate, st.Seed, podSalt-1-i)
		nodes := make([]string, len(uids))
		for j := range nodes {
			nodes[j] = *st.Node
		}
		s.writePods(uids, nodes)
	case OpBind:
		var uids []string
		for _, u := range sortedKeys(d.byNode[""]) {
			if len(uids) == st.Count {
				break
			}
			uids = append(uids, u)
		}
		nodes := make([]string, len(uids))
		for j := range nodes {
			nodes[j] = *st.Node
		}
		s.writePods(uids, nodes)
	}
}

// writePods creates or binds pods (uids[j] to nodes[j]) in one write.
func (s *Sim) writePods(uids, nodes []string) {
	if len(uids) == 0 {
		return
	}
	d := s.ds
	s.api.Bump()
	w := podWrite{rv: s.api.rv, uids: uids, to: nodes}
	created, bound := 0, 0
	for j, u := range uids {
		old, ok := d.pods[u]
		w.from = append(w.from, old)
		w.was = append(w.was, ok)
		w.is = append(w.is, true)
		if ok {
			d.unplace(u, old)
		}
		d.place(u, nodes[j])
		if ok {
			bound++
		} else {
			created++
			s.recount(u)
		}
	}
	s.recordPodWrite(w)
	s.writePodsToBackend(uids, nodes, false)
	s.logf(LogObjects, -1, "", "pods at resourceVersion %d: %d created, %d bound", w.rv, created, bound)
}

// deletePods deletes pods in one write.
func (s *Sim) deletePods(uids []string) {
	if len(uids) == 0 {
		return
	}
	d := s.ds
	s.api.Bump()
	w := podWrite{rv: s.api.rv, uids: uids}
	for _, u := range uids {
		w.from = append(w.from, d.pods[u])
		w.to = append(w.to, "")
		w.was = append(w.was, true)
		w.is = append(w.is, false)
		d.unplace(u, d.pods[u])
		s.recount(u)
	}
	s.recordPodWrite(w)
	s.writePodsToBackend(uids, nil, true)
	s.logf(LogObjects, -1, "", "pods at resourceVersion %d: %d deleted", w.rv, len(uids))
}

// recordPodWrite keeps a write in the history and sends it to every open
// watch.
func (s *Sim) recordPodWrite(w podWrite) {
	d := s.ds
	d.writes = append(d.writes, w)
	for _, inst := range d.insts {
		if inst.watching {
			s.queuePodWrite(inst, w)
		}
	}
}

// queuePodWrite sends a write through inst's watch, filtered by its
// selector as the API server's watch cache filters it: a pod that enters
// the selector is ADDED, one that leaves it (or is deleted) DELETED, one
// that stays in it MODIFIED (which changes no store membership: left
// out).
func (s *Sim) queuePodWrite(inst *nodeInstance, w podWrite) {
	var added, deleted []string
	for j, u := range w.uids {
		before := w.was[j] && inst.selector.Matches(w.from[j])
		after := w.is[j] && inst.selector.Matches(w.to[j])
		switch {
		case !before && after:
			added = append(added, u)
		case before && !after:
			deleted = append(deleted, u)
		}
	}
	rv := strconv.FormatUint(w.rv, 10)
	l := s.ds.lanes[inst.lane]
	if len(added) > 0 {
		slices.Sort(added)
		s.pushNode(l, nodeItem{kind: nodeEvent, inst: inst, event: model.ObjectsWatched{Type: watch.Added, UIDs: added, ResourceVersion: rv}})
	}
	if len(deleted) > 0 {
		slices.Sort(deleted)
		s.pushNode(l, nodeItem{kind: nodeEvent, inst: inst, event: model.ObjectsWatched{Type: watch.Deleted, UIDs: deleted, ResourceVersion: rv}})
	}
}

// podsAt returns the pods live at revision rv that sel selects, sorted.
func (d *daemonSetSharding) podsAt(rv uint64, sel model.NodeSelector) []string {
	// The pods a write after rv touched: their state at rv is the one
	// before the earliest such write.
	type state struct {
		live bool
		node string
	}
	var then map[string]state
	for j := len(d.writes) - 1; j >= 0 && d.writes[j].rv > rv; j-- {
		if then == nil {
			then = map[string]state{}
		}
		w := d.writes[j]
		for k, u := range w.uids {
			then[u] = state{w.was[k], w.from[k]}
		}
	}
	// The others are where they are now: the selector is evaluated once
	// per node, and only the selected nodes' pods are read.
	var out []string
	for node, pods := range d.byNode {
		if !sel.Matches(node) {
			continue
		}
		for u := range pods {
			if _, touched := then[u]; !touched {
				out = append(out, u)
			}
		}
	}
	for u, st := range then {
		if st.live && sel.Matches(st.node) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

// answerPods answers inst's LIST or watch list: the pods its selector
// selects, read as PlanList says (the current or a lagging revision, or
// the one a continue token pins), paged where the API server pages.
func (s *Sim) answerPods(inst *nodeInstance) model.Event {
	req := inst.data.Request
	if req.SendInitialEvents {
		if !s.apiConfig.WatchList {
			return model.ObjectsStreamed{Refused: true}
		}
		return model.ObjectsStreamed{Page: model.Page{UIDs: s.ds.podsAt(s.api.rv, inst.selector), ResourceVersion: strconv.FormatUint(s.api.rv, 10)}}
	}
	// The API server's list rules (PlanList), as for the objects: a read
	// at resourceVersion "0" from the watch cache is whole and may lag, an
	// exact or continued read is paged, a compacted one is 410 Gone.
	rd := s.planList(req)
	if rd.Expired {
		return model.ObjectsListed{Page: model.Page{Expired: true}}
	}
	rv, after := rd.Rev, rd.After
	uids := s.ds.podsAt(rv, inst.selector)
	lo, _ := slices.BinarySearch(uids, after)
	if after != "" && lo < len(uids) && uids[lo] == after {
		lo++
	}
	hi := len(uids)
	if rd.Limit > 0 && lo+rd.Limit < hi {
		hi = lo + rd.Limit
	}
	p := model.Page{UIDs: slices.Clone(uids[lo:hi]), ResourceVersion: strconv.FormatUint(rv, 10)}
	if hi < len(uids) {
		p.Continue = continueToken(rv, uids[hi-1])
	}
	return model.ObjectsListed{Page: p}
}

// nodePending counts the items waiting in the node lanes.
func (s *Sim) nodePending() int {
	if s.ds == nil {
		return 0
	}
	n := 0
	for _, l := range s.ds.lanes {
		n += len(l.queue)
	}
	return n
}

// deliverNode processes the head of node lane i's queue.
func (s *Sim) deliverNode(i int) {
	d := s.ds
	l := d.lanes[i]
	it := l.queue[0]
	l.queue = l.queue[1:]
	inst := it.inst
	before := inst.store()
	var what, outcome string
	kind := LogObjectsList
	switch it.kind {
	case nodeStart:
		kind = LogStarted
		what = "started: " + strings.Join(inst.flags.Args(inst.name, s.api.Namespace), " ")
		inst.started = true
		sel, err := d.rules.NodeFieldSelector(inst.flags)
		if err == nil {
			inst.selector, err = model.ParseNodeSelector(sel)
		}
		s.startNodeRunner(inst, err)
		if err != nil {
			inst.failed = err.Error()
			outcome = "exited: " + err.Error() + "; the pod crash-loops and never serves"
			break
		}
		inst.data = model.NewReflector(0, 1, d.listWatch, d.pageSize)
		if or, ok := inst.runner.(ObjectsRunner); ok && s.err == nil {
			if err := or.ConfigureSharding(0, 1, d.pageSize); err != nil {
				s.err = fmt.Errorf("%s backend: pod %s: ConfigureSharding: %w", s.backend.Name(), inst.name, err)
			}
		}
		s.pushNode(l, nodeItem{kind: nodePage, inst: inst})
		outcome = "pods store built, " + describeNodeSelector(sel) + "; " + inst.data.Request.String()
	case nodePage:
		what = inst.data.Request.String()
		ev := s.answerPods(inst)
		if st, ok := ev.(model.ObjectsStreamed); ok && st.Refused {
			what += ": 422 Invalid (sendInitialEvents is forbidden: the WatchList feature gate is off)"
		}
		inst.data, outcome = model.StepReflector(inst.data, ev)
		s.followPods(inst)
		s.deliverPodsToRunner(inst, ev)
	case nodeEvent:
		kind = LogObjectsWatch
		what = fmt.Sprintf("watch %s of %d pods at resourceVersion %s", it.event.Type, len(it.event.UIDs), it.event.ResourceVersion)
		inst.data, outcome = model.StepReflector(inst.data, it.event)
		s.deliverPodsToRunner(inst, it.event)
	case nodeStop:
		kind = LogStopped
		what = "deleted"
		outcome = "stopped"
		inst.stopped, inst.watching = true, false
		if inst.runner != nil && s.err == nil {
			if _, _, err := inst.runner.Deliver(model.Stop{}); err != nil {
				s.err = fmt.Errorf("%s backend: pod %s: %w", s.backend.Name(), inst.name, err)
			}
		}
		l.queue = slices.DeleteFunc(l.queue, func(x nodeItem) bool { return x.inst == inst })
		d.insts = slices.DeleteFunc(d.insts, func(x *nodeInstance) bool { return x == inst })
	}
	// A store is never written in place: the same slice is the same
	// store, and only a changed one costs a merge (and a window state).
	if after := inst.store(); len(after) != len(before) || len(after) > 0 && &after[0] != &before[0] {
		changed := s.storeChanged(before, after)
		if changed && s.opts.Windows && s.step >= 0 {
			s.measureWindow()
		}
	}
	s.log = append(s.log, LogEntry{Step: s.step, At: Seconds(s.clock.now), Kind: kind, Pod: -1, PodUID: inst.name, Event: what, Outcome: outcome})
}

func describeNodeSelector(sel string) string {
	if sel == "" {
		return "no field selector: every pod"
	}
	return "fieldSelector=" + sel
}

// followPods opens inst's watch once its reflector asks for it: the
// writes after its resourceVersion are replayed, later ones follow.
func (s *Sim) followPods(inst *nodeInstance) {
	r := inst.data
	if !r.Watching {
		s.pushNode(s.ds.lanes[inst.lane], nodeItem{kind: nodePage, inst: inst})
		return
	}
	if inst.watching {
		return
	}
	inst.watching = true
	from := model.ParseResourceVersion(r.Request.ResourceVersion)
	for _, w := range s.ds.writes {
		if w.rv > from {
			s.queuePodWrite(inst, w)
		}
	}
}

// store returns what inst's store holds now (nothing once stopped).
func (inst *nodeInstance) store() []string {
	if inst.stopped || inst.failed != "" || !inst.started {
		return nil
	}
	return inst.data.Store
}

// storeChanged updates the coverage counts after a store changed from
// before to after (both sorted), and reports whether they differ.
func (s *Sim) storeChanged(before, after []string) (changed bool) {
	d := s.ds
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case j == len(after) || i < len(before) && before[i] < after[j]:
			d.cover[before[i]]--
			s.recount(before[i])
			i++
		case i == len(before) || after[j] < before[i]:
			d.cover[after[j]]++
			s.recount(after[j])
			j++
		default:
			i++
			j++
			continue
		}
		changed = true
	}
	return changed
}

// recount files pod u under gap or overlap by its count: a live pod held
// by no store is a gap, one held by two or more an overlap. A deleted pod
// still in a store (its DELETED event undelivered) is exported but not
// judged.
func (s *Sim) recount(u string) {
	d := s.ds
	n := d.cover[u]
	if n == 0 {
		delete(d.cover, u)
	}
	_, live := d.pods[u]
	if live && n == 0 {
		d.gap[u] = true
	} else {
		delete(d.gap, u)
	}
	if live && n >= 2 {
		d.overlap[u] = true
	} else {
		delete(d.overlap, u)
	}
}

// NodeCheckpoint is DaemonSet sharding's state at a point: the nodes, the
// KSM pods that serve the pods, and the properties judged on the pods.
type NodeCheckpoint struct {
	Nodes     []NodeState    `json:"nodes"`
	Instances []NodeInstance `json:"instances"`
	Pods      int            `json:"pods"`        // live pods
	Pending   int            `json:"unscheduled"` // of which bound to no node
	Complete  bool           `json:"complete"`
	Disjoint  bool           `json:"disjoint"`
	Gap       UIDSet         `json:"gap"`
	Overlap   UIDSet         `json:"overlap"`
}

// NodeState is one node: the pods bound to it and whether it is tainted.
type NodeState struct {
	Node    string `json:"node"`
	Pods    int    `json:"pods"`
	Tainted bool   `json:"tainted,omitempty"`
}

// NodeInstance is one KSM pod of DaemonSet sharding.
type NodeInstance struct {
	// Node is the node it runs on; "" for the unscheduled pods'
	// Deployment.
	Node     string `json:"node"`
	Pod      string `json:"pod"`
	Flags    string `json:"flags"`
	Selector string `json:"selector"`
	// Started: its process has started (before, Selector is empty as
	// for a KSM pod without --node).
	Started bool `json:"started,omitempty"`
	// Failed says why KSM exited on its flags (it never serves).
	Failed   string `json:"failed,omitempty"`
	Exported int    `json:"exported"`
}

// String renders the instance as reports show it: "node:exported", the
// unscheduled pods' Deployment as "(unscheduled)" or "(all pods)", a
// failed one with "!" for its count.
func (n NodeInstance) String() string {
	who := n.Node
	if who == "" {
		who = "(unscheduled)"
		if !strings.Contains(n.Flags, "track-unscheduled-pods") {
			who = "(all pods)"
		}
	}
	if n.Failed != "" {
		return who + "=exited"
	}
	return who + "=" + strconv.Itoa(n.Exported)
}

// nodeCheckpoint evaluates DaemonSet sharding now: O(nodes + KSM pods +
// violations), the coverage being kept up to date as stores change.
func (s *Sim) nodeCheckpoint() *NodeCheckpoint {
	d := s.ds
	c := &NodeCheckpoint{Pods: len(d.pods)}
	c.Pending = len(d.byNode[""])
	for _, l := range d.lanes {
		if l.node != "" && !l.removed {
			c.Nodes = append(c.Nodes, NodeState{Node: l.node, Pods: len(d.byNode[l.node]), Tainted: l.tainted})
		}
	}
	for _, inst := range d.insts {
		ni := NodeInstance{Node: d.lanes[inst.lane].node, Pod: inst.name, Flags: inst.flags.String(), Started: inst.started, Failed: inst.failed, Exported: len(inst.store())}
		if inst.started && inst.failed == "" {
			ni.Selector = inst.selector.String()
		}
		c.Instances = append(c.Instances, ni)
	}
	c.Gap = sortedSet(d.gap)
	c.Overlap = sortedSet(d.overlap)
	c.Complete, c.Disjoint = c.Gap.Count == 0, c.Overlap.Count == 0
	return c
}

func sortedSet(m map[string]bool) UIDSet {
	u := UIDSet{Count: len(m), UIDs: sortedKeys(m)}
	if u.UIDs == nil {
		u.UIDs = []string{}
	}
	return u
}

// deliverNodeStep is a deliver step from a node lane.
func (s *Sim) deliverNodeStep(i int, st Step) error {
	l := s.ds.laneOf(*st.Node)
	who := "node " + *st.Node
	if *st.Node == "" {
		who = "the unscheduled pods' Deployment"
	}
	for n := range st.Count {
		if len(s.ds.lanes[l].queue) == 0 {
			return &TraceError{Step: i, Field: "count",
				Msg: fmt.Sprintf("the KSM pod of %s ran out of items after %d of %d deliveries", who, n, st.Count)}
		}
		s.advance(s.ds.lanes[l].queue[0].due)
		s.deliverNode(l)
		s.recordPoint()
		if s.err != nil {
			return s.err // the backend failed: nothing after it is trusted
		}
	}
	if s.trace.DataPlane != Explicit {
		s.drainObjects()
	}
	s.observe(st.Op)
	return s.err
}

// startNodeRunner starts a backend's KSM pod for inst and checks that it
// exits exactly when the model says it does (failed: KSM's flag parsing
// refuses the flags).
func (s *Sim) startNodeRunner(inst *nodeInstance, failed error) {
	if inst.runner == nil || s.err != nil {
		return
	}
	st, note, err := inst.runner.Deliver(model.Started{Shard: 0, TotalShards: 1})
	switch {
	case err != nil:
		s.err = fmt.Errorf("%s backend: pod %s: %w", s.backend.Name(), inst.name, err)
	case (st.Phase == model.Crashed) != (failed != nil):
		s.err = fmt.Errorf("%s backend: pod %s: real KSM %s, the model says %v", s.backend.Name(), inst.name, note, failedOrNot(failed))
	}
}

func failedOrNot(err error) string {
	if err != nil {
		return "it exits: " + err.Error()
	}
	return "it starts"
}

// deliverPodsToRunner hands a pods item to the backend's KSM pod and fails
// the replay if its reflector then differs from the model's.
func (s *Sim) deliverPodsToRunner(inst *nodeInstance, ev model.Event) {
	or, ok := inst.runner.(ObjectsRunner)
	if !ok || s.err != nil {
		return
	}
	next, store, err := or.DeliverObjects(ev)
	if err != nil {
		s.err = fmt.Errorf("%s backend: pod %s: %w", s.backend.Name(), inst.name, err)
		return
	}
	if want := inst.store(); next != inst.data.Request || !slices.Equal(store, want) {
		s.err = fmt.Errorf("%s backend: pod %s: the real reflector differs from the model's: it asks %s and holds %d pods, the model asks %s and holds %d",
			s.backend.Name(), inst.name, next, len(store), inst.data.Request, len(want))
	}
}

// writePodsToBackend mirrors a write of the pods into a PodWriter.
func (s *Sim) writePodsToBackend(uids, nodes []string, deleted bool) {
	w, ok := s.backend.(PodWriter)
	if !ok || s.err != nil {
		return
	}
	if err := w.WritePods(uids, nodes, deleted, s.api.ResourceVersion()); err != nil {
		s.err = fmt.Errorf("%s backend: write pods: %w", s.backend.Name(), err)
	}
}

// place records live pod u on node (or unscheduled).
func (d *daemonSetSharding) place(u, node string) {
	d.pods[u] = node
	if d.byNode[node] == nil {
		d.byNode[node] = map[string]bool{}
	}
	d.byNode[node][u] = true
}

// unplace forgets live pod u's place on node.
func (d *daemonSetSharding) unplace(u, node string) {
	delete(d.pods, u)
	delete(d.byNode[node], u)
	if len(d.byNode[node]) == 0 {
		delete(d.byNode, node)
	}
}

// PendingNode returns the number of items waiting in the lane of node's
// KSM pod ("" the unscheduled pods' Deployment), 0 for a node with no
// lane: what a deliver step with "node" can take.
func (s *Sim) PendingNode(node string) int {
	if s.ds == nil {
		return 0
	}
	if l := s.ds.laneOf(node); l >= 0 {
		return len(s.ds.lanes[l].queue)
	}
	return 0
}
