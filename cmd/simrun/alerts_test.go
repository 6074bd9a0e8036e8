package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/monitor"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

var promtoolAll = flag.Bool("promtool.all", false, "TestPromtoolTestFile: run promtool on every bug trace's file")

const (
	shardingMismatch = "KubeStateMetricsShardingMismatch"
	shardsMissing    = "KubeStateMetricsShardsMissing"
	exportedTwice    = "KubeStateMetricsObjectsExportedTwice"
	objectsMissing   = "KubeStateMetricsObjectsMissing"
)

// replayWithAlerts replays path against reducers (nil: the trace's
// default ones) as simrun does: with the timeline, then the alerts.
func replayWithAlerts(t *testing.T, path string, reducers []model.Reducer) *sim.Report {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	if reducers == nil {
		reducers = sim.ExpectedReducers(tr)
	}
	rep, err := sim.Replay(tr, reducers, sim.Options{Timeline: &sim.TimelineOptions{Series: true}})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if _, err := evaluateAlerts(rep, tr.Cluster.Namespace, monitor.DefaultRuleFiles()); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep
}

// fired returns the alerts of res that fired, sorted.
func fired(res *sim.Result) []string {
	var out []string
	for _, a := range res.Timeline.Alerts {
		if a.FiresAt != nil {
			out = append(out, a.Alert)
		}
	}
	slices.Sort(out)
	return out
}

// scaledToZero reports whether res ends with no KSM pod wanted: the
// properties excuse the objects nobody exports then, and the coverage
// alert rightly fires on them.
func scaledToZero(res *sim.Result) bool {
	return res.Checkpoints[len(res.Checkpoints)-1].Replicas == 0
}

// permanent reports whether res ends violated: its last quiescent point
// is, so the violation lasts through the hold.
func permanent(res *sim.Result) bool {
	last := res.Checkpoints[len(res.Checkpoints)-1]
	return last.Healing == sim.Permanent
}

// TestMixinAlertsAsObserved: what DESIGN.md records of real KSM v2.12.0
// and v2.13.0 self-metrics run through promtool on the mixin's rules —
// relabel-then-scale-up fires only ShardingMismatch, relabel-then-scale-down
// only ShardsMissing, a pod that never configured (it exports shard 0 of 1)
// fires both, and the bugs below the informer leave every configuration
// right, so neither fires — comes out of the simulated self-metrics and
// Prometheus's rule engine.
func TestMixinAlertsAsObserved(t *testing.T) {
	for _, tc := range []struct {
		trace   string
		reducer string
		want    []string // the mixin alerts that fire
	}{
		{"../../traces/relabel.json", "label-selector", []string{shardingMismatch}},
		{"../../traces/relabel.json", "field-selector", nil},
		{"../../traces/relabel-scale-down.json", "label-selector", []string{shardsMissing}},
		{"../../traces/relabel-scale-down.json", "field-selector", nil},
		{"../../traces/bugs/get-list-race.json", "v2.12.0", []string{shardingMismatch, shardsMissing}},
		{"../../traces/bugs/3065-paged-list-keeps-first-page.json", "v2.19.1", nil},
		{"../../traces/bugs/2973-watchlist-bookmark-one-shard.json", "v2.19.0", nil},
	} {
		r, ok := model.ReducerByName(tc.reducer)
		if !ok {
			t.Fatalf("no reducer %s", tc.reducer)
		}
		res := replayWithAlerts(t, tc.trace, []model.Reducer{r}).Results[0]
		var got []string
		for _, a := range fired(res) {
			if a == shardingMismatch || a == shardsMissing {
				got = append(got, a)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s on %s: the mixin alerts that fire are %v, want %v", filepath.Base(tc.trace), tc.reducer, got, tc.want)
		}
	}
}

// TestCoverageAlertsOnBugTraces: on every bug trace, the coverage alerts
// fire on every reducer the bug leaves permanently violated, and neither
// fires on a reducer that holds (the releases that fixed it). A
// self-healing bug lasts well under a scrape interval: nothing with
// "for: 15m" can page on it, and nothing does.
func TestCoverageAlertsOnBugTraces(t *testing.T) {
	paths, err := filepath.Glob("../../traces/bugs/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no bug traces: %v", err)
	}
	for _, path := range paths {
		for _, res := range replayWithAlerts(t, path, nil).Results {
			got := fired(res)
			coverage := slices.Contains(got, exportedTwice) || slices.Contains(got, objectsMissing)
			switch {
			case permanent(res) && !coverage:
				t.Errorf("%s on %s: permanently violated, yet no coverage alert fires (fired: %v)", filepath.Base(path), res.Reducer, got)
			case res.Holds && len(got) > 0 && !scaledToZero(res):
				t.Errorf("%s on %s: holds, yet %v fire", filepath.Base(path), res.Reducer, got)
			case !res.Holds && !permanent(res) && len(got) > 0:
				t.Errorf("%s on %s: self-healing, yet %v fire", filepath.Base(path), res.Reducer, got)
			}
		}
	}
}

