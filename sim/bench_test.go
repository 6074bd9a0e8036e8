package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/shardsim/shardsim/model"
)

// Sizes of the benchmarks (the figures).
const (
	benchObjects  = 100_000
	benchReplicas = 32
	benchOps      = 200
)

// benchTrace builds a trace of benchOps steps drawn deterministically from
// a realistic mix of cluster ops, starting from benchReplicas pods and
// benchObjects generated objects. It tracks the replica count (restarts
// name existing ordinals) and the live UIDs (deletes name live objects).
func benchTrace() *Trace {
	labelSets := []map[string]string{
		{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0"}, // the original
		{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.13.0"},
		{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.13.0", "team": "observability"},
	}
	replicas := int32(benchReplicas)
	t := &Trace{
		Name: "bench",
		Cluster: Cluster{
			Namespace: "monitoring",
			StatefulSet: StatefulSet{
				Name:     "kube-state-metrics",
				Labels:   cloneLabels(labelSets[0]),
				Replicas: &replicas,
			},
			Objects: Objects{Generate: benchObjects, Seed: 1},
		},
		Schedule: Eager,
	}
	live := GenerateUIDs(benchObjects, 1, 0)
	cur := int(replicas)
	label := 0
	r := rand.New(rand.NewPCG(42, 2024))
	for i := range benchOps {
		var s Step
		switch p := r.IntN(100); {
		case p < 25: // scale within 16..48
			n := int32(16 + r.IntN(33))
			s = Step{Op: OpScale, Replicas: &n}
			cur = int(n)
		case p < 40: // relabel, cycling through the label maps
			label = (label + 1) % len(labelSets)
			s = Step{Op: OpRelabel, Labels: cloneLabels(labelSets[label])}
		case p < 60: // restart 1..3 existing pods
			s = Step{Op: OpRestart, Pods: r.Perm(cur)[:1+r.IntN(min(3, cur))]}
		case p < 80: // create 100 objects
			seed := uint64(1000 + i)
			s = Step{Op: OpCreate, Generate: 100, Seed: seed}
			live = append(live, GenerateUIDs(100, seed, i+1)...)
		default: // delete 1..10 live objects
			n := 1 + r.IntN(10)
			for range n {
				j := r.IntN(len(live))
				s.UIDs = append(s.UIDs, live[j])
				live[j] = live[len(live)-1]
				live = live[:len(live)-1]
			}
			s.Op = OpDelete
		}
		t.Steps = append(t.Steps, s)
	}
	return t
}

// BenchmarkReplay replays a generated trace (100,000 objects, 32 replicas,
// 200 ops) against each reducer: one iteration is one full Run, including
// generating and hashing the initial objects and one Evaluate per step.
func BenchmarkReplay(b *testing.B) {
	t := benchTrace()
	if err := t.Validate(); err != nil {
		b.Fatal(err)
	}
	// The named reducers, and two releases with the watch list (v2.19.1
	// drops continue tokens, v2.20.0 keeps them): the same trace on
	// another data plane.
	reducers := model.Reducers()
	for _, v := range []string{"v2.19.1", "v2.20.0"} {
		r, _ := model.ReleaseByVersion(v)
		reducers = append(reducers, r)
	}
	for _, r := range reducers {
		b.Run(r.Name(), func(b *testing.B) {
			// One untimed replay to report how much of the trace took the
			// slow path (it is deterministic).
			res, err := Run(t, r, Options{})
			if err != nil {
				b.Fatal(err)
			}
			violated := 0
			for _, c := range res.Checkpoints {
				if !c.Holds() {
					violated++
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Run(t, r, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(t.Steps)), "ns/step")
			b.ReportMetric(float64(violated), "violated-checkpoints")
		})
	}
	// The cost of measuring transient windows: one evaluation per delivery
	// that changes what a pod serves.
	b.Run("field-selector-windows", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Run(t, model.FieldSelector{}, Options{Windows: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(t.Steps)), "ns/step")
	})
}

// benchSets caches the object sets of the checkpoint benchmarks.
var benchSets = map[int]*ObjectSet{}

func benchSet(n int) *ObjectSet {
	if o := benchSets[n]; o != nil {
		return o
	}
	o := NewObjectSet(GenerateUIDs(n, 1, 0))
	benchSets[n] = o
	return o
}

// configs returns pods serving shards lo..hi-1 of total.
func configs(total, lo, hi int) []model.Config {
	var out []model.Config
	for s := lo; s < hi; s++ {
		out = append(out, model.Config{Shard: int32(s), Total: total})
	}
	return out
}

var sink int64

// BenchmarkCheckpoint measures one quiescent-point evaluation over 100,000
// objects, when the pods agree (no per-object work) and when they disagree
// (one jump.Hash pass per distinct total), next to the floor: bare passes of
// jump.Hash over the same cached hashes for the same totals.
func BenchmarkCheckpoint(b *testing.B) {
	// Each disagreeing case is followed by its floor, so that the pair runs
	// back to back under the same machine load. A floor makes bare passes
	// of jump.Hash, one per total of the case, over the same hashes.
	type benchCase struct {
		name    string
		objects int
		configs []model.Config // Evaluate(configs, 32)
		fast    bool           // Evaluate must take the fast path
		warm    bool           // keep the owner cache between iterations
		floor   []int          // if set, the floor for these totals instead
	}
	cases := []benchCase{
		{name: "agree", objects: benchObjects, configs: configs(32, 0, 32), fast: true},
		{name: "agree-1M", objects: 1_000_000, configs: configs(32, 0, 32), fast: true},
		// One pod still starting (0/0) while 31 serve 0..30 of 32: a gap.
		{name: "disagree-1-total", objects: benchObjects, configs: append(configs(32, 0, 31), model.Config{})},
		{name: "floor-jump-1-total", objects: benchObjects, floor: []int{32}},
		// The relabel bug's shape: 0/2, 1/2, 2/3.
		{name: "disagree-2-totals", objects: benchObjects, configs: append(configs(2, 0, 2), configs(3, 2, 3)...)},
		{name: "floor-jump-2-totals", objects: benchObjects, floor: []int{2, 3}},
		// 32 pods, half of them on total 32 and half on total 33.
		{name: "disagree-32", objects: benchObjects, configs: append(configs(32, 0, 16), configs(33, 16, 32)...)},
		{name: "floor-jump-32", objects: benchObjects, floor: []int{32, 33}},
		// The same two disagreements evaluated again with the set
		// unchanged: the owners recorded by the first pass are reused.
		{name: "disagree-2-totals-warm", objects: benchObjects, configs: append(configs(2, 0, 2), configs(3, 2, 3)...), warm: true},
		{name: "disagree-32-warm", objects: benchObjects, configs: append(configs(32, 0, 16), configs(33, 16, 32)...), warm: true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			o := benchSet(c.objects)
			if c.floor != nil {
				var s int64
				b.ResetTimer()
				for b.Loop() {
					for _, n := range c.floor {
						for _, h := range o.hashes {
							s += int64(model.Owner(h, n))
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*o.Len()), "ns/object")
				sink += s
				return
			}
			cov := o.Evaluate(c.configs, 32)
			if cov.FastPath != c.fast {
				b.Fatalf("FastPath = %v, want %v", cov.FastPath, c.fast)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if !c.warm {
					o.dropOwners() // cold: no total seen before
				}
				cov = o.Evaluate(c.configs, 32)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*o.Len()), "ns/object")
			sink += int64(len(cov.Gap) + len(cov.Overlap))
		})
	}
}

// naiveEvaluate is the definition Evaluate must agree with: for every object
// and every serving pod, does the pod keep the object (objects × pods).
func naiveEvaluate(uids []string, configs []model.Config, desired int) Coverage {
	valid := func(c model.Config) bool { return c.Total > 0 && c.Shard >= 0 && int(c.Shard) < c.Total }
	c := Coverage{}
	for i, u := range uids {
		k := 0
		for _, p := range configs {
			if valid(p) && model.Keeps(u, p.Shard, p.Total) {
				k++
			}
		}
		switch {
		case k == 0 && desired > 0:
			c.Gap = append(c.Gap, i)
		case k > 1:
			c.Overlap = append(c.Overlap, i)
		}
	}
	c.Complete, c.Disjoint = len(c.Gap) == 0, len(c.Overlap) == 0
	// The fast path: no objects, or one total n among the pods that keep
	// anything, with shards 0..n-1 each served exactly once.
	served := map[int]map[int32]int{}
	for _, p := range configs {
		if valid(p) {
			if served[p.Total] == nil {
				served[p.Total] = map[int32]int{}
			}
			served[p.Total][p.Shard]++
		}
	}
	agree := len(served) == 1
	for n, m := range served {
		for s := range int32(n) {
			agree = agree && m[s] == 1
		}
	}
	c.FastPath = len(uids) == 0 || agree
	// On the fast path Evaluate skips the per-object work; the verdict
	// computed above must then be the exactly-once one it returns.
	return c
}

// TestEvaluateMatchesNaive checks Evaluate (and the hashes ObjectSet caches
// across Add and Delete) against the objects × pods definition over random
// configurations, including invalid ones, duplicates and agreeing ones.
func TestEvaluateMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	o := NewObjectSet(nil)
	live := map[string]bool{}
	for iter := range 2000 {
		// Mutate the set now and then, and check it against live.
		switch r.IntN(4) {
		case 0:
			add := GenerateUIDs(r.IntN(200), r.Uint64(), iter)
			o.Add(add)
			for _, u := range add {
				live[u] = true
			}
		case 1:
			del := []string{"not-live"}
			for _, u := range o.UIDs() {
				if r.IntN(3) == 0 {
					del = append(del, u, u) // duplicates are harmless
				}
			}
			r.Shuffle(len(del), func(i, j int) { del[i], del[j] = del[j], del[i] })
			o.Delete(del)
			for _, u := range del {
				delete(live, u)
			}
		}
		if want := slices.Sorted(maps.Keys(live)); !slices.Equal(o.UIDs(), want) {
			t.Fatalf("iteration %d: UIDs %v, want %v", iter, o.UIDs(), want)
		}
		for i, u := range o.UIDs() {
			if o.hashes[i] != model.HashUID(u) {
				t.Fatalf("iteration %d: hash %d of %q is stale", iter, i, u)
			}
		}
		total := func() int { // mostly small, sometimes realistic
			if r.IntN(4) == 0 {
				return 1 + r.IntN(48)
			}
			return 1 + r.IntN(8)
		}
		var cs []model.Config
		switch r.IntN(3) {
		case 0: // agreeing pods, in random order, maybe with non-serving ones
			n := total()
			for _, s := range r.Perm(n) {
				cs = append(cs, model.Config{Shard: int32(s), Total: n})
			}
			if r.IntN(2) == 0 {
				cs = append(cs, model.Config{}, model.Config{Shard: -1, Total: 0})
			}
		case 1: // a small perturbation of agreeing pods
			n := total()
			cs = configs(n, 0, n)
			switch r.IntN(3) {
			case 0:
				cs = cs[:r.IntN(len(cs))] // a shard missing
			case 1:
				cs = append(cs, cs[r.IntN(len(cs))]) // a shard twice
			case 2:
				cs[r.IntN(len(cs))].Total++ // one pod on another total
			}
		default: // anything, including configurations that keep nothing
			for range r.IntN(8) {
				cs = append(cs, model.Config{Shard: int32(r.IntN(8) - 1), Total: r.IntN(7) - 1})
			}
		}
		desired := r.IntN(3)
		got := o.Evaluate(cs, desired)
		want := naiveEvaluate(o.UIDs(), cs, desired)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("iteration %d: %d objects, configs %v, desired %d:\n got %+v\nwant %+v",
				iter, o.Len(), cs, desired, summary(got), summary(want))
		}
		// Again on the unchanged set: every total's owners now come from
		// the cache.
		if again := o.Evaluate(cs, desired); !reflect.DeepEqual(again, want) {
			t.Fatalf("iteration %d, evaluated again: got %+v, want %+v", iter, summary(again), summary(want))
		}
	}
}

