package sim_test

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// allTraces returns every shipped trace.
func allTraces(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"*.json", "*/*.json"} {
		m, err := filepath.Glob(filepath.Join("..", "traces", pattern))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 40 {
		t.Fatalf("found %d traces, want the shipped ones", len(out))
	}
	return out
}

// TestTimelineOracle checks every shipped trace's timeline against
// oracles computed here from its parts: the points are the coverage at
// the checkpoints, the series-seconds are the integral of the points
// (computed again, independently), the steps add up to the total, and
// each scrape misses the objects the point in effect then leaves
// uncovered.
func TestTimelineOracle(t *testing.T) {
	for _, path := range allTraces(t) {
		tr, err := sim.LoadTrace(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sim.ExpectedReducers(tr) {
			res, err := sim.Run(tr, r, sim.Options{Timeline: &sim.TimelineOptions{Series: true}})
			if err != nil {
				t.Fatalf("%s %s: %v", path, r.Name(), err)
			}
			checkTimeline(t, path+" "+r.Name(), res)
		}
	}
}

// reporter is what checkTimeline reports to: a *testing.T or a *rapid.T.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// rapidSource draws a generator's choices from rapid, so that rapid
// shrinks a failing trace.
type rapidSource struct{ t *rapid.T }

func (s rapidSource) Draw(label string, n int) int { return rapid.IntRange(0, n-1).Draw(s.t, label) }

// TestTimelineOracleRandom: the oracles of TestTimelineOracle on random
// traces of every generator: autosharding with faults and both
// schedules, static sharding and DaemonSet sharding.
func TestTimelineOracleRandom(t *testing.T) {
	type builder interface {
		Op(properties.Source) string
		Trace() *sim.Trace
		Close()
	}
	for _, g := range []struct {
		name string
		new  func(properties.Source) builder
	}{
		{"autosharding", func(src properties.Source) builder {
			return properties.NewBuilder(src, properties.GenConfig{Objects: 60, Faults: true, DataPlane: properties.AnyDataPlane})
		}},
		{"static", func(src properties.Source) builder {
			return properties.NewStaticBuilder(src, properties.ModeConfig{Objects: 60})
		}},
		{"daemonset", func(src properties.Source) builder {
			return properties.NewDaemonSetBuilder(src, properties.ModeConfig{Objects: 60})
		}},
	} {
		t.Run(g.name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				src := rapidSource{rt}
				b := g.new(src)
				defer b.Close()
				for range rapid.IntRange(1, 8).Draw(rt, "ops") {
					b.Op(src)
				}
				tr := properties.CloneTrace(b.Trace())
				for _, r := range []model.Reducer{model.LabelSelector{}, model.FieldSelector{}} {
					res, err := sim.Run(tr, r, sim.Options{Timeline: &sim.TimelineOptions{Series: true, Hold: time.Minute}})
					if err != nil {
						rt.Fatalf("%s: %v", r.Name(), err)
					}
					checkTimeline(rt, g.name+" "+r.Name(), res)
				}
			})
		})
	}
}

