package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shardsim/shardsim/internal/textsafe"
	"github.com/shardsim/shardsim/model"
)

// Seconds is a simulated time or duration that reports render in
// seconds, to the millisecond (JSON: a number).
type Seconds time.Duration

// MarshalJSON renders s as a number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(FormatSeconds(time.Duration(s))), nil
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*s = Seconds(time.Duration(f * float64(time.Second)).Round(time.Millisecond))
	return nil
}

func (s Seconds) String() string { return FormatDuration(time.Duration(s)) }

// FormatDuration renders d for people: "0s", "5.3s", "20m0.2s".
func FormatDuration(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}

// TimelineOptions ask a replay for its impact over simulated time
// (Options.Timeline).
type TimelineOptions struct {
	// ScrapeInterval is Prometheus's scrape interval (default
	// DefaultScrapeInterval): every KSM pod is scraped at 0, the
	// interval, twice the interval, ...
	ScrapeInterval time.Duration
	// Hold is how long the final state holds after the last step: 0 is
	// DefaultHold, a negative Hold none.
	Hold time.Duration
	// Series keeps, for every scrape, what each KSM pod exported
	// (ScrapeTarget.Exported): the input of alert evaluation.
	Series bool
}

// Timeline is a replay's impact over simulated time (Result.Timeline).
type Timeline struct {
	// End is when the replay ends: the last step's point, then Hold.
	End            Seconds `json:"end"`
	Hold           Seconds `json:"hold"`
	ScrapeInterval Seconds `json:"scrapeInterval"`
	// Latencies are the replay's latencies, defaults applied.
	Latencies LatencySettings `json:"latencies"`
	// Points are the coverage after every change, in time order: from
	// each point's At to the next one's, that many objects are exported
	// by no pod (Gap) and by more than one (Overlap). Unlike a
	// checkpoint's gap, Gap counts what no pod exports even when no KSM
	// pod is wanted (replicas 0): Prometheus has none of it either way.
	Points []TimePoint `json:"points"`
	// Steps is the impact of each step: from its op to the next step's
	// op (the last step: to End).
	Steps []StepImpact `json:"steps"`
	// Missing and Duplicated are the series-seconds of the whole replay:
	// objects × seconds exported by no pod, or by more than one (an
	// object exported three times counts once).
	Missing    float64 `json:"missingSeriesSeconds"`
	Duplicated float64 `json:"duplicatedSeriesSeconds"`
	// WorstGap and WorstOverlap are the longest spans during which some
	// object was missing, or duplicated (nil: never).
	WorstGap     *Span `json:"worstGap,omitempty"`
	WorstOverlap *Span `json:"worstOverlap,omitempty"`
	// Scrapes are Prometheus's scrapes of the KSM pods, every
	// ScrapeInterval from 0 to End.
	Scrapes []Scrape `json:"scrapes"`
	// MissedSamples counts, over every scrape, the live objects that no
	// KSM pod's scrape had; DoubledSamples the extra samples of objects
	// more than one pod's scrape had.
	MissedSamples  int `json:"missedSamples"`
	DoubledSamples int `json:"doubledSamples"`
	// Alerts are the alerting rules' outcomes, when the caller evaluated
	// them on Scrapes (package monitor); in rule file order.
	Alerts []AlertOutcome `json:"alerts,omitempty"`
}

// LatencySettings are the latencies a replay ran with.
type LatencySettings struct {
	Watch    Seconds `json:"watch"`
	ListPage Seconds `json:"listPage"`
	PodStart Seconds `json:"podStart"`
	PodStop  Seconds `json:"podStop"`
	Jitter   float64 `json:"jitter"`
	Seed     uint64  `json:"seed"`
}

// AlertOutcome is one alerting rule's outcome over a replay.
type AlertOutcome struct {
	Alert string `json:"alert"`
	// File is the rules file it comes from.
	File string  `json:"file"`
	For  Seconds `json:"for"`
	// PendingAt is the first evaluation at which its expression had a
	// result, FiresAt the first at which it fired (nil: never).
	PendingAt *Seconds `json:"pendingAt,omitempty"`
	FiresAt   *Seconds `json:"firesAt,omitempty"`
	// Firing are the spans of evaluations at which it fired, first and
	// last included.
	Firing []Interval `json:"firing,omitempty"`
}

