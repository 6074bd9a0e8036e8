package monitor

import (
	"reflect"
	"testing"
	"time"
)

// TestRangeQueriesAgree checks that Evaluate, which computes each rule's
// expression with one range query, reports exactly what evaluating it with
// an instant query at each time (rules.EngineQueryFunc, as promtool does)
// reports.
func TestRangeQueriesAgree(t *testing.T) {
	m := time.Minute
	scenarios := promtoolScenarios()
	scenarios["unconfigured"] = scenario{pods: []pod{ksm(0, 0, 3), ksm(1, 1, 3), ksm(2, 0, 1)}, n: 10, end: 20 * m}
	scenarios["replaced"] = scenario{pods: []pod{
		ksm(0, 0, 4), ksm(1, 1, 4), ksm(2, 2, 4),
		{name: "kube-state-metrics-3", shard: 3, total: 4, to: 10 * m},
		{name: "kube-state-metrics-3-new", shard: 3, total: 4, from: 12 * m},
		{name: "kube-state-metrics-0-dup", shard: 0, total: 4, from: 3 * m},
	}, n: 200, end: 25*m + 10*time.Second}
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			scrapes := sc.scrapes()
			cfg := Config{End: sc.end}
			got, err := evaluate(scrapes, DefaultRuleFiles(), cfg, true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := evaluate(scrapes, DefaultRuleFiles(), cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("range queries:\n%s\ninstant queries:\n%s", got, want)
			}
			if n := len(got.Evals); n != int(sc.end/testInterval)+1 {
				t.Errorf("%d evaluations, want %d", n, sc.end/testInterval+1)
			}
		})
	}
}
