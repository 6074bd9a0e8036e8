package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
)

// TestStoresMatchConfigs: on every shipped trace (the default API server,
// no faults), at every quiescent point, each serving pod's store holds
// exactly the live objects its configuration keeps, computed here
// independently with model.Keeps. This is what lets evaluate judge synced
// pods by their configuration.
func TestStoresMatchConfigs(t *testing.T) {
	files, err := TraceFiles(filepath.Join("..", "traces"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		tr, err := LoadTrace(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range model.Reducers() {
			s := New(tr, r, Options{})
			check := func(step int) {
				if !s.Quiescent() {
					return
				}
				for _, p := range s.pods {
					if !p.state.Serving() {
						continue
					}
					var want []string
					c := p.state.Config
					if p.hasStore {
						for _, u := range s.objects.UIDs() {
							if model.Keeps(u, c.Shard, c.Total) {
								want = append(want, u)
							}
						}
					}
					if got := s.storeOf(p); !slices.Equal(got, want) || s.exported(p) != len(want) {
						t.Fatalf("%s %s step %d: pod %d (%s) holds %d objects (exports %d), its configuration keeps %d", filepath.Base(f), r.Name(), step, p.ordinal, c, len(got), s.exported(p), len(want))
					}
					if !s.synced(p) {
						t.Fatalf("%s %s step %d: pod %d not synced at a quiescent point", filepath.Base(f), r.Name(), step, p.ordinal)
					}
				}
			}
			check(-1)
			for i := range tr.Steps {
				if err := s.Apply(i); err != nil {
					t.Fatal(err)
				}
				check(i)
			}
			s.Close()
		}
	}
}

// TestFaultTraces replays traces/faults/*.json: their expect holds, every
// violated checkpoint is permanent, and every violated transient point is
// classified.
func TestFaultTraces(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "traces", "faults", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fault traces: %v", err)
	}
	for _, f := range files {
		tr, err := LoadTrace(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range model.Reducers() {
			res, err := Run(tr, r, Options{})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if want, ok := tr.Expect[r.Name()]; ok && (want == Holds) != res.Holds {
				t.Errorf("%s %s: %s, want %s", filepath.Base(f), r.Name(), Verdict(res), want)
			}
			for _, c := range res.Checkpoints {
				if !c.Holds() && c.Healing != Permanent || c.Holds() && c.Healing != "" {
					t.Errorf("%s %s step %d: healing %q", filepath.Base(f), r.Name(), c.Step, c.Healing)
				}
			}
			for _, c := range res.Transient {
				if !c.Holds() && c.Healing != Permanent && c.Healing != SelfHealing {
					t.Errorf("%s %s transient step %d: healing %q", filepath.Base(f), r.Name(), c.Step, c.Healing)
				}
			}
		}
	}
}

// TestPagedListKeepsFirstPage checks traces/faults/paged-list.json against
// an independent count: without the watch cache, every list of a sharded
// pod is cut to its first page (KSM drops the continue token), so after
// every reshard exactly the objects past the first pageSize names are
// exported by no pod.
func TestPagedListKeepsFirstPage(t *testing.T) {
	tr, err := LoadTrace(filepath.Join("..", "traces", "faults", "paged-list.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(tr, model.FieldSelector{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	page := tr.Cluster.PageSize
	first, last := res.Checkpoints[0], res.Checkpoints[len(res.Checkpoints)-1]
	if first.Gap.Count != first.Objects-page {
		t.Errorf("initial gap %d, want %d (objects past the first page of %d)", first.Gap.Count, first.Objects-page, page)
	}
	if last.Gap.Count != last.Objects-page || !strings.Contains(Verdict(res), "every pod's configuration agrees") {
		t.Errorf("after the scale: gap %d, want %d; verdict %s", last.Gap.Count, last.Objects-page, Verdict(res))
	}
	// With the watch cache (the default), the same trace holds: a list
	// from resourceVersion "0" is answered whole.
	tr.Cluster.APIServer = nil
	if res, err = Run(tr, model.FieldSelector{}, Options{}); err != nil || !res.Holds {
		t.Errorf("with the watch cache: err %v, %s", err, Verdict(res))
	}
}

// TestObjectsAt checks the history's view of past revisions against a
// naive replay of random creates and deletes.
func TestObjectsAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := mustParse(t, `{"name":"h","cluster":{"namespace":"ns","statefulSet":{"name":"ksm"},"objects":{"uids":["a"]}},"steps":[]}`)
	s := New(tr, model.FieldSelector{}, Options{})
	defer s.Close()
	states := map[uint64][]string{s.api.rv: {"a"}}
	live := map[string]bool{"a": true}
	for i := range 60 {
		var created, deleted []string
		for range rng.IntN(4) {
			u := fmt.Sprintf("u%02d", rng.IntN(30))
			if !live[u] && !slices.Contains(created, u) {
				created = append(created, u)
			}
		}
		for u := range live {
			if rng.IntN(5) == 0 && !slices.Contains(created, u) {
				deleted = append(deleted, u)
			}
		}
		slices.Sort(deleted)
		s.objects.Add(created)
		s.objects.Delete(deleted)
		s.api.Bump()
		s.recordObjectWrite(created, deleted)
		for _, u := range created {
			live[u] = true
		}
		for _, u := range deleted {
			delete(live, u)
		}
		var now []string
		for u := range live {
			now = append(now, u)
		}
		slices.Sort(now)
		states[s.api.rv] = now
		if i%7 == 0 {
			s.api.Bump() // a StatefulSet write: the objects do not change
			states[s.api.rv] = now
		}
	}
	for rv, want := range states {
		got, _ := s.objectsAt(rv)
		if !slices.Equal(got, want) {
			t.Fatalf("objects at %d: %v, want %v", rv, got, want)
		}
	}
}

// configOnly is a backend that models no faults: the model backend
// without its FaultBackend methods.
type configOnly struct{ Backend }

// TestUnsupportedBackend: a trace with faults or a non-default API server
// is refused up front by a backend that is not a FaultBackend.
func TestUnsupportedBackend(t *testing.T) {
	newBackend := func(r model.Reducer) (Backend, error) {
		b, err := ModelBackend(r)
		return configOnly{b}, err
	}
	for _, f := range []string{"paged-list.json", "compact-disconnect.json", "cache-lag.json"} {
		tr, err := LoadTrace(filepath.Join("..", "traces", "faults", f))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(tr, model.FieldSelector{}, Options{Backend: newBackend})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "the model backend does not model") {
			t.Errorf("%s: %v", f, err)
		}
	}
	tr, err := LoadTrace(filepath.Join("..", "traces", "relabel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(tr, model.FieldSelector{}, Options{Backend: newBackend}); err != nil {
		t.Errorf("a trace without faults: %v", err)
	}
}

// TestEvaluateMatchesStores checks the shortcuts of evaluate (synced pods
// judged by configuration, pods behind by configuration minus what their
// pending events add) against the definition: count, for every live
// object, the serving pods whose store holds it. Random traces mix every
// op, fault and delivery on both streams.
func TestEvaluateMatchesStores(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	traces := 150
	if testing.Short() {
		traces = 30
	}
	for n := range traces {
		tr := randomFaultTrace(rng)
		for _, r := range model.Reducers() {
			s := New(tr, r, Options{})
			for i := range tr.Steps {
				if err := s.Apply(i); err != nil {
					var te *TraceError
					if errors.As(err, &te) && te.Field == "count" {
						break // an inbox ran empty: the random schedule overreached
					}
					t.Fatal(err)
				}
				_, got := s.evaluate()
				want := naiveCoverage(s)
				for _, p := range s.pods {
					if st := s.storeOf(p); p.state.Serving() && s.exported(p) != len(st) {
						t.Fatalf("trace %d %s step %d: pod %d exports %d, its store holds %d", n, r.Name(), i, p.ordinal, s.exported(p), len(st))
					}
				}
				if !slices.Equal(got.Gap, want.Gap) || !slices.Equal(got.Overlap, want.Overlap) {
					data, _ := json.Marshal(tr)
					t.Fatalf("trace %d %s step %d: evaluate gap %d overlap %d, stores say gap %d overlap %d\n%s",
						n, r.Name(), i, len(got.Gap), len(got.Overlap), len(want.Gap), len(want.Overlap), data)
				}
			}
			s.Close()
		}
	}
}

func naiveCoverage(s *Sim) Coverage {
	count := map[string]int{}
	for _, p := range s.pods {
		if p.state.Serving() && p.hasStore {
			for _, u := range s.storeOf(p) {
				count[u]++
			}
		}
	}
	return s.countedCoverage(count, int(*s.api.StatefulSet.Spec.Replicas))
}

// randomFaultTrace builds a valid explicit-schedule trace with an
// explicit data plane: random ops, faults and deliveries.
func randomFaultTrace(rng *rand.Rand) *Trace {
	replicas := int32(1 + rng.IntN(3))
	tr := &Trace{
		Name: "random", Schedule: Explicit, DataPlane: Explicit,
		Cluster: Cluster{Namespace: "ns", StatefulSet: StatefulSet{Name: "ksm", Labels: map[string]string{"app": "ksm"}, Replicas: &replicas},
			Objects: Objects{Generate: 20 + rng.IntN(40), Seed: rng.Uint64()}},
	}
	if rng.IntN(3) == 0 {
		no := false
		tr.Cluster.APIServer = &APIServerSpec{WatchCache: &no}
		tr.Cluster.PageSize = 5 + rng.IntN(20)
	}
	cur := int(replicas)
	pods := cur
	var live []string
	live = append(live, GenerateUIDs(tr.Cluster.Objects.Generate, tr.Cluster.Objects.Seed, 0)...)
	for i := range 25 {
		var st Step
		switch k := rng.IntN(12); {
		case k == 0:
			n := int32(rng.IntN(4))
			st = Step{Op: OpScale, Replicas: &n}
			cur = int(n)
			pods = max(pods, cur)
		case k == 1:
			st = Step{Op: OpRelabel, Labels: map[string]string{"app": "ksm", "v": fmt.Sprint(rng.IntN(2))}}
		case k == 2 && cur > 0:
			st = Step{Op: OpRestart, Pods: []int{rng.IntN(cur)}}
		case k == 3:
			st = Step{Op: OpCreate, Generate: 1 + rng.IntN(8), Seed: rng.Uint64()}
			live = append(live, GenerateUIDs(st.Generate, st.Seed, i+1)...)
		case k == 4 && len(live) > 0:
			j := rng.IntN(len(live))
			st = Step{Op: OpDelete, UIDs: []string{live[j]}}
			live = slices.Delete(live, j, j+1)
		case k == 5:
			st = Step{Op: OpCompact}
		case k == 6 && cur > 0:
			st = Step{Op: OpDisconnect, Pods: []int{rng.IntN(cur)}}
		case k == 7 && tr.Cluster.APIServer == nil:
			w := rng.IntN(3)
			st = Step{Op: OpCacheLag, Writes: &w}
		case k == 8:
			st = Step{Op: OpSettle}
		default:
			p := rng.IntN(pods)
			st = Step{Op: OpDeliver, Pod: &p, Count: 1}
			if rng.IntN(2) == 0 {
				st.Stream = StreamObjects
			}
		}
		if st.Op == "" {
			st = Step{Op: OpSettle}
		}
		tr.Steps = append(tr.Steps, st)
	}
	if err := tr.Validate(); err != nil {
		panic(err)
	}
	return tr
}

// TestPlanList: the LIST rules, case by case (DESIGN.md's observations of
// a v1.37 kube-apiserver), at current revision 10, compacted at 6, a
// watch cache 2 writes behind.
func TestPlanList(t *testing.T) {
	cache := APIServerConfig{WatchCache: true, WatchList: true, PageSize: 3}
	etcd := APIServerConfig{PageSize: 3}
	for _, tc := range []struct {
		name string
		cfg  APIServerConfig
		q    ListQuery
		want ListRead
	}{
		{"rv 0 from the cache: whole, lagging", cache, ListQuery{ResourceVersion: "0", Limit: 500}, ListRead{Rev: 8}},
		{"rv 0 without the cache: paged at the current revision", etcd, ListQuery{ResourceVersion: "0", Limit: 500}, ListRead{Rev: 10, Limit: 3}},
		{"consistent read: paged", cache, ListQuery{Limit: 500}, ListRead{Rev: 10, Limit: 3}},
		{"consistent read, no limit: whole", cache, ListQuery{}, ListRead{Rev: 10}},
		{"rv N, no limit: whole at the current revision", cache, ListQuery{ResourceVersion: "4"}, ListRead{Rev: 10}},
		{"rv N with a limit: exact", etcd, ListQuery{ResourceVersion: "7", Limit: 500}, ListRead{Rev: 7, Limit: 3}},
		{"rv N with a limit, compacted: 410", cache, ListQuery{ResourceVersion: "5", Limit: 500}, ListRead{Expired: true}},
		{"continue: pinned", etcd, ListQuery{Limit: 500, Continue: true, ContinueRev: 6, ContinueAfter: "k"}, ListRead{Rev: 6, After: "k", Limit: 3}},
		{"continue, compacted: 410", cache, ListQuery{Limit: 500, Continue: true, ContinueRev: 5, ContinueAfter: "k"}, ListRead{Expired: true}},
	} {
		if got := PlanList(tc.q, tc.cfg, 10, 6, 8); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestShardSizes: the shard sizes ObjectSet keeps up to date through
// random creates and deletes equal a count with model.Keeps.
func TestShardSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	o := NewObjectSet(GenerateUIDs(500, 1, 0))
	totals := []int{1, 2, 3, 7, 16}
	for _, tt := range totals {
		o.ShardSizes(tt)
	}
	for round := range 50 {
		o.Add(GenerateUIDs(rng.IntN(20), rng.Uint64(), round+1))
		live := o.UIDs()
		var del []string
		for range rng.IntN(20) {
			del = append(del, live[rng.IntN(len(live))])
		}
		o.Delete(slices.Compact(slices.Sorted(slices.Values(del))))
		for _, tt := range totals {
			want := make([]int, tt)
			for _, u := range o.UIDs() {
				for s := range tt {
					if model.Keeps(u, int32(s), tt) {
						want[s]++
					}
				}
			}
			if got := o.ShardSizes(tt); !slices.Equal(got, want) {
				t.Fatalf("round %d total %d: %v, want %v", round, tt, got, want)
			}
		}
	}
}