// Interval is a span of simulated time.
type Interval struct {
	From Seconds `json:"from"`
	To   Seconds `json:"to"`
}

// TimePoint is the coverage from At on.
type TimePoint struct {
	At Seconds `json:"at"`
	// Step is the step whose op or delivery made the change (-1: the
	// setup). A step's op can come at the instant the step before it
	// settled: two points then share a time, the first lasting no time.
	Step    int `json:"step"`
	Gap     int `json:"gap"`
	Overlap int `json:"overlap"`
}

// StepImpact is one step's share of the timeline.
type StepImpact struct {
	Step int    `json:"step"`
	Op   string `json:"op"`
	// Start is when its op happened; At when it reached its point (the
	// step's duration is At-Start); Until when the next op came.
	Start      Seconds `json:"start"`
	At         Seconds `json:"at"`
	Until      Seconds `json:"until"`
	Missing    float64 `json:"missingSeriesSeconds"`
	Duplicated float64 `json:"duplicatedSeriesSeconds"`
}

// Span is a stretch of time during which a property was violated.
type Span struct {
	From Seconds `json:"from"`
	To   Seconds `json:"to"`
	// Peak is the most objects missing (or duplicated) at once in it;
	// SeriesSeconds its objects × seconds.
	Peak          int     `json:"peak"`
	SeriesSeconds float64 `json:"seriesSeconds"`
}

// Scrape is one scrape round: every KSM pod that was up then.
type Scrape struct {
	At      Seconds        `json:"at"`
	Targets []ScrapeTarget `json:"targets"`
	// Objects counts the live objects by resource ("configmaps",
	// "pods"): what the API server holds.
	Objects map[string]int `json:"objects"`
	Missed  int            `json:"missed"`
	Doubled int            `json:"doubled"`
}

// ScrapeTarget is one KSM pod's scrape: its self-metrics, as KSM exports
// them (a pod that has not configured sharding yet exports shard 0 of 1:
// pkg/app/server.go calls WithSharding(0, 1) from the flag defaults before
// autosharding starts), and, with TimelineOptions.Series, the objects its
// /metrics shows.
type ScrapeTarget struct {
	Instance string   `json:"instance"`
	Shard    int32    `json:"shard"`
	Total    int      `json:"total"`
	Resource string   `json:"resource"`
	Exported int      `json:"exported"`
	Names    []string `json:"-"`
}

// timeline records a replay's points and scrapes as the clock runs.
type timeline struct {
	opts TimelineOptions
	// changes counts the deliveries and ops so far; scraped is its value
	// at the last scrape, whose targets a scrape with nothing changed
	// since repeats.
	changes, scraped int
	points           []TimePoint
	steps            []StepImpact
	scrapes          []Scrape
	nextScrape       time.Duration
}

// startTimeline starts recording at the initial checkpoint (time 0).
func (s *Sim) startTimeline() {
	o := *s.opts.Timeline
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = DefaultScrapeInterval
	}
	switch {
	case o.Hold == 0:
		o.Hold = DefaultHold
	case o.Hold < 0:
		o.Hold = 0
	}
	s.tl = &timeline{opts: o}
	s.recordPoint()
}

// recordPoint records the coverage now, if it changed.
func (s *Sim) recordPoint() {
	if s.tl == nil || s.err != nil {
		return
	}
	s.tl.changes++
	// What Prometheus has: an object no pod exports is missing even when
	// no KSM pod is wanted (the properties excuse it then).
	_, cov := s.evaluateFor(max(s.desired(), 1))
	p := TimePoint{At: Seconds(s.clock.now), Step: s.step, Gap: len(cov.Gap), Overlap: len(cov.Overlap)}
	if s.ds != nil {
		p.Gap += len(s.ds.gap)
		p.Overlap += len(s.ds.overlap)
	}
	pts := s.tl.points
	if n := len(pts); n > 0 && pts[n-1].At == p.At && pts[n-1].Step == p.Step {
		pts = pts[:n-1] // a later change of the step at the same instant replaces it
	}
	if n := len(pts); n > 0 && pts[n-1].Gap == p.Gap && pts[n-1].Overlap == p.Overlap {
		s.tl.points = pts
		return
	}
	s.tl.points = append(pts, p)
}