func checkTimeline(t reporter, name string, res *sim.Result) {
	t.Helper()
	tl := res.Timeline
	if tl == nil {
		t.Fatalf("%s: no timeline", name)
	}
	pts := tl.Points
	if len(pts) == 0 || pts[0].At != 0 {
		t.Fatalf("%s: the points do not start at 0: %v", name, pts)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].At < pts[i-1].At || pts[i].At == pts[i-1].At && pts[i].Step == pts[i-1].Step {
			t.Errorf("%s: point %d at %s is not after point %d at %s", name, i, pts[i].At, i-1, pts[i-1].At)
		}
		if pts[i].Gap == pts[i-1].Gap && pts[i].Overlap == pts[i-1].Overlap {
			t.Errorf("%s: point %d repeats point %d", name, i, i-1)
		}
	}
	// At each quiescent point the timeline's coverage is the checkpoint's.
	at := func(t time.Duration) sim.TimePoint {
		p := pts[0]
		for _, q := range pts {
			if time.Duration(q.At) <= t {
				p = q
			}
		}
		return p
	}
	for _, c := range res.Checkpoints {
		gap, overlap := c.Gap.Count, c.Overlap.Count
		if c.Replicas == 0 && c.Nodes == nil {
			gap = c.Objects // no pod wanted, none serving: all of them
		}
		if c.Nodes != nil {
			gap += c.Nodes.Gap.Count
			overlap += c.Nodes.Overlap.Count
		}
		if c.Step >= 0 {
			// The last point the step made: the next step's op may
			// come at the same instant.
			var p sim.TimePoint
			for _, q := range pts {
				if q.Step <= c.Step {
					p = q
				}
			}
			if p.Gap != gap || p.Overlap != overlap {
				t.Errorf("%s: after step %d (at %s) the timeline has gap %d, overlap %d; the checkpoint %d, %d", name, c.Step, c.At, p.Gap, p.Overlap, gap, overlap)
			}
		}
	}
	// Series-seconds: the integral, computed here again.
	var missing, duplicated float64
	for i, p := range pts {
		until := tl.End
		if i+1 < len(pts) {
			until = pts[i+1].At
		}
		d := time.Duration(until - p.At).Seconds()
		missing += float64(p.Gap) * d
		duplicated += float64(p.Overlap) * d
	}
	if math.Abs(missing-tl.Missing) > 0.01 || math.Abs(duplicated-tl.Duplicated) > 0.01 {
		t.Errorf("%s: %v missing and %v duplicated series-seconds, the points integrate to %v and %v", name, tl.Missing, tl.Duplicated, missing, duplicated)
	}
	var stepMissing, stepDuplicated float64
	for i, st := range tl.Steps {
		stepMissing += st.Missing
		stepDuplicated += st.Duplicated
		if i+1 < len(tl.Steps) && st.Until != tl.Steps[i+1].Start || st.At < st.Start || st.Until < st.At {
			t.Errorf("%s: step %d runs %s, %s, %s", name, st.Step, st.Start, st.At, st.Until)
		}
	}
	if math.Abs(stepMissing-tl.Missing) > 0.01*float64(len(tl.Steps)+1) || math.Abs(stepDuplicated-tl.Duplicated) > 0.01*float64(len(tl.Steps)+1) {
		t.Errorf("%s: the steps add up to %v and %v series-seconds, the total is %v and %v", name, stepMissing, stepDuplicated, tl.Missing, tl.Duplicated)
	}
	if tl.End != tl.Steps[len(tl.Steps)-1].At+tl.Hold {
		t.Errorf("%s: ends at %s, want the last step's point %s and the hold %s", name, tl.End, tl.Steps[len(tl.Steps)-1].At, tl.Hold)
	}
	// Scrapes: every interval from 0 to End; each misses what its point
	// leaves uncovered and doubles at least what it overlaps.
	if want := int(time.Duration(tl.End)/time.Duration(tl.ScrapeInterval)) + 1; len(tl.Scrapes) != want {
		t.Errorf("%s: %d scrapes to %s, want %d", name, len(tl.Scrapes), tl.End, want)
	}
	missed, doubled := 0, 0
	for i, sc := range tl.Scrapes {
		if sc.At != sim.Seconds(time.Duration(i)*time.Duration(tl.ScrapeInterval)) {
			t.Fatalf("%s: scrape %d at %s", name, i, sc.At)
		}
		p := at(time.Duration(sc.At))
		if sc.Missed != p.Gap || (sc.Doubled == 0) != (p.Overlap == 0) || sc.Doubled < p.Overlap {
			t.Errorf("%s: the scrape at %s missed %d and doubled %d samples; the coverage then: gap %d, overlap %d", name, sc.At, sc.Missed, sc.Doubled, p.Gap, p.Overlap)
		}
		for _, tg := range sc.Targets {
			if tg.Exported != len(tg.Names) {
				t.Errorf("%s: the scrape at %s of %s counts %d objects and names %d", name, sc.At, tg.Instance, tg.Exported, len(tg.Names))
			}
			if tg.Total < 1 || tg.Shard < 0 {
				t.Errorf("%s: the scrape at %s of %s exports shard %d of %d", name, sc.At, tg.Instance, tg.Shard, tg.Total)
			}
		}
		missed += sc.Missed
		doubled += sc.Doubled
	}
	if missed != tl.MissedSamples || doubled != tl.DoubledSamples {
		t.Errorf("%s: %d missed and %d doubled samples, the scrapes add up to %d and %d", name, tl.MissedSamples, tl.DoubledSamples, missed, doubled)
	}
	// Each step's times are its checkpoint's.
	for _, c := range append(res.Checkpoints[1:], res.Transient...) {
		for _, st := range tl.Steps {
			if st.Step == c.Step && (st.Start != c.Start || st.At != c.At) {
				t.Errorf("%s: step %d is %s to %s in the timeline, %s to %s in its point", name, c.Step, st.Start, st.At, c.Start, c.At)
			}
		}
	}
}

