package htmlreport

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/shardsim/shardsim/sim"
)

// ExampleUIDs is how many UIDs a gap or overlap band names when hovered.
const ExampleUIDs = 5

// maxTitleLines caps the event-log lines quoted in one hover text.
const maxTitleLines = 12

// Geometry of the timeline, in SVG user units (CSS pixels).
const (
	laneLabelW = 92  // left margin holding "pod N"
	colW       = 132 // one point of the replay
	markerY    = 66  // centre of the checkpoint markers
	lanesTop   = 84  // first lane
	laneH      = 34
	segH       = 24
	segInset   = 4 // horizontal gap between a segment and its column edge
	bandH      = 26
	bandGap    = 10 // between the last lane and the bands
	glyphW     = 14 // one event marker
)

// Write renders rep as a self-contained HTML page. The event log of each
// result (Result.Log, which sim.Replay always fills) supplies the pod
// start, stop and restart markers; without it the timeline has none.
func Write(w io.Writer, rep *sim.Report) error {
	if rep == nil {
		return errors.New("htmlreport: nil report")
	}
	return pageTemplate.Execute(w, newPage(rep))
}

type pageView struct {
	Trace       string
	Description string
	Schedule    string
	Size        string // "1000 objects", "90 pods", "500 objects · 80 pods"
	Holds       bool
	Windows     bool // some result has transient windows (the drift band)
	// Legends to show: autosharding lanes (also with no result at all),
	// static sharding lanes, DaemonSet sharding lanes.
	Auto, Static, Nodes bool
	Exits               bool // a KSM process exited at start-up (the exit marker)
	Timed               bool // some result has a Timeline: the time axis legend
	Alerts              bool // some result has alerts
	Reducers            []reducerView
}

type reducerView struct {
	ID      string
	Name    string
	Models  string
	Mode    string // a sentence on the sharding mode; empty for autosharding
	Verdict string
	Holds   bool
	SVG     svgView
	// NodeTables is the node view of DaemonSet sharding: one table per
	// run of points with the same nodes and KSM pods.
	NodeTables []nodeTableView
	Table      tableView
	// Impact is the impact over simulated time (nil: no Timeline).
	Impact *impactView
	Log    []string
}

type svgView struct {
	Width, Height int
	Label         string
	Columns       []colView
	// Rows are the lanes and bands from top to bottom, each group of
	// lanes (mixed traces: one per resource) after its header.
	Rows   []svgRow
	LeftX  int // x of the lane labels
	RightX int // right end of the last column
	// Timed: the x axis is simulated time (Axis), not one column per
	// point.
	Timed bool
	Axis  *axisView
}

// svgRow is one row of the timeline below the column heads: exactly one
// field is set.
type svgRow struct {
	Head    *headView
	Lane    *laneView
	Band    *bandRowView
	Alert   *alertRowView
	Scrapes *scrapeRowView
}

// headView heads a group of lanes: the resource and how it is sharded.
type headView struct {
	Y, LineY int
	Text     string
	Title    string
}

type colView struct {
	X, CX, W          int
	Step, Op, Replica string
	Class             string // checkpoint marker: holds, violated, transient-holds, transient-violated
	Title             string
	// On a time axis: X and W are the step's run (from its op to its
	// point; W 0 for the initial point), CX the point, LabelY the row of
	// its label.
	Timed          bool
	LabelX, LabelY int
	RunTitle       string
}

type laneView struct {
	Class    string // "lane"; DaemonSet sharding: "lane nodelane"
	Pod      int    // ordinal or lane index (data-pod)
	Name     string // a static lane's name (data-lane)
	NodeLane bool   // a DaemonSet sharding lane: data-node, not data-pod
	Node     string // its node; "" the unscheduled pods' Deployment
	Y        int    // top of the lane
	MidY     int
	Label    string
	Title    string
	Segments []boxView
	Markers  []markerView
}