// scrapeBefore runs the scrapes due before t. A scrape at t sees every
// change made at t or before: the clock reaches t before what is due at t
// is delivered, and scrapes t only on its way past it.
func (s *Sim) scrapeBefore(t time.Duration) {
	if s.tl == nil {
		return
	}
	for s.tl.nextScrape < t && s.err == nil {
		s.tl.scrapes = append(s.tl.scrapes, s.scrapeAt(s.tl.scrapes, s.tl.nextScrape))
		s.tl.nextScrape += s.tl.opts.ScrapeInterval
	}
}

// scrapeAt scrapes at t, after the scrapes before: when nothing changed
// since the last of them, it repeats its targets (shared, not copied).
func (s *Sim) scrapeAt(before []Scrape, t time.Duration) Scrape {
	if n := len(before); n > 0 && s.tl.scraped == s.tl.changes {
		sc := before[n-1]
		sc.At = Seconds(t)
		return sc
	}
	s.tl.scraped = s.tl.changes
	return s.scrape(t)
}

// scrape is Prometheus's scrape of every KSM pod that is up at t: started
// and not crashed (a pod before its process runs, or after it exited, is
// a target that is down).
func (s *Sim) scrape(t time.Duration) Scrape {
	sc := Scrape{At: Seconds(t), Objects: map[string]int{}}
	copies := map[string]int{}
	add := func(tg ScrapeTarget, names []string) {
		for _, n := range names {
			copies[n]++
		}
		tg.Exported = len(names)
		if s.tl.opts.Series {
			tg.Names = names
		}
		sc.Targets = append(sc.Targets, tg)
	}
	var live []string
	if s.objects != nil && (s.api.StatefulSet != nil || s.deployments != nil) {
		sc.Objects["configmaps"] = s.objects.Len()
		live = s.objects.UIDs()
		for _, p := range s.pods {
			if !p.state.Ready() {
				continue
			}
			var names []string
			if e, ok := p.runner.(Exporter); ok {
				var err error
				if names, err = e.Exported(); err != nil {
					s.err = fmt.Errorf("%s backend: pod %s: read exports: %w", s.backend.Name(), p.state.Name, err)
					return sc
				}
			} else {
				names = s.storeOf(p)
			}
			c := p.state.Config
			if c.Total == 0 {
				c.Total = 1 // WithSharding(0, 1), before autosharding configures
			}
			if !s.checkSelfMetrics(p.runner, p.state.Name, c) {
				return sc
			}
			add(ScrapeTarget{Instance: p.state.Name, Shard: c.Shard, Total: c.Total, Resource: "configmaps"}, names)
		}
	}
	if s.ds != nil {
		sc.Objects["pods"] = len(s.ds.pods)
		for _, inst := range s.ds.insts {
			if !inst.started || inst.stopped || inst.failed != "" {
				continue
			}
			if !s.checkSelfMetrics(inst.runner, inst.name, model.Config{Shard: 0, Total: 1}) {
				return sc
			}
			add(ScrapeTarget{Instance: inst.name, Shard: 0, Total: 1, Resource: "pods"}, inst.store())
		}
		pods := make([]string, 0, len(s.ds.pods))
		for u := range s.ds.pods {
			pods = append(pods, u)
		}
		slices.Sort(pods)
		live = append(slices.Clip(live), pods...)
	}
	for _, u := range live {
		switch n := copies[u]; {
		case n == 0:
			sc.Missed++
		case n > 1:
			sc.Doubled += n - 1
		}
	}
	slices.SortStableFunc(sc.Targets, func(a, b ScrapeTarget) int { return strings.Compare(a.Instance, b.Instance) })
	return sc
}

