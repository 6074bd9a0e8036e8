package properties_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
	appsv1 "k8s.io/api/apps/v1"
)

func huntCmd(reducer string, seed uint64) string {
	return properties.HuntCommand(properties.HuntOptions{Reducer: reducer, Seed: seed}, "DIR")
}

// TestHuntShrinksToTheEssence: for many seeds, hunt finds the relabel bug
// and shrinks it to two cluster ops, a breaking relabel and a scale or a
// restart, in an explicit trace that ends quiescent, names only
// affected objects and records both verdicts.
func TestHuntShrinksToTheEssence(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		ce, err := properties.Hunt(properties.HuntOptions{Reducer: "label-selector", Seed: seed})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if ce == nil {
			t.Fatalf("seed %d: no counterexample in %d traces; replay: %s", seed, properties.DefaultTraces, huntCmd("label-selector", seed))
		}
		tr := ce.Trace
		data, _ := properties.Marshal(tr)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\nreplay: %s\n%s", seed, fmt.Sprintf(format, args...), huntCmd("label-selector", seed), data)
		}
		if why := minimal(tr); why != "" {
			fail("not minimal: %s", why)
		}
		if tr.Schedule != sim.Explicit {
			fail("want an explicit trace")
		}
		if tr.Cluster.Objects.Generate != 0 || len(tr.Cluster.Objects.UIDs) == 0 {
			fail("want concrete UIDs")
		}
		if !properties.Fails(tr, "label-selector") {
			fail("does not replay to a violation")
		}
		want := map[string]string{"label-selector": sim.Violated, "field-selector": sim.Holds}
		if !reflect.DeepEqual(tr.Expect, want) {
			fail("expect %v, want %v", tr.Expect, want)
		}
		if !strings.HasPrefix(tr.Name, "label-selector-"+ce.Kind+"-seed-") || !strings.Contains(tr.Description, "VIOLATED") {
			fail("name %q / description %q", tr.Name, tr.Description)
		}
		// Only affected objects: every one is in the gap or the overlap.
		res, err := sim.Run(properties.CloneTrace(tr), model.LabelSelector{}, sim.Options{})
		if err != nil {
			fail("%v", err)
		}
		if res.Pending > 0 {
			fail("ends with %d undelivered items", res.Pending)
		}
		for _, c := range res.Checkpoints {
			if !c.Holds() {
				if got := c.Gap.Count + c.Overlap.Count; got != len(tr.Cluster.Objects.UIDs) {
					fail("%d of %d objects affected", got, len(tr.Cluster.Objects.UIDs))
				}
				break
			}
		}
	}
}

// TestHuntIsDeterministic: the same seed gives the same file.
func TestHuntIsDeterministic(t *testing.T) {
	var files [][]byte
	for range 2 {
		ce, err := properties.Hunt(properties.HuntOptions{Reducer: "label-selector", Seed: 7})
		if err != nil || ce == nil {
			t.Fatalf("seed 7: %v, %v; replay: %s", ce, err, huntCmd("label-selector", 7))
		}
		data, err := properties.Marshal(ce.Trace)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatalf("seed 7 gave two different counterexamples; replay: %s\n%s\n%s", huntCmd("label-selector", 7), files[0], files[1])
	}
}

// TestHuntFieldSelectorFindsNothing: the fixed reducer has no
// counterexample (the rapid test checks 1,000 traces; this is the hunt's
// own loop).
func TestHuntFieldSelectorFindsNothing(t *testing.T) {
	const seed, traces = 3, 300
	ce, err := properties.Hunt(properties.HuntOptions{Reducer: "field-selector", Seed: seed, Traces: traces})
	if err != nil {
		t.Fatal(err)
	}
	if ce != nil {
		t.Fatalf("seed %d: field-selector counterexample:\n%s\nreplay: %s --traces %d", seed, ce.Summary(), huntCmd("field-selector", seed), traces)
	}
}

func TestHuntRejectsUnknownReducer(t *testing.T) {
	if _, err := properties.Hunt(properties.HuntOptions{Reducer: "modulo"}); err == nil {
		t.Fatal("no error for an unknown reducer")
	}
}

