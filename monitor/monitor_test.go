package monitor

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Alert names of the default rules files.
const (
	mismatch  = "KubeStateMetricsShardingMismatch"
	missing   = "KubeStateMetricsShardsMissing"
	twice     = "KubeStateMetricsObjectsExportedTwice"
	objsGone  = "KubeStateMetricsObjectsMissing"
	namespace = "default"
)

// pod is a KSM pod of a test scenario, up (scraped) at times in [from, to).
type pod struct {
	name     string
	shard    int32
	total    int
	from, to time.Duration
	// exports, when not nil, are the indexes of the objects it exports;
	// otherwise it exports object i when i % total == shard.
	exports []int
}

// scenario is a test's simulated cluster: n ConfigMaps (the API server's
// count is n+extra), pods scraped every 30s from 0 to end.
type scenario struct {
	pods  []pod
	n     int
	extra int
	end   time.Duration
}

const testInterval = 30 * time.Second

func objName(i int) string { return fmt.Sprintf("cm-%04d", i) }

func (sc scenario) scrapes() []Scrape {
	var out []Scrape
	for at := time.Duration(0); at <= sc.end; at += testInterval {
		s := Scrape{At: at, Objects: map[string]int{"configmaps": sc.n + sc.extra}}
		for _, p := range sc.pods {
			if at < p.from || (p.to != 0 && at >= p.to) {
				continue
			}
			tg := Target{Job: "kube-state-metrics", Instance: p.name, Shard: p.shard, Total: p.total, Resource: "configmaps", Namespace: namespace}
			if p.exports != nil {
				for _, i := range p.exports {
					tg.Exported = append(tg.Exported, objName(i))
				}
			} else {
				for i := range sc.n {
					if i%p.total == int(p.shard) {
						tg.Exported = append(tg.Exported, objName(i))
					}
				}
			}
			s.Targets = append(s.Targets, tg)
		}
		out = append(out, s)
	}
	return out
}

func ksm(i int, shard int32, total int) pod {
	return pod{name: fmt.Sprintf("kube-state-metrics-%d", i), shard: shard, total: total}
}

// firesAt is when an alert is expected to fire first; never for no alert.
const never = time.Duration(-1)

func TestEvaluate(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name string
		sc   scenario
		want map[string]time.Duration // alert name: first firing time, or never
	}{
		{
			name: "a: three pods 0/3 1/3 2/3",
			sc:   scenario{pods: []pod{ksm(0, 0, 3), ksm(1, 1, 3), ksm(2, 2, 3)}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: never, twice: never, objsGone: never},
		},
		{
			// Relabel-then-scale-up with the label selector: the new pod
			// configured with 3 shards, the old ones still with 2.
			name: "b: pods 0/2 1/2 2/3",
			sc:   scenario{pods: []pod{ksm(0, 0, 2), ksm(1, 1, 2), ksm(2, 2, 3)}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: 15 * m, missing: never, twice: 15 * m, objsGone: never},
		},
		{
			// Relabel-then-scale-down: pod 2 gone, the others still with 3.
			name: "c: pods 0/3 1/3",
			sc:   scenario{pods: []pod{ksm(0, 0, 3), ksm(1, 1, 3)}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: 15 * m, twice: never, objsGone: 15 * m},
		},
		{
			// Pods that never configured sharding export shard_ordinal 0 and
			// total_shards 1 and every object: the mixin sees nothing wrong.
			name: "d: pods 0/1 0/1 0/1",
			sc:   scenario{pods: []pod{ksm(0, 0, 1), ksm(1, 0, 1), ksm(2, 0, 1)}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: never, twice: 15 * m, objsGone: never},
		},
		{
			// One pod of three never configured: it hides ordinal 2.
			name: "d: pods 0/3 1/3 0/1",
			sc:   scenario{pods: []pod{ksm(0, 0, 3), ksm(1, 1, 3), ksm(2, 0, 1)}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: 15 * m, missing: 15 * m, twice: 15 * m, objsGone: never},
		},
		{
			name: "e: an object exported twice",
			sc: scenario{pods: []pod{
				{name: "kube-state-metrics-0", shard: 0, total: 2, exports: []int{0, 2, 3}},
				{name: "kube-state-metrics-1", shard: 1, total: 2, exports: []int{1, 3}},
			}, n: 4, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: never, twice: 15 * m, objsGone: never},
		},
		{
			name: "e: objects missing",
			sc:   scenario{pods: []pod{ksm(0, 0, 2), ksm(1, 1, 2)}, n: 10, extra: 2, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: never, twice: never, objsGone: 15 * m},
		},
		{
			// Every pod down from 2m: staleness markers end their series at
			// 2m, not 5m (the lookback delta) later.
			name: "e: every pod down",
			sc: scenario{pods: []pod{
				{name: "kube-state-metrics-0", shard: 0, total: 2, to: 2 * m},
				{name: "kube-state-metrics-1", shard: 1, total: 2, to: 2 * m},
			}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: never, twice: never, objsGone: 17 * m},
		},
		{
			name: "e: a transient 2-minute overlap",
			sc: scenario{pods: []pod{
				ksm(0, 0, 2), ksm(1, 1, 2),
				{name: "kube-state-metrics-0-new", shard: 0, total: 2, from: 5 * m, to: 7 * m},
			}, n: 10, end: 20 * m},
			want: map[string]time.Duration{mismatch: never, missing: never, twice: never, objsGone: never},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Evaluate(tt.sc.scrapes(), DefaultRuleFiles(), Config{End: tt.sc.end})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				got := never
				for _, a := range rep.Alerts {
					if a.Name == name && a.Fired && (got == never || a.FiresAt < got) {
						got = a.FiresAt
					}
				}
				if got != want {
					t.Errorf("%s fires at %v, want %v\n%s", name, got, want, rep)
				}
			}
		})
	}
}

