package properties_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// releaseHuntTraces is the number of traces the release hunts try: the
// hunt that finds a release's bug and the one that finds nothing on its
// fix use the same seed and the same number.
func releaseHuntTraces() int {
	if testing.Short() {
		return 300
	}
	return properties.DefaultTraces
}

// runRelease replays t on the named reducer (a release) and returns the
// result; it fails the test on a replay error or undelivered items.
func runRelease(t *testing.T, tr *sim.Trace, name string) *sim.Result {
	t.Helper()
	r, ok := model.ReducerByName(name)
	if !ok {
		t.Fatalf("unknown reducer %s", name)
	}
	res, err := sim.Run(properties.CloneTrace(tr), r, sim.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.Pending > 0 {
		t.Fatalf("%s: ends with %d undelivered items", name, res.Pending)
	}
	return res
}

// firstViolated is the first quiescent checkpoint of res that violates a
// property, or nil.
func firstViolated(res *sim.Result) *sim.Checkpoint {
	for i := range res.Checkpoints {
		if !res.Checkpoints[i].Holds() {
			return &res.Checkpoints[i]
		}
	}
	return nil
}

// checkBelowTheInformer checks that c is a violation of KSM's data plane,
// not of its configuration: every serving pod holds shard i of
// spec.replicas with its own ordinal i, and objects are missing (a gap),
// never exported twice.
func checkBelowTheInformer(t *testing.T, c *sim.Checkpoint, data []byte) {
	t.Helper()
	if c == nil {
		t.Fatalf("no violated quiescent point\n%s", data)
	}
	if len(c.Pods) != c.Replicas || c.Replicas < 2 {
		t.Fatalf("after step %d: %d serving pods for spec.replicas=%d, want the same, at least 2\n%s", c.Step, len(c.Pods), c.Replicas, data)
	}
	for _, p := range c.Pods {
		if p.Total != c.Replicas || int(p.Shard) != p.Pod {
			t.Fatalf("after step %d: pod %d holds %d/%d, want %d/%d: the configurations should be right\n%s", c.Step, p.Pod, p.Shard, p.Total, p.Pod, c.Replicas, data)
		}
	}
	if c.Gap.Count == 0 || c.Overlap.Count != 0 {
		t.Fatalf("after step %d: gap %d, overlap %d; want objects missing, none twice\n%s", c.Step, c.Gap.Count, c.Overlap.Count, data)
	}
}

// huntRelease hunts the release with seed 1 and checks what every
// release counterexample must be: at most 3 cluster ops, an explicit
// trace that replays to a violation of the release, with expect naming
// it (violated) and fix (holds) and verified by Export's own check.
func huntRelease(t *testing.T, release, fix string) (*properties.Counterexample, []byte) {
	t.Helper()
	traces := releaseHuntTraces()
	ce, err := properties.Hunt(properties.HuntOptions{Reducer: release, Seed: 1, Traces: traces})
	if err != nil {
		t.Fatal(err)
	}
	if ce == nil {
		t.Fatalf("%s: no counterexample in %d traces of seed 1", release, traces)
	}
	tr := ce.Trace
	data, err := properties.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ce.ClusterOps()); n > 3 {
		t.Errorf("%s: shrunk to %d cluster ops, want at most 3\n%s", release, n, data)
	}
	if !properties.Fails(tr, release) {
		t.Fatalf("%s: the counterexample does not fail\n%s", release, data)
	}
	if tr.Expect[release] != sim.Violated || tr.Expect[fix] != sim.Holds {
		t.Errorf("expect %v, want %s violated and %s holds\n%s", tr.Expect, release, fix, data)
	}
	if runRelease(t, tr, release).Holds {
		t.Fatalf("%s holds on its counterexample\n%s", release, data)
	}
	if res := runRelease(t, tr, fix); !res.Holds {
		t.Fatalf("%s (the fix) is violated too: %s\n%s", fix, sim.Verdict(res), data)
	}
	if err := properties.Verify(tr.Name+".json", data); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.Name, release+"-") || !strings.Contains(tr.Description, "simrun hunt --reducer "+release+" --seed 1") {
		t.Errorf("name %q, description %q", tr.Name, tr.Description)
	}
	return ce, data
}