// boxView is a labelled rectangle: a lane segment or a band cell.
type boxView struct {
	X, Y, W, H int
	TX, TY     int // label position (centre, baseline)
	Class      string
	Label      string
	Title      string
}

type markerView struct {
	X, Y   int
	BoxX   int // background box, relative to X
	BoxW   int
	Glyphs []glyphView
	Title  string
}

type glyphView struct {
	Kind string // stop, start, lost
	DX   int
}

type bandRowView struct {
	Key   string // data-band
	Name  string
	Y     int
	TY    int
	Cells []boxView
	Timed bool     // cells over simulated time
	Worst *boxView // on a time axis: the worst window, outlined
}

// tableView is the table of checkpoints: its columns depend on the mode.
type tableView struct {
	Head []string
	Rows [][]tdView
}

// tdView is one table cell; Bad marks a violated property.
type tdView struct {
	Text string
	Bad  bool
}

// point is one column of the timeline: a checkpoint or a transient entry.
type point struct {
	sim.Checkpoint
	transient bool
}

func newPage(rep *sim.Report) pageView {
	p := pageView{
		Trace: rep.Trace, Description: rep.Description,
		Schedule: rep.Schedule, Size: pageSize(rep), Holds: rep.Holds(),
	}
	for _, res := range rep.Results {
		if res == nil {
			continue
		}
		switch res.Mode {
		case sim.ModeStatic:
			p.Static = true
		case sim.ModeDaemonSet:
			p.Nodes = true
		case sim.ModeMixed:
			p.Auto, p.Nodes = true, true
		default:
			p.Auto = true
		}
		p.Exits = p.Exits || slices.ContainsFunc(res.Log, exited)
		p.Reducers = append(p.Reducers, newReducer(res))
		p.Windows = p.Windows || len(res.Windows) > 0
		if res.Timeline != nil {
			p.Timed = true
			p.Alerts = p.Alerts || len(res.Timeline.Alerts) > 0
		}
	}
	if !p.Static && !p.Nodes {
		p.Auto = true
	}
	return p
}

// pageSize says how many objects the trace shards: "1000 objects", with
// DaemonSet sharding the pods ("90 pods"; mixed: "500 objects · 80 pods").
func pageSize(rep *sim.Report) string {
	size := fmt.Sprintf("%d objects", rep.Objects)
	for _, res := range rep.Results {
		if res == nil || len(res.Checkpoints) == 0 || res.Checkpoints[0].Nodes == nil {
			continue
		}
		pods := plural(res.Checkpoints[0].Nodes.Pods, "pod")
		switch res.Mode {
		case sim.ModeDaemonSet:
			return pods
		case sim.ModeMixed:
			return size + " · " + pods
		}
	}
	return size
}

// points merges the checkpoints and the transient entries of res in step
// order, the initial point first.
func points(res *sim.Result) []point {
	var ps []point
	for _, c := range res.Checkpoints {
		ps = append(ps, point{Checkpoint: c})
	}
	for _, c := range res.Transient {
		ps = append(ps, point{Checkpoint: c, transient: true})
	}
	slices.SortStableFunc(ps, func(a, b point) int { return a.Step - b.Step })
	return ps
}

// ordinals lists every pod ordinal (static sharding: lane) the result
// mentions: in a checkpoint, a transient entry or the event log.
func ordinals(res *sim.Result, ps []point) []int {
	seen := map[int]bool{}
	for _, p := range ps {
		for _, pc := range p.Pods {
			seen[pc.Pod] = true
		}
	}
	for _, e := range res.Log {
		if e.Pod >= 0 {
			seen[e.Pod] = true
		}
	}
	out := make([]int, 0, len(seen))
	for o := range seen {
		out = append(out, o)
	}
	slices.Sort(out)
	return out
}

func stepName(step int) string {
	if step < 0 {
		return "init"
	}
	return "step " + strconv.Itoa(step)
}

