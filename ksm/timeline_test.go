package ksm_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shardsim/shardsim/sim"
)

// TestTimelineAgrees: every scrape's self-metrics
// (kube_state_metrics_shard_ordinal and _total_shards, read from real
// KSM) are the model's — the sim checks them at each scrape and fails the
// replay otherwise — and the scrapes of the final state, which the hold
// repeats and the alerts judge, are the model's: what each KSM pod's
// /metrics shows. The traces include a pod that never configures
// (get-list-race: real KSM shows shard 0 of 1), static and DaemonSet
// sharding, and a crash loop.
//
// The transient part of the timeline is not compared: the ksm backend's
// API server answers real KSM's ConfigMap LISTs at once, so its stores
// refill within the delivery that emptied them, where the model's wait a
// LIST page's latency (see the note simrun prints for dataPlane explicit).
func TestTimelineAgrees(t *testing.T) {
	files := []string{
		"../traces/relabel.json",
		"../traces/get-list-race.json",
		"../traces/relabel-scale-down.json",
		"../traces/static/rollout-surge.json",
		"../traces/daemonset/mixed-relabel.json",
		"../traces/podmanagement/blocked-scale-up-ordered-ready.json",
	}
	for _, m := range modelled {
		t.Run(m.release, func(t *testing.T) {
			nb := backend(t, m.release)
			for _, file := range files {
				tr, err := sim.LoadTrace(file)
				if err != nil {
					t.Fatal(err)
				}
				opts := sim.Options{Timeline: &sim.TimelineOptions{Series: true}}
				want, err := sim.Run(tr, m.reducer, opts)
				if err != nil {
					t.Fatalf("%s: model: %v", file, err)
				}
				opts.Backend = nb
				got, err := sim.Run(tr, m.reducer, opts)
				if err != nil {
					t.Fatalf("%s: kube-state-metrics %s: %v", filepath.Base(file), m.release, err)
				}
				g, w := got.Timeline.Scrapes, want.Timeline.Scrapes
				if d := scrapeDisagreement(g[len(g)-1], w[len(w)-1]); d != "" {
					t.Errorf("%s: kube-state-metrics %s's last scrape differs from the %s model's: %s", filepath.Base(file), m.release, m.reducer.Name(), d)
				}
				if len(g) == 0 || len(g[0].Targets) == 0 {
					t.Errorf("%s: kube-state-metrics %s: no target scraped", filepath.Base(file), m.release)
				}
			}
		})
	}
}

// scrapeDisagreement says how two scrapes differ, or "".
func scrapeDisagreement(got, want sim.Scrape) string {
	if len(got.Targets) != len(want.Targets) {
		return fmt.Sprintf("%d targets, want %d", len(got.Targets), len(want.Targets))
	}
	for i, g := range got.Targets {
		w := want.Targets[i]
		if g.Instance != w.Instance || g.Shard != w.Shard || g.Total != w.Total || g.Resource != w.Resource || !slices.Equal(g.Names, w.Names) {
			return fmt.Sprintf("target %s shows shard %d of %d and %d %s; want %s: shard %d of %d and %d %s",
				g.Instance, g.Shard, g.Total, len(g.Names), g.Resource, w.Instance, w.Shard, w.Total, len(w.Names), w.Resource)
		}
	}
	if got.Missed != want.Missed || got.Doubled != want.Doubled {
		return fmt.Sprintf("%d missed and %d doubled samples, want %d and %d", got.Missed, got.Doubled, want.Missed, want.Doubled)
	}
	return ""
}