// TestHuntRelease3065: hunting v2.19.1 from scratch finds KSM #3065, a
// paged LIST whose continue token the sharded List drops, shrunk to at
// most 3 cluster ops: an API server whose lists are paged (no watch
// cache, no WatchList, so that v2.19.1 does not stream), the pods
// configured right, objects missing. v2.20.0 holds on it, and hunting
// v2.20.0 with the same seed and number of traces finds nothing.
func TestHuntRelease3065(t *testing.T) {
	ce, data := huntRelease(t, "v2.19.1", "v2.20.0")
	tr := ce.Trace
	cfg := tr.Cluster.Config()
	if cfg.WatchCache || cfg.WatchList {
		t.Errorf("API server %+v: #3065 on v2.19.1 needs lists paged from etcd (no watch cache) and no watch list\n%s", cfg, data)
	}
	checkBelowTheInformer(t, firstViolated(runRelease(t, tr, "v2.19.1")), data)
	if !strings.Contains(tr.Description, "#3065") {
		t.Errorf("the description does not name #3065: %s", tr.Description)
	}

	traces := releaseHuntTraces()
	none, err := properties.Hunt(properties.HuntOptions{Reducer: "v2.20.0", Seed: 1, Traces: traces})
	if err != nil {
		t.Fatal(err)
	}
	if none != nil {
		t.Fatalf("v2.20.0: counterexample in %d traces of seed 1:\n%s", traces, none.Summary())
	}
}

// TestHuntRelease2973: hunting v2.19.0 finds KSM #2973 the same way: on
// an API server with WatchList (the default), the pods are configured
// right, but a pod whose shard does not own the bookmark's empty UID
// never finishes its initial sync and exports nothing. v2.19.1 holds on
// it.
func TestHuntRelease2973(t *testing.T) {
	ce, data := huntRelease(t, "v2.19.0", "v2.19.1")
	tr := ce.Trace
	if !tr.Cluster.Config().WatchList {
		t.Errorf("WatchList off: #2973 needs the watch list\n%s", data)
	}
	c := firstViolated(runRelease(t, tr, "v2.19.0"))
	checkBelowTheInformer(t, c, data)
	empty := false
	for _, p := range c.Pods {
		empty = empty || p.Exported == 0
	}
	if !empty {
		t.Errorf("after step %d no pod exports nothing: %+v\n%s", c.Step, c.Pods, data)
	}
	if !strings.Contains(tr.Description, "#2973") {
		t.Errorf("the description does not name #2973: %s", tr.Description)
	}
}

// TestHuntReleaseIsDeterministic: the same seed gives the same file for a
// release too (the API server's configuration is drawn from the seed).
func TestHuntReleaseIsDeterministic(t *testing.T) {
	var files [][]byte
	for range 2 {
		ce, err := properties.Hunt(properties.HuntOptions{Reducer: "v2.19.1", Seed: 3})
		if err != nil || ce == nil {
			t.Fatalf("seed 3: %v, %v", ce, err)
		}
		data, err := properties.Marshal(ce.Trace)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatalf("seed 3 gave two different counterexamples:\n%s\n%s", files[0], files[1])
	}
}

// TestHuntAPIServerNamedReducer: GenConfig.APIServer reaches #3065 for a
// named reducer too (field-selector, KSM v2.13.0 to v2.19.1, drops the
// continue token), and the command that finds it again says
// --api-server.
func TestHuntAPIServerNamedReducer(t *testing.T) {
	opts := properties.HuntOptions{Reducer: "field-selector", Seed: 1, Traces: releaseHuntTraces(), Gen: properties.GenConfig{APIServer: true}}
	ce, err := properties.Hunt(opts)
	if err != nil || ce == nil {
		t.Fatalf("%v, %v", ce, err)
	}
	data, _ := properties.Marshal(ce.Trace)
	if ce.Trace.Cluster.Config().WatchCache {
		t.Errorf("want lists paged from etcd\n%s", data)
	}
	if n := len(ce.ClusterOps()); n > 3 {
		t.Errorf("%d cluster ops, want at most 3\n%s", n, data)
	}
	if cmd := properties.HuntCommand(opts, "DIR"); !strings.HasSuffix(cmd, " --api-server") {
		t.Errorf("HuntCommand %q lacks --api-server", cmd)
	}
	if !strings.Contains(ce.Trace.Description, "--api-server`") {
		t.Errorf("the description does not name the command that found it: %s", ce.Trace.Description)
	}
}

// TestBuilderAPIServerDraws: with GenConfig.APIServer the builder draws
// every combination of watch cache and WatchList and pages lists, and
// replays the extra reducers it is given.
func TestBuilderAPIServerDraws(t *testing.T) {
	seen := map[sim.APIServerConfig]bool{}
	paged := 0
	for seed := uint64(1); seed <= 64; seed++ {
		src := properties.NewRandSource(seed, 0)
		b := properties.NewBuilder(src, properties.GenConfig{APIServer: true, Objects: 40, Reducers: []string{"v2.19.1"}})
		b.Op(src)
		cfg := b.Trace().Cluster.Config()
		if cfg.PageSize < 40 {
			paged++
		}
		cfg.PageSize = 0
		seen[cfg] = true
		_ = b.Result("v2.19.1")
		b.Close()
	}
	if len(seen) != 4 || paged == 0 {
		t.Errorf("drew %d watch cache/WatchList combinations (want 4), %d paged clusters", len(seen), paged)
	}
}