// TestNoAlertOnHoldingTraces: no alert fires on any shipped trace's
// reducer that holds, and a coverage alert fires on every one that ends
// violated.
func TestNoAlertOnHoldingTraces(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"../../traces/*.json", "../../traces/*/*.json"} {
		p, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p...)
	}
	if testing.Short() {
		paths = paths[:min(len(paths), 8)]
	}
	for _, path := range paths {
		for _, res := range replayWithAlerts(t, path, nil).Results {
			got := fired(res)
			switch {
			case res.Holds && len(got) > 0 && !scaledToZero(res):
				t.Errorf("%s on %s: holds, yet %v fire", path, res.Reducer, got)
			case permanent(res) && !slices.Contains(got, exportedTwice) && !slices.Contains(got, objectsMissing):
				t.Errorf("%s on %s: ends violated, yet no coverage alert fires (fired: %v)", path, res.Reducer, got)
			}
		}
	}
}

// TestPromtoolTestFile: simrun --promtool-test writes a file that
// Prometheus's own promtool passes, for the main job and bug traces that
// fire each alert: both of the mixin's (get-list-race), objects missing
// below the informer (3065) and pods missing by node (2374); -promtool.all
// runs every bug trace. It skips without promtool; .ci/run installs
// Debian's prometheus.
func TestPromtoolTestFile(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian: apt-get install prometheus); the promtool test files are not checked")
	}
	paths := []string{relabelTrace, "../../traces/bugs/get-list-race.json",
		"../../traces/bugs/3065-paged-list-keeps-first-page.json", "../../traces/bugs/2374-node-name-with-dots.json"}
	if *promtoolAll {
		paths, _ = filepath.Glob("../../traces/bugs/*.json")
		paths = append([]string{relabelTrace}, paths...)
	}
	if testing.Short() {
		paths = paths[:2]
	}
	for _, path := range paths {
		dir := t.TempDir()
		out := filepath.Join(dir, "test.yaml")
		code, _, errOut := runSimrun(t, "--trace", path, "--promtool-test", out)
		if code != 0 && code != exitViolated {
			t.Fatalf("%s: exit status %d: %s", path, code, errOut)
		}
		for _, f := range []string{"kube-state-metrics-mixin.yaml", "coverage.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: the rules file %s is not beside the test: %v", path, f, err)
			}
		}
		cmd := exec.Command(promtool, "test", "rules", "test.yaml")
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), "SUCCESS") {
			t.Errorf("%s: promtool test rules: %v\n%s", path, err, b)
		}
	}
}

