package main

import (
	"path/filepath"
	"testing"

	"github.com/shardsim/shardsim/monitor"
	"github.com/shardsim/shardsim/sim"
)

// BenchmarkShippedTraces replays every shipped trace (traces/ and its
// subdirectories) against its default reducers, as simrun does: without
// the timeline (the floor), with it (the impact: coverage over time and
// the scrapes), and with it and the alerts (Prometheus's rule engine on
// the scrapes). BENCHMARKS.md, "Impact and alerts (issue 14)".
func BenchmarkShippedTraces(b *testing.B) {
	var traces []*sim.Trace
	for _, pattern := range []string{"../../traces/*.json", "../../traces/*/*.json"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range paths {
			tr, err := sim.LoadTrace(p)
			if err != nil {
				b.Fatal(err)
			}
			traces = append(traces, tr)
		}
	}
	mixin := monitor.DefaultRuleFiles()[:1]
	for _, bc := range []struct {
		name     string
		timeline bool
		rules    []monitor.RuleFile
	}{{"replay", false, nil}, {"timeline", true, nil}, {"mixin-alerts", true, mixin}, {"alerts", true, monitor.DefaultRuleFiles()}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				for _, tr := range traces {
					opts := sim.Options{}
					if bc.timeline {
						opts.Timeline = &sim.TimelineOptions{Series: bc.rules != nil}
					}
					rep, err := sim.Replay(tr, sim.ExpectedReducers(tr), opts)
					if err != nil {
						b.Fatal(err)
					}
					if bc.rules != nil {
						if _, err := evaluateAlerts(rep, tr.Cluster.Namespace, bc.rules); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}
