package clientgo_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

var diffData = flag.Int("clientgo.dataplane", 100, "random explicit data-plane traces TestDataPlaneDifferential replays")

// TestPagedListTrace: traces/faults/paged-list.json (no watch cache, pages
// of 100) replays on the client-go backend, each pod's real reflector
// agreeing with the model's page by page (the simulator fails the replay
// on the first request or store that differs), with the model backend's
// reports and log.
func TestPagedListTrace(t *testing.T) { matchModel(t, "../traces/faults/paged-list.json") }

// TestUnsupportedFaults: the fault traces whose StatefulSet side the
// client-go backend does not model are refused up front, naming the op.
func TestUnsupportedFaults(t *testing.T) {
	for file, want := range map[string]string{
		"compact-disconnect.json": "the client-go backend does not model the disconnect op (steps[",
		"cache-lag.json":          "the client-go backend does not model the cacheLag op (steps[",
	} {
		tr, err := sim.LoadTrace("../traces/faults/" + file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sim.Replay(tr, model.Reducers(), sim.Options{Backend: clientgo.New})
		if !errors.Is(err, sim.ErrUnsupported) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want ErrUnsupported saying %q", file, err, want)
		}
	}
}

// randomDataPlaneTrace draws a trace with the explicit schedule and the
// explicit data plane: watch cache on or off, small pages, compactions,
// creates and deletes of objects, scales, relabels and restarts, and
// deliveries from both streams. No disconnect or cacheLag (Check refuses
// them).
func randomDataPlaneTrace(r *rand.Rand) *sim.Trace {
	replicas := int32(1 + r.IntN(3))
	if r.IntN(2) == 0 {
		// One replica: shard 0 of 1, the plain ListWatch, whose paged
		// lists go on past the first page (and expire when a compaction
		// comes between two pages).
		replicas = 1
	}
	tr := &sim.Trace{
		Name: "random", Schedule: sim.Explicit, DataPlane: sim.Explicit,
		Cluster: sim.Cluster{
			Namespace:   "monitoring",
			StatefulSet: sim.StatefulSet{Name: "kube-state-metrics", Labels: labelFamily[0], Replicas: &replicas},
			Objects:     sim.Objects{Generate: 10 + r.IntN(40), Seed: r.Uint64()},
		},
	}
	if r.IntN(2) == 0 {
		no := false
		tr.Cluster.APIServer = &sim.APIServerSpec{WatchCache: &no}
	}
	if r.IntN(4) != 0 {
		tr.Cluster.PageSize = 2 + r.IntN(15)
	}
	cur, pods := int(replicas), int(replicas)
	live := sim.GenerateUIDs(tr.Cluster.Objects.Generate, tr.Cluster.Objects.Seed, 0)
	next := 0
	for range 10 + r.IntN(25) {
		var st sim.Step
		switch k := r.IntN(15); {
		case k == 0:
			n := int32(r.IntN(4))
			st = sim.Step{Op: sim.OpScale, Replicas: &n}
			cur, pods = int(n), max(pods, int(n))
		case k == 1:
			st = sim.Step{Op: sim.OpRelabel, Labels: labelFamily[r.IntN(len(labelFamily))]}
		case k == 2 && cur > 0:
			st = sim.Step{Op: sim.OpRestart, Pods: []int{r.IntN(cur)}}
		case k == 3 || k == 4:
			// Named UIDs, not generated ones: those depend on the step's
			// index, which runDifferential's dropped deliveries shift.
			st = sim.Step{Op: sim.OpCreate}
			for range 1 + r.IntN(8) {
				st.UIDs = append(st.UIDs, fmt.Sprintf("obj-%04d", next))
				next++
			}
			live = append(live, st.UIDs...)
		case k == 5 && len(live) > 0:
			for range 1 + r.IntN(3) {
				if len(live) == 0 {
					break
				}
				j := r.IntN(len(live))
				st.UIDs = append(st.UIDs, live[j])
				live = slices.Delete(live, j, j+1)
			}
			st.Op = sim.OpDelete
		case k == 6 || k == 7:
			st = sim.Step{Op: sim.OpCompact}
		case k == 8:
			st = sim.Step{Op: sim.OpSettle}
		case k == 9 && cur > 0:
			// A compaction in the middle of a new incarnation's paged
			// list: its continue token expires (410 Gone), the pager falls
			// back to a full list. The inbox deliveries start the pod; the
			// ones that find it empty are dropped by runDifferential.
			p := r.IntN(cur)
			tr.Steps = append(tr.Steps, sim.Step{Op: sim.OpRestart, Pods: []int{p}})
			for range 4 {
				tr.Steps = append(tr.Steps, sim.Step{Op: sim.OpDeliver, Pod: &p, Count: 1})
			}
			tr.Steps = append(tr.Steps, sim.Step{Op: sim.OpDeliver, Pod: &p, Count: 1, Stream: sim.StreamObjects})
			if r.IntN(2) == 0 {
				tr.Steps = append(tr.Steps, sim.Step{Op: sim.OpCreate, UIDs: []string{fmt.Sprintf("obj-%04d", next)}})
				live = append(live, fmt.Sprintf("obj-%04d", next))
				next++
			}
			st = sim.Step{Op: sim.OpCompact}
		default:
			p := r.IntN(pods)
			st = sim.Step{Op: sim.OpDeliver, Pod: &p, Count: 1 + r.IntN(3)}
			if r.IntN(3) != 0 {
				st.Stream = sim.StreamObjects
			}
		}
		if st.Op == "" {
			st = sim.Step{Op: sim.OpSettle}
		}
		tr.Steps = append(tr.Steps, st)
	}
	return tr
}