// checkSelfMetrics checks the self-metrics the model gives pod name (c)
// against what a backend's KSM pod exports; a disagreement fails the
// replay.
func (s *Sim) checkSelfMetrics(r PodRunner, name string, c model.Config) bool {
	sr, ok := r.(SelfMetricsReader)
	if !ok {
		return true
	}
	shard, total, err := sr.SelfMetrics()
	if err == nil && (shard != c.Shard || total != c.Total) {
		err = fmt.Errorf("its self-metrics show shard_ordinal %d and total_shards %d at %s; the model exports %d and %d", shard, total, FormatDuration(s.clock.now), c.Shard, c.Total)
	}
	if err != nil {
		s.err = fmt.Errorf("%s backend: pod %s: %w", s.backend.Name(), name, err)
		return false
	}
	return true
}

// beginStep marks step i's op at the current time.
func (s *Sim) beginStep(i int, op string) {
	if s.tl == nil {
		return
	}
	s.tl.steps = append(s.tl.steps, StepImpact{Step: i, Op: op, Start: Seconds(s.clock.now)})
}

// endStep marks the current step's point.
func (s *Sim) endStep() {
	if s.tl == nil || len(s.tl.steps) == 0 {
		return
	}
	s.tl.steps[len(s.tl.steps)-1].At = Seconds(s.clock.now)
}

// timelineResult computes the impact: the replay so far, then Hold of
// the current state.
func (s *Sim) timelineResult() *Timeline {
	tl := s.tl
	end := s.clock.now + tl.opts.Hold
	l := s.clock.lat
	out := &Timeline{
		End: Seconds(end), Hold: Seconds(tl.opts.Hold), ScrapeInterval: Seconds(tl.opts.ScrapeInterval),
		Latencies: LatencySettings{Watch: Seconds(l.watch), ListPage: Seconds(l.listPage), PodStart: Seconds(l.podStart),
			PodStop: Seconds(l.podStop), Jitter: l.jitter, Seed: l.seed},
		Points: slices.Clone(tl.points), Steps: slices.Clone(tl.steps), Scrapes: slices.Clone(tl.scrapes),
	}
	// The hold: the state does not change, so its scrapes repeat the
	// current one.
	for t := tl.nextScrape; t <= end && s.err == nil; t += tl.opts.ScrapeInterval {
		out.Scrapes = append(out.Scrapes, s.scrapeAt(out.Scrapes, t))
	}
	for i := range out.Steps {
		st := &out.Steps[i]
		st.Until = out.End
		if i+1 < len(out.Steps) {
			st.Until = out.Steps[i+1].Start
		}
		st.Missing, st.Duplicated = integrate(out.Points, time.Duration(st.Start), time.Duration(st.Until))
	}
	out.Missing, out.Duplicated = integrate(out.Points, 0, end)
	out.WorstGap = worstSpan(out.Points, end, func(p TimePoint) int { return p.Gap })
	out.WorstOverlap = worstSpan(out.Points, end, func(p TimePoint) int { return p.Overlap })
	for _, sc := range out.Scrapes {
		out.MissedSamples += sc.Missed
		out.DoubledSamples += sc.Doubled
	}
	return out
}

// integrate returns the missing and duplicated series-seconds of points
// between from and to.
func integrate(points []TimePoint, from, to time.Duration) (missing, duplicated float64) {
	for i, p := range points {
		a := max(time.Duration(p.At), from)
		b := to
		if i+1 < len(points) {
			b = min(time.Duration(points[i+1].At), to)
		}
		if b <= a {
			continue
		}
		secs := (b - a).Seconds()
		missing += float64(p.Gap) * secs
		duplicated += float64(p.Overlap) * secs
	}
	return round3(missing), round3(duplicated)
}

