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
	Objects     int
	Holds       bool
	Windows     bool // some result has transient windows (the drift band)
	Reducers    []reducerView
}

type reducerView struct {
	ID      string
	Name    string
	Models  string
	Verdict string
	Holds   bool
	SVG     svgView
	Rows    []rowView
	Log     []string
}

type svgView struct {
	Width, Height int
	Label         string
	Columns       []colView
	Lanes         []laneView
	Bands         []bandRowView
	LeftX         int // x of the lane labels
	RightX        int // right end of the last column
}

type colView struct {
	X, CX, W          int
	Step, Op, Replica string
	Class             string // checkpoint marker: holds, violated, transient-holds, transient-violated
	Title             string
}

type laneView struct {
	Pod      int
	Y        int // top of the lane
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
	Name  string
	Y     int
	TY    int
	Cells []boxView
}

type rowView struct {
	Step, Op, Kind     string
	Replicas           int
	Pods               string
	Complete, Disjoint string
	Gap, Overlap       int
	CompleteOK, DisjOK bool
	Objects            int
	Healing            string
}

// point is one column of the timeline: a checkpoint or a transient entry.
type point struct {
	sim.Checkpoint
	transient bool
}

func newPage(rep *sim.Report) pageView {
	p := pageView{
		Trace: rep.Trace, Description: rep.Description,
		Schedule: rep.Schedule, Objects: rep.Objects, Holds: rep.Holds(),
	}
	for _, res := range rep.Results {
		if res == nil {
			continue
		}
		p.Reducers = append(p.Reducers, newReducer(res))
		p.Windows = p.Windows || len(res.Windows) > 0
	}
	return p
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

// ordinals lists every pod ordinal the result mentions: in a checkpoint,
// a transient entry or the event log.
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

func newReducer(res *sim.Result) reducerView {
	ps := points(res)
	rv := reducerView{
		ID:      "r-" + res.Reducer,
		Name:    res.Reducer,
		Models:  res.Models,
		Verdict: sim.Verdict(res),
		Holds:   res.Holds,
	}
	for _, e := range res.Log {
		rv.Log = append(rv.Log, e.String())
	}
	for _, p := range ps {
		rv.Rows = append(rv.Rows, newRow(p))
	}
	rv.SVG = newSVG(res, ps)
	return rv
}

func newRow(p point) rowView {
	kind := "checkpoint"
	if p.transient {
		kind = fmt.Sprintf("transient (%d pending)", p.Pending)
	}
	step := "init"
	if p.Step >= 0 {
		step = strconv.Itoa(p.Step)
	}
	return rowView{
		Step: step, Op: p.Op, Kind: kind, Replicas: p.Replicas, Pods: podsString(p.Pods),
		Complete: yesNo(p.Complete), Disjoint: yesNo(p.Disjoint),
		CompleteOK: p.Complete, DisjOK: p.Disjoint,
		Gap: p.Gap.Count, Overlap: p.Overlap.Count, Objects: p.Objects,
		Healing: orDash(p.Healing),
	}
}

func podsString(pods []sim.PodConfig) string {
	parts := make([]string, len(pods))
	for i, pc := range pods {
		parts[i] = fmt.Sprintf("%d:%d/%d=%d", pc.Pod, pc.Shard, pc.Total, pc.Exported)
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

// Kinds of pod events the timeline marks, recognised in the event log.
const (
	glyphStop  = "stop"
	glyphStart = "start"
	glyphLost  = "lost"
)

// glyphKind classifies one event-log entry of a pod.
func glyphKind(kind sim.LogKind) string {
	switch kind {
	case sim.LogCreated:
		return glyphStart
	case sim.LogStopped, sim.LogDeletionQueued:
		return glyphStop
	case sim.LogWatchDeleted, sim.LogListFailed:
		return glyphLost
	}
	return ""
}

func newSVG(res *sim.Result, ps []point) svgView {
	ords := ordinals(res, ps)
	v := svgView{
		LeftX:  8,
		Width:  laneLabelW + len(ps)*colW + 16,
		Label:  fmt.Sprintf("Timeline of %s: %d points, %d pod lanes", res.Reducer, len(ps), len(ords)),
		RightX: laneLabelW + len(ps)*colW,
	}
	colOf := map[int]int{} // step -> column
	colX := func(i int) int { return laneLabelW + i*colW }
	byStep := map[int][]sim.LogEntry{}
	for _, e := range res.Log {
		byStep[e.Step] = append(byStep[e.Step], e)
	}

	for i, p := range ps {
		colOf[p.Step] = i
		c := colView{X: colX(i), CX: colX(i) + colW/2, W: colW, Step: stepName(p.Step), Op: p.Op,
			Replica: fmt.Sprintf("replicas %d", p.Replicas)}
		status := "holds"
		if !p.Holds() {
			status = "violated"
		}
		var t strings.Builder
		if p.transient {
			c.Class = "cp transient-" + status
			fmt.Fprintf(&t, "%s: transient point, %d items still undelivered (violations here are normal and checked only with --strict)\n", strings.ToUpper(stepName(p.Step)[:1])+stepName(p.Step)[1:], p.Pending)
		} else {
			c.Class = "cp " + status
			fmt.Fprintf(&t, "Quiescent checkpoint %s\n", where(p))
		}
		fmt.Fprintf(&t, "spec.replicas=%d, %d live objects; complete: %s, disjoint: %s\npods (ordinal:shard/total): %s",
			p.Replicas, p.Objects, yesNo(p.Complete), yesNo(p.Disjoint), orNone(podsString(p.Pods)))
		var cluster []string
		for _, e := range byStep[p.Step] {
			if e.Pod < 0 {
				cluster = append(cluster, e.Event)
			}
		}
		if len(cluster) > 0 {
			t.WriteString("\ncluster:")
			writeLines(&t, cluster)
		}
		c.Title = t.String()
		v.Columns = append(v.Columns, c)
	}

	for li, o := range ords {
		y := lanesTop + li*laneH
		lane := laneView{Pod: o, Y: y, MidY: y + laneH/2, Label: fmt.Sprintf("pod %d", o)}
		marked := map[int]bool{} // columns with an event marker
		// Event markers: at the left edge of the column whose step they
		// happened in (between the previous point and this one).
		var uids []string
		steps := make([]int, 0, len(byStep))
		for s := range byStep {
			steps = append(steps, s)
		}
		slices.Sort(steps)
		for _, s := range steps {
			var lines []string
			kinds := map[string]bool{}
			for _, e := range byStep[s] {
				if e.Pod != o {
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
				if k := glyphKind(e.Kind); k != "" {
					kinds[k] = true
				}
			}
			ci, ok := colOf[s]
			if !ok || len(kinds) == 0 {
				continue
			}
			m := markerView{X: colX(ci), Y: y + laneH/2}
			for _, k := range []string{glyphStop, glyphStart, glyphLost} {
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
			fmt.Fprintf(&t, "pod %d during %s", o, stepName(s))
			if s < 0 {
				t.Reset()
				fmt.Fprintf(&t, "pod %d at the start", o)
			} else {
				fmt.Fprintf(&t, " (%s)", ps[ci].Op)
			}
			t.WriteString(": " + describeKinds(kinds))
			writeLines(&t, lines)
			m.Title = t.String()
			lane.Markers = append(lane.Markers, m)
			marked[ci] = true
		}
		// Segments: runs of equal cells, split where a marker stands so
		// that no marker hides a label.
		for i := 0; i < len(ps); {
			c := laneCell(o, ps[i])
			j := i + 1
			for j < len(ps) && !marked[j] && laneCell(o, ps[j]) == c {
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
					Title: fmt.Sprintf("pod %d, %s: %s", o, span, c.title),
				})
			}
			i = j
		}
		lane.Title = fmt.Sprintf("pod %d", o)
		if len(uids) > 0 {
			lane.Title += " (incarnations: " + strings.Join(uids, ", ") + ")"
		}
		v.Lanes = append(v.Lanes, lane)
	}

	bandsTop := lanesTop + len(ords)*laneH + bandGap
	for bi, band := range []string{"gap", "overlap"} {
		y := bandsTop + bi*bandH
		row := bandRowView{Name: band, Y: y, TY: y + bandH/2 + 4}
		for i, p := range ps {
			set, what := p.Gap, "exported by no pod"
			if band == "overlap" {
				set, what = p.Overlap, "exported by two or more pods"
			}
			x := colX(i) + segInset
			w := colW - 2*segInset
			b := boxView{X: x, Y: y + 2, W: w, H: bandH - 4, TX: x + w/2, TY: y + bandH/2 + 4}
			var t strings.Builder
			fmt.Fprintf(&t, "%s: %s, %s\n", band, where(p), kindOf(p))
			if set.Count == 0 {
				b.Class = "band zero"
				b.Label = "0"
				fmt.Fprintf(&t, "no object is %s", what)
			} else {
				b.Class = "band " + band
				b.Label = fmt.Sprintf("%s %d", band, set.Count)
				fmt.Fprintf(&t, "%d of %d objects are %s", set.Count, p.Objects, what)
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
		v.Bands = append(v.Bands, row)
	}
	if len(res.Windows) > 0 {
		v.Bands = append(v.Bands, windowRow(res.Windows, ps, bandsTop+2*bandH, colX))
	}
	v.Height = bandsTop + len(v.Bands)*bandH + 8
	return v
}

// windowRow is the band of transient windows (simrun --windows): per
// step, how many of the intermediate states inside it violated a property.
func windowRow(ws []sim.Window, ps []point, y int, colX func(int) int) bandRowView {
	row := bandRowView{Name: "drift", Y: y, TY: y + bandH/2 + 4}
	for i, p := range ps {
		x := colX(i) + segInset
		w := colW - 2*segInset
		b := boxView{X: x, Y: y + 2, W: w, H: bandH - 4, TX: x + w/2, TY: y + bandH/2 + 4, Class: "band zero", Label: "0"}
		idx := slices.IndexFunc(ws, func(w sim.Window) bool { return w.Step == p.Step })
		switch {
		case idx < 0:
			b.Title = fmt.Sprintf("drift, %s: no delivery changed what a pod serves", where(p))
		case ws[idx].Violated == 0:
			b.Title = fmt.Sprintf("drift, %s: all %d intermediate states hold", where(p), ws[idx].States)
		default:
			win := ws[idx]
			b.Class = "band drift"
			b.Label = fmt.Sprintf("%d/%d", win.Violated, win.States)
			b.Title = fmt.Sprintf("drift, %s: %d of %d intermediate states (after each delivery that changed what a pod serves) violate a property\nworst gap %d, worst overlap %d",
				where(p), win.Violated, win.States, win.MaxGap, win.MaxOverlap)
		}
		row.Cells = append(row.Cells, b)
	}
	return row
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

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))
