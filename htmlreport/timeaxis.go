package htmlreport

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shardsim/shardsim/sim"
)

// Geometry of the timeline on a time axis (Result.Timeline set).
const (
	axisY       = 22   // the axis line; tick labels above it
	stepLabelY0 = 38   // first row of step labels
	stepLabelDY = 14   // between rows of step labels
	stepRows    = 2    // rows of step labels before they may overlap
	minLinW     = 600  // the linear part of the axis, at least
	maxSVGW     = 1120 // the linear part widens with the points up to this width
	holdW       = 200  // the compressed hold
	breakW      = 14   // the break in the axis before the hold
	tickSpacing = 90   // about this many pixels between ticks
	alertH      = 22   // one alert's row
	scrapeH     = 18   // the scrapes' row
)

// timeScale maps simulated time to x: linear over [0, last] from x0 to
// x0+linW, then the hold (last, end] compressed into holdW after a break.
type timeScale struct {
	x0, linW, holdW int
	last, end       time.Duration
}

func (s timeScale) x(t time.Duration) int {
	switch {
	case t <= 0:
		return s.x0
	case t <= s.last:
		return s.x0 + int(float64(s.linW)*float64(t)/float64(s.last)+0.5)
	case s.holdW == 0 || s.end <= s.last:
		return s.x0 + s.linW
	}
	t = min(t, s.end)
	start := s.x0 + s.linW + breakW
	return start + int(float64(s.holdW-breakW)*float64(t-s.last)/float64(s.end-s.last)+0.5)
}

// right is the right end of the axis.
func (s timeScale) right() int {
	if s.holdW == 0 {
		return s.x0 + s.linW
	}
	return s.x0 + s.linW + s.holdW
}

// axisView is the time axis over the timeline.
type axisView struct {
	Y, X1, X2 int
	Ticks     []tickView
	// The hold: compressed after a break, from HoldX to X2.
	Hold                  bool
	BreakX, HoldX, HoldW  int
	HoldLabel, HoldTitle  string
	HoldLabelX, EndLabelX int
	EndLabel              string
}

type tickView struct {
	X     int
	Label string
}

// alertRowView is one alert's row under the bands: its pending and firing
// spans on the time axis.
type alertRowView struct {
	Y, MidY int
	Label   string
	Title   string
	Bars    []boxView // pending and firing spans
}