// TestBuilderTracesReplayAsBuilt: the traces the builder generates are
// valid trace files, and replaying them from scratch gives exactly the
// checkpoints the builder saw while building them (its delivery probes
// leave no trace).
func TestBuilderTracesReplayAsBuilt(t *testing.T) {
	replay := "go test ./properties -run '^TestBuilderTracesReplayAsBuilt$'"
	for seed := uint64(1); seed <= 60; seed++ {
		src := properties.NewRandSource(seed, 0)
		b := properties.NewBuilder(src, properties.GenConfig{Objects: 50})
		defer b.Close()
		for range 40 {
			b.Op(src)
		}
		tr := properties.CloneTrace(b.Trace())
		data, err := properties.Marshal(tr)
		if err != nil {
			t.Fatal(err)
		}
		checkReplaysAsBuilt(t, b, seed, data, replay)
	}
}

// checkReplaysAsBuilt: the builder's trace (data) parses, and replaying it
// from scratch gives exactly the checkpoints and transient points the
// builder saw while building it.
func checkReplaysAsBuilt(t *testing.T, b *properties.Builder, seed uint64, data []byte, replay string) {
	t.Helper()
	parsed, err := sim.ParseTrace("generated", data)
	if err != nil {
		t.Fatalf("seed %d: generated trace does not parse: %v\nreplay: %s\n%s", seed, err, replay, data)
	}
	for _, r := range model.Reducers() {
		res, err := sim.Run(parsed, r, sim.Options{})
		if err != nil {
			t.Fatalf("seed %d: %s: %v\nreplay: %s\n%s", seed, r.Name(), err, replay, data)
		}
		live := b.Result(r.Name())
		for i := range res.Transient {
			res.Transient[i].Healing = "" // Run classifies transient points, the builder does not
		}
		if !reflect.DeepEqual(res.Checkpoints, live.Checkpoints) || !reflect.DeepEqual(res.Transient, live.Transient) {
			t.Fatalf("seed %d: %s: replay differs from the builder's\nreplay: %s\n%s", seed, r.Name(), replay, data)
		}
	}
}

// TestShrinkKeepsAFailingTraceFailing: shrinking a hand-written,
// non-minimal eager counterexample keeps it failing and reaches two
// cluster ops.
func TestShrinkKeepsAFailingTraceFailing(t *testing.T) {
	r3, r5, r2 := int32(3), int32(5), int32(2)
	choices := properties.LabelChoices()
	tr := &sim.Trace{
		Name: "hand",
		Cluster: sim.Cluster{
			Namespace:   properties.Namespace,
			StatefulSet: sim.StatefulSet{Name: properties.StatefulSetName, Labels: properties.OriginalLabels(), Replicas: &r3, PodManagementPolicy: appsv1.ParallelPodManagement},
			Objects:     sim.Objects{UIDs: sim.GenerateUIDs(100, 9, 0)},
		},
		Steps: []sim.Step{
			{Op: sim.OpRelabel, Labels: choices[2].Labels}, // superset: harmless
			{Op: sim.OpRestart, Pods: []int{0, 2}},
			{Op: sim.OpCreate, UIDs: sim.GenerateUIDs(5, 9, 1)},
			{Op: sim.OpRelabel, Labels: choices[3].Labels}, // back to the original: breaks the restarted pods
			{Op: sim.OpScale, Replicas: &r5},
			{Op: sim.OpScale, Replicas: &r2},
		},
	}
	if !properties.Fails(tr, "label-selector") {
		t.Fatal("the hand-written trace does not fail")
	}
	got := properties.Shrink(tr, "label-selector")
	data, _ := properties.Marshal(got)
	if !properties.Fails(got, "label-selector") {
		t.Fatalf("shrunk trace holds:\n%s", data)
	}
	if why := minimal(got); why != "" {
		t.Fatalf("not minimal: %s\n%s", why, data)
	}
	if len(tr.Steps) != 6 || tr.Schedule != "" {
		t.Fatal("Shrink modified its input")
	}
}