// TestTimelineDeterministic: the same trace and seed give byte-identical
// reports, whatever GOMAXPROCS is; another seed moves the times.
func TestTimelineDeterministic(t *testing.T) {
	tr, err := sim.LoadTrace(filepath.Join("..", "traces", "relabel.json"))
	if err != nil {
		t.Fatal(err)
	}
	replay := func(procs int) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Timeline: &sim.TimelineOptions{}})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := rep.WriteJSON(&b, true); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	first := replay(1)
	if second := replay(4); !bytes.Equal(first, second) {
		t.Error("two replays of relabel.json differ")
	}
	tr.Cluster.Latencies = &sim.Latencies{Seed: 2}
	if bytes.Equal(first, replay(2)) {
		t.Error("another seed gives the same times")
	}
}

// TestLatencies: with no jitter the times are the latencies added up
// along the path each step takes.
func TestLatencies(t *testing.T) {
	zero := 0.0
	for _, tc := range []struct {
		lat          sim.Latencies
		relabel, all time.Duration // step 0's point; step 1's
	}{
		// relabel: the watch event (100ms). scale: the pods' watch
		// events, while pod 2 starts (5s), lists its StatefulSet
		// (250ms) and its first page of objects (250ms).
		{sim.Latencies{Jitter: &zero}, 100 * time.Millisecond, 100*time.Millisecond + 5500*time.Millisecond},
		{sim.Latencies{Jitter: &zero, PodStart: "30s", ListPage: "1s", Watch: "2s"}, 2 * time.Second, 2*time.Second + 32*time.Second},
	} {
		tr, err := sim.LoadTrace(filepath.Join("..", "traces", "relabel.json"))
		if err != nil {
			t.Fatal(err)
		}
		tr.Cluster.Latencies = &tc.lat
		res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Duration(res.Checkpoints[1].At); got != tc.relabel {
			t.Errorf("%+v: the relabel settles at %s, want %s", tc.lat, got, tc.relabel)
		}
		if got := time.Duration(res.Checkpoints[2].At); got != tc.all {
			t.Errorf("%+v: the scale settles at %s, want %s", tc.lat, got, tc.all)
		}
	}
}

