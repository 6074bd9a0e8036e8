package ksm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestPodManagementTracesAgree replays every pod management and pod
// failure trace (traces/podmanagement: failStart, crashLoop under
// OrderedReady and Parallel, an OrderedReady scale-down) on the model and
// on real KSM v2.12.0 and v2.13.0, as TestShippedTracesAgree does the
// top-level ones (checkAgreement: checkpoints, transient points, windows
// by bounds, the verdicts the trace expects). Each failed start-up must
// have been a real exit of KSM, its MetricsHandler.Run returning "detect
// StatefulSet: ..." after the 403 on its GET of its own Pod, and the
// model's start-ups, failures and container restarts must be real KSM's,
// pod by pod (ordinal and Pod UID), in the same order.
func TestPodManagementTracesAgree(t *testing.T) {
	files, err := filepath.Glob("../traces/podmanagement/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 pod management traces, got %d (%v)", len(files), err)
	}
	for _, m := range modelled {
		t.Run(m.release, func(t *testing.T) {
			nb := backend(t, m.release)
			for _, file := range files {
				tr, err := sim.LoadTrace(file)
				if err != nil {
					t.Fatal(err)
				}
				want, got := checkAgreement(t, m, nb, file, tr)
				if d := startsDisagreement(want.Log, got.Log); d != "" {
					t.Errorf("%s: %s: %s", file, m.release, d)
				}
			}
		})
	}
}

// startsDisagreement compares the start-ups of a replay on the model
// (want) and on real KSM (got): the same GETs, failed or not, and
// container restarts, of the same pods in the same order; each failed GET
// on real KSM a real exit with the detect-StatefulSet error. It returns ""
// when they agree.
func startsDisagreement(want, got []sim.LogEntry) string {
	starts := func(log []sim.LogEntry) []string {
		var out []string
		for _, e := range log {
			switch {
			case e.Kind == sim.LogGet && strings.HasPrefix(e.Event, "GET failed"):
				out = append(out, fmt.Sprintf("step %d: pod %d (%s) failed its GET", e.Step, e.Pod, e.PodUID))
			case e.Kind == sim.LogGet:
				out = append(out, fmt.Sprintf("step %d: pod %d (%s) got its StatefulSet", e.Step, e.Pod, e.PodUID))
			case e.Kind == sim.LogRestarted:
				out = append(out, fmt.Sprintf("step %d: pod %d (%s) restarted", e.Step, e.Pod, e.PodUID))
			}
		}
		return out
	}
	w, g := starts(want), starts(got)
	if strings.Join(w, "\n") != strings.Join(g, "\n") {
		return fmt.Sprintf("start-ups on the model:\n  %s\non real KSM:\n  %s", strings.Join(w, "\n  "), strings.Join(g, "\n  "))
	}
	failed := 0
	for _, e := range got {
		if e.Kind != sim.LogGet || !strings.HasPrefix(e.Event, "GET failed") {
			continue
		}
		failed++
		if !strings.Contains(e.Outcome, `MetricsHandler.Run returned "detect StatefulSet: retrieve pod `) || !strings.Contains(e.Outcome, "is forbidden") {
			return fmt.Sprintf("step %d: pod %d's failed start-up on real KSM: %q; want KSM's exit with the detect-StatefulSet error", e.Step, e.Pod, e.Outcome)
		}
	}
	if failed == 0 && strings.Contains(strings.Join(w, "\n"), "failed") {
		return "no failed start-up on real KSM"
	}
	return ""
}

// TestDeterministicModes: -ksm.runs replays of one DaemonSet sharding
// trace and of one pod failure trace (which TestDeterministic, over the
// top-level and regression traces, does not reach) give byte-identical
// JSON reports on real KSM v2.12.0 and v2.13.0.
func TestDeterministicModes(t *testing.T) {
	files := []string{"../traces/daemonset/schedule-and-bind.json", "../traces/podmanagement/blocked-scale-up-ordered-ready.json"}
	for _, m := range modelled {
		t.Run(m.release, func(t *testing.T) {
			nb := backend(t, m.release)
			for _, file := range files {
				tr, err := sim.LoadTrace(file)
				if err != nil {
					t.Fatal(err)
				}
				var first []byte
				for i := range *runs {
					rep, err := sim.Replay(tr, []model.Reducer{m.reducer}, sim.Options{Backend: nb})
					if err != nil {
						t.Fatalf("%s run %d: %v", file, i, err)
					}
					got, err := json.Marshal(rep)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = got
					} else if !bytes.Equal(got, first) {
						t.Fatalf("%s: run %d's JSON report differs from run 0's:\n%s", file, i, firstDifference(first, got))
					}
				}
			}
		})
	}
}
