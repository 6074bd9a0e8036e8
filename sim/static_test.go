package sim_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/internal/golden"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestModeTraces replays every trace of the other sharding modes
// (traces/static, traces/daemonset) and of pod management and failures
// (traces/podmanagement) against the named reducers and the
// releases their expect names, checks those verdicts, and compares the
// text report, windows measured, with its golden file (go test ./sim -run
// TestModeTraces -update).
func TestModeTraces(t *testing.T) {
	var files []string
	for _, dir := range []string{"static", "daemonset", "podmanagement"} {
		m, err := filepath.Glob(filepath.Join(traceDir, dir, "*.json"))
		if err != nil || len(m) < 4 {
			t.Fatalf("want at least 4 traces in traces/%s, got %d (%v)", dir, len(m), err)
		}
		files = append(files, m...)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			tr, err := sim.LoadTrace(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := sim.Replay(tr, sim.ExpectedReducers(tr), sim.Options{Windows: true})
			if err != nil {
				t.Fatal(err)
			}
			for reducer, want := range tr.Expect {
				res := resultFor(t, rep, reducer)
				if got := verdictOf(res); got != want {
					t.Errorf("%s: %s, want %s\n  verdict: %s", reducer, got, want, sim.Verdict(res))
				}
			}
			var b bytes.Buffer
			if err := rep.WriteText(&b, false); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "modes", name+".txt"), b.Bytes(), "go test ./sim -run TestModeTraces")
		})
	}
}

func verdictOf(res *sim.Result) string {
	if res.Holds {
		return sim.Holds
	}
	return sim.Violated
}

// TestRolloutStrategies checks what each rollout strategy does to the
// objects while --total-shards goes from 2 to 3 on every Deployment at
// once: a surge (the new pod first) only duplicates, Recreate (the old pod
// first) only leaves gaps, and both end partitioned.
func TestRolloutStrategies(t *testing.T) {
	for _, tc := range []struct {
		strategy          string
		wantGap, wantOver bool
	}{
		{`{"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}`, false, true},
		{`{"type": "RollingUpdate"}`, false, true}, // 25% of 1 replica: surge 1, unavailable 0
		{`{"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}`, true, false},
		{`{"type": "Recreate"}`, true, false},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			dep := func(shard, total int) string {
				return `{"name": "ksm-shard-` + itoa(shard) + `", "shard": ` + itoa(shard) + `, "totalShards": ` + itoa(total) + `, "strategy": ` + tc.strategy + `}`
			}
			tr, err := sim.ParseTrace("t.json", []byte(`{"name": "t", "cluster": {"namespace": "ns",
				"deployments": [`+dep(0, 2)+`, `+dep(1, 2)+`], "objects": {"generate": 300, "seed": 3}},
				"steps": [{"op": "apply", "deployments": [`+dep(0, 3)+`, `+dep(1, 3)+`, `+dep(2, 3)+`]}]}`))
			if err != nil {
				t.Fatal(err)
			}
			res := replayField(t, tr, sim.Options{Windows: true})
			if !res.Holds {
				t.Fatalf("the rollout does not end partitioned: %s", sim.Verdict(res))
			}
			if len(res.Windows) != 1 {
				t.Fatalf("want one window (the rollout's), got %+v", res.Windows)
			}
			w := res.Windows[0]
			if gotGap, gotOver := w.MaxGap > 0, w.MaxOverlap > 0; gotGap != tc.wantGap || gotOver != tc.wantOver {
				t.Errorf("window %+v: gap %v overlap %v, want gap %v overlap %v", w, gotGap, gotOver, tc.wantGap, tc.wantOver)
			}
		})
	}
}