// TestExportIsAtomicAndNeverOverwrites: Export writes a file that
// replays as recorded, refuses to replace it without force, leaves no
// temporary file behind, and refuses a trace whose expectations are wrong.
func TestExportIsAtomicAndNeverOverwrites(t *testing.T) {
	ce, err := properties.Hunt(properties.HuntOptions{Reducer: "label-selector", Seed: 1})
	if err != nil || ce == nil {
		t.Fatalf("seed 1: %v, %v; replay: %s", ce, err, huntCmd("label-selector", 1))
	}
	dir := filepath.Join(t.TempDir(), "out")
	path, err := properties.Export(dir, ce.Trace, false)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := properties.Verify(path, first); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}

	other := properties.CloneTrace(ce.Trace)
	other.Description = "changed"
	_, err = properties.Export(dir, other, false)
	var exists *properties.ExistsError
	if !errors.As(err, &exists) || exists.Path != path {
		t.Fatalf("second export: got %v, want an ExistsError for %s", err, path)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, first) {
		t.Fatal("the refused export changed the file")
	}
	if _, err := properties.Export(dir, other, true); err != nil {
		t.Fatalf("forced export: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Contains(now, []byte(`"description": "changed"`)) {
		t.Fatal("the forced export did not replace the file")
	}

	wrong := properties.CloneTrace(ce.Trace)
	wrong.Name = "wrong"
	wrong.Expect["label-selector"] = sim.Holds
	if _, err := properties.Export(dir, wrong, false); err == nil {
		t.Fatal("exported a trace whose expectations do not replay")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{filepath.Base(path)}; !slices.Equal(names, want) {
		t.Fatalf("dir holds %v, want %v", names, want)
	}
}

// TestRegressionTraces replays every exported counterexample committed
// under traces/regressions to its recorded verdicts, and checks that the
// directory holds at least a scale-up overlap and a scale-down gap.
func TestRegressionTraces(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "traces", "regressions", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := properties.Verify(f, data); err != nil {
			t.Errorf("%v\nreplay: go run ./cmd/simrun --trace %s", err, strings.TrimPrefix(f, "../"))
			continue
		}
		tr, _ := sim.ParseTrace(f, data)
		if len(tr.Expect) != len(model.Reducers()) || tr.Schedule != sim.Explicit || tr.Cluster.Objects.Generate != 0 {
			t.Errorf("%s: want expect for every reducer, the explicit schedule and concrete UIDs", f)
		}
		res, _ := sim.Run(tr, model.LabelSelector{}, sim.Options{})
		kinds[properties.Classify(tr, res)] = true
	}
	for _, k := range []string{"scale-up-overlap", "scale-down-gap"} {
		if !kinds[k] {
			t.Errorf("traces/regressions holds no %s counterexample (kinds: %v); export one with: go run ./cmd/simrun hunt --reducer label-selector --seed S --out traces/regressions", k, kinds)
		}
	}
}

// BenchmarkHunt measures hunt on the label-selector reducer over seeds
// 1, 2, ...: the time to the first counterexample and the time to shrink
// it (and prepare it for export), per hunt.
func BenchmarkHunt(b *testing.B) {
	var find, shrink time.Duration
	seed := uint64(0)
	for b.Loop() {
		seed++
		ce, err := properties.Hunt(properties.HuntOptions{Reducer: "label-selector", Seed: seed})
		if err != nil || ce == nil {
			b.Fatalf("seed %d: %v, %v; replay: %s", seed, ce, err, huntCmd("label-selector", seed))
		}
		find += ce.FindTime
		shrink += ce.ShrinkTime
	}
	n := float64(seed)
	b.ReportMetric(float64(find.Microseconds())/n/1000, "find-ms/op")
	b.ReportMetric(float64(shrink.Microseconds())/n/1000, "shrink-ms/op")
}

// hasFault reports whether t has a fault op or the explicit data plane.
func hasFault(t *sim.Trace) bool {
	if t.DataPlane == sim.Explicit {
		return true
	}
	for _, s := range t.Steps {
		if s.IsFault() {
			return true
		}
	}
	return false
}

