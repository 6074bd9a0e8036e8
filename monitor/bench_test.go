package monitor

import (
	"testing"
	"time"
)

// benchScenario is a typical scenario: four KSM pods of four shards, 1000
// ConfigMaps each, one pod replaced (gone for 2 minutes, then back under a
// new name) and evaluated 45 times (0 to 22m every 30s).
func benchScenario() scenario {
	m := time.Minute
	return scenario{pods: []pod{
		ksm(0, 0, 4), ksm(1, 1, 4), ksm(2, 2, 4),
		{name: "kube-state-metrics-3", shard: 3, total: 4, to: 10 * m},
		{name: "kube-state-metrics-3-new", shard: 3, total: 4, from: 12 * m},
	}, n: 4000, end: 22 * m}
}

func BenchmarkEvaluate(b *testing.B) {
	sc := benchScenario()
	scrapes := sc.scrapes()
	files := DefaultRuleFiles()
	cfg := Config{End: sc.end}
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Evaluate(scrapes, files, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Evals) != 45 {
			b.Fatalf("%d evaluations, want 45", len(rep.Evals))
		}
	}
}

func BenchmarkBuildSeries(b *testing.B) {
	sc := benchScenario()
	scrapes := sc.scrapes()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildSeries(scrapes, testInterval); err != nil {
			b.Fatal(err)
		}
	}
}
