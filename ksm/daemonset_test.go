package ksm_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// suiteReleases are the releases the real-KSM suites build anyway
// (modelled, TestRandomReleaseTracesAgree). DaemonSet traces run on them
// by default; any other served release only with
// SHARDSIM_KSM_EXTRA_RELEASES=1 (each builds in about two minutes cold),
// and a release the module proxy refuses only from a checkout
// ($SHARDSIM_KSM_SOURCE, bugBackend).
var suiteReleases = []string{"v2.12.0", "v2.13.0", "v2.19.1", "v2.20.0"}

// extraReleases reports whether SHARDSIM_KSM_EXTRA_RELEASES asks for the
// releases the suite does not build by default.
func extraReleases() bool { return os.Getenv("SHARDSIM_KSM_EXTRA_RELEASES") != "" }

// TestDaemonSetTracesAgree replays every DaemonSet sharding trace
// (traces/daemonset, the mixed one too: StatefulSet autosharding of the
// ConfigMaps and DaemonSet sharding of the pods in one replay) on the
// model and on real KSM v2.13.0 (#2374's stripped node names, no
// --track-unscheduled-pods: its KSM pod exits at start) and v2.20.0
// (neither), and requires the same checkpoints and transient points,
// DaemonSet sharding's included (nodes, KSM pods, exported counts, gap
// and overlap), and the verdicts the trace expects. Every KSM pod's pods
// reflector is real KSM's, checked after each item against the model's
// (the request it sends next, the pods its /metrics shows); every KSM pod
// must have started or exited as the model says. Windows are measured: a
// trace of DaemonSet sharding alone must have the model's, a mixed one
// compares them by bounds, as its ConfigMaps run eagerly on real KSM.
func TestDaemonSetTracesAgree(t *testing.T) {
	files, err := filepath.Glob("../traces/daemonset/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("want at least 5 DaemonSet sharding traces, got %d (%v)", len(files), err)
	}
	for _, v := range []string{"v2.13.0", "v2.20.0"} {
		t.Run(v, func(t *testing.T) {
			r, _ := model.ReleaseByVersion(v)
			m := release{v, r}
			nb := backend(t, v)
			for _, file := range files {
				tr, err := sim.LoadTrace(file)
				if err != nil {
					t.Fatal(err)
				}
				t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
					want, err := sim.Run(tr, r, sim.Options{Windows: true})
					if err != nil {
						t.Fatalf("%s: model: %v", file, err)
					}
					got, err := sim.Run(tr, r, sim.Options{Backend: nb, Windows: true})
					if err != nil {
						t.Fatalf("%s: kube-state-metrics %s: %v", file, m.release, err)
					}
					if tr.DataPlane == sim.Explicit {
						want.Transient, got.Transient = nil, nil
					}
					if d := disagreement(want, got); d != "" {
						t.Errorf("%s: %s disagrees with the %s model: %s", file, m.release, r.Name(), d)
					}
					// The pods' reflectors are held item by item: a trace
					// of DaemonSet sharding alone has the model's windows.
					// The ConfigMaps' are answered at once: a mixed
					// trace's compare by bounds (checkAgreement).
					if tr.Cluster.StatefulSet.Name == "" && len(tr.Cluster.Deployments) == 0 {
						if !slices.Equal(want.Windows, got.Windows) {
							t.Errorf("%s: %s: windows %s on the model, %s on real KSM", file, m.release, describeWindows(want.Windows), describeWindows(got.Windows))
						}
					} else if d := windowDisagreement(want.Windows, got.Windows); d != "" {
						t.Errorf("%s: %s disagrees with the %s model: %s", file, m.release, r.Name(), d)
					}
					if e, ok := tr.Expect[v]; ok && (e == sim.Holds) != got.Holds {
						t.Errorf("%s: kube-state-metrics %s: holds=%v, the trace expects %s", file, v, got.Holds, e)
					}
					checkNodeStarts(t, file, tr, got, v)
				})
			}
		})
	}
}

