package properties

import (
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

func mustParse(t *testing.T, doc string) *sim.Trace {
	t.Helper()
	tr, err := sim.ParseTrace("test.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// faultsTrace has every fault op, deliveries from an objects stream, and
// the relabel bug after them.
const faultsTrace = `{
  "name": "faults",
  "cluster": {"namespace": "monitoring",
    "statefulSet": {"name": "kube-state-metrics", "labels": {"app": "ksm", "v": "1"}, "replicas": 2},
    "objects": {"generate": 100, "seed": 1}},
  "schedule": "explicit",
  "dataPlane": "explicit",
  "steps": [
    {"op": "cacheLag", "writes": 2},
    {"op": "create", "generate": 5, "seed": 2},
    {"op": "deliver", "pod": 1, "count": 1, "stream": "objects"},
    {"op": "compact"},
    {"op": "disconnect", "pods": [0, 1]},
    {"op": "cacheLag", "writes": 0},
    {"op": "relabel", "labels": {"app": "ksm", "v": "2"}},
    {"op": "scale", "replicas": 3},
    {"op": "settle"}
  ]
}`

// TestStoryNamesFaults: a counterexample's description tells each fault
// op in plain words.
func TestStoryNamesFaults(t *testing.T) {
	got := story(mustParse(t, faultsTrace))
	for _, want := range []string{
		"the data plane is explicit: each pod's list pages and object events wait for deliveries from its objects stream",
		"step 0 the watch cache lags 2 writes (reads with resourceVersion 0 see the state 2 writes ago)",
		"step 2 deliver 1 item(s) of pod 1's objects stream (list pages, object events)",
		"step 3 compact the API server's history (watches and reads from older resourceVersions get 410 Gone)",
		"step 4 disconnect pods [0 1] (their watches end; each resumes from its last resourceVersion)",
		"step 5 the watch cache catches up (reads with resourceVersion 0 see the current state)",
		"step 6 relabel: v 1 -> 2",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the story lacks %q:\n%s", want, got)
		}
	}
}

// TestClassifyNamesFaults: a violation after fault ops is named after
// them too, once per kind, in trace order.
func TestClassifyNamesFaults(t *testing.T) {
	tr := mustParse(t, faultsTrace)
	res, err := sim.Run(tr, model.LabelSelector{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Classify(tr, res), "scale-up-overlap-with-cache-lag-compact-disconnect"; got != want {
		t.Errorf("Classify = %q, want %q", got, want)
	}
}

// TestExplainExports: when every pod's configuration agrees with
// spec.replicas and the properties still fail, the description says which
// pods export other than their shard keeps (here the first page of a
// paged list, #3065).
func TestExplainExports(t *testing.T) {
	tr := mustParse(t, `{
  "name": "paged",
  "cluster": {"namespace": "monitoring",
    "statefulSet": {"name": "kube-state-metrics", "labels": {"app": "ksm"}, "replicas": 2},
    "objects": {"generate": 30, "seed": 7},
    "apiServer": {"watchCache": false},
    "pageSize": 10},
  "steps": [{"op": "create", "generate": 1, "seed": 8}]
}`)
	res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := explain(tr, res)
	for _, want := range []string{
		"Every pod's configuration agrees with spec.replicas=2, but not what the pods export (their stores): pod 0 (0/2) exports ",
		"; pod 1 (1/2) exports ",
		" where its shard keeps ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explain lacks %q: %s", want, got)
		}
	}
	if s := story(tr); !strings.Contains(s, "30 objects; the API server has no watch cache (every LIST is paged from etcd), pages of 10") {
		t.Errorf("the story does not tell the API server's configuration: %s", s)
	}
}
