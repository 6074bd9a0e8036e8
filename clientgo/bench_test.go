package clientgo_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// benchTrace is a bigger generated trace: 16 replicas, objects sharded
// objects and 100 eager ops drawn from a fixed seed (scales within 8..24,
// relabels cycling through labelFamily, restarts of 1..3 pods, creates of
// objects/100 objects, deletes of 1..10). With few objects the pods'
// machinery dominates; with many, the coverage evaluation both backends
// share does.
func benchTrace(objects int) *sim.Trace {
	replicas := int32(16)
	t := &sim.Trace{
		Name:     fmt.Sprintf("generated-16pods-100ops-%dobjects", objects),
		Schedule: sim.Eager,
		Cluster: sim.Cluster{
			Namespace: "monitoring",
			StatefulSet: sim.StatefulSet{
				Name: "kube-state-metrics", Labels: maps.Clone(labelFamily[0]), Replicas: &replicas,
			},
			Objects: sim.Objects{Generate: objects, Seed: 1},
		},
	}
	live := sim.GenerateUIDs(objects, 1, 0)
	cur, label := int(replicas), 0
	r := rand.New(rand.NewPCG(42, 2024))
	for i := range 100 {
		var s sim.Step
		switch p := r.IntN(100); {
		case p < 25:
			n := int32(8 + r.IntN(17))
			s, cur = sim.Step{Op: sim.OpScale, Replicas: &n}, int(n)
		case p < 40:
			label = (label + 1) % len(labelFamily)
			s = sim.Step{Op: sim.OpRelabel, Labels: maps.Clone(labelFamily[label])}
		case p < 60:
			s = sim.Step{Op: sim.OpRestart, Pods: r.Perm(cur)[:1+r.IntN(3)]}
		case p < 80:
			seed := uint64(1000 + i)
			s = sim.Step{Op: sim.OpCreate, Generate: objects / 100, Seed: seed}
			live = append(live, sim.GenerateUIDs(objects/100, seed, i+1)...)
		default:
			for range 1 + r.IntN(10) {
				j := r.IntN(len(live))
				s.UIDs = append(s.UIDs, live[j])
				live = slices.Delete(live, j, j+1)
			}
			s.Op = sim.OpDelete
		}
		t.Steps = append(t.Steps, s)
	}
	return t
}

// BenchmarkBackends replays the same traces through both backends in one
// run; one iteration is a full sim.Replay against both reducers.
// ns/delivery is that time divided by the items the pods were delivered.
// Compare the client-go and model ns/op of a trace for the ratio, e.g.
//
//	go test ./clientgo -run '^$' -bench Backends -benchmem -count 6
func BenchmarkBackends(b *testing.B) {
	relabel, err := sim.LoadTrace(filepath.Join(traceDir, "relabel.json"))
	if err != nil {
		b.Fatal(err)
	}
	traces := []*sim.Trace{relabel, benchTrace(100), benchTrace(10_000)}
	for _, tr := range traces[1:] {
		if err := tr.Validate(); err != nil {
			b.Fatal(err)
		}
	}
	for _, tr := range traces {
		for _, backend := range []struct {
			name string
			nb   sim.NewBackend
		}{{"model", sim.ModelBackend}, {clientgo.Name, clientgo.New}} {
			b.Run(tr.Name+"/"+backend.name, func(b *testing.B) {
				b.ReportAllocs()
				deliveries := 0
				for b.Loop() {
					rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: backend.nb})
					if err != nil {
						b.Fatal(err)
					}
					deliveries = 0
					for _, res := range rep.Results {
						for _, e := range res.Log {
							if e.Outcome != "" {
								deliveries++
							}
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*deliveries), "ns/delivery")
			})
		}
	}
}
