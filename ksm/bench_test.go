package ksm_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/sim"
)

// BenchmarkShippedTraces replays every shipped trace on the model, the
// client-go and the ksm backend (KSM built beforehand, not timed), with the
// reducer each release models: one sub-benchmark per backend and trace.
//
//	go test ./ksm -run '^$' -bench ShippedTraces -benchtime 5x -count 3
func BenchmarkShippedTraces(b *testing.B) {
	traces := shippedTraces(b)
	for _, m := range modelled {
		real := backend(b, m.release)
		for _, be := range []struct {
			name string
			nb   sim.NewBackend
		}{
			{"model", sim.ModelBackend},
			{"client-go", clientgo.New},
			{"ksm-" + m.release, real},
		} {
			for _, st := range traces {
				tr := st.trace
				name := be.name + "/" + m.reducer.Name() + "/" + strings.TrimSuffix(filepath.Base(st.file), ".json")
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						if _, err := sim.Run(tr, m.reducer, sim.Options{Backend: be.nb}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
