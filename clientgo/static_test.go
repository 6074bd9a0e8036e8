package clientgo_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestStaticTracesMatchModel replays every static sharding trace
// (traces/static: Deployments with --shard and --total-shards, rollouts)
// on the model and on the client-go backend and requires what
// TestTracesMatchModel requires: byte-identical reports and the same
// configuration after every delivery. It also checks that the pods really
// started without autosharding: every pod's first delivery is its start,
// configured from its flags.
func TestStaticTracesMatchModel(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(traceDir, "static", "*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 static sharding traces, got %d (%v)", len(files), err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			tr, err := sim.LoadTrace(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := sim.Replay(tr, model.Reducers(), sim.Options{Windows: true})
			if err != nil {
				t.Fatalf("model backend: %v", err)
			}
			got, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: clientgo.New, Windows: true})
			if err != nil {
				t.Fatalf("client-go backend: %v", err)
			}
			compareReports(t, want, got)
			for _, res := range got.Results {
				starts := 0
				for _, e := range res.Log {
					if e.Kind != sim.LogStarted {
						continue
					}
					starts++
					if !strings.HasPrefix(e.Outcome, "autosharding disabled: configured "+e.Config.String()) {
						t.Errorf("%s: pod %s started with outcome %q, config %s", res.Reducer, e.PodUID, e.Outcome, e.Config)
					}
				}
				if starts == 0 {
					t.Errorf("%s: no pod started without autosharding", res.Reducer)
				}
			}
		})
	}
}

// TestStaticPod runs one statically sharded pod directly: its Pod object
// has no owner reference, Started configures it from its flags (and only
// from a start that carries them), and its data plane is a reflector of
// its shard.
func TestStaticPod(t *testing.T) {
	nb, err := clientgo.New(model.FieldSelector{})
	if err != nil {
		t.Fatal(err)
	}
	b := nb.(*clientgo.Backend)
	defer b.Close()
	tr := &sim.Trace{Cluster: sim.Cluster{Namespace: "monitoring"}}
	if why := b.Check(tr); why != "" {
		t.Fatal(why)
	}
	r, err := b.NewPodWithFlags("ksm-shard-1-1-1", "pod-1", model.StaticFlags(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	po, err := b.Clientset().CoreV1().Pods("monitoring").Get(t.Context(), "ksm-shard-1-1-1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Pod object: %v", err)
	}
	if len(po.OwnerReferences) != 0 || po.UID != "pod-1" {
		t.Errorf("Pod object %+v: want UID pod-1 and no owner reference", po.ObjectMeta)
	}

	if _, _, err := r.Deliver(model.Started{Shard: 2, TotalShards: 3}); err == nil {
		t.Error("a start with other flags than the pod's was accepted")
	}
	s, note, err := r.Deliver(model.Started{Shard: 1, TotalShards: 3})
	if err != nil {
		t.Fatal(err)
	}
	want, wantNote := model.Step(model.FieldSelector{}, model.NewPod("ksm-shard-1-1-1"), model.Started{Shard: 1, TotalShards: 3})
	if s.Phase != model.Static || s.Config != want.Config || s.StatefulSetName != "" || note != wantNote {
		t.Errorf("after Started: %s %s %q, note %q; model.Step: %s %s, note %q", s.Phase, s.Config, s.StatefulSetName, note, want.Phase, want.Config, wantNote)
	}
	if s, note, err = r.Deliver(model.Started{Shard: 1, TotalShards: 3}); err != nil || note != "ignored: already started" || s.Config != want.Config {
		t.Errorf("a second start: %s, %q, %v", s.Config, note, err)
	}

	or := r.(sim.ObjectsRunner)
	if err := or.ConfigureSharding(1, 3, model.DefaultPageSize); err != nil {
		t.Fatal(err)
	}
	uids := sim.GenerateUIDs(30, 1, 0)
	next, store, err := or.DeliverObjects(model.ObjectsListed{Page: model.Page{UIDs: uids, ResourceVersion: "7"}})
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, u := range uids {
		if model.Keeps(u, 1, 3) {
			kept = append(kept, u)
		}
	}
	if !next.Watch || len(store) != len(kept) || len(kept) == 0 || len(kept) == len(uids) {
		t.Errorf("after the LIST: next %s, store of %d, want a WATCH and the %d of %d objects shard 1/3 keeps", next, len(store), len(kept), len(uids))
	}

	if s, _, err = r.Deliver(model.Stop{}); err != nil || s.Phase != model.Stopped {
		t.Fatalf("stop: %s, %v", s.Phase, err)
	}
	if _, err := b.Clientset().CoreV1().Pods("monitoring").Get(t.Context(), "ksm-shard-1-1-1", metav1.GetOptions{}); err == nil {
		t.Error("the Pod object outlives its pod")
	}
}

// TestRefusedFlags: flags the client-go backend does not run are refused
// when the pod is created, with errors.ErrUnsupported (and
// sim.ErrUnsupported, for simrun's exit status).
func TestRefusedFlags(t *testing.T) {
	for _, f := range []model.Flags{
		{Node: "node-1", TotalShards: 1, Resource: "pods"},
		{TrackUnscheduledPods: true, TotalShards: 1, Resource: "pods"},
		{Shard: 0, TotalShards: 2, Resource: "pods"},
		{Shard: 0, TotalShards: 2},
	} {
		nb, err := clientgo.New(model.FieldSelector{})
		if err != nil {
			t.Fatal(err)
		}
		b := nb.(*clientgo.Backend)
		_, err = b.NewPodWithFlags("ksm-0", "pod-1", f)
		if !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, sim.ErrUnsupported) {
			t.Errorf("%+v: got %v, want errors.ErrUnsupported and sim.ErrUnsupported", f, err)
		}
		b.Close()
	}
	// The static flags themselves run.
	nb, _ := clientgo.New(model.FieldSelector{})
	defer nb.Close()
	if _, err := nb.(*clientgo.Backend).NewPodWithFlags("ksm-0", "pod-1", model.StaticFlags(0, 2)); err != nil {
		t.Errorf("static flags refused: %v", err)
	}
}