// TestWait: a wait lets time pass, and the next op comes after it.
func TestWait(t *testing.T) {
	tr, err := sim.ReadTrace("wait.json", strings.NewReader(`{"name": "wait",
		"cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "replicas": 2}, "objects": {"generate": 10, "seed": 1},
			"latencies": {"jitter": 0}},
		"steps": [{"op": "wait", "duration": "10m"}, {"op": "scale", "replicas": 3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{Timeline: &sim.TimelineOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(res.Checkpoints[2].Start); got != 10*time.Minute {
		t.Errorf("the scale starts at %s, want 10m0s", got)
	}
	if got := res.Timeline.Steps[0]; got.At != sim.Seconds(10*time.Minute) {
		t.Errorf("the wait reaches its point at %s, want 10m0s", got.At)
	}
}

// TestRestartBackOff: the kubelet restarts a crashed container after 10s,
// then 20s, then 40s (pkg/kubelet: backOffPeriod, doubled).
func TestRestartBackOff(t *testing.T) {
	tr, err := sim.ReadTrace("backoff.json", strings.NewReader(`{"name": "backoff",
		"cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "replicas": 1}, "objects": {"generate": 10, "seed": 1},
			"latencies": {"jitter": 0}},
		"steps": [{"op": "failStart", "pods": [0], "count": 3}, {"op": "restart", "pods": [0]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	restarts := logTimes(res, sim.LogRestarted)
	var firstFailure time.Duration = -1
	for _, e := range res.Log {
		if e.Kind == sim.LogGet && strings.HasPrefix(e.Event, "GET failed") {
			firstFailure = time.Duration(e.At)
			break
		}
	}
	if len(restarts) != 3 || firstFailure < 0 {
		t.Fatalf("%d restarts after a failure at %s, want 3: %v", len(restarts), firstFailure, restarts)
	}
	// The first restart comes 10s after the failed start-up; each later
	// one the pod start latency (5s, to the next failed start-up) and
	// twice the back-off before it later.
	if d := restarts[0] - firstFailure; d != 10*time.Second {
		t.Errorf("the first restart comes %s after the failed start-up, want 10s", d)
	}
	for i, want := range []time.Duration{5*time.Second + 20*time.Second, 5*time.Second + 40*time.Second} {
		if d := restarts[i+1] - restarts[i]; d != want {
			t.Errorf("restart %d comes %s after restart %d, want %s", i+1, d, i, want)
		}
	}
}

// TestLatencyErrors: bad latencies and waits name their field.
func TestLatencyErrors(t *testing.T) {
	for _, tc := range []struct {
		cluster, steps string
		field, msg     string
	}{
		{`"latencies": {"watch": "fast"}`, `[{"op": "scale", "replicas": 1}]`, "cluster.latencies.watch", `invalid duration "fast"`},
		{`"latencies": {"podStart": "-1s"}`, `[{"op": "scale", "replicas": 1}]`, "cluster.latencies.podStart", "negative"},
		{`"latencies": {"podStop": "48h"}`, `[{"op": "scale", "replicas": 1}]`, "cluster.latencies.podStop", "limit"},
		{`"latencies": {"jitter": 1.5}`, `[{"op": "scale", "replicas": 1}]`, "cluster.latencies.jitter", "fraction"},
		{`"latencies": {"wath": "1s"}`, `[{"op": "scale", "replicas": 1}]`, "cluster.latencies.wath", "unknown field"},
		{`"latencies": {}`, `[{"op": "wait"}]`, "steps[0].duration", "required"},
		{`"latencies": {}`, `[{"op": "wait", "duration": "1 minute"}]`, "steps[0].duration", "invalid duration"},
		{`"latencies": {}`, `[{"op": "scale", "replicas": 1, "duration": "1m"}]`, "steps[0]", "duration"},
	} {
		_, err := sim.ReadTrace("bad.json", strings.NewReader(`{"name": "bad",
			"cluster": {"namespace": "ns", "statefulSet": {"name": "ksm"}, "objects": {"generate": 10, "seed": 1}, `+tc.cluster+`},
			"steps": `+tc.steps+`}`))
		var te *sim.TraceError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %s: got %v, want a trace error naming %s and saying %q", tc.cluster, tc.steps, err, tc.field, tc.msg)
		}
	}
}

// TestCrashLoopRecovery: a pod that crash-looped for 20 minutes is
// restarted after recover when the kubelet's back-off says, not at once:
// crashed at 7s, it was restarted (and failed 5s later) at 17s, 42s, 87s,
// 172s, 337s, 642s and 947s, and recover at 20m7s waits for the restart
// at 1252s.
func TestCrashLoopRecovery(t *testing.T) {
	tr, err := sim.ReadTrace("crash.json", strings.NewReader(`{"name": "crash",
		"cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "replicas": 1}, "objects": {"generate": 10, "seed": 1},
			"latencies": {"jitter": 0}},
		"steps": [{"op": "crashLoop", "pods": [0]}, {"op": "restart", "pods": [0]},
			{"op": "wait", "duration": "20m"}, {"op": "recover", "pods": [0]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	restarts := logTimes(res, sim.LogRestarted)
	if want := []time.Duration{1252 * time.Second}; !slices.Equal(restarts, want) {
		t.Errorf("restarted at %v, want %v", restarts, want)
	}
	if last := res.Checkpoints[len(res.Checkpoints)-1]; !last.Holds() || time.Duration(last.At) != 1252*time.Second+5500*time.Millisecond {
		t.Errorf("the recovery settles at %s (holds %v), want 20m57.5s", last.At, last.Holds())
	}
}

// logTimes returns the times of res's log entries of kind.
func logTimes(res *sim.Result, kind sim.LogKind) []time.Duration {
	var out []time.Duration
	for _, e := range res.Log {
		if e.Kind == kind {
			out = append(out, time.Duration(e.At))
		}
	}
	return out
}
