package htmlreport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Kinds of lanes: a pod ordinal of autosharding, a static lane (a
// Deployment's replica slot), a DaemonSet sharding KSM pod slot (a node,
// or the unscheduled pods' Deployment).
const (
	laneOrdinal = iota
	laneStatic
	laneNode
)

// groupSpec is a group of lanes and the bands that judge them: one per
// resource (mixed traces have two).
type groupSpec struct {
	kind        int
	head, title string // the group's header; empty when it is the only group
	lanes       []laneSpec
	bands       []bandSpec
}

// laneSpec is one lane: how it is labelled, what it shows at a point and
// which event-log entries are its.
type laneSpec struct {
	view         laneView
	who          string // how hover texts name it: "pod 0", "ksm-shard-0", "node node-a"
	title        string // the lane's own hover text
	incarnations string // what the names after the title are
	cell         func(point) cell
	owns         func(sim.LogEntry) bool
	glyph        func(sim.LogEntry) string
}

// bandSpec is a gap or overlap band.
type bandSpec struct {
	key, name, class string
	noun, what       string
	// set is the band's objects at a point, out of total; ok is false
	// where the point has none of its resource.
	set func(point) (set sim.UIDSet, total int, ok bool)
}

// groups lays out the lanes of a result by its mode.
func groups(res *sim.Result, ps []point) []groupSpec {
	switch res.Mode {
	case sim.ModeStatic:
		return []groupSpec{{kind: laneStatic, lanes: staticLanes(res, ps), bands: objectBands("")}}
	case sim.ModeDaemonSet:
		return []groupSpec{{kind: laneNode, lanes: nodeLanes(res, ps), bands: podBands("", "")}}
	case sim.ModeMixed:
		return []groupSpec{
			{kind: laneOrdinal, head: "configmaps — autosharding", lanes: ordinalLanes(res, ps), bands: objectBands(""),
				title: "ConfigMaps, sharded by autosharding: one lane per StatefulSet ordinal; the gap and overlap bands count ConfigMaps"},
			{kind: laneNode, head: "pods — DaemonSet sharding", lanes: nodeLanes(res, ps), bands: podBands("pod-", "pod "),
				title: "Pods, sharded by node: one lane per node's KSM pod and one for the unscheduled pods' Deployment; the pod gap and pod overlap bands count pods"},
		}
	}
	return []groupSpec{{kind: laneOrdinal, lanes: ordinalLanes(res, ps), bands: objectBands("")}}
}

// objectBands are the gap and overlap bands of the sharded objects
// (autosharding, static sharding; mixed: the ConfigMaps).
func objectBands(prefix string) []bandSpec {
	return []bandSpec{
		{key: prefix + "gap", name: prefix + "gap", class: "gap", noun: "object", what: "exported by no pod",
			set: func(p point) (sim.UIDSet, int, bool) { return p.Gap, p.Objects, true }},
		{key: prefix + "overlap", name: prefix + "overlap", class: "overlap", noun: "object", what: "exported by two or more pods",
			set: func(p point) (sim.UIDSet, int, bool) { return p.Overlap, p.Objects, true }},
	}
}

// podBands are the gap and overlap bands of the pods DaemonSet sharding
// shards.
func podBands(key, name string) []bandSpec {
	nodes := func(p point, overlap bool) (sim.UIDSet, int, bool) {
		if p.Nodes == nil {
			return sim.UIDSet{}, 0, false
		}
		if overlap {
			return p.Nodes.Overlap, p.Nodes.Pods, true
		}
		return p.Nodes.Gap, p.Nodes.Pods, true
	}
	return []bandSpec{
		{key: key + "gap", name: name + "gap", class: "gap", noun: "pod", what: "exported by no KSM pod",
			set: func(p point) (sim.UIDSet, int, bool) { return nodes(p, false) }},
		{key: key + "overlap", name: name + "overlap", class: "overlap", noun: "pod", what: "exported by two or more KSM pods",
			set: func(p point) (sim.UIDSet, int, bool) { return nodes(p, true) }},
	}
}

// ordinalLanes are autosharding's lanes: one per StatefulSet ordinal.
func ordinalLanes(res *sim.Result, ps []point) []laneSpec {
	var out []laneSpec
	for _, o := range ordinals(res, ps) {
		who := fmt.Sprintf("pod %d", o)
		out = append(out, laneSpec{
			view: laneView{Class: "lane", Pod: o, Label: who},
			who:  who, title: who, incarnations: "incarnations",
			cell:  func(p point) cell { return laneCell(o, p) },
			owns:  func(e sim.LogEntry) bool { return e.Pod == o },
			glyph: glyphKind,
		})
	}
	return out
}

func laneCell(ordinal int, p point) cell {
	var configs []sim.PodConfig
	for _, pc := range p.Pods {
		if pc.Pod == ordinal {
			configs = append(configs, pc)
		}
	}
	if len(configs) == 0 {
		return cell{}
	}
	labels := make([]string, len(configs))
	serving, agree := false, true
	for i, pc := range configs {
		labels[i] = fmt.Sprintf("%d/%d", pc.Shard, pc.Total)
		if pc.Total > 0 {
			serving = true
		}
		if pc.Total != p.Replicas || int(pc.Shard) != ordinal {
			agree = false
		}
	}
	c := cell{label: strings.Join(labels, " + "), replicas: p.Replicas, present: true}
	switch {
	case !serving:
		c.class = "seg idle"
		c.title = "serves nothing (0/0): it has not received its StatefulSet from the informer yet"
	case agree && len(configs) == 1:
		c.class = "seg agree"
		c.title = fmt.Sprintf("serves shard %d of %d, in agreement with spec.replicas=%d", configs[0].Shard, configs[0].Total, p.Replicas)
	default:
		c.class = "seg stale"
		var what []string
		for _, pc := range configs {
			if pc.Total == 0 {
				what = append(what, "nothing (0/0, a new incarnation starting)")
				continue
			}
			what = append(what, fmt.Sprintf("shard %d of %d", pc.Shard, pc.Total))
		}
		c.title = fmt.Sprintf("serves %s, but spec.replicas=%d: it disagrees with the StatefulSet (stale)", strings.Join(what, " and "), p.Replicas)
		if len(configs) > 1 {
			c.title += "; two incarnations of this ordinal are running at once"
		}
	}
	exported := 0
	for _, pc := range configs {
		exported += pc.Exported
	}
	c.title += fmt.Sprintf("; exports %d objects", exported)
	return c
}

// staticLanes are static sharding's lanes: one per Deployment replica
// slot, labelled by its name (PodConfig.Name). A lane only the event log
// mentions has no name to show: "lane N".
func staticLanes(res *sim.Result, ps []point) []laneSpec {
	names := map[int]string{}
	for _, p := range ps {
		for _, pc := range p.Pods {
			if pc.Name != "" {
				names[pc.Pod] = pc.Name
			}
		}
	}
	var out []laneSpec
	for _, o := range ordinals(res, ps) {
		name, ok := names[o]
		title := fmt.Sprintf("lane %d", o)
		if !ok {
			name = title
		} else {
			dep, slot, extra := strings.Cut(name, "#")
			if !extra {
				slot = "0"
			}
			title = fmt.Sprintf("Deployment %s, replica slot %s (lane %d)", dep, slot, o)
		}
		out = append(out, laneSpec{
			view: laneView{Class: "lane", Pod: o, Name: names[o], Label: cutLabel(name)},
			who:  name, title: title, incarnations: "pods",
			cell:  func(p point) cell { return staticCell(o, p) },
			owns:  func(e sim.LogEntry) bool { return e.Pod == o },
			glyph: glyphKind,
		})
	}
	return out
}

// staticCell is what static lane shows at p. Static pods follow no
// StatefulSet: a pod is in conflict when its shard is out of the range of
// its --total-shards, when another pod runs another --total-shards, or
// when another pod runs the same shard; otherwise it agrees with the
// others (a shard run by no pod shows in the gap band).
func staticCell(lane int, p point) cell {
	var configs []sim.PodConfig
	for _, pc := range p.Pods {
		if pc.Pod == lane {
			configs = append(configs, pc)
		}
	}
	if len(configs) == 0 {
		return cell{}
	}
	labels := make([]string, len(configs))
	var what, conflicts []string
	serving := false
	exported := 0
	for i, pc := range configs {
		labels[i] = fmt.Sprintf("%d/%d", pc.Shard, pc.Total)
		exported += pc.Exported
		if pc.Total == 0 {
			what = append(what, "nothing (0/0)")
			continue
		}
		serving = true
		what = append(what, fmt.Sprintf("shard %d of %d (--shard=%d --total-shards=%d)", pc.Shard, pc.Total, pc.Shard, pc.Total))
		conflicts = append(conflicts, staticConflicts(pc, p.Pods)...)
	}
	// No replicas: a static pod's cell does not depend on them.
	c := cell{label: strings.Join(labels, " + "), present: true}
	switch {
	case !serving:
		c.class = "seg idle"
		c.title = "serves nothing (0/0)"
	case len(conflicts) == 0 && len(configs) == 1:
		c.class = "seg agree"
		c.title = "serves " + what[0] + ", in agreement with the other pods' shards"
	default:
		c.class = "seg stale"
		c.title = "serves " + strings.Join(what, " and ")
		if len(configs) > 1 {
			conflicts = append(conflicts, "two pods of this lane are running at once (a rollout)")
		}
		c.title += ": conflict: " + strings.Join(slices.Compact(conflicts), "; ")
	}
	c.title += fmt.Sprintf("; exports %d objects", exported)
	return c
}

// staticConflicts says why pc does not partition the objects with the
// other serving pods of its point.
func staticConflicts(pc sim.PodConfig, pods []sim.PodConfig) []string {
	var out []string
	if pc.Shard < 0 || int(pc.Shard) >= pc.Total {
		out = append(out, fmt.Sprintf("shard %d is out of the range of --total-shards=%d: it keeps no object", pc.Shard, pc.Total))
	}
	for _, o := range pods {
		if o == pc || o.Total == 0 {
			continue
		}
		who := o.Name
		if who == "" {
			who = fmt.Sprintf("lane %d", o.Pod)
		}
		switch {
		case o.Total != pc.Total:
			out = append(out, fmt.Sprintf("%s runs --total-shards=%d", who, o.Total))
		case o.Shard == pc.Shard:
			out = append(out, fmt.Sprintf("%s runs the same shard", who))
		}
	}
	return out
}

// nodeLanes are DaemonSet sharding's lanes: one per node (its KSM pod),
// in the order the nodes appear, then one for the unscheduled pods'
// Deployment when the trace has one.
func nodeLanes(res *sim.Result, ps []point) []laneSpec {
	var nodes []string
	laneOf := map[string]string{} // KSM pod name -> its node
	unsched := ""                 // the Deployment's label: (unscheduled) or (all pods)
	hasUnsched := false
	for _, p := range ps {
		if p.Nodes == nil {
			continue
		}
		for _, n := range p.Nodes.Nodes {
			if !slices.Contains(nodes, n.Node) {
				nodes = append(nodes, n.Node)
			}
		}
		for _, in := range p.Nodes.Instances {
			laneOf[in.Pod] = in.Node
			if in.Node == "" {
				if !hasUnsched {
					unsched = unscheduledLabel(in)
				}
				hasUnsched = true
				continue
			}
			if !slices.Contains(nodes, in.Node) {
				nodes = append(nodes, in.Node)
			}
		}
	}
	glyph := func(e sim.LogEntry) string {
		if exited(e) {
			return glyphExit
		}
		switch e.Kind {
		case sim.LogStarted, sim.LogRestarted:
			return glyphStart
		case sim.LogStopped:
			return glyphStop
		}
		return ""
	}
	lane := func(node, label, who, title string) laneSpec {
		return laneSpec{
			view: laneView{Class: "lane nodelane", NodeLane: true, Node: node, Label: cutLabel(label)},
			who:  who, title: title, incarnations: "KSM pods",
			cell: func(p point) cell { return nodeCell(node, p) },
			owns: func(e sim.LogEntry) bool {
				n, ok := laneOf[e.PodUID]
				return isNodeEntry(e) && ok && n == node
			},
			glyph: glyph,
		}
	}
	var out []laneSpec
	for _, n := range nodes {
		out = append(out, lane(n, n, "node "+n,
			fmt.Sprintf("node %s: the DaemonSet's KSM pod there (--node=%s)", n, n)))
	}
	if hasUnsched {
		title := "the unscheduled pods' Deployment (--track-unscheduled-pods): one KSM pod for the pods bound to no node"
		if unsched == "(all pods)" {
			title = "a Deployment's KSM pod without --node: it exports every pod"
		}
		out = append(out, lane("", unsched, unsched, title))
	}
	return out
}

// unscheduledLabel labels the lane of the Deployment that serves the
// unscheduled pods as the text report does.
func unscheduledLabel(in sim.NodeInstance) string {
	if strings.Contains(in.Flags, "track-unscheduled-pods") {
		return "(unscheduled)"
	}
	return "(all pods)"
}

// What a DaemonSet sharding KSM pod is doing.
const (
	instServing  = iota // its field selector selects its node (or the unscheduled pods)
	instWrong           // its field selector does not select its node
	instAll             // no field selector: it exports every pod
	instStarting        // not started yet
	instExited          // KSM exited on its flags: it never serves
)

// instStatus classifies a KSM pod of DaemonSet sharding.
func instStatus(in sim.NodeInstance) int {
	switch {
	case in.Failed != "":
		return instExited
	case in.Selector == "":
		// NodeInstance has a selector once started, unless KSM runs
		// without one (a Deployment without --node, or a release that
		// ignores --node): then it exports something.
		if (in.Node == "" && !strings.Contains(in.Flags, "track-unscheduled-pods")) || in.Exported > 0 {
			return instAll
		}
		return instStarting
	}
	sel, err := model.ParseNodeSelector(in.Selector)
	if err != nil || !sel.Matches(in.Node) {
		return instWrong
	}
	return instServing
}

// selects reports whether a KSM pod exports the pods bound to node ("":
// the unscheduled ones), as its field selector says.
func selects(in sim.NodeInstance, node string) bool {
	switch instStatus(in) {
	case instExited, instStarting:
		return false
	case instAll:
		return true
	}
	sel, err := model.ParseNodeSelector(in.Selector)
	return err == nil && sel.Matches(node)
}

// nodeState returns node's state at a point.
func nodeState(n *sim.NodeCheckpoint, node string) (sim.NodeState, bool) {
	i := slices.IndexFunc(n.Nodes, func(s sim.NodeState) bool { return s.Node == node })
	if i < 0 {
		return sim.NodeState{}, false
	}
	return n.Nodes[i], true
}

// expectedSelector is the field selector KSM's pod on node should watch.
func expectedSelector(node string) string { return "spec.nodeName=" + node }

// nodeCell is what the lane of node (or of the unscheduled pods'
// Deployment) shows at p.
func nodeCell(node string, p point) cell {
	n := p.Nodes
	if n == nil {
		return cell{}
	}
	var insts []sim.NodeInstance
	for _, in := range n.Instances {
		if in.Node == node {
			insts = append(insts, in)
		}
	}
	st, onNode := nodeState(n, node)
	bound := plural(st.Pods, "pod")
	if node == "" {
		bound = plural(n.Pending, "unscheduled pod")
	}
	if len(insts) == 0 {
		if node == "" || !onNode {
			return cell{}
		}
		c := cell{present: true, class: "seg absent", label: "no KSM pod",
			title: fmt.Sprintf("no KSM pod runs on this node: its %s are exported by no node's KSM pod", bound)}
		if st.Tainted {
			c.label = "tainted: none"
			c.title = fmt.Sprintf("tainted (NoExecute): the DaemonSet's KSM pod was evicted and is not replaced; the node's %s are exported by no node's KSM pod", bound)
		}
		return c
	}
	labels := make([]string, len(insts))
	var titles []string
	status := map[int]bool{}
	for i, in := range insts {
		s := instStatus(in)
		status[s] = true
		t := fmt.Sprintf("KSM pod %s (%s)", in.Pod, orNone(in.Flags))
		switch s {
		case instExited:
			labels[i] = "exited"
			t += fmt.Sprintf(" exited at start: %s; it never serves", in.Failed)
		case instStarting:
			labels[i] = "starting"
			t += " has not started yet: it serves nothing"
		case instAll:
			labels[i] = fmt.Sprintf("all · %d", in.Exported)
			t += fmt.Sprintf(" has no field selector: it exports every pod (%d)", in.Exported)
		case instWrong:
			labels[i] = fmt.Sprintf("wrong sel · %d", in.Exported)
			want := expectedSelector(node)
			t += fmt.Sprintf(" watches %s, which does not select %s (want %s); it exports %d", in.Selector, placeName(node), want, in.Exported)
		default:
			labels[i] = plural(in.Exported, "pod")
			t += fmt.Sprintf(" watches %s; it exports %d", in.Selector, in.Exported)
		}
		titles = append(titles, t)
	}
	c := cell{label: strings.Join(labels, " + "), present: true,
		title: fmt.Sprintf("%s; %s there", strings.Join(titles, "; "), bound)}
	if node != "" && st.Tainted {
		c.title += "; the node is tainted"
	}
	switch {
	case status[instExited]:
		c.class = "seg failed"
	case status[instWrong] || len(insts) > 1:
		c.class = "seg stale"
		if len(insts) > 1 {
			c.title += "; two KSM pods serve this lane at once"
		}
	case status[instAll]:
		c.class = "seg wide"
	case status[instStarting]:
		c.class = "seg idle"
	default:
		c.class = "seg agree"
	}
	return c
}

// placeName names a node in sentences ("" the unscheduled pods).
func placeName(node string) string {
	if node == "" {
		return "the unscheduled pods"
	}
	return "node " + node
}
