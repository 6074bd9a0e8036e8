package sim_test

import (
	"fmt"
	"os"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Replay a relabel followed by a scale against both reducers.
func ExampleReplay() {
	t, err := sim.ParseTrace("inline.json", []byte(`{
	  "name": "relabel",
	  "cluster": {
	    "namespace": "monitoring",
	    "statefulSet": {"name": "ksm", "labels": {"version": "2.12.0"}, "replicas": 2},
	    "objects": {"generate": 100, "seed": 1}
	  },
	  "steps": [
	    {"op": "relabel", "labels": {"version": "2.13.0"}},
	    {"op": "scale", "replicas": 3}
	  ]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := sim.Replay(t, model.Reducers(), sim.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, res := range rep.Results {
		last := res.Checkpoints[len(res.Checkpoints)-1]
		fmt.Printf("%s: holds=%v pods=%v overlap=%d\n", res.Reducer, res.Holds, last.Pods, last.Overlap.Count)
	}
	// Output:
	// label-selector: holds=false pods=[0:0/2=47 1:1/2=53 2:2/3=31] overlap=31
	// field-selector: holds=true pods=[0:0/3=33 1:1/3=36 2:2/3=31] overlap=0
}

// A bad trace is an error naming the file, the step and the field.
func ExampleParseTrace() {
	_, err := sim.ParseTrace("bad.json", []byte(`{
	  "name": "bad",
	  "cluster": {"namespace": "monitoring", "statefulSet": {"name": "ksm"}},
	  "steps": [{"op": "scale", "replicas": -1}]
	}`))
	fmt.Fprintln(os.Stdout, err)
	// Output:
	// bad.json: steps[0].replicas: must be a non-negative integer, got -1
}

// PlanList is the API server's LIST rules: a reflector's first LIST
// (resourceVersion "0", limit 500) is answered whole by the watch cache,
// but paged from etcd without it; a continue token older than the
// compaction gets 410 Gone.
func ExamplePlanList() {
	cache := sim.APIServerConfig{WatchCache: true, PageSize: 500}
	etcd := sim.APIServerConfig{PageSize: 500}
	first := sim.ListQuery{ResourceVersion: "0", Limit: 500}
	fmt.Printf("%+v\n", sim.PlanList(first, cache, 10, 0, 10))
	fmt.Printf("%+v\n", sim.PlanList(first, etcd, 10, 0, 10))
	next := sim.ListQuery{Limit: 500, Continue: true, ContinueRev: 7, ContinueAfter: "uid-499"}
	fmt.Printf("%+v\n", sim.PlanList(next, etcd, 10, 9, 10))
	// Output:
	// {Rev:10 After: Limit:0 Expired:false}
	// {Rev:10 After: Limit:500 Expired:false}
	// {Rev:0 After: Limit:0 Expired:true}
}

// Replay a known KSM bug on the release that had it and the one that
// fixed it: #2973, the watch list's bookmark filtered by v2.19.0's sharded
// Watch, on a default API server.
func ExampleExpectedReducers() {
	t, err := sim.LoadTrace("../traces/bugs/2973-watchlist-bookmark-one-shard.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := sim.Replay(t, sim.ExpectedReducers(t), sim.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, res := range rep.Results {
		fmt.Printf("%s: holds=%v\n", res.Reducer, res.Holds)
	}
	// Output:
	// label-selector: holds=true
	// field-selector: holds=true
	// v2.19.0: holds=false
	// v2.19.1: holds=true
}

// Static sharding: two Deployments rolled out from --total-shards=2 to 3,
// with a third Deployment for the new shard. Recreate stops each old pod
// before its replacement starts: the rollout ends partitioned, with a gap
// on the way.
func ExampleDeployment() {
	dep := func(shard, total int) string {
		return fmt.Sprintf(`{"name": "ksm-shard-%d", "shard": %d, "totalShards": %d, "strategy": {"type": "Recreate"}}`, shard, shard, total)
	}
	tr, err := sim.ParseTrace("static.json", []byte(`{"name": "static", "cluster": {"namespace": "monitoring",
		"deployments": [`+dep(0, 2)+`, `+dep(1, 2)+`], "objects": {"generate": 300, "seed": 1}},
		"steps": [{"op": "apply", "deployments": [`+dep(0, 3)+`, `+dep(1, 3)+`, `+dep(2, 3)+`]}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{Windows: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := res.Checkpoints[len(res.Checkpoints)-1]
	fmt.Println(res.Mode, last.Pods, last.Holds())
	fmt.Printf("worst gap %d, worst overlap %d\n", res.Windows[0].MaxGap, res.Windows[0].MaxOverlap)
	// Output:
	// static [ksm-shard-0:0/3=102 ksm-shard-1:1/3=93 ksm-shard-2:2/3=105] true
	// worst gap 300, worst overlap 0
}

// The impact of the relabel bug over simulated time: how long each step
// took, and the series-seconds exported twice while the final state holds.
func ExampleRun_timeline() {
	t, err := sim.ParseTrace("inline.json", []byte(`{
	  "name": "relabel",
	  "cluster": {
	    "namespace": "monitoring",
	    "statefulSet": {"name": "ksm", "labels": {"version": "2.12.0"}, "replicas": 2},
	    "objects": {"generate": 100, "seed": 1},
	    "latencies": {"jitter": 0}
	  },
	  "steps": [
	    {"op": "relabel", "labels": {"version": "2.13.0"}},
	    {"op": "scale", "replicas": 3}
	  ]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := sim.Run(t, model.LabelSelector{}, sim.Options{Timeline: &sim.TimelineOptions{Hold: 10 * time.Minute}})
	if err != nil {
		fmt.Println(err)
		return
	}
	tl := res.Timeline
	for _, st := range tl.Steps {
		fmt.Printf("step %d %s: from %s, took %s\n", st.Step, st.Op, st.Start, st.At-st.Start)
	}
	fmt.Printf("%v duplicated series-seconds; worst: %d objects from %s to %s\n",
		tl.Duplicated, tl.WorstOverlap.Peak, tl.WorstOverlap.From, tl.WorstOverlap.To)
	fmt.Printf("%d scrapes, %d doubled samples\n", len(tl.Scrapes), tl.DoubledSamples)
	// Output:
	// step 0 relabel: from 0s, took 100ms
	// step 1 scale: from 100ms, took 5.5s
	// 18600 duplicated series-seconds; worst: 31 objects from 5.6s to 10m5.6s
	// 21 scrapes, 620 doubled samples
}
