package htmlreport_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/shardsim/shardsim/internal/golden"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// replayTimed replays path against every reducer with a timeline, as
// simrun does unless --no-timeline.
func replayTimed(t *testing.T, path string) *sim.Report {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Timeline: &sim.TimelineOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// withAlerts fills the alerts of every result's timeline by hand, as
// simrun does from Prometheus's rule engine: one that fires (from 30s to
// the end), one pending that never fires, one that never fires.
func withAlerts(t *testing.T, rep *sim.Report) {
	t.Helper()
	for _, res := range rep.Results {
		end := float64(res.Timeline.End) / 1e9
		var alerts []sim.AlertOutcome
		js := `[{"alert":"KSMShardingDuplicateSeries","file":"rules/<ksm>.yaml","for":60,"pendingAt":30,"firesAt":90,"firing":[{"from":90,"to":` +
			jsonFloat(end) + `}]},` +
			`{"alert":"KSMShardingMissing","file":"rules/ksm.yaml","for":300,"pendingAt":0},` +
			`{"alert":"KSMShardingMisconfigured","file":"rules/ksm.yaml","for":900}]`
		if err := json.Unmarshal([]byte(js), &alerts); err != nil {
			t.Fatal(err)
		}
		res.Timeline.Alerts = alerts
	}
}

func jsonFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestGoldenTimeline compares the relabel and mixed-relabel reports with
// a timeline and alerts (filled by hand: withAlerts) with their pages
// under testdata (go test ./htmlreport -run TestGolden -update rewrites
// them).
func TestGoldenTimeline(t *testing.T) {
	for _, g := range []struct{ trace, golden string }{
		{"relabel.json", "relabel-timeline.html"},
		{"daemonset/mixed-relabel.json", "mixed-relabel-timeline.html"},
	} {
		t.Run(g.golden, func(t *testing.T) {
			rep := replayTimed(t, filepath.Join(traceDir, g.trace))
			withAlerts(t, rep)
			golden.Check(t, filepath.Join("testdata", g.golden), render(t, rep), "go test ./htmlreport -run TestGoldenTimeline/"+g.golden)
		})
	}
}

// textsOf returns the texts of the elements of n with tag and class.
func textsOf(n *html.Node, tag string, classes ...string) []string {
	var out []string
	for _, e := range findAll(n, element(tag, classes...)) {
		out = append(out, text(e))
	}
	return out
}

// TestTimeAxis: with a Timeline each reducer's timeline is drawn over
// simulated time (ticks in seconds, the hold compressed and said in
// words), its impact is a table of the steps with the series-seconds
// missing and duplicated, the worst windows and the scrapes, and each
// alert says when it fires (or that it never does), with its firing span
// drawn on the axis; the event log gives every entry's time.
func TestTimeAxis(t *testing.T) {
	rep := replayTimed(t, filepath.Join(traceDir, "relabel.json"))
	withAlerts(t, rep)
	out := render(t, rep)
	checkSelfContained(t, out)
	checkSVGWellFormed(t, out)
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		tl := res.Timeline
		sec := section(t, doc, res.Reducer)
		svg := findAll(sec, element("svg"))[0]
		// relabel.json's last step reaches its point after 6.3s and
		// more: a tick every second, from 0s to 6s.
		if last := tl.Steps[len(tl.Steps)-1].At; last < sim.Seconds(6*time.Second) || last >= sim.Seconds(7*time.Second) {
			t.Fatalf("%s: the last point is at %s, the test expects 6s to 7s", res.Reducer, last)
		}
		want := []string{"0s", "1s", "2s", "3s", "4s", "5s", "6s", tl.End.String()}
		if got := textsOf(svg, "text", "ticklabel"); !slices.Equal(got, want) {
			t.Errorf("%s: ticks %q, want %q", res.Reducer, got, want)
		}
		if got := textsOf(svg, "text", "holdlabel"); !slices.Equal(got, []string{"⋯ held 20m0s ⋯"}) {
			t.Errorf("%s: hold label %q", res.Reducer, got)
		}
		points := len(res.Checkpoints) + len(res.Transient)
		if n := len(findAll(svg, element("g", "timed"))); n != points {
			t.Errorf("%s: %d points on the time axis, want %d", res.Reducer, n, points)
		}
		if n := len(findAll(svg, element("g", "run"))); n != len(tl.Steps) {
			t.Errorf("%s: %d step runs shaded, want %d", res.Reducer, n, len(tl.Steps))
		}

		imp := findAll(sec, element("div", "impact"))
		if len(imp) != 1 {
			t.Fatalf("%s: %d impact sections", res.Reducer, len(imp))
		}
		impact := text(imp[0])
		rows := findAll(imp[0], element("tr"))
		for i, st := range tl.Steps {
			cells := textsOf(rows[i+1], "td")
			want := []string{
				strconv.Itoa(st.Step), st.Op, st.Start.String(), st.At.String(), (st.At - st.Start).String(),
				strconv.FormatFloat(st.Missing, 'f', 1, 64), strconv.FormatFloat(st.Duplicated, 'f', 1, 64),
			}
			if !slices.Equal(cells, want) {
				t.Errorf("%s: step row %q, want %q", res.Reducer, cells, want)
			}
		}
		for _, want := range []string{
			"Impact over " + tl.End.String(),
			"scrapes every 30s: " + strconv.Itoa(len(tl.Scrapes)) + " scrapes, " + strconv.Itoa(tl.MissedSamples) + " missed samples, " +
				strconv.Itoa(tl.DoubledSamples) + " doubled samples",
			"fires at 1m30s (pending from 30s, for: 1m0s)",
			"pending from 0s, never fires (for: 5m0s)",
			"never fires",
			"1m30s to " + tl.End.String() + " (the end)",
			"rules/<ksm>.yaml",
		} {
			if !strings.Contains(impact, want) {
				t.Errorf("%s: the impact lacks %q:\n%s", res.Reducer, want, impact)
			}
		}
		switch res.Reducer {
		case "label-selector":
			// 340 objects exported twice for the whole hold: 20m0s.
			w := tl.WorstOverlap
			if w == nil || w.To-w.From != sim.Seconds(20*time.Minute) || w.Peak != 340 {
				t.Fatalf("label-selector: worst overlap %+v, want 340 objects for 20m0s", w)
			}
			for _, want := range []string{
				"worst window, objects exported twice: 20m0s long, from " + w.From.String() + " to the end at " + tl.End.String() + ", up to 340 at once (408000.0 series-seconds)",
				"total, to the end at " + tl.End.String() + "0.0408000.0",
				"worst window, objects missing: never",
			} {
				if !strings.Contains(impact, want) {
					t.Errorf("label-selector: the impact lacks %q:\n%s", want, impact)
				}
			}
		case "field-selector":
			w := tl.WorstGap
			if w == nil || w.Peak != 1000 {
				t.Fatalf("field-selector: worst gap %+v, want up to 1000 objects", w)
			}
			want := "worst window, objects missing: " + (w.To - w.From).String() + " long, from " + w.From.String() + " to " + w.To.String() + ", up to 1000 at once"
			if !strings.Contains(impact, want) {
				t.Errorf("field-selector: the impact lacks %q:\n%s", want, impact)
			}
			worst := findAll(svg, element("g", "worst"))
			if len(worst) != 1 || !strings.Contains(ownTitle(worst[0]), (w.To-w.From).String()+" long") {
				t.Errorf("field-selector: the worst gap window is not outlined on the band")
			}
		}

		// A mark per scrape; the label selector's scrapes from the
		// first after the overlap began doubled 340 samples each.
		marks := findAll(svg, element("g", "scrape"))
		if len(marks) != len(tl.Scrapes) {
			t.Errorf("%s: %d scrape marks, want %d", res.Reducer, len(marks), len(tl.Scrapes))
		}
		doubled := 0
		for _, m := range marks {
			if hasClass(m, "doubled") {
				doubled++
				if !strings.Contains(ownTitle(m), "340 doubled samples") {
					t.Errorf("%s: a doubled scrape says %q", res.Reducer, ownTitle(m))
				}
			}
		}
		if want := tl.DoubledSamples / 340; doubled != want {
			t.Errorf("%s: %d doubled scrapes, want %d", res.Reducer, doubled, want)
		}

		// The table of checkpoints gives each point's time.
		var ats []string
		for _, row := range findAll(sec, element("tr")) {
			if cells := textsOf(row, "td"); len(cells) > 3 && (cells[2] == "checkpoint" || cells[3] == "checkpoint") {
				ats = append(ats, cells[2])
			}
		}
		var wantAts []string
		for _, c := range res.Checkpoints {
			wantAts = append(wantAts, c.At.String())
		}
		if !slices.Equal(ats, wantAts) {
			t.Errorf("%s: checkpoint times %q, want %q", res.Reducer, ats, wantAts)
		}

		// The alerts' rows: the firing one has a firing bar from 1m30s.
		alerts := findAll(svg, element("g", "alertrow"))
		if len(alerts) != 3 {
			t.Fatalf("%s: %d alert rows, want 3", res.Reducer, len(alerts))
		}
		fire := findAll(alerts[0], element("g", "firing"))
		if len(fire) != 1 || !strings.Contains(ownTitle(fire[0]), "firing from 1m30s to "+tl.End.String()) {
			t.Errorf("%s: KSMShardingDuplicateSeries has no firing bar from 1m30s", res.Reducer)
		}
		for _, a := range alerts[1:] {
			if n := len(findAll(a, element("g", "firing"))); n != 0 {
				t.Errorf("%s: an alert that never fires has %d firing bars", res.Reducer, n)
			}
		}

		// The event log gives each entry's time.
		log := text(findAll(sec, element("pre"))[0])
		for _, e := range res.Log {
			if !strings.Contains(log, " "+e.At.String()+"] ") {
				t.Errorf("%s: the log lacks the time %s of %q", res.Reducer, e.At, e.Event)
			}
		}
	}
	if bytes.Contains(out, []byte("<ksm>")) {
		t.Error("the alert's rules file is not escaped")
	}
}