// staticFaultTraces are static sharding traces with fault ops and API
// server configurations: with no StatefulSet informer, a cacheLag reaches
// only the objects reflectors' LISTs, which the simulator answers, so the
// client-go backend replays them (Check refuses cacheLag where a
// StatefulSet informer would meet it).
var staticFaultTraces = map[string]string{
	"compact-create": `{"name": "compact-create", "cluster": {"namespace": "monitoring",
		"deployments": [{"name": "ksm-shard-0", "shard": 0, "totalShards": 2}, {"name": "ksm-shard-1", "shard": 1, "totalShards": 2}],
		"objects": {"uids": ["obj-1", "obj-2", "obj-3", "obj-4", "obj-5", "obj-6", "obj-7", "obj-8"]}},
	 "steps": [{"op": "create", "generate": 10, "seed": 3}, {"op": "compact"}, {"op": "restart", "pods": [1]},
		{"op": "delete", "uids": ["obj-1", "obj-3"]}, {"op": "create", "generate": 5, "seed": 4}]}`,
	"cache-lag-rollout": `{"name": "cache-lag-rollout", "schedule": "explicit", "cluster": {"namespace": "monitoring",
		"deployments": [{"name": "ksm-shard-0", "shard": 0, "totalShards": 2}, {"name": "ksm-shard-1", "shard": 1, "totalShards": 2}],
		"objects": {"generate": 120, "seed": 2}},
	 "steps": [{"op": "create", "generate": 30, "seed": 5}, {"op": "settle"}, {"op": "cacheLag", "writes": 1},
		{"op": "apply", "deployments": [{"name": "ksm-shard-0", "shard": 0, "totalShards": 3}, {"name": "ksm-shard-1", "shard": 1, "totalShards": 3},
			{"name": "ksm-shard-2", "shard": 2, "totalShards": 3}]},
		{"op": "settle"}, {"op": "cacheLag", "writes": 0}, {"op": "restart", "pods": [2]}, {"op": "settle"}]}`,
	"paged-no-cache": `{"name": "paged-no-cache", "cluster": {"namespace": "monitoring",
		"deployments": [{"name": "ksm-shard-0", "shard": 0, "totalShards": 2}, {"name": "ksm-shard-1", "shard": 1, "totalShards": 2}],
		"objects": {"generate": 300, "seed": 7}, "apiServer": {"watchCache": false, "watchList": false}, "pageSize": 100},
	 "steps": [{"op": "create", "generate": 20, "seed": 8},
		{"op": "apply", "deployments": [{"name": "ksm-shard-0", "shard": 0, "totalShards": 1}]}, {"op": "deleteDeployment", "name": "ksm-shard-1"}]}`,
	"disconnect": `{"name": "disconnect", "cluster": {"namespace": "monitoring",
		"deployments": [{"name": "ksm-shard-0", "shard": 0, "totalShards": 1}], "objects": {"generate": 10, "seed": 2}},
	 "steps": [{"op": "create", "generate": 10, "seed": 3}, {"op": "disconnect", "pods": [0]}, {"op": "create", "generate": 4, "seed": 5},
		{"op": "compact"}, {"op": "disconnect", "pods": [0]}]}`,
}

// TestStaticFaultTracesMatchModel replays staticFaultTraces on the model
// and the client-go backend and requires what TestTracesMatchModel does.
func TestStaticFaultTracesMatchModel(t *testing.T) {
	for name, js := range staticFaultTraces {
		t.Run(name, func(t *testing.T) {
			tr, err := sim.ParseTrace(name+".json", []byte(js))
			if err != nil {
				t.Fatal(err)
			}
			want, err := sim.Replay(tr, model.Reducers(), sim.Options{Windows: true})
			if err != nil {
				t.Fatalf("model backend: %v", err)
			}
			got, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: clientgo.New, Windows: true})
			if err != nil {
				t.Fatalf("client-go backend: %v", err)
			}
			compareReports(t, want, got)
		})
	}
}
