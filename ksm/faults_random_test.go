package ksm_test

import (
	"flag"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
)

var randomFaults = flag.Bool("ksm.faults", false, "TestRandomFaultTracesAgree: replay random fault traces (-rapid.checks per release and API server) on real KSM; off by default, as each disconnect and 410 costs real KSM about a second")

// TestRandomFaultTracesAgree: random traces with the fault ops (compact,
// disconnect, cacheLag), with the watch cache and without it (pages of 7),
// give the same checkpoints and transient points on the model and on real
// KSM; for v2.19.1 and v2.20.0, on random API servers (watch cache and
// WatchList on or off). Opt-in with -ksm.faults (and -rapid.checks N): client-go's backoff
// after a 410 and the one-second watch age before a disconnect make each
// trace take seconds.
func TestRandomFaultTracesAgree(t *testing.T) {
	if testing.Short() || !*randomFaults {
		t.Skip("opt-in: go test ./ksm -run TestRandomFaultTracesAgree -ksm.faults -rapid.checks 20 (each trace takes seconds of real KSM backoff)")
	}
	for _, m := range modelled {
		for _, api := range []struct {
			name string
			cfg  properties.GenConfig
		}{
			{"watch-cache", properties.GenConfig{Objects: 40, MaxReplicas: 4, MaxInitialReplicas: 3, Faults: true}},
			{"no-watch-cache", properties.GenConfig{Objects: 40, MaxReplicas: 4, MaxInitialReplicas: 3, Faults: true, NoWatchCache: true, PageSize: 7}},
		} {
			t.Run(m.release+"/"+api.name, func(t *testing.T) {
				checkRandomAgreement(t, m, backend(t, m.release), api.cfg)
			})
		}
	}
	// The releases with the watch list, on random API servers.
	for _, v := range []string{"v2.19.1", "v2.20.0"} {
		t.Run(v+"/any-api-server", func(t *testing.T) {
			r, _ := model.ReleaseByVersion(v)
			checkRandomAgreement(t, release{v, r}, backend(t, v), properties.GenConfig{Objects: 40, MaxReplicas: 4, MaxInitialReplicas: 3, Faults: true, APIServer: true})
		})
	}
}