// TestWithoutTimeline: a report without a Timeline (older JSON,
// --no-timeline) keeps one column per point and has no time axis and no
// impact section.
func TestWithoutTimeline(t *testing.T) {
	rep := replay(t, filepath.Join(traceDir, "relabel.json"))
	out := render(t, rep)
	for _, bad := range []string{`class="axis"`, `class="impact"`, "ticklabel", "held 20m0s"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("a report without a timeline has %s", bad)
		}
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(findAll(doc, element("g", "col"))); n != 6 {
		t.Errorf("%d columns, want 6 (3 points x 2 reducers)", n)
	}
}

// TestEveryTraceTimed renders every trace's report with a timeline: the
// page is deterministic, self-contained and well-formed, with a point on
// the time axis per point of the replay and the lanes of the step view.
func TestEveryTraceTimed(t *testing.T) {
	for _, path := range traceFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			tr, err := sim.LoadTrace(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Timeline: &sim.TimelineOptions{}, Windows: true})
			if err != nil {
				t.Fatal(err)
			}
			out := render(t, rep)
			if !bytes.Equal(out, render(t, rep)) {
				t.Fatal("two renderings of the same report differ")
			}
			checkSelfContained(t, out)
			checkSVGWellFormed(t, out)
			doc, err := html.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range rep.Results {
				if res.Timeline == nil {
					t.Fatalf("%s: no timeline", res.Reducer)
				}
				sec := section(t, doc, res.Reducer)
				if n, want := len(findAll(sec, element("g", "timed"))), len(res.Checkpoints)+len(res.Transient); n != want {
					t.Errorf("%s: %d points on the time axis, want %d", res.Reducer, n, want)
				}
				if n, want := len(findAll(sec, element("g", "lane"))), len(wantOrdinals(res))+len(wantNodes(res)); n != want {
					t.Errorf("%s: %d lanes, want %d", res.Reducer, n, want)
				}
				if n := len(findAll(sec, element("div", "impact"))); n != 1 {
					t.Errorf("%s: %d impact sections", res.Reducer, n)
				}
			}
		})
	}
}

