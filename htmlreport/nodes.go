package htmlreport

import (
	"fmt"
	"strings"

	"github.com/shardsim/shardsim/sim"
)

// nodeTableView is the node view of DaemonSet sharding at a run of
// points with the same nodes, KSM pods and verdict: a row per node (per
// KSM pod on it), one for the unscheduled pods, and the totals.
type nodeTableView struct {
	Points  string // data-points: "init", "step 0-step 2"
	Caption string
	Holds   bool
	Rows    []nodeRowView
	Total   nodeRowView
}

// nodeRowView is one row of the node view.
type nodeRowView struct {
	Class    string // "node" or "unscheduled"
	Key      string // data-node: the node, "" for the unscheduled pods
	Node     string
	Pods     string
	KSM      string
	KSMBad   bool
	Flags    string
	Selector string // the field selector, shown as code
	SelNote  string // what is wrong with it, or why there is none
	SelBad   bool
	Exported string
	Cover    string // which KSM pods export the row's pods
	CoverBad bool
}

// nodeTables is the node view of a result: nil unless its points have
// DaemonSet sharding's part.
func nodeTables(ps []point) []nodeTableView {
	var out []nodeTableView
	var keys []string
	var first []point
	for _, p := range ps {
		if p.Nodes == nil {
			continue
		}
		t := nodeTable(p)
		key := fmt.Sprint(t.Rows, t.Total, t.Holds, p.Nodes.Pods, p.Nodes.Pending, p.transient, p.Pending)
		if n := len(out); n > 0 && keys[n-1] == key {
			out[n-1].Points = spanName(first[n-1], p, "-")
			out[n-1].Caption = spanName(first[n-1], p, " to ") + ": " + pointCaption(p)
			continue
		}
		t.Points = stepName(p.Step)
		t.Caption = pointLabel(p) + ": " + pointCaption(p)
		out = append(out, t)
		keys = append(keys, key)
		first = append(first, p)
	}
	return out
}

// pointLabel names a point in the node view: "init (initial)", "step 2 (bind)".
func pointLabel(p point) string { return fmt.Sprintf("%s (%s)", stepName(p.Step), p.Op) }

func spanName(a, b point, sep string) string {
	if sep == "-" {
		return stepName(a.Step) + sep + stepName(b.Step)
	}
	return pointLabel(a) + sep + pointLabel(b)
}

// pointCaption sums up DaemonSet sharding at p.
func pointCaption(p point) string {
	n := p.Nodes
	var b strings.Builder
	if p.transient {
		fmt.Fprintf(&b, "transient, %s pending; ", plural(p.Pending, "item"))
	}
	fmt.Fprintf(&b, "%s, %d unscheduled, on %s; ", plural(n.Pods, "pod"), n.Pending, plural(len(n.Nodes), "node"))
	if n.Complete && n.Disjoint {
		b.WriteString("every pod is exported exactly once")
	} else {
		var what []string
		if n.Gap.Count > 0 {
			what = append(what, fmt.Sprintf("%d exported by no KSM pod", n.Gap.Count))
		}
		if n.Overlap.Count > 0 {
			what = append(what, fmt.Sprintf("%d exported twice or more", n.Overlap.Count))
		}
		b.WriteString("VIOLATED: " + strings.Join(what, ", "))
	}
	return b.String()
}