func summary(c Coverage) string {
	return fmt.Sprintf("{Complete:%v Disjoint:%v FastPath:%v Gap:%d%v Overlap:%d%v}",
		c.Complete, c.Disjoint, c.FastPath, len(c.Gap), c.Gap == nil, len(c.Overlap), c.Overlap == nil)
}

// longTrace builds a trace of n cheap steps (issue 9: a 4.4 MB trace of
// 100,000 steps took 94 s): scale within 1..8, relabel among three label
// maps, create one object, delete one live object, eager schedule, 1,000
// generated objects to start from. A step's cost must not grow with the
// number of steps before it.
func longTrace(n int) *Trace {
	labelSets := []map[string]string{{"app": "ksm", "v": "1"}, {"app": "ksm", "v": "2"}, {"app": "ksm"}}
	two := int32(2)
	t := &Trace{
		Name: "long",
		Cluster: Cluster{
			Namespace:   "monitoring",
			StatefulSet: StatefulSet{Name: "ksm", Labels: cloneLabels(labelSets[0]), Replicas: &two},
			Objects:     Objects{Generate: 1000, Seed: 1},
		},
		Schedule: Eager,
	}
	r := rand.New(rand.NewPCG(1, 2))
	var live []string
	for i := range n {
		var s Step
		switch r.IntN(4) {
		case 0:
			k := int32(1 + r.IntN(8))
			s = Step{Op: OpScale, Replicas: &k}
		case 1:
			s = Step{Op: OpRelabel, Labels: cloneLabels(labelSets[r.IntN(len(labelSets))])}
		case 2:
			u := fmt.Sprintf("obj-%d", i)
			live = append(live, u)
			s = Step{Op: OpCreate, UIDs: []string{u}}
		default:
			if len(live) == 0 {
				s = Step{Op: OpRestart, Pods: []int{0}}
				break
			}
			j := r.IntN(len(live))
			s = Step{Op: OpDelete, UIDs: []string{live[j]}}
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
		}
		t.Steps = append(t.Steps, s)
	}
	return t
}

// BenchmarkLongTrace replays longTrace with 10,000 and 100,000 steps
// against each reducer: ns/step must stay flat from one size to the other.
func BenchmarkLongTrace(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		t := longTrace(n)
		if err := t.Validate(); err != nil {
			b.Fatal(err)
		}
		for _, r := range model.Reducers() {
			b.Run(fmt.Sprintf("%s/steps=%d", r.Name(), n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Run(t, r, Options{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/step")
			})
		}
	}
}

// BenchmarkLongTraceParse parses and validates longTrace(100,000) from
// JSON, and BenchmarkLongTraceText writes the text report of its replay.
func BenchmarkLongTraceParse(b *testing.B) {
	const n = 100_000
	data, err := json.Marshal(longTrace(n))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseTrace("long.json", data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/step")
}

func BenchmarkLongTraceText(b *testing.B) {
	const n = 100_000
	t := longTrace(n)
	if err := t.Validate(); err != nil {
		b.Fatal(err)
	}
	rep, err := Replay(t, model.Reducers(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rep.WriteText(io.Discard, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/step")
}