// TestPromtoolTestRefusesToClobber: an existing test file, or a
// different rules file beside it, is replaced only with --force.
func TestPromtoolTestRefusesToClobber(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "test.yaml")
	if err := os.WriteFile(filepath.Join(dir, "coverage.yaml"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runSimrun(t, "--trace", relabelTrace, "--promtool-test", out)
	if code != exitUsage || !strings.Contains(string(errOut), "coverage.yaml") || !strings.Contains(string(errOut), "--force") {
		t.Errorf("exit status %d, want %d naming coverage.yaml and --force; stderr:\n%s", code, exitUsage, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "coverage.yaml")); string(b) != "mine\n" {
		t.Errorf("coverage.yaml was replaced without --force: %q", b)
	}
	if code, _, errOut = runSimrun(t, "--trace", relabelTrace, "--promtool-test", out, "--force"); code != exitViolated {
		t.Errorf("with --force: exit status %d, want %d; stderr:\n%s", code, exitViolated, errOut)
	}
	if code, _, errOut = runSimrun(t, "--trace", relabelTrace, "--promtool-test", out); code != exitUsage || !strings.Contains(string(errOut), "test.yaml") {
		t.Errorf("an existing test file: exit status %d, want %d naming it; stderr:\n%s", code, exitUsage, errOut)
	}
	missing := filepath.Join(dir, "missing", "test.yaml")
	code, stdout, errOut := runSimrun(t, "--trace", relabelTrace, "--promtool-test", missing)
	if code != exitUsage || len(stdout) != 0 || !strings.Contains(string(errOut), "missing") {
		t.Errorf("a missing directory: exit status %d, want %d before the replay (no report); stderr:\n%s", code, exitUsage, errOut)
	}
	if code, _, errOut = runSimrun(t, "--trace", relabelTrace, "--promtool-test", out, "--no-timeline", "--force"); code != exitUsage || !strings.Contains(string(errOut), "--no-timeline") {
		t.Errorf("--promtool-test with --no-timeline: exit status %d, want %d; stderr:\n%s", code, exitUsage, errOut)
	}
}

// TestAlertsDeterministic: the report with its alerts, and the promtool
// file, are byte-identical whatever GOMAXPROCS is (Prometheus's engine
// runs the rules' queries in parallel).
func TestAlertsDeterministic(t *testing.T) {
	var outs, files [2][]byte
	for i, procs := range []int{1, 4} {
		prev := runtime.GOMAXPROCS(procs)
		path := filepath.Join(t.TempDir(), "t.yaml")
		code, out, errOut := runSimrun(t, "--trace", "../../traces/bugs/get-list-race.json", "--format", "json", "--promtool-test", path)
		runtime.GOMAXPROCS(prev)
		if code != exitViolated {
			t.Fatalf("exit status %d: %s", code, errOut)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outs[i], files[i] = out, b
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(files[0], files[1]) {
		t.Error("GOMAXPROCS 1 and 4 give different reports or promtool files")
	}
}

// rapidSource draws a generator's choices from rapid.
type rapidSource struct{ t *rapid.T }

func (s rapidSource) Draw(label string, n int) int { return rapid.IntRange(0, n-1).Draw(s.t, label) }

// TestAlertsMatchScrapesRandom: on random autosharding traces (faults,
// both schedules), when each alert fires is what the scrapes say, read
// here without Prometheus — an independent oracle of the series, the
// staleness markers and the rules: an alert's expression holds at an
// evaluation when the scrape at that time makes it hold (every series
// that left a scrape was marked stale at once), and the alert fires at
// the 31st evaluation in a row at which it holds (for: 15m at 30s).
//
// The coverage alerts count names, as their expressions do, so a pod
// still exporting a deleted object (its DELETED event undelivered) counts
// it: it can hide a missing one from ObjectsMissing, and a deleted object
// exported twice fires ObjectsExportedTwice. Missed and doubled samples
// count live objects only, so they are not this oracle.
func TestAlertsMatchScrapesRandom(t *testing.T) {
	copies := func(sc sim.Scrape) map[string]int {
		n := map[string]int{}
		for _, tg := range sc.Targets {
			for _, name := range tg.Names {
				n[name]++
			}
		}
		return n
	}
	holds := map[string]func(sim.Scrape) bool{
		objectsMissing: func(sc sim.Scrape) bool { return len(copies(sc)) < sc.Objects["configmaps"] },
		exportedTwice: func(sc sim.Scrape) bool {
			for _, n := range copies(sc) {
				if n > 1 {
					return true
				}
			}
			return false
		},
		shardingMismatch: func(sc sim.Scrape) bool {
			for _, tg := range sc.Targets {
				if tg.Total != sc.Targets[0].Total {
					return true
				}
			}
			return false
		},
		shardsMissing: func(sc sim.Scrape) bool {
			if len(sc.Targets) == 0 {
				return false // max() of nothing: no result
			}
			most, ordinals := 0, map[int32]bool{}
			for _, tg := range sc.Targets {
				most = max(most, tg.Total)
				ordinals[tg.Shard] = true
			}
			sum := 0.0
			for o := range ordinals {
				sum += math.Pow(2, float64(o))
			}
			return math.Pow(2, float64(most))-1-sum != 0
		},
	}
	rapid.Check(t, func(rt *rapid.T) {
		src := rapidSource{rt}
		b := properties.NewBuilder(src, properties.GenConfig{Objects: 40, Faults: true, DataPlane: properties.AnyDataPlane})
		defer b.Close()
		for range rapid.IntRange(1, 6).Draw(rt, "ops") {
			b.Op(src)
		}
		tr := properties.CloneTrace(b.Trace())
		rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Timeline: &sim.TimelineOptions{Series: true}})
		if err != nil {
			rt.Fatal(err)
		}
		if _, err := evaluateAlerts(rep, tr.Cluster.Namespace, monitor.DefaultRuleFiles()); err != nil {
			rt.Fatal(err)
		}
		for _, res := range rep.Results {
			for _, a := range res.Timeline.Alerts {
				var want *sim.Seconds
				run := 0
				for _, sc := range res.Timeline.Scrapes {
					if !holds[a.Alert](sc) {
						run = 0
						continue
					}
					if run++; run == 31 && want == nil {
						at := sc.At
						want = &at
					}
				}
				switch {
				case (want == nil) != (a.FiresAt == nil):
					rt.Fatalf("%s: %s fires at %v; the scrapes say %v", res.Reducer, a.Alert, a.FiresAt, want)
				case want != nil && *want != *a.FiresAt:
					rt.Fatalf("%s: %s fires at %s; the scrapes say %s", res.Reducer, a.Alert, *a.FiresAt, *want)
				}
			}
		}
	})
}

// TestTimeFlags: --latency and --jitter change the times (with or
// without the timeline), and --hold 0 ends the timeline at the last
// step's point.
func TestTimeFlags(t *testing.T) {
	report := func(args ...string) *sim.Report {
		t.Helper()
		code, out, errOut := runSimrun(t, append([]string{"--trace", relabelTrace, "-r", "field-selector", "--format", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit status %d: %s", args, code, errOut)
		}
		var rep sim.Report
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatal(err)
		}
		return &rep
	}
	// relabel: a watch event; scale: pod 2 starts (30s), lists its
	// StatefulSet and its objects (250ms each).
	for _, args := range [][]string{{"--latency", "podStart=30s", "--jitter", "0"}, {"--latency", "podStart=30s", "--jitter", "0", "--no-timeline"}} {
		rep := report(args...)
		if at := rep.Results[0].Checkpoints[2].At; at != sim.Seconds(30600*time.Millisecond) {
			t.Errorf("%v: the scale settles at %s, want 30.6s", args, at)
		}
		if tl := rep.Results[0].Timeline; (tl == nil) != slices.Contains(args, "--no-timeline") {
			t.Errorf("%v: timeline %v", args, tl != nil)
		}
	}
	tl := report("--hold", "0").Results[0].Timeline
	if last := tl.Steps[len(tl.Steps)-1]; tl.End != last.At || tl.Hold != 0 {
		t.Errorf("--hold 0: the timeline ends at %s (hold %s), the last step's point is %s", tl.End, tl.Hold, last.At)
	}
}
