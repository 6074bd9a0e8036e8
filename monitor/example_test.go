package monitor_test

import (
	"fmt"
	"time"

	"github.com/shardsim/shardsim/monitor"
)

// Two KSM pods still configured with --total-shards=3 after the third was
// removed: the mixin's KubeStateMetricsShardsMissing and the coverage
// KubeStateMetricsObjectsMissing fire after 15 minutes pending.
func ExampleEvaluate() {
	var scrapes []monitor.Scrape
	for at := time.Duration(0); at <= 20*time.Minute; at += 30 * time.Second {
		scrapes = append(scrapes, monitor.Scrape{
			At: at,
			Targets: []monitor.Target{
				{Job: "kube-state-metrics", Instance: "ksm-0", Shard: 0, Total: 3, Resource: "configmaps", Namespace: "default", Exported: []string{"a", "d"}},
				{Job: "kube-state-metrics", Instance: "ksm-1", Shard: 1, Total: 3, Resource: "configmaps", Namespace: "default", Exported: []string{"b"}},
			},
			Objects: map[string]int{"configmaps": 4}, // "c" belonged to shard 2
		})
	}
	rep, err := monitor.Evaluate(scrapes, monitor.DefaultRuleFiles(), monitor.Config{Interval: 30 * time.Second, End: 20 * time.Minute})
	if err != nil {
		panic(err)
	}
	fmt.Print(rep)
	for _, a := range rep.Evals[len(rep.Evals)-1].Firing {
		fmt.Println(a.Labels)
	}
	// Output:
	// KubeStateMetricsShardingMismatch (kube-state-metrics-mixin.yaml): inactive
	// KubeStateMetricsShardsMissing (kube-state-metrics-mixin.yaml): pending at 0s, firing at 15m0s [15m0s, 20m0s], at most 1 alerts
	// KubeStateMetricsObjectsExportedTwice (coverage.yaml): inactive
	// KubeStateMetricsObjectsExportedTwice (coverage.yaml): inactive
	// KubeStateMetricsObjectsMissing (coverage.yaml): pending at 0s, firing at 15m0s [15m0s, 20m0s], at most 1 alerts
	// KubeStateMetricsObjectsMissing (coverage.yaml): inactive
	// {alertname="KubeStateMetricsShardsMissing", severity="critical"}
	// {alertname="KubeStateMetricsObjectsMissing", resource="configmaps", severity="critical"}
}