func TestEvaluatePendingWithoutFiring(t *testing.T) {
	sc := scenario{pods: []pod{
		ksm(0, 0, 2), ksm(1, 1, 2),
		{name: "kube-state-metrics-0-new", shard: 0, total: 2, from: 5 * time.Minute, to: 7 * time.Minute},
	}, n: 10, end: 20 * time.Minute}
	rep, err := Evaluate(sc.scrapes(), DefaultRuleFiles(), Config{End: sc.end})
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Alert(twice)
	if !a.Pended || a.PendingAt != 5*time.Minute || a.Fired {
		t.Errorf("%s: pending %v at %v, fired %v; want pending at 5m, never firing", twice, a.Pended, a.PendingAt, a.Fired)
	}
}

func TestEvaluateErrors(t *testing.T) {
	_, err := Evaluate(nil, []RuleFile{{Name: "broken.yaml", Data: []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(\n")}}, Config{End: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Errorf("error %v does not name the file", err)
	}
	_, err = Evaluate([]Scrape{{At: 10 * time.Second}}, DefaultRuleFiles(), Config{End: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "multiple of the interval") {
		t.Errorf("misaligned scrape: error %v", err)
	}
}

// TestEvaluatePods checks the kube_pod_info side of the coverage rules: a pod
// exported twice and a pod no shard exports.
func TestEvaluatePods(t *testing.T) {
	var scrapes []Scrape
	for at := time.Duration(0); at <= 20*time.Minute; at += testInterval {
		scrapes = append(scrapes, Scrape{
			At: at,
			Targets: []Target{
				{Job: "kube-state-metrics", Instance: "ksm-0", Shard: 0, Total: 2, Resource: "pods", Namespace: "ns", Exported: []string{"p0", "p1"}},
				{Job: "kube-state-metrics", Instance: "ksm-1", Shard: 1, Total: 2, Resource: "pods", Namespace: "ns", Exported: []string{"p1"}},
			},
			Objects: map[string]int{"pods": 3},
		})
	}
	rep, err := Evaluate(scrapes, DefaultRuleFiles(), Config{End: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rep.Evals[len(rep.Evals)-1].Firing {
		got = append(got, a.Labels.String())
	}
	want := []string{
		`{alertname="KubeStateMetricsObjectsExportedTwice", resource="pods", severity="critical"}`,
		`{alertname="KubeStateMetricsObjectsMissing", resource="pods", severity="critical"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("firing at 20m:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