// TestHuntWithFaults: with the fault ops among the generated ops
// (properties.FaultGenConfig, `simrun hunt --faults`), the field-selector
// reducer still has no counterexample, and the label-selector one shrinks
// to the same essence as without them: the relabel bug needs no fault,
// and the shrinker drops every one.
func TestHuntWithFaults(t *testing.T) {
	gen := properties.FaultGenConfig()
	const fieldSeed, traces = 3, 200
	opts := properties.HuntOptions{Reducer: "field-selector", Seed: fieldSeed, Traces: traces, Gen: gen}
	ce, err := properties.Hunt(opts)
	if err != nil {
		t.Fatal(err)
	}
	if ce != nil {
		t.Fatalf("field-selector counterexample with faults:\n%s\nreplay: %s", ce.Summary(), properties.HuntCommand(opts, "DIR"))
	}
	if cmd := properties.HuntCommand(opts, "DIR"); !strings.HasSuffix(cmd, " --faults") {
		t.Errorf("HuntCommand does not ask for the faults: %s", cmd)
	}
	found := 0 // hunts whose generated trace had faults
	for seed := uint64(1); seed <= 10; seed++ {
		opts := properties.HuntOptions{Reducer: "label-selector", Seed: seed, Gen: gen}
		replay := properties.HuntCommand(opts, "DIR")
		ce, err := properties.Hunt(opts)
		if err != nil || ce == nil {
			t.Fatalf("seed %d: %v, %v; replay: %s", seed, ce, err, replay)
		}
		if hasFault(ce.Found) {
			found++
		}
		data, _ := properties.Marshal(ce.Trace)
		if why := minimal(ce.Trace); why != "" || hasFault(ce.Trace) {
			t.Fatalf("seed %d: not the two-op essence without faults (%s)\nreplay: %s\n%s", seed, why, replay, data)
		}
		if !strings.Contains(ce.Trace.Description, "--faults`") {
			t.Errorf("seed %d: the description does not name the command that found it: %s", seed, ce.Trace.Description)
		}
	}
	if found == 0 {
		t.Fatal("no hunt generated a trace with a fault op or the explicit data plane: the generator does not draw them")
	}
}

// TestBuilderFaultTracesReplayAsBuilt: with faults, under both schedules
// and both data planes, the generated traces are valid trace files that
// replay from scratch to exactly the checkpoints the builder saw; across
// the seeds every fault op, deliveries from objects streams and both data
// planes occur. Without faults (the default) none does.
func TestBuilderFaultTracesReplayAsBuilt(t *testing.T) {
	replay := "go test ./properties -run '^TestBuilderFaultTracesReplayAsBuilt$'"
	seen := map[string]int{}
	for seed := uint64(1); seed <= 40; seed++ {
		for _, faults := range []bool{true, false} {
			cfg := properties.GenConfig{Objects: 50}
			if faults {
				cfg = properties.FaultGenConfig()
				cfg.Objects = 50
			}
			src := properties.NewRandSource(seed, 0)
			b := properties.NewBuilder(src, cfg)
			defer b.Close()
			for range 40 {
				b.Op(src)
			}
			tr := properties.CloneTrace(b.Trace())
			data, err := properties.Marshal(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !faults {
				if hasFault(tr) {
					t.Fatalf("seed %d: a fault without GenConfig.Faults\nreplay: %s\n%s", seed, replay, data)
				}
				continue
			}
			seen["data plane "+tr.DataPlane]++
			for _, s := range tr.Steps {
				seen[s.Op+" "+s.Stream]++
			}
			checkReplaysAsBuilt(t, b, seed, data, replay)
		}
	}
	for _, want := range []string{"compact ", "disconnect ", "cacheLag ", "deliver ", "deliver objects", "data plane ", "data plane explicit"} {
		if seen[want] == 0 {
			t.Errorf("no %q in 40 generated traces with faults (seen: %v)", want, seen)
		}
	}
}