// nodeTable is the node view at p.
func nodeTable(p point) nodeTableView {
	n := p.Nodes
	t := nodeTableView{Holds: n.Complete && n.Disjoint}
	listed := map[string]bool{}
	for _, st := range n.Nodes {
		listed[st.Node] = true
		t.Rows = append(t.Rows, nodeRows(n, st.Node, st.Node, st.Pods, st.Tainted)...)
	}
	// A KSM pod whose node is gone (its deletion still undelivered).
	for _, in := range n.Instances {
		if in.Node != "" && !listed[in.Node] {
			listed[in.Node] = true
			t.Rows = append(t.Rows, nodeRows(n, in.Node, in.Node+" (deleted)", 0, false)...)
		}
	}
	t.Rows = append(t.Rows, nodeRows(n, "", "(unscheduled pods)", n.Pending, false)...)
	exported := 0
	for _, in := range n.Instances {
		exported += in.Exported
	}
	t.Total = nodeRowView{Class: "total", Node: "all pods", Pods: fmt.Sprint(n.Pods), KSM: plural(len(n.Instances), "KSM pod"),
		Exported: fmt.Sprint(exported)}
	switch {
	case n.Complete && n.Disjoint:
		t.Total.Cover = "each pod exactly once"
	default:
		t.Total.CoverBad = true
		var what []string
		if n.Gap.Count > 0 {
			what = append(what, fmt.Sprintf("GAP: %d exported by no KSM pod", n.Gap.Count))
		}
		if n.Overlap.Count > 0 {
			what = append(what, fmt.Sprintf("OVERLAP: %d exported twice or more", n.Overlap.Count))
		}
		t.Total.Cover = strings.Join(what, "; ")
	}
	return t
}

// nodeRows are the rows of one node ("" the unscheduled pods): one per
// KSM pod on it, or one saying there is none.
func nodeRows(n *sim.NodeCheckpoint, node, name string, pods int, tainted bool) []nodeRowView {
	base := nodeRowView{Class: "node", Key: node, Node: name, Pods: fmt.Sprint(pods)}
	if node == "" {
		base.Class = "unscheduled"
	}
	if tainted {
		base.Node += " (tainted)"
	}
	// Which KSM pods select this node's pods, whichever node they run on.
	var cover []string
	var only sim.NodeInstance // the one KSM pod that selects them
	for _, in := range n.Instances {
		if selects(in, node) {
			cover = append(cover, in.Pod)
			only = in
		}
	}
	switch {
	case pods == 0:
		base.Cover = "no pods"
	case len(cover) == 0:
		base.Cover = fmt.Sprintf("GAP: no KSM pod selects these %s", plural(pods, "pod"))
		base.CoverBad = true
	case len(cover) == 1 && only.Node == node && instStatus(only) == instServing && only.Exported != pods:
		// The node's own KSM pod, whose store is not (yet) what its
		// selector selects: items undelivered at a transient point.
		base.Cover = fmt.Sprintf("%s, whose store holds %d", cover[0], only.Exported)
		base.CoverBad = true
	case len(cover) == 1:
		base.Cover = cover[0]
	default:
		base.Cover = fmt.Sprintf("OVERLAP: %d KSM pods select them: %s", len(cover), strings.Join(cover, ", "))
		base.CoverBad = true
	}
	var rows []nodeRowView
	for _, in := range n.Instances {
		if in.Node != node {
			continue
		}
		r := base
		r.KSM, r.Flags, r.Exported = in.Pod, orNone(in.Flags), fmt.Sprint(in.Exported)
		switch instStatus(in) {
		case instExited:
			r.KSMBad, r.SelBad = true, true
			r.SelNote = "none: KSM exited at start (" + in.Failed + ")"
			r.Exported = "-"
		case instStarting:
			r.SelNote = "none yet: not started"
		case instAll:
			r.SelNote = "none: it exports every pod"
			r.SelBad = true
		case instWrong:
			r.Selector = in.Selector
			r.SelBad = true
			r.SelNote = fmt.Sprintf("does not select %s (want %s)", placeName(node), expectedSelector(node))
		default:
			r.Selector = in.Selector
		}
		rows = append(rows, r)
	}
	if len(rows) > 0 {
		return rows
	}
	r := base
	r.KSM, r.Flags, r.Exported = "none", "-", "-"
	switch {
	case tainted:
		r.KSM, r.KSMBad = "none: the taint evicted it", true
	case node == "":
		r.KSM = "none: no KSM pod tracks the unscheduled pods"
		r.KSMBad = pods > 0
	default:
		r.KSMBad = true
	}
	return []nodeRowView{r}
}