// TestRecreateWaitsForOldPods checks that under the explicit schedule a
// Recreate rollout's new pod cannot start before the old pods of its
// Deployment have stopped, on any of its lanes.
func TestRecreateWaitsForOldPods(t *testing.T) {
	dep := func(total int) string {
		return `{"name": "ksm", "shard": 0, "totalShards": ` + itoa(total) + `, "replicas": 2, "strategy": {"type": "Recreate"}}`
	}
	trace := func(deliveries string) string {
		return `{"name": "t", "schedule": "explicit", "cluster": {"namespace": "ns",
			"deployments": [` + dep(1) + `], "objects": {"generate": 10, "seed": 3}},
			"steps": [{"op": "apply", "deployments": [` + dep(2) + `]}` + deliveries + `]}`
	}
	// Lane 0's old pod stops; lane 0's new pod must still wait for lane 1's.
	tr, err := sim.ParseTrace("t.json", []byte(trace(`, {"op": "deliver", "pod": 0, "count": 2}`)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sim.Run(tr, fieldSelector(), sim.Options{})
	var te *sim.TraceError
	if !errors.As(err, &te) || te.Step != 1 || !strings.Contains(err.Error(), "Recreate") {
		t.Fatalf("want a TraceError at step 1 naming the Recreate wait, got %v", err)
	}
	tr, err = sim.ParseTrace("t.json", []byte(trace(`, {"op": "deliver", "pod": 0, "count": 1}, {"op": "deliver", "pod": 1, "count": 1}, {"op": "deliver", "pod": 0, "count": 1}, {"op": "settle"}`)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(tr, fieldSelector(), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// After both old pods stopped (step 2) and before the new ones start:
	// nothing is exported.
	if c := res.Transient[2]; c.Gap.Count != 10 || exported(c) != 0 {
		t.Errorf("after both old pods stopped: pods %v gap %d, want nothing exported and all 10 objects a gap", c.Pods, c.Gap.Count)
	}
	last := res.Checkpoints[len(res.Checkpoints)-1]
	if len(last.Pods) != 2 || last.Pods[0].Total != 2 || last.Pods[1].Total != 2 {
		t.Errorf("after the rollout: pods %v, want two pods of --total-shards=2", last.Pods)
	}
}

// TestStaticTraceErrors checks the errors of static sharding's fields.
func TestStaticTraceErrors(t *testing.T) {
	const objects = `"objects": {"generate": 5, "seed": 1}`
	for _, tc := range []struct{ trace, want string }{
		{`{"name": "t", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm"}, "deployments": [], ` + objects + `}}`,
			"cluster.deployments: give either statefulSet (autosharding) or deployments"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "Bad_Name", "totalShards": 1}], ` + objects + `}}`,
			"cluster.deployments[0].name: invalid Deployment name"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 0}], ` + objects + `}}`,
			"cluster.deployments[0].totalShards: must be at least 1"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "shard": -1, "totalShards": 2}], ` + objects + `}}`,
			"cluster.deployments[0].shard: must be a non-negative integer"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2}, {"name": "a", "totalShards": 2}], ` + objects + `}}`,
			"cluster.deployments[1].name: Deployment \"a\" is named twice"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2, "strategy": {"type": "Canary"}}], ` + objects + `}}`,
			"cluster.deployments[0].strategy.type: unknown strategy"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2, "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}}], ` + objects + `}}`,
			"cluster.deployments[0].strategy.rollingUpdate.maxUnavailable: may not be 0 when maxSurge is 0"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2, "strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}], ` + objects + `}}`,
			"cluster.deployments[0].strategy.rollingUpdate: may not be specified when strategy type is 'Recreate'"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2, "strategy": {"rollingUpdate": {"maxSurge": "x%"}}}], ` + objects + `}}`,
			"cluster.deployments[0].strategy.rollingUpdate.maxSurge: must be a non-negative integer or percentage"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2, "surge": 1}], ` + objects + `}}`,
			"cluster.deployments[0].surge: unknown field"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2}], ` + objects + `}, "steps": [{"op": "scale", "replicas": 2}]}`,
			"steps[0].op: \"scale\" changes the autosharding StatefulSet, and this trace shards statically"},
		{`{"name": "t", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm"}, ` + objects + `}, "steps": [{"op": "apply", "deployments": [{"name": "a", "totalShards": 1}]}]}`,
			"steps[0].op: \"apply\" changes static sharding's Deployments, and this trace autoshards"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2}], ` + objects + `}, "steps": [{"op": "deleteDeployment", "name": "b"}]}`,
			"steps[0].name: no Deployment \"b\" at this step (there are: a)"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2}], ` + objects + `}, "steps": [{"op": "deleteDeployment", "name": "a"}, {"op": "restart", "pods": [0]}]}`,
			"steps[1].pods: lane 0 has no pod at this step: the Deployments' lanes are none"},
		{`{"name": "t", "cluster": {"namespace": "ns", "deployments": [{"name": "a", "totalShards": 2}], ` + objects + `}, "steps": [{"op": "apply"}]}`,
			"steps[0].deployments: required"},
	} {
		_, err := sim.ParseTrace("t.json", []byte(tc.trace))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n  got  %v\n  want ...%s...", tc.trace, err, tc.want)
		}
	}
}

func exported(c sim.Checkpoint) int {
	n := 0
	for _, p := range c.Pods {
		n += p.Exported
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }

func fieldSelector() model.Reducer { return model.FieldSelector{} }

// replayField replays tr against the field-selector reducer.
func replayField(t *testing.T, tr *sim.Trace, opts sim.Options) *sim.Result {
	t.Helper()
	res, err := sim.Run(tr, fieldSelector(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
