package checker

import (
	"cmp"
	"flag"
	"fmt"
	"runtime"
	"testing"

	"github.com/shardsim/shardsim/model"
)

// big adds the label-selector exhaustive exploration with M=K=7 (about
// 140 million distinct states, 4 GB, minutes) to the benchmarks.
var big = flag.Bool("checker.big", false, "also benchmark the label-selector exhaustive exploration at M=K=7")

// BenchmarkCheck measures whole explorations (Check, building the tables
// included) at M = K = 4..8 with 1 and 2 workers:
//
//   - field-selector: the targets (M=5,K=5 < 1 s; M=7,K=7 < 10 s;
//     M=8,K=8 < 60 s and < 4 GB), every reduction on;
//   - field-selector-no-eager-starts: the same with the third reduction
//     off, to show what it saves;
//   - label-selector-exhaustive: the label selector explored to the bound
//     without stopping at the first counterexample, the largest state
//     space the checker meets (M <= 6; 7 with -checker.big);
//   - field-selector-faults: the field selector with the fault ops compact
//     and disconnect (issue 11: M=4,K=4 < 10 s on 2 cores), and with all
//     three;
//   - label-selector-faults-exhaustive: the label selector with compact
//     and disconnect, explored to the bound (M <= 4, the most its
//     fallback sets fit in a key).
//
// Reported per exploration: explored/op and distinct/op (states),
// states/s (explored over wall time), MB/op (visited set and state arrays
// at the end) and heap-MB (the Go heap's size from the runtime after the
// run, an upper bound of the peak in use).
//
//	go test ./checker -run '^$' -bench . -benchtime 1x -count 3
func BenchmarkCheck(b *testing.B) {
	type variant struct {
		name       string
		r          model.Reducer
		noEager    bool
		exhaustive bool
		maxM       int
		faults     Faults
		minM       int // 4 if 0
	}
	labelMax := 6
	if *big {
		labelMax = 7
	}
	for _, v := range []variant{
		{"field-selector", model.FieldSelector{}, false, false, 8, 0, 0},
		{"field-selector-no-eager-starts", model.FieldSelector{}, true, false, 8, 0, 0},
		{"label-selector-exhaustive", model.LabelSelector{}, false, true, labelMax, 0, 0},
		{"field-selector-faults", model.FieldSelector{}, false, false, 8, Compact | Disconnect, 0},
		{"field-selector-all-faults", model.FieldSelector{}, false, false, 8, allFaults, 0},
		{"label-selector-faults-exhaustive", model.LabelSelector{}, false, true, 4, Compact | Disconnect, 3},
	} {
		for m := cmp.Or(v.minM, 4); m <= v.maxM; m++ {
			for _, w := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/M=%d,K=%d/workers=%d", v.name, m, m, w), func(b *testing.B) {
					var res *Result
					for b.Loop() {
						var err error
						res, err = Check(Options{Reducer: v.r, MaxReplicas: m, Depth: m, Workers: w, NoEagerStarts: v.noEager, Exhaustive: v.exhaustive, Faults: v.faults})
						if err != nil {
							b.Fatal(err)
						}
					}
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					b.ReportMetric(float64(res.Explored), "explored/op")
					b.ReportMetric(float64(res.Distinct), "distinct/op")
					b.ReportMetric(res.StatesPerSecond(), "states/s")
					b.ReportMetric(float64(res.Memory)/(1<<20), "MB/op")
					b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-MB")
				})
			}
		}
	}
}