// TestWriteTimedSample writes the relabel page with a timeline and
// alerts to $HTMLREPORT_SAMPLE (and the mixed trace's next to it), to look
// at in a browser; it skips unless the variable is set.
func TestWriteTimedSample(t *testing.T) {
	out := os.Getenv("HTMLREPORT_SAMPLE")
	if out == "" {
		t.Skip("HTMLREPORT_SAMPLE unset")
	}
	rep := replayTimed(t, filepath.Join(traceDir, "relabel.json"))
	withAlerts(t, rep)
	var b bytes.Buffer
	b.Write(render(t, rep))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = replayTimed(t, filepath.Join(traceDir, "daemonset", "mixed-relabel.json"))
	if err := os.WriteFile(out+".mixed.html", render(t, rep), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDegenerateTimelines: a Timeline with nothing in it, or alerts
// without spans, still renders (no panic), with its time axis.
func TestDegenerateTimelines(t *testing.T) {
	zero := sim.Seconds(0)
	for name, rep := range map[string]*sim.Report{
		"no points": {Trace: "nothing", Schedule: "eager", Results: []*sim.Result{
			{Reducer: "label-selector", Models: "kube-state-metrics <= v2.12.0", Timeline: &sim.Timeline{}},
		}},
		"only a hold": {Trace: "hold", Schedule: "eager", Results: []*sim.Result{
			{Reducer: "field-selector", Models: "kube-state-metrics >= v2.13.0",
				Checkpoints: []sim.Checkpoint{{Step: -1, Op: "initial", Replicas: 1, Complete: true, Disjoint: true}},
				Timeline: &sim.Timeline{End: sim.Seconds(time.Minute), Hold: sim.Seconds(time.Minute),
					Points: []sim.TimePoint{{Gap: 3}},
					Alerts: []sim.AlertOutcome{{Alert: "A", FiresAt: &zero}, {Alert: "B"}}}},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			out := render(t, rep)
			checkSelfContained(t, out)
			checkSVGWellFormed(t, out)
			if !bytes.Contains(out, []byte(`class="axis"`)) {
				t.Error("no time axis")
			}
		})
	}
}