// TestDataPlaneDifferential replays random explicit data-plane traces
// through both backends (runDifferential): on the client-go backend every
// pod's objects store is filled by a real client-go Reflector over the
// transcribed sharded ListWatch, and the simulator fails the replay when
// its request in flight or its store differs from model.Reflector's after
// any item. The reports, logs and pod states must agree too. A watch that
// ends (closed, or 410 Gone) needs a disconnect or a lagging watch cache,
// which the backend refuses; TestObjectsRunnerPaths drives those paths.
//
//	go test ./clientgo -run TestDataPlaneDifferential -clientgo.seed=7 -clientgo.dataplane=2000
func TestDataPlaneDifferential(t *testing.T) {
	n := *diffData
	if testing.Short() {
		n = min(n, 15)
	}
	checked := 0
	seen := map[string]int{} // how often each path of the protocol was taken
	paths := []struct{ name, kind, in string }{
		{"LIST pages", string(sim.LogObjectsList), "next page"},
		{"LISTs answered 410", string(sim.LogObjectsList), "410 Gone"},
		{"watch events", string(sim.LogObjectsWatch), ""},
	}
	for i := range n {
		r := rand.New(rand.NewPCG(*diffSeed, 2<<32+uint64(i)))
		tr := randomDataPlaneTrace(r)
		tr.Name = fmt.Sprintf("random-dataplane-%d-%d", *diffSeed, i)
		tr, mismatch := runDifferential(t, tr)
		if tr == nil {
			continue
		}
		checked++
		if mismatch != "" {
			t.Fatalf("seed %d, data-plane trace %d: the backends disagree: %s\n%s", *diffSeed, i, mismatch, explain(t, tr))
		}
		rep, err := sim.Replay(tr, model.Reducers(), sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range rep.Results {
			for _, e := range res.Log {
				for _, p := range paths {
					if string(e.Kind) == p.kind && strings.Contains(e.Outcome, p.in) {
						seen[p.name]++
					}
				}
			}
		}
	}
	t.Logf("%d data-plane traces agree (seed %d): %v", checked, *diffSeed, seen)
	for _, p := range paths {
		if seen[p.name] == 0 {
			t.Errorf("no %s in %d traces: the generator misses a path of the protocol", p.name, checked)
		}
	}
	if checked < n*3/4 {
		t.Errorf("only %d of %d traces were replayable", checked, n)
	}
}

// objectsPod makes a client-go backend with its StatefulSet written and
// returns one pod's ObjectsRunner.
func objectsPod(t *testing.T) sim.ObjectsRunner {
	t.Helper()
	b, err := clientgo.New(model.Reducers()[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ksm", Namespace: "ns", ResourceVersion: "1"}}
	if err := b.Write(ss); err != nil {
		t.Fatal(err)
	}
	p, err := b.NewPod("ksm-0", "uid-0")
	if err != nil {
		t.Fatal(err)
	}
	or, ok := p.(sim.ObjectsRunner)
	if !ok {
		t.Fatalf("the client-go pod is a %T, no sim.ObjectsRunner", p)
	}
	return or
}

// TestObjectsRunnerPaths drives one pod's real reflector directly, next to
// model.StepReflector, through the paths random traces rarely take: paged
// lists on the plain ListWatch, a continue token that expires (the pager's
// full list), a LIST that expires twice (the reflector's retry, then
// ListAndWatch again after its backoff), a watch that closes (re-watch, not
// a very short watch) and a watch that ends with 410 Gone (relist after
// the backoff), and a reconfiguration.
func TestObjectsRunnerPaths(t *testing.T) {
	uids := sim.GenerateUIDs(12, 1, 0)
	slices.Sort(uids)
	page := func(lo, hi int, rv, cont string) model.Event {
		return model.ObjectsListed{Page: model.Page{UIDs: uids[lo:hi], ResourceVersion: rv, Continue: cont}}
	}
	expired := model.ObjectsListed{Page: model.Page{Expired: true}}
	for _, tc := range []struct {
		name         string
		shard, total int
		events       []model.Event
	}{
		{"plain, paged", 0, 1, []model.Event{
			page(0, 5, "7", "7/a"), page(5, 10, "7", "7/b"), page(10, 12, "7", ""),
			model.ObjectsWatched{Type: watch.Added, UIDs: []string{"new-1", "new-2"}, ResourceVersion: "8"},
			model.ObjectsWatched{Type: watch.Deleted, UIDs: uids[:3], ResourceVersion: "9"},
			model.WatchEnded{},
			model.ObjectsWatched{Type: watch.Deleted, UIDs: []string{"new-1"}, ResourceVersion: "10"},
			model.WatchEnded{Expired: true},
			page(0, 12, "11", ""),
		}},
		{"plain, continue expired", 0, 1, []model.Event{
			page(0, 5, "7", "7/a"), expired, page(0, 12, "9", ""),
			model.WatchEnded{Expired: true},
			expired, expired, page(0, 12, "12", ""),
		}},
		{"sharded, drops continue", 1, 3, []model.Event{
			page(0, 5, "7", "7/a"),
			model.ObjectsWatched{Type: watch.Added, UIDs: uids[5:], ResourceVersion: "8"},
			model.WatchEnded{},
			model.WatchEnded{},
			model.ObjectsWatched{Type: watch.Deleted, UIDs: uids[:8], ResourceVersion: "9"},
			model.WatchEnded{Expired: true},
			expired, page(0, 4, "12", ""),
		}},
		{"shard above total keeps nothing", 3, 2, []model.Event{
			page(0, 12, "7", ""),
			model.ObjectsWatched{Type: watch.Added, UIDs: []string{"new-1"}, ResourceVersion: "8"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			or := objectsPod(t)
			const pageSize = 5
			if err := or.ConfigureSharding(int32(tc.shard), tc.total, pageSize); err != nil {
				t.Fatal(err)
			}
			m := model.NewReflector(int32(tc.shard), tc.total, model.KSMListWatch, pageSize)
			for i, ev := range tc.events {
				var note string
				m, note = model.StepReflector(m, ev)
				next, store, err := or.DeliverObjects(ev)
				if err != nil {
					t.Fatalf("item %d (%T): %v", i, ev, err)
				}
				if next != m.Request || !slices.Equal(store, m.Store) {
					t.Fatalf("item %d (%T, model: %s): the real reflector asks %s and holds %v, the model asks %s and holds %v",
						i, ev, note, next, store, m.Request, m.Store)
				}
			}
			// Reconfigured: a new reflector, an empty store, a first LIST.
			if err := or.ConfigureSharding(0, 2, pageSize); err != nil {
				t.Fatal(err)
			}
			next, store, err := or.DeliverObjects(page(0, 12, "20", ""))
			m, _ = model.StepReflector(model.NewReflector(0, 2, model.KSMListWatch, pageSize), page(0, 12, "20", ""))
			if err != nil || next != m.Request || !slices.Equal(store, m.Store) {
				t.Fatalf("after reconfiguring: %v, asks %s holds %v; the model asks %s holds %v", err, next, store, m.Request, m.Store)
			}
		})
	}
}