// checkNodeStarts checks the KSM pods' starts in a replay on real KSM:
// each started through KSM's "Autosharding disabled" path with a pods
// reflector, or, with --track-unscheduled-pods before v2.14.0, exited on
// KSM's own flag parsing; and some KSM pod exported pods.
func checkNodeStarts(t *testing.T, file string, tr *sim.Trace, got *sim.Result, v string) {
	t.Helper()
	if tr.Cluster.DaemonSet == nil {
		return
	}
	track := tr.Cluster.DaemonSet.Unscheduled == sim.UnscheduledTrack
	exits := 0
	for _, e := range got.Log {
		if e.Kind != sim.LogStarted || !strings.Contains(e.Event, "--resources=pods") {
			continue
		}
		switch {
		case strings.Contains(e.Outcome, "exited: ") && strings.Contains(e.Event, "--track-unscheduled-pods"):
			exits++
		case !strings.Contains(e.Outcome, "pods store built"):
			t.Errorf("%s: %s: KSM pod %s %s: %s", file, v, e.PodUID, e.Event, e.Outcome)
		}
	}
	old := v < "v2.14.0"
	if wantExit := track && old; (exits > 0) != wantExit {
		t.Errorf("%s: %s: %d KSM pods exited at start; want some: %v", file, v, exits, wantExit)
	}
	exported := 0
	for _, c := range got.Checkpoints {
		if c.Nodes != nil {
			for _, in := range c.Nodes.Instances {
				exported += in.Exported
			}
		}
	}
	if exported == 0 && !slices.Contains([]string{"2374-node-name-with-dots"}, tr.Name) {
		t.Errorf("%s: %s: no KSM pod exported any pod at any checkpoint", file, v)
	}
}

// TestDaemonSetAPIServerAgree replays a DaemonSet sharding trace on API
// servers whose answers take more of KSM's reflector: without the watch
// cache and with pages of 7 (each KSM pod's LIST is paged, its continue
// tokens the server's own), and without the WatchList feature gate in
// both (v2.20.0's watch list is refused with 422 and its reflector falls
// back to LIST). The model and real KSM v2.13.0 and v2.20.0 must agree.
func TestDaemonSetAPIServerAgree(t *testing.T) {
	base, err := sim.LoadTrace("../traces/daemonset/schedule-and-bind.json")
	if err != nil {
		t.Fatal(err)
	}
	f := false
	configs := []struct {
		name     string
		api      sim.APIServerSpec
		pageSize int
	}{
		{"paged-no-watch-cache", sim.APIServerSpec{WatchCache: &f, WatchList: &f}, 7},
		{"no-watch-list", sim.APIServerSpec{WatchList: &f}, 0},
	}
	for _, v := range []string{"v2.13.0", "v2.20.0"} {
		t.Run(v, func(t *testing.T) {
			r, _ := model.ReleaseByVersion(v)
			nb := backend(t, v)
			for _, c := range configs {
				t.Run(c.name, func(t *testing.T) {
					tr, err := sim.LoadTrace("../traces/daemonset/schedule-and-bind.json")
					if err != nil {
						t.Fatal(err)
					}
					tr.Name = base.Name + "-" + c.name
					api := c.api
					tr.Cluster.APIServer, tr.Cluster.PageSize = &api, c.pageSize
					want, err := run(t, tr, r, nil)
					if err != nil {
						t.Fatalf("model: %v", err)
					}
					got, err := run(t, tr, r, nb)
					if err != nil {
						t.Fatalf("kube-state-metrics %s: %v", v, err)
					}
					if d := disagreement(want, got); d != "" {
						t.Errorf("kube-state-metrics %s disagrees with its model: %s", v, d)
					}
					paged, refused := false, false
					for _, e := range got.Log {
						paged = paged || strings.Contains(e.Event, " continue")
						refused = refused || strings.Contains(e.Event, "422")
					}
					if paged != (c.pageSize > 0) || refused != r.Rules.WatchList {
						t.Errorf("a paged LIST: %v, a refused watch list: %v; want %v, %v", paged, refused, c.pageSize > 0, r.Rules.WatchList)
					}
				})
			}
		})
	}
}