// where names a point in hover texts: "after step 1 (scale)".
func where(p point) string {
	if p.Step < 0 {
		return "at the start (initial)"
	}
	return fmt.Sprintf("after step %d (%s)", p.Step, p.Op)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// plural renders a count and its noun: "1 pod", "30 pods".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Sentences on the sharding modes other than autosharding, under each
// reducer's heading.
const (
	modeStatic = "Static sharding: one lane per KSM pod of a Deployment run with --shard and --total-shards, named by its Deployment (name#slot beyond the first replica); \"replicas\" sums the Deployments' replicas."
	modeNodes  = "DaemonSet sharding of pods: one lane per node's KSM pod (--node, watching its pods through the field selector spec.nodeName=<node>) and, when the trace has one, one for the unscheduled pods' Deployment; the node view below the timeline says which KSM pod serves the pods of each node."
	modeMixed  = "Mixed sharding: configmaps by autosharding (one lane per StatefulSet ordinal), pods by DaemonSet sharding (one lane per node's KSM pod); a point holds when both resources are exported exactly once. The node view below the timeline says which KSM pod serves the pods of each node."
)

func newReducer(res *sim.Result) reducerView {
	ps := points(res)
	rv := reducerView{
		ID:      "r-" + res.Reducer,
		Name:    res.Reducer,
		Models:  res.Models,
		Verdict: sim.Verdict(res),
		Holds:   res.Holds,
	}
	switch res.Mode {
	case sim.ModeStatic:
		rv.Mode = modeStatic
	case sim.ModeDaemonSet:
		rv.Mode = modeNodes
	case sim.ModeMixed:
		rv.Mode = modeMixed
	}
	for _, e := range res.Log {
		rv.Log = append(rv.Log, logLine(e))
	}
	rv.Table = newTable(res.Mode, ps)
	if res.Timeline != nil {
		addTimes(&rv.Table, ps)
	}
	if res.Timeline != nil {
		rv.SVG = newTimedSVG(res, ps, groups(res, ps))
		rv.Impact = newImpact(res.Timeline)
	} else {
		rv.SVG = newSVG(res, ps, groups(res, ps))
	}
	rv.NodeTables = nodeTables(ps)
	return rv
}

// logLine renders an event-log entry as the text report does, except a
// DaemonSet sharding KSM pod's entries (Pod -1 with the pod's name), which
// it names as the KSM pod's rather than the cluster's.
func logLine(e sim.LogEntry) string {
	if !isNodeEntry(e) {
		return e.String()
	}
	s := fmt.Sprintf("[%s %s] KSM pod %s: %s", stepName(e.Step), e.At, e.PodUID, e.Event)
	if e.Outcome != "" {
		s += " => " + e.Outcome
	}
	return s
}

// isNodeEntry reports whether e is an item a DaemonSet sharding KSM pod
// processed: no ordinal, but the pod's name.
func isNodeEntry(e sim.LogEntry) bool { return e.Pod < 0 && e.PodUID != "" }

// newTable is the table of checkpoints, with the columns of the mode:
// autosharding and static sharding a row of pods, DaemonSet sharding its
// nodes and KSM pods, mixed sharding both.
func newTable(mode string, ps []point) tableView {
	var t tableView
	const podsHead = "pods (ordinal:shard/total=exported)"
	switch mode {
	case sim.ModeStatic:
		t.Head = []string{"step", "op", "kind", "replicas", "pods (deployment:shard/total=exported)", "complete", "disjoint", "gap", "overlap", "objects", "healing"}
	case sim.ModeDaemonSet:
		t.Head = []string{"step", "op", "kind", "nodes", "KSM pods (node=exported)", "pods (unscheduled)", "complete", "disjoint", "gap", "overlap", "healing"}
	case sim.ModeMixed:
		t.Head = []string{"step", "op", "kind", "replicas", podsHead, "configmap gap", "configmap overlap", "configmaps",
			"nodes", "KSM pods (node=exported)", "pods (unscheduled)", "pod gap", "pod overlap", "complete", "disjoint", "healing"}
	default:
		t.Head = []string{"step", "op", "kind", "replicas", podsHead, "complete", "disjoint", "gap", "overlap", "objects", "healing"}
	}
	for _, p := range ps {
		kind := "checkpoint"
		if p.transient {
			kind = fmt.Sprintf("transient (%d pending)", p.Pending)
		}
		step := "init"
		if p.Step >= 0 {
			step = strconv.Itoa(p.Step)
		}
		td := func(s string) tdView { return tdView{Text: s} }
		num := func(n int) tdView { return tdView{Text: strconv.Itoa(n)} }
		verdict := func(ok bool) tdView { return tdView{Text: yesNo(ok), Bad: !ok} }
		row := []tdView{td(step), td(p.Op), td(kind)}
		n := p.Nodes
		if n == nil {
			n = &sim.NodeCheckpoint{}
		}
		nodes := []tdView{num(len(n.Nodes)), td(orNone(instancesString(n.Instances))), td(fmt.Sprintf("%d (%d)", n.Pods, n.Pending))}
		switch mode {
		case sim.ModeDaemonSet:
			row = append(row, nodes...)
			row = append(row, verdict(p.Complete), verdict(p.Disjoint), num(n.Gap.Count), num(n.Overlap.Count))
		case sim.ModeMixed:
			row = append(row, num(p.Replicas), td(podsString(p.Pods)), num(p.Gap.Count), num(p.Overlap.Count), num(p.Objects))
			row = append(row, nodes...)
			row = append(row, num(n.Gap.Count), num(n.Overlap.Count), verdict(p.Complete), verdict(p.Disjoint))
		default:
			row = append(row, num(p.Replicas), td(podsString(p.Pods)), verdict(p.Complete), verdict(p.Disjoint),
				num(p.Gap.Count), num(p.Overlap.Count), num(p.Objects))
		}
		row = append(row, td(orDash(p.Healing)))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// addTimes adds the simulated time of each point to the table of
// checkpoints, after its op: "at".
func addTimes(t *tableView, ps []point) {
	t.Head = slices.Insert(slices.Clone(t.Head), 2, "at")
	for i, p := range ps {
		t.Rows[i] = slices.Insert(t.Rows[i], 2, tdView{Text: p.At.String()})
	}
}

// podsString renders pods as the text report does:
// "ordinal:shard/total=exported", the lane's name for a static pod.
func podsString(pods []sim.PodConfig) string {
	parts := make([]string, len(pods))
	for i, pc := range pods {
		parts[i] = pc.String()
	}
	return strings.Join(parts, " ")
}

// instancesString renders DaemonSet sharding's KSM pods as the text
// report does: "node-a=36 (unscheduled)=exited".
func instancesString(insts []sim.NodeInstance) string {
	parts := make([]string, len(insts))
	for i, in := range insts {
		parts[i] = in.String()
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell is what one lane shows at one point.
type cell struct {
	label, class, title string
	replicas            int
	present             bool
}

// Kinds of pod events the timeline marks, recognised in the event log.
const (
	glyphStop  = "stop"
	glyphStart = "start"
	glyphLost  = "lost"
	glyphExit  = "exit" // DaemonSet sharding: KSM exited on its flags
)

// exited reports whether KSM exited on e: a start-up that failed (its
// flags, its GET of the StatefulSet).
func exited(e sim.LogEntry) bool { return strings.HasPrefix(e.Outcome, "exited") }

// glyphKind classifies one event-log entry of a pod.
func glyphKind(e sim.LogEntry) string {
	if exited(e) {
		return glyphExit
	}
	switch e.Kind {
	case sim.LogCreated, sim.LogRestarted:
		return glyphStart
	case sim.LogStopped, sim.LogDeletionQueued:
		return glyphStop
	case sim.LogWatchDeleted, sim.LogListFailed:
		return glyphLost
	}
	return ""
}

// labelWidth is the left margin that holds the lane and band labels: at
// least laneLabelW, wider for long names (static lanes, nodes), up to
// maxLabelChars characters.
func labelWidth(labels []string) int {
	w := laneLabelW
	for _, l := range labels {
		// room for the label, and for half an event marker at the
		// first column's edge
		w = max(w, 24+labelCharW*len([]rune(l)))
	}
	return w
}

// Long lane labels are cut to maxLabelChars characters (the whole name
// is in the hover text).
const (
	maxLabelChars = 32
	labelCharW    = 7 // a character of a 13px label, roughly
	headH         = 24
	groupGap      = 8
)

func cutLabel(s string) string {
	r := []rune(s)
	if len(r) <= maxLabelChars {
		return s
	}
	return string(r[:maxLabelChars-1]) + "…"
}

func newSVG(res *sim.Result, ps []point, groups []groupSpec) svgView {
	var labels []string
	lanes := 0
	for _, g := range groups {
		for _, l := range g.lanes {
			labels = append(labels, l.view.Label)
		}
		for _, b := range g.bands {
			labels = append(labels, b.name)
		}
		lanes += len(g.lanes)
	}
	labelW := labelWidth(labels)
	v := svgView{
		LeftX:  8,
		Width:  labelW + len(ps)*colW + 16,
		Label:  svgLabel(res, len(ps), groups),
		RightX: labelW + len(ps)*colW,
	}
	colOf := map[int]int{} // step -> column
	colX := func(i int) int { return labelW + i*colW }
	byStep := map[int][]sim.LogEntry{}
	for _, e := range res.Log {
		byStep[e.Step] = append(byStep[e.Step], e)
	}
	steps := make([]int, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	slices.Sort(steps)

	for i, p := range ps {
		colOf[p.Step] = i
		c := colView{X: colX(i), CX: colX(i) + colW/2, W: colW, Step: stepName(p.Step), Op: p.Op,
			Replica: replicaLine(res.Mode, p)}
		pointTitle(&c, res.Mode, p, byStep[p.Step], false)
		v.Columns = append(v.Columns, c)
	}

	y := lanesTop
	for gi, g := range groups {
		if g.head != "" {
			v.Rows = append(v.Rows, svgRow{Head: &headView{Y: y + 16, LineY: y + headH - 2, Text: g.head, Title: g.title}})
			y += headH
		}
		for _, spec := range g.lanes {
			lane := newLane(spec, y, ps, steps, byStep, colOf, colX)
			v.Rows = append(v.Rows, svgRow{Lane: &lane})
			y += laneH
		}
		y += bandGap
		for _, b := range g.bands {
			row := newBand(b, ps, y, colX)
			v.Rows = append(v.Rows, svgRow{Band: &row})
			y += bandH
		}
		if gi < len(groups)-1 {
			y += groupGap
		}
	}
	if len(res.Windows) > 0 {
		row := windowRow(res.Windows, ps, y, colX)
		v.Rows = append(v.Rows, svgRow{Band: &row})
		y += bandH
	}
	v.Height = y + 8
	return v
}

// svgLabel is the timeline's accessible name.
func svgLabel(res *sim.Result, points int, groups []groupSpec) string {
	var parts []string
	for _, g := range groups {
		n := len(g.lanes)
		switch g.kind {
		case laneNode:
			parts = append(parts, fmt.Sprintf("%d KSM pod lanes (by node)", n))
		default:
			parts = append(parts, fmt.Sprintf("%d pod lanes", n))
		}
	}
	if len(parts) == 0 {
		parts = []string{"0 pod lanes"}
	}
	return fmt.Sprintf("Timeline of %s: %d points, %s", res.Reducer, points, strings.Join(parts, " and "))
}

// replicaLine is the third line of a column's head.
func replicaLine(mode string, p point) string {
	nodes := 0
	if p.Nodes != nil {
		nodes = len(p.Nodes.Nodes)
	}
	switch mode {
	case sim.ModeDaemonSet:
		return plural(nodes, "node")
	case sim.ModeMixed:
		return fmt.Sprintf("replicas %d · %s", p.Replicas, plural(nodes, "node"))
	}
	return fmt.Sprintf("replicas %d", p.Replicas)
}

// pointSummary is what a column's hover text says of its point.
func pointSummary(mode string, p point) string {
	n := p.Nodes
	if n == nil {
		n = &sim.NodeCheckpoint{}
	}
	nodes := fmt.Sprintf("%s, %s (%d unscheduled)", plural(len(n.Nodes), "node"), plural(n.Pods, "pod"), n.Pending)
	switch mode {
	case sim.ModeStatic:
		return fmt.Sprintf("the Deployments' replicas=%d, %d live objects; complete: %s, disjoint: %s\npods (deployment:shard/total=exported): %s",
			p.Replicas, p.Objects, yesNo(p.Complete), yesNo(p.Disjoint), orNone(podsString(p.Pods)))
	case sim.ModeDaemonSet:
		return fmt.Sprintf("%s; complete: %s, disjoint: %s\nKSM pods (node=exported): %s",
			nodes, yesNo(p.Complete), yesNo(p.Disjoint), orNone(instancesString(n.Instances)))
	case sim.ModeMixed:
		return fmt.Sprintf("configmaps: spec.replicas=%d, %d live objects; pods: %s; complete: %s, disjoint: %s (both resources)\npods (ordinal:shard/total): %s\nKSM pods (node=exported): %s",
			p.Replicas, p.Objects, nodes, yesNo(p.Complete), yesNo(p.Disjoint), orNone(podsString(p.Pods)), orNone(instancesString(n.Instances)))
	}
	return fmt.Sprintf("spec.replicas=%d, %d live objects; complete: %s, disjoint: %s\npods (ordinal:shard/total): %s",
		p.Replicas, p.Objects, yesNo(p.Complete), yesNo(p.Disjoint), orNone(podsString(p.Pods)))
}

// newLane lays out one lane at y: its segments (runs of equal cells) and
// its event markers.
func newLane(spec laneSpec, y int, ps []point, steps []int, byStep map[int][]sim.LogEntry, colOf map[int]int, colX func(int) int) laneView {
	lane := spec.view
	lane.Y, lane.MidY = y, y+laneH/2
	marked := map[int]bool{} // columns with an event marker
	// Event markers: at the left edge of the column whose step they
	// happened in (between the previous point and this one).
	var uids []string
	for _, s := range steps {
		var lines []string
		kinds := map[string]bool{}
		for _, e := range byStep[s] {
			if !spec.owns(e) {
				continue
			}
			if e.PodUID != "" && !slices.Contains(uids, e.PodUID) {
				uids = append(uids, e.PodUID)
			}
			line := e.Event
			if e.PodUID != "" {
				line = e.PodUID + ": " + line
			}
			if e.Outcome != "" {
				line += " => " + e.Outcome
			}
			lines = append(lines, line)
			if k := spec.glyph(e); k != "" {
				kinds[k] = true
			}
		}
		ci, ok := colOf[s]
		if !ok || len(kinds) == 0 {
			continue
		}
		m := markerView{X: colX(ci), Y: y + laneH/2}
		for _, k := range []string{glyphStop, glyphStart, glyphLost, glyphExit} {
			if kinds[k] {
				m.Glyphs = append(m.Glyphs, glyphView{Kind: k})
			}
		}
		total := len(m.Glyphs) * glyphW
		for gi := range m.Glyphs {
			m.Glyphs[gi].DX = -total/2 + glyphW/2 + gi*glyphW
		}
		m.BoxX, m.BoxW = -total/2-2, total+4
		var t strings.Builder
		fmt.Fprintf(&t, "%s during %s", spec.who, stepName(s))
		if s < 0 {
			t.Reset()
			fmt.Fprintf(&t, "%s at the start", spec.who)
		} else {
			fmt.Fprintf(&t, " (%s)", ps[ci].Op)
		}
		t.WriteString(": " + describeKinds(kinds))
		writeLines(&t, lines)
		m.Title = t.String()
		lane.Markers = append(lane.Markers, m)
		marked[ci] = true
	}
	// Segments: runs of equal cells, split where a marker stands so that
	// no marker hides a label.
	for i := 0; i < len(ps); {
		c := spec.cell(ps[i])
		j := i + 1
		for j < len(ps) && !marked[j] && spec.cell(ps[j]) == c {
			j++
		}
		if c.present {
			span := stepName(ps[i].Step)
			if j-i > 1 {
				span += " to " + stepName(ps[j-1].Step)
			}
			x := colX(i) + segInset
			w := (j-i)*colW - 2*segInset
			lane.Segments = append(lane.Segments, boxView{
				X: x, Y: y + (laneH-segH)/2, W: w, H: segH,
				TX: x + w/2, TY: y + laneH/2 + 5,
				Class: c.class, Label: c.label,
				Title: fmt.Sprintf("%s, %s: %s", spec.who, span, c.title),
			})
		}
		i = j
	}
	lane.Title = spec.title
	if len(uids) > 0 {
		lane.Title += " (" + spec.incarnations + ": " + strings.Join(uids, ", ") + ")"
	}
	return lane
}

// newBand lays out a gap or overlap band at y: a cell per point.
func newBand(spec bandSpec, ps []point, y int, colX func(int) int) bandRowView {
	row := bandRowView{Key: spec.key, Name: spec.name, Y: y, TY: y + bandH/2 + 4}
	for i, p := range ps {
		x := colX(i) + segInset
		w := colW - 2*segInset
		b := boxView{X: x, Y: y + 2, W: w, H: bandH - 4, TX: x + w/2, TY: y + bandH/2 + 4}
		set, total, ok := spec.set(p)
		var t strings.Builder
		fmt.Fprintf(&t, "%s: %s, %s\n", spec.name, where(p), kindOf(p))
		switch {
		case !ok:
			b.Class = "band zero"
			b.Label = "-"
			fmt.Fprintf(&t, "no %s at this point", spec.noun)
		case set.Count == 0:
			b.Class = "band zero"
			b.Label = "0"
			fmt.Fprintf(&t, "no %s is %s", spec.noun, spec.what)
		default:
			b.Class = "band " + spec.class
			b.Label = fmt.Sprintf("%s %d", spec.class, set.Count)
			fmt.Fprintf(&t, "%d of %d %ss are %s", set.Count, total, spec.noun, spec.what)
			ex := set.UIDs[:min(ExampleUIDs, len(set.UIDs))]
			if len(ex) > 0 {
				fmt.Fprintf(&t, "\nexample UIDs (first %d of %d):", len(ex), set.Count)
				writeLines(&t, ex)
			}
		}
		if p.transient {
			b.Class += " transient"
		}
		b.Title = t.String()
		row.Cells = append(row.Cells, b)
	}
	return row
}

// windowRow is the band of transient windows (simrun --windows): per
// step, how many of the intermediate states inside it violated a property.
func windowRow(ws []sim.Window, ps []point, y int, colX func(int) int) bandRowView {
	row := bandRowView{Key: "drift", Name: "drift", Y: y, TY: y + bandH/2 + 4}
	for i, p := range ps {
		x := colX(i) + segInset
		w := colW - 2*segInset
		b := boxView{X: x, Y: y + 2, W: w, H: bandH - 4, TX: x + w/2, TY: y + bandH/2 + 4, Class: "band zero", Label: "0"}
		driftCell(&b, ws, p, func(string) bool { return true })
		row.Cells = append(row.Cells, b)
	}
	return row
}

// pointTitle sets the class and title of point p's column c: its
// verdict, its summary and the cluster's log entries of its step
// (entries); timed adds the simulated times.
func pointTitle(c *colView, mode string, p point, entries []sim.LogEntry, timed bool) {
	status := "holds"
	if !p.Holds() {
		status = "violated"
	}
	at := ""
	if timed {
		at = " at " + p.At.String()
	}
	var t strings.Builder
	if p.transient {
		c.Class = "cp transient-" + status
		fmt.Fprintf(&t, "%s%s: transient point, %d items still undelivered (violations here are normal and checked only with --strict)\n",
			strings.ToUpper(stepName(p.Step)[:1])+stepName(p.Step)[1:], at, p.Pending)
	} else {
		c.Class = "cp " + status
		fmt.Fprintf(&t, "Quiescent checkpoint %s%s", where(p), at)
		if timed && p.Step >= 0 {
			fmt.Fprintf(&t, " (the op at %s; took %s)", p.Start, p.At-p.Start)
		}
		t.WriteString("\n")
	}
	t.WriteString(pointSummary(mode, p))
	var cluster []string
	for _, e := range entries {
		if e.Pod < 0 && !isNodeEntry(e) {
			if timed {
				cluster = append(cluster, e.At.String()+": "+e.Event)
			} else {
				cluster = append(cluster, e.Event)
			}
		}
	}
	if len(cluster) > 0 {
		t.WriteString("\ncluster:")
		writeLines(&t, cluster)
	}
	c.Title = t.String()
}

// driftCell fills in the drift band's cell b of point p's step from its
// window in ws: its class, title and, where fits says it fits, its label.
func driftCell(b *boxView, ws []sim.Window, p point, fits func(string) bool) {
	idx := slices.IndexFunc(ws, func(w sim.Window) bool { return w.Step == p.Step })
	switch {
	case idx < 0:
		b.Title = fmt.Sprintf("drift, %s: no delivery changed what a pod serves", where(p))
	case ws[idx].Violated == 0:
		b.Title = fmt.Sprintf("drift, %s: all %d intermediate states hold", where(p), ws[idx].States)
	default:
		win := ws[idx]
		b.Class = "band drift"
		if l := fmt.Sprintf("%d/%d", win.Violated, win.States); fits(l) {
			b.Label = l
		}
		b.Title = fmt.Sprintf("drift, %s: %d of %d intermediate states (after each delivery that changed what a pod serves) violate a property\nworst gap %d, worst overlap %d",
			where(p), win.Violated, win.States, win.MaxGap, win.MaxOverlap)
	}
}

func kindOf(p point) string {
	if p.transient {
		return fmt.Sprintf("transient, %d items pending", p.Pending)
	}
	return "quiescent checkpoint"
}

func describeKinds(k map[string]bool) string {
	var parts []string
	switch {
	case k[glyphStop] && k[glyphStart]:
		parts = append(parts, "restarted (stopped, then a new incarnation started)")
	case k[glyphStart]:
		parts = append(parts, "started")
	case k[glyphStop]:
		parts = append(parts, "stopped")
	}
	if k[glyphLost] {
		parts = append(parts, "its watch lost the StatefulSet")
	}
	if k[glyphExit] {
		parts = append(parts, "KSM exited at start-up")
	}
	return strings.Join(parts, "; ")
}

func writeLines(b *strings.Builder, lines []string) {
	for i, l := range lines {
		if i == maxTitleLines {
			fmt.Fprintf(b, "\n… and %d more", len(lines)-i)
			break
		}
		b.WriteString("\n  " + l)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

//go:embed page.tmpl
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"sub": func(a, b int) int { return a - b },
}).Parse(pageHTML))