// worstSpan is the longest span (the first of equals) during which
// count is above zero.
func worstSpan(points []TimePoint, end time.Duration, count func(TimePoint) int) *Span {
	var best, cur *Span
	closeSpan := func(at time.Duration) {
		if cur == nil {
			return
		}
		cur.To = Seconds(at)
		cur.SeriesSeconds = round3(cur.SeriesSeconds)
		if best == nil || cur.To-cur.From > best.To-best.From {
			best = cur
		}
		cur = nil
	}
	for i, p := range points {
		until := end
		if i+1 < len(points) {
			until = time.Duration(points[i+1].At)
		}
		n := count(p)
		if n == 0 {
			closeSpan(time.Duration(p.At))
			continue
		}
		if cur == nil {
			cur = &Span{From: p.At}
		}
		cur.Peak = max(cur.Peak, n)
		cur.SeriesSeconds += float64(n) * (until - time.Duration(p.At)).Seconds()
	}
	closeSpan(end)
	return best
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// Untimed returns copies of points without their times (Start, At): what
// two replays that reach the same states at different times share.
func Untimed(points []Checkpoint) []Checkpoint {
	out := slices.Clone(points)
	for i := range out {
		out[i].Start, out[i].At = 0, 0
	}
	return out
}

// writeText renders the timeline under a reducer's verdict.
func (tl *Timeline) writeText(b *strings.Builder) {
	l := tl.Latencies
	fmt.Fprintf(b, "  timeline (simulated; latencies: watch %s, LIST page %s, pod start %s, pod stop %s, jitter %s, seed %d):\n",
		l.Watch, l.ListPage, l.PodStart, l.PodStop, strconv.FormatFloat(l.Jitter*100, 'f', -1, 64)+"%", l.Seed)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    STEP\tOP\tSTART\tTOOK\tMISSING (series-s)\tDUPLICATED (series-s)")
	for _, st := range tl.Steps {
		fmt.Fprintf(tw, "    %d\t%s\t%s\t%s\t%s\t%s\n", st.Step, textsafe.Text(st.Op), st.Start, st.At-st.Start,
			formatSeriesSeconds(st.Missing), formatSeriesSeconds(st.Duplicated))
	}
	tw.Flush()
	fmt.Fprintf(b, "  impact over %s (the final state held %s): %s missing and %s duplicated series-seconds\n",
		tl.End, tl.Hold, formatSeriesSeconds(tl.Missing), formatSeriesSeconds(tl.Duplicated))
	for _, w := range []struct {
		span *Span
		what string
	}{{tl.WorstGap, "missing"}, {tl.WorstOverlap, "exported twice"}} {
		if w.span == nil {
			continue
		}
		fmt.Fprintf(b, "  worst window, objects %s: %s long, from %s to %s, up to %d at once (%s series-seconds)\n",
			w.what, w.span.To-w.span.From, w.span.From, endOf(w.span.To, tl.End), w.span.Peak, formatSeriesSeconds(w.span.SeriesSeconds))
	}
	fmt.Fprintf(b, "  scrapes every %s: %d scrapes, %d missed samples, %d doubled samples\n",
		tl.ScrapeInterval, len(tl.Scrapes), tl.MissedSamples, tl.DoubledSamples)
	if len(tl.Alerts) == 0 {
		return
	}
	fmt.Fprintf(b, "  alerts (Prometheus's rule engine, every %s):\n", tl.ScrapeInterval)
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, a := range tl.Alerts {
		what := "never fires"
		switch {
		case a.FiresAt != nil:
			what = fmt.Sprintf("fires at %s (pending from %s, for: %s)", *a.FiresAt, *a.PendingAt, a.For)
		case a.PendingAt != nil:
			what = fmt.Sprintf("pending from %s, never fires (for: %s)", *a.PendingAt, a.For)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", textsafe.Text(a.Alert), textsafe.Text(a.File), what)
	}
	tw.Flush()
}

// endOf renders a span's end: "the end" when it lasts to the end.
func endOf(to, end Seconds) string {
	if to == end {
		return "the end at " + to.String()
	}
	return to.String()
}

// formatSeriesSeconds renders series-seconds to a tenth.
func formatSeriesSeconds(f float64) string {
	return strconv.FormatFloat(f, 'f', 1, 64)
}
