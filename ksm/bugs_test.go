package ksm_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/ksm"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// TestBugTraces replays every trace of traces/bugs/ (one per known KSM
// sharding bug) on the model and on real KSM, for each release the
// trace's expect names, and fails where the model's verdict or real KSM's
// differs from expect, or where the two disagree (checkAgreement: the
// same checkpoints and transient points; a trace judged at every point
// has its windows compared by bounds only, as the ksm backend runs its
// data plane eagerly). With -short only the model's verdicts are checked.
// DaemonSet sharding traces run on real KSM for the releases the suite
// builds anyway (suiteReleases); any other served release is skipped
// unless SHARDSIM_KSM_EXTRA_RELEASES=1.
// A release the module proxy refuses (v2.19.0) runs from a checkout of
// its tag named by $SHARDSIM_KSM_SOURCE and $SHARDSIM_KSM_SOURCE_RELEASE,
// and is skipped, saying how, without one.
func TestBugTraces(t *testing.T) {
	files, err := filepath.Glob("../traces/bugs/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no trace in ../traces/bugs")
	}
	for _, file := range files {
		tr, err := sim.LoadTrace(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(tr.Name, func(t *testing.T) {
			if len(tr.Expect) == 0 {
				t.Fatalf("%s: no expect: a bug trace names the release that has the bug and the one that fixed it", file)
			}
			for _, v := range slices.Sorted(maps.Keys(tr.Expect)) {
				t.Run(v, func(t *testing.T) { checkBug(t, file, tr, v) })
			}
		})
	}
}

// checkBug replays tr as reducer name (a release, or a named reducer that
// stands for one) on the model, then on real KSM.
func checkBug(t *testing.T, file string, tr *sim.Trace, name string) {
	r, ok := model.ReducerByName(name)
	if !ok {
		t.Fatalf("%s: expect names %q, which is no release or reducer (%s)", file, name, model.KnownReducers())
	}
	want, err := run(t, tr, r, nil)
	if err != nil {
		t.Fatalf("%s: model: %v", file, err)
	}
	if (tr.Expect[name] == sim.Holds) != want.Holds {
		t.Errorf("%s: the model of %s: holds=%v, the trace expects %s\n  verdict: %s", file, name, want.Holds, tr.Expect[name], sim.Verdict(want))
	}
	m := release{ksm.DefaultRelease(name), r}
	if rel, err := ksm.LookupRelease(m.release); err == nil && rel.Served && tr.Cluster.DaemonSet != nil && !slices.Contains(suiteReleases, m.release) && !extraReleases() {
		t.Skipf("%s: DaemonSet sharding on real kube-state-metrics runs by default on the releases the suite builds anyway (%s); to build and run %s too (about two minutes cold), set SHARDSIM_KSM_EXTRA_RELEASES=1", file, strings.Join(suiteReleases, ", "), m.release)
	}
	checkAgreement(t, m, bugBackend(t, m.release), file, tr)
}

// bugBackend is the ksm backend of release v: backend for a release the
// module proxy serves; for one it refuses, the checkout in
// $SHARDSIM_KSM_SOURCE when $SHARDSIM_KSM_SOURCE_RELEASE names v, and
// otherwise the test skips.
func bugBackend(t *testing.T, v string) sim.NewBackend {
	t.Helper()
	rel, err := ksm.LookupRelease(v)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Served {
		return backend(t, v)
	}
	if testing.Short() {
		t.Skip("real kube-state-metrics suites are skipped with -short")
	}
	dir := os.Getenv("SHARDSIM_KSM_SOURCE")
	if dir == "" || os.Getenv("SHARDSIM_KSM_SOURCE_RELEASE") != v {
		t.Skipf("kube-state-metrics %s is not served by the Go module proxy: to run it, check out its tag and set SHARDSIM_KSM_SOURCE=DIR SHARDSIM_KSM_SOURCE_RELEASE=%s, e.g.\n"+
			"  git clone https://github.com/kubernetes/kube-state-metrics /tmp/ksm-%s && git -C /tmp/ksm-%s checkout %s\n"+
			"  SHARDSIM_KSM_SOURCE=/tmp/ksm-%s SHARDSIM_KSM_SOURCE_RELEASE=%s go test ./ksm -run 'TestBugTraces|TestSource'",
			v, v, v, v, v, v, v)
	}
	build := ksm.Build{Release: v, Source: dir}
	if _, err := ksm.EnsureBuilt(build, os.Stderr); err != nil {
		t.Fatalf("build %s: %v", build, err)
	}
	return ksm.New(ksm.Config{Build: build})
}

// TestRandomReleaseTracesAgree: random traces, on random API servers (the
// watch cache and WatchList on or off, pages smaller than the objects:
// properties.GenConfig.APIServer), give the same checkpoints and
// transient points on the model and on real KSM of the releases whose
// data plane differs from the modelled ones: v2.19.1 (the watch list, and
// the sharded List dropping continue tokens) and v2.20.0 (keeping them).
func TestRandomReleaseTracesAgree(t *testing.T) {
	for _, v := range []string{"v2.19.1", "v2.20.0"} {
		t.Run(v, func(t *testing.T) {
			r, _ := model.ReleaseByVersion(v)
			checkRandomAgreement(t, release{v, r}, backend(t, v), properties.GenConfig{Objects: 40, MaxReplicas: 4, MaxInitialReplicas: 3, APIServer: true})
		})
	}
}