// tickSteps are the tick spacings the axis picks from.
var tickSteps = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// tickLabel renders a tick: "0s", "1.5s", "500ms", "2m", "1m30s".
func tickLabel(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func dur(s sim.Seconds) time.Duration { return time.Duration(s) }

// newScale lays out the time axis of a result: the linear part over the
// steps (to the last point), then the hold.
func newScale(tl *sim.Timeline, ps []point, x0 int) timeScale {
	var last time.Duration
	for _, p := range ps {
		last = max(last, dur(p.At))
	}
	for _, st := range tl.Steps {
		last = max(last, dur(st.At))
	}
	for _, p := range tl.Points {
		last = max(last, dur(p.At))
	}
	linW := max(minLinW, min(len(ps)*colW, maxSVGW-24-holdW-x0))
	s := timeScale{x0: x0, linW: linW, last: last, end: max(dur(tl.End), last)}
	if s.last <= 0 {
		s.last = time.Second // nothing took time: a second of axis
	}
	if s.end > s.last {
		s.holdW = holdW
	}
	return s
}

func newAxis(s timeScale, tl *sim.Timeline) axisView {
	a := axisView{Y: axisY, X1: s.x0, X2: s.right()}
	step := tickSteps[len(tickSteps)-1]
	want := max(2, s.linW/tickSpacing)
	for _, c := range tickSteps {
		if int(s.last/c) <= want {
			step = c
			break
		}
	}
	for t := time.Duration(0); t <= s.last; t += step {
		a.Ticks = append(a.Ticks, tickView{X: s.x(t), Label: tickLabel(t)})
	}
	if s.holdW > 0 {
		a.Hold = true
		a.BreakX = s.x0 + s.linW
		a.HoldX = a.BreakX + breakW
		a.HoldW = a.X2 - a.HoldX
		a.HoldLabel = "⋯ held " + tl.Hold.String() + " ⋯"
		a.HoldLabelX = a.HoldX + a.HoldW*2/5
		a.HoldTitle = fmt.Sprintf("the final state held %s, from %s to the end at %s (compressed: not to scale)",
			tl.Hold, sim.Seconds(s.last), tl.End)
		a.EndLabelX = a.X2
		a.EndLabel = tl.End.String()
	}
	return a
}

// timedColumns lays out the points on the time axis: a marker at each
// point's time, the step's run from its op to its point shaded, and the
// step labels in rows so that they do not overlap.
func timedColumns(res *sim.Result, ps []point, s timeScale, byStep map[int][]sim.LogEntry) []colView {
	var cols []colView
	rowEnd := make([]int, stepRows)
	for i := range rowEnd {
		rowEnd[i] = -1 << 30
	}
	for i, p := range ps {
		cx := s.x(dur(p.At))
		c := colView{CX: cx, Step: stepName(p.Step), Op: p.Op, Replica: replicaLine(res.Mode, p), Timed: true}
		if p.Step < 0 {
			c.Op = ""
		}
		if p.Step >= 0 {
			c.X = s.x(dur(p.Start))
			c.W = max(cx-c.X, 2)
			c.RunTitle = fmt.Sprintf("%s (%s) running: the op at %s, its point at %s (took %s)", stepName(p.Step), p.Op, p.Start, p.At, p.At-p.Start)
		}
		// the first row where the label fits; else the step's number
		// alone; else none (the marker's hover text still names it).
		// Labels start at their point.
		c.LabelX = cx - 3
		place := func(label string) bool {
			w := labelCharW*len([]rune(label)) + 6
			row := slices.IndexFunc(rowEnd, func(end int) bool { return end+6 <= c.LabelX })
			if row < 0 {
				return false
			}
			rowEnd[row] = c.LabelX + w
			c.LabelY = stepLabelY0 + row*stepLabelDY
			return true
		}
		full := strings.TrimSpace(c.Step + " " + c.Op)
		// with stepRows rows, the label shares its row with the one
		// stepRows points on: leave it room
		roomy := i+stepRows >= len(ps) || c.LabelX+labelCharW*len([]rune(full))+12 <= s.x(dur(ps[i+stepRows].At))-3
		switch {
		case (roomy || p.Step < 0) && place(full):
		case p.Step >= 0 && place(strconv.Itoa(p.Step)):
			c.Step, c.Op = strconv.Itoa(p.Step), ""
		default:
			c.Step, c.Op = "", ""
		}
		pointTitle(&c, res.Mode, p, byStep[p.Step], true)
		cols = append(cols, c)
	}
	return cols
}

// segEnd is where point i's state ends: the next point, or the end.
func segEnd(ps []point, i int, end time.Duration) time.Duration {
	if i+1 < len(ps) {
		return dur(ps[i+1].At)
	}
	return end
}

// fits reports whether label fits a box w wide.
func fits(label string, w int) bool { return labelCharW*len([]rune(label))+8 <= w }

// newTimedLane lays out one lane on the time axis: each point's state
// from its time to the next point's, and the event markers at their
// times (events closer than a marker's width share one).
func newTimedLane(spec laneSpec, y int, ps []point, log []sim.LogEntry, s timeScale) laneView {
	lane := spec.view
	lane.Y, lane.MidY = y, y+laneH/2
	for i := 0; i < len(ps); {
		c := spec.cell(ps[i])
		j := i + 1
		for j < len(ps) && spec.cell(ps[j]) == c {
			j++
		}
		if c.present {
			from, to := dur(ps[i].At), segEnd(ps, j-1, s.end)
			x, x2 := s.x(from), s.x(to)
			w := max(x2-x-2, 2)
			span := fmt.Sprintf("%s to %s", sim.Seconds(from), sim.Seconds(to))
			b := boxView{
				X: x + 1, Y: y + (laneH-segH)/2, W: w, H: segH,
				TX: x + 1 + w/2, TY: y + laneH/2 + 5,
				Class: c.class,
				Title: fmt.Sprintf("%s, %s (%s to %s): %s", spec.who, span, stepName(ps[i].Step), stepName(ps[j-1].Step), c.title),
			}
			if fits(c.label, w) {
				b.Label = c.label
			}
			lane.Segments = append(lane.Segments, b)
		}
		i = j
	}
	var uids []string
	type group struct {
		x        int
		from, to sim.Seconds
		steps    []int
		kinds    map[string]bool
		lines    []string
	}
	var groups []*group
	for _, e := range log {
		if !spec.owns(e) {
			continue
		}
		if e.PodUID != "" && !slices.Contains(uids, e.PodUID) {
			uids = append(uids, e.PodUID)
		}
		k := spec.glyph(e)
		if k == "" {
			continue
		}
		x := s.x(dur(e.At))
		var g *group
		if n := len(groups); n > 0 && x-groups[n-1].x < 2*glyphW {
			g = groups[n-1]
		} else {
			g = &group{x: x, from: e.At, kinds: map[string]bool{}}
			groups = append(groups, g)
		}
		g.to = e.At
		if !slices.Contains(g.steps, e.Step) {
			g.steps = append(g.steps, e.Step)
		}
		g.kinds[k] = true
		line := e.At.String() + " " + e.Event
		if e.PodUID != "" {
			line = e.At.String() + " " + e.PodUID + ": " + e.Event
		}
		if e.Outcome != "" {
			line += " => " + e.Outcome
		}
		g.lines = append(g.lines, line)
	}
	for _, g := range groups {
		m := markerView{X: g.x, Y: y + laneH/2}
		for _, k := range []string{glyphStop, glyphStart, glyphLost, glyphExit} {
			if g.kinds[k] {
				m.Glyphs = append(m.Glyphs, glyphView{Kind: k})
			}
		}
		total := len(m.Glyphs) * glyphW
		for gi := range m.Glyphs {
			m.Glyphs[gi].DX = -total/2 + glyphW/2 + gi*glyphW
		}
		m.BoxX, m.BoxW = -total/2-2, total+4
		when := "at " + g.from.String()
		if g.to != g.from {
			when = fmt.Sprintf("from %s to %s", g.from, g.to)
		}
		var steps []string
		for _, st := range g.steps {
			name := stepName(st)
			if i := slices.IndexFunc(ps, func(p point) bool { return p.Step == st }); i >= 0 && st >= 0 {
				name += " (" + ps[i].Op + ")"
			}
			steps = append(steps, name)
		}
		var t strings.Builder
		fmt.Fprintf(&t, "%s %s, during %s: %s", spec.who, when, strings.Join(steps, ", "), describeKinds(g.kinds))
		writeLines(&t, g.lines)
		m.Title = t.String()
		lane.Markers = append(lane.Markers, m)
	}
	lane.Title = spec.title
	if len(uids) > 0 {
		lane.Title += " (" + spec.incarnations + ": " + strings.Join(uids, ", ") + ")"
	}
	return lane
}

// timedBands are the gap and overlap bands of Timeline.Points: runs of
// the same count from one change to the next, in seconds.
func timedBands(res *sim.Result, y int, s timeScale) []bandRowView {
	tl := res.Timeline
	noun, what := "object", ""
	switch res.Mode {
	case sim.ModeDaemonSet:
		noun = "pod"
	case sim.ModeMixed:
		noun, what = "object", " (configmaps and pods)"
	}
	var rows []bandRowView
	for bi, spec := range []struct {
		key, class, desc string
		count            func(sim.TimePoint) int
		worst            *sim.Span
	}{
		{"gap", "gap", "exported by no pod", func(p sim.TimePoint) int { return p.Gap }, tl.WorstGap},
		{"overlap", "overlap", "exported by two or more pods", func(p sim.TimePoint) int { return p.Overlap }, tl.WorstOverlap},
	} {
		by := y + bi*bandH
		row := bandRowView{Key: spec.key, Name: spec.key, Y: by, TY: by + bandH/2 + 4, Timed: true}
		for i := 0; i < len(tl.Points); {
			n := spec.count(tl.Points[i])
			j := i + 1
			for j < len(tl.Points) && spec.count(tl.Points[j]) == n {
				j++
			}
			from := dur(tl.Points[i].At)
			to := s.end
			if j < len(tl.Points) {
				to = dur(tl.Points[j].At)
			}
			i = j
			if to <= from && j < len(tl.Points) {
				continue
			}
			x, x2 := s.x(from), s.x(to)
			w := max(x2-x, 2)
			b := boxView{X: x, Y: by + 2, W: w, H: bandH - 4, TX: x + w/2, TY: by + bandH/2 + 4}
			secs := (to - from).Seconds()
			if n == 0 {
				b.Class = "band zero"
				b.Title = fmt.Sprintf("%s from %s to %s (%s): no %s is %s%s", spec.key, sim.Seconds(from), sim.Seconds(to), sim.Seconds(to-from), noun, spec.desc, what)
			} else {
				b.Class = "band " + spec.class
				b.Title = fmt.Sprintf("%s from %s to %s (%s): %s %s%s, %s series-seconds",
					spec.key, sim.Seconds(from), sim.Seconds(to), sim.Seconds(to-from), plural(n, noun), spec.desc, what,
					seriesSeconds(float64(n)*secs))
				if l := fmt.Sprintf("%s %d", spec.class, n); fits(l, w) {
					b.Label = l
				} else if l := strconv.Itoa(n); fits(l, w) {
					b.Label = l
				}
			}
			row.Cells = append(row.Cells, b)
		}
		if w := spec.worst; w != nil {
			x, x2 := s.x(dur(w.From)), s.x(dur(w.To))
			row.Worst = &boxView{X: x - 1, Y: by, W: max(x2-x, 2) + 2, H: bandH,
				Title: fmt.Sprintf("the worst %s window: %s long, from %s to %s, up to %s at once (%s series-seconds)",
					spec.key, w.To-w.From, w.From, w.To, plural(w.Peak, noun), seriesSeconds(w.SeriesSeconds))}
		}
		rows = append(rows, row)
	}
	return rows
}

// timedWindowRow is the drift band on the time axis: each step's cell
// from its op to the next op.
func timedWindowRow(ws []sim.Window, ps []point, y int, s timeScale) bandRowView {
	row := bandRowView{Key: "drift", Name: "drift", Y: y, TY: y + bandH/2 + 4, Timed: true}
	for i, p := range ps {
		if p.Step < 0 {
			continue
		}
		to := s.end
		for _, q := range ps[i+1:] {
			if q.Step >= 0 && q.Step != p.Step {
				to = dur(q.Start)
				break
			}
		}
		x, x2 := s.x(dur(p.Start)), s.x(to)
		w := max(x2-x-2, 2)
		b := boxView{X: x + 1, Y: y + 2, W: w, H: bandH - 4, TX: x + 1 + w/2, TY: y + bandH/2 + 4, Class: "band zero"}
		driftCell(&b, ws, p, func(l string) bool { return fits(l, w) })
		row.Cells = append(row.Cells, b)
	}
	return row
}

// scrapeRow marks every scrape on the time axis: grey when it had every
// live object once, red when it missed some, purple when it doubled some.
func scrapeRow(tl *sim.Timeline, y int, s timeScale) *scrapeRowView {
	r := &scrapeRowView{Y: y, MidY: y + scrapeH/2, Label: "scrapes",
		Title: fmt.Sprintf("Prometheus's scrapes of the KSM pods, every %s: %d scrapes, %d missed samples, %d doubled samples",
			tl.ScrapeInterval, len(tl.Scrapes), tl.MissedSamples, tl.DoubledSamples)}
	for _, sc := range tl.Scrapes {
		m := scrapeMark{X: s.x(dur(sc.At)), Class: "scrape"}
		switch {
		case sc.Missed > 0 && sc.Doubled > 0:
			m.Class = "scrape missed doubled"
		case sc.Missed > 0:
			m.Class = "scrape missed"
		case sc.Doubled > 0:
			m.Class = "scrape doubled"
		}
		var inst []string
		for _, tg := range sc.Targets {
			inst = append(inst, fmt.Sprintf("%s (%s %d/%d) %d", tg.Instance, tg.Resource, tg.Shard, tg.Total, tg.Exported))
		}
		var t strings.Builder
		fmt.Fprintf(&t, "scrape at %s: %s up, %d missed samples, %d doubled samples", sc.At, plural(len(sc.Targets), "target"), sc.Missed, sc.Doubled)
		writeLines(&t, inst)
		m.Title = t.String()
		r.Marks = append(r.Marks, m)
	}
	return r
}

// scrapeRowView is the row of scrapes under the bands.
type scrapeRowView struct {
	Y, MidY int
	Label   string
	Title   string
	Marks   []scrapeMark
}

type scrapeMark struct {
	X     int
	Class string
	Title string
}

// alertOutcome says in words whether and when an alert fires.
func alertOutcome(a sim.AlertOutcome) string {
	switch {
	case a.FiresAt != nil && a.PendingAt != nil:
		return fmt.Sprintf("fires at %s (pending from %s, for: %s)", *a.FiresAt, *a.PendingAt, a.For)
	case a.FiresAt != nil:
		return fmt.Sprintf("fires at %s (for: %s)", *a.FiresAt, a.For)
	case a.PendingAt != nil:
		return fmt.Sprintf("pending from %s, never fires (for: %s)", *a.PendingAt, a.For)
	}
	return "never fires"
}

// interval is a span of simulated time (an alert's firing).
type interval struct{ from, to sim.Seconds }

// firing returns an alert's firing spans.
func firing(a sim.AlertOutcome) []interval {
	var out []interval
	for _, sp := range a.Firing {
		out = append(out, interval{sp.From, sp.To})
	}
	return out
}

// spansString lists firing spans: "6s to 20m6.4s, ...".
func spansString(spans []interval, end sim.Seconds) string {
	var parts []string
	for _, sp := range spans {
		to := sp.to.String()
		if sp.to == end {
			to += " (the end)"
		}
		parts = append(parts, sp.from.String()+" to "+to)
	}
	return strings.Join(parts, ", ")
}

// alertRows are the alerts' rows: pending (from PendingAt to FiresAt)
// and firing spans.
func alertRows(tl *sim.Timeline, y int, s timeScale) []alertRowView {
	var rows []alertRowView
	for _, a := range tl.Alerts {
		r := alertRowView{Y: y, MidY: y + alertH/2, Label: cutLabel(a.Alert)}
		r.Title = fmt.Sprintf("alert %s (%s): %s", a.Alert, a.File, alertOutcome(a))
		if len(a.Firing) > 0 {
			r.Title += "; firing " + spansString(firing(a), tl.End)
		}
		bar := func(from, to time.Duration, class, title string) {
			x, x2 := s.x(from), s.x(to)
			w := max(x2-x, 3)
			r.Bars = append(r.Bars, boxView{X: x, Y: y + 5, W: w, H: alertH - 10, Class: class, Title: title})
		}
		if a.PendingAt != nil {
			to := dur(*a.PendingAt)
			if a.FiresAt != nil {
				to = dur(*a.FiresAt)
			}
			bar(dur(*a.PendingAt), to, "pending", fmt.Sprintf("%s pending from %s (for: %s)", a.Alert, *a.PendingAt, a.For))
		}
		for _, sp := range firing(a) {
			bar(dur(sp.from), dur(sp.to), "firing", fmt.Sprintf("%s firing from %s to %s (%s)", a.Alert, sp.from, sp.to, sp.to-sp.from))
		}
		rows = append(rows, r)
		y += alertH
	}
	return rows
}

// newTimedSVG is the timeline of a result with a Timeline: the lanes, the
// bands and the alerts over simulated time.
func newTimedSVG(res *sim.Result, ps []point, groups []groupSpec) svgView {
	tl := res.Timeline
	var labels []string
	for _, g := range groups {
		for _, l := range g.lanes {
			labels = append(labels, l.view.Label)
		}
	}
	for _, a := range tl.Alerts {
		labels = append(labels, cutLabel(a.Alert))
	}
	labelW := labelWidth(labels)
	s := newScale(tl, ps, labelW)
	v := svgView{LeftX: 8, RightX: s.right(), Width: s.right() + 24, Timed: true}
	ax := newAxis(s, tl)
	v.Axis = &ax
	byStep := map[int][]sim.LogEntry{}
	for _, e := range res.Log {
		byStep[e.Step] = append(byStep[e.Step], e)
	}
	v.Columns = timedColumns(res, ps, s, byStep)
	y := lanesTop
	for gi, g := range groups {
		if g.head != "" {
			v.Rows = append(v.Rows, svgRow{Head: &headView{Y: y + 16, LineY: y + headH - 2, Text: g.head, Title: g.title}})
			y += headH
		}
		for _, spec := range g.lanes {
			lane := newTimedLane(spec, y, ps, res.Log, s)
			v.Rows = append(v.Rows, svgRow{Lane: &lane})
			y += laneH
		}
		if gi < len(groups)-1 {
			y += groupGap
		}
	}
	y += bandGap
	for _, b := range timedBands(res, y, s) {
		v.Rows = append(v.Rows, svgRow{Band: &b})
		y += bandH
	}
	if len(res.Windows) > 0 {
		row := timedWindowRow(res.Windows, ps, y, s)
		v.Rows = append(v.Rows, svgRow{Band: &row})
		y += bandH
	}
	if len(tl.Scrapes) > 0 {
		v.Rows = append(v.Rows, svgRow{Scrapes: scrapeRow(tl, y+2, s)})
		y += scrapeH + 2
	}
	if len(tl.Alerts) > 0 {
		y += 4
		for _, r := range alertRows(tl, y, s) {
			v.Rows = append(v.Rows, svgRow{Alert: &r})
			y += alertH
		}
	}
	v.Height = y + 8
	v.Label = fmt.Sprintf("%s over %s of simulated time (the final state held %s, compressed)", svgLabel(res, len(ps), groups), tl.End, tl.Hold)
	return v
}

// impactView is a reducer's impact over simulated time.
type impactView struct {
	End, Hold, Latencies string
	Steps                []impactStepView
	Missing, Duplicated  string
	MissingBad, DupBad   bool
	Worst                []string
	Scrapes              string
	ScrapesBad           bool
	Alerts               []alertView
	// Firing names the alerts that fire: "KSMShardingMismatch fires at
	// 1m30s"; empty when none does.
	Firing string
}

type impactStepView struct {
	Step, Op, Start, At, Took string
	Missing, Duplicated       string
	MissingBad, DupBad        bool
}

type alertView struct {
	Name, File, Outcome, Firing string
	Fires                       bool
}

func seriesSeconds(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func newImpact(tl *sim.Timeline) *impactView {
	l := tl.Latencies
	iv := &impactView{
		End: tl.End.String(), Hold: tl.Hold.String(),
		Latencies: fmt.Sprintf("watch %s, LIST page %s, pod start %s, pod stop %s, jitter %s%%, seed %d",
			l.Watch, l.ListPage, l.PodStart, l.PodStop, strconv.FormatFloat(l.Jitter*100, 'f', -1, 64), l.Seed),
		Missing: seriesSeconds(tl.Missing), Duplicated: seriesSeconds(tl.Duplicated),
		MissingBad: tl.Missing > 0, DupBad: tl.Duplicated > 0,
		Scrapes: fmt.Sprintf("every %s: %d scrapes, %d missed samples, %d doubled samples",
			tl.ScrapeInterval, len(tl.Scrapes), tl.MissedSamples, tl.DoubledSamples),
		ScrapesBad: tl.MissedSamples > 0 || tl.DoubledSamples > 0,
	}
	for _, st := range tl.Steps {
		iv.Steps = append(iv.Steps, impactStepView{
			Step: strconv.Itoa(st.Step), Op: st.Op, Start: st.Start.String(), At: st.At.String(), Took: (st.At - st.Start).String(),
			Missing: seriesSeconds(st.Missing), Duplicated: seriesSeconds(st.Duplicated),
			MissingBad: st.Missing > 0, DupBad: st.Duplicated > 0,
		})
	}
	for _, w := range []struct {
		span *sim.Span
		what string
	}{{tl.WorstGap, "missing"}, {tl.WorstOverlap, "exported twice"}} {
		if w.span == nil {
			iv.Worst = append(iv.Worst, fmt.Sprintf("objects %s: never", w.what))
			continue
		}
		to := w.span.To.String()
		if w.span.To == tl.End {
			to = "the end at " + to
		}
		iv.Worst = append(iv.Worst, fmt.Sprintf("objects %s: %s long, from %s to %s, up to %d at once (%s series-seconds)",
			w.what, w.span.To-w.span.From, w.span.From, to, w.span.Peak, seriesSeconds(w.span.SeriesSeconds)))
	}
	var fires []string
	for _, a := range tl.Alerts {
		if a.FiresAt != nil {
			fires = append(fires, a.Alert+" fires at "+a.FiresAt.String())
		}
	}
	switch {
	case len(fires) > 0:
		iv.Firing = strings.Join(fires, ", ")
	case len(tl.Alerts) > 0:
		iv.Firing = "no alert fires"
	}
	for _, a := range tl.Alerts {
		iv.Alerts = append(iv.Alerts, alertView{Name: a.Alert, File: a.File, Outcome: alertOutcome(a),
			Firing: spansString(firing(a), tl.End), Fires: a.FiresAt != nil})
	}
	return iv
}
