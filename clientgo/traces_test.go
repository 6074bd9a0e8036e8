package clientgo_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

const traceDir = "../traces"

// traceFiles lists every trace file (sim.TraceFiles).
func traceFiles(t testing.TB) []string {
	t.Helper()
	files, err := sim.TraceFiles(traceDir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestTracesMatchModel replays every trace file through both backends and
// requires:
//
//   - the JSON report without the event log, and the text report, byte for
//     byte identical: same checkpoints, same per-pod (shard, total), same
//     gap and overlap UIDs, same verdicts;
//   - the event logs identical entry by entry on everything the simulator
//     records from a backend's state: step, pod, pod UID, the event text
//     (written by the simulator from what it delivered), the configuration
//     after the delivery and whether it changed. That is the per-pod
//     (shard, total) after every single delivery, not only at checkpoints.
//
// The outcome text is the backend's own account. The client-go backend
// words it like model.Step where it does the same thing (today every
// outcome of every trace is identical), but the model's wording may change
// without the behaviour changing, so only what the wording names is
// compared: which KSM handlers ran (AddFunc, UpdateFunc, or the missing
// DeleteFunc), in order. Which handler runs is client-go's own decision
// (its store held the object or not), so that is a real check.
func TestTracesMatchModel(t *testing.T) {
	for _, path := range traceFiles(t) {
		rel, _ := filepath.Rel(traceDir, path)
		t.Run(strings.TrimSuffix(filepath.ToSlash(rel), ".json"), func(t *testing.T) { matchModel(t, path) })
	}
}

// matchModel replays the trace at path on the model and on the client-go
// backend and compares their reports.
func matchModel(t *testing.T, path string) {
	t.Helper()
	tr, err := sim.LoadTrace(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sim.Replay(tr, model.Reducers(), sim.Options{})
	if err != nil {
		t.Fatalf("model backend: %v", err)
	}
	got, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: clientgo.New})
	if err != nil {
		t.Fatalf("client-go backend: %v", err)
	}
	compareReports(t, want, got)
}

func compareReports(t *testing.T, want, got *sim.Report) {
	t.Helper()
	for _, format := range []string{"json", "text"} {
		w, g := render(t, want, format), render(t, got, format)
		if !bytes.Equal(w, g) {
			t.Errorf("%s reports differ\n--- model:\n%s\n--- client-go:\n%s", format, w, g)
		}
	}
	for i := range min(len(want.Results), len(got.Results)) {
		wl, gl := want.Results[i].Log, got.Results[i].Log
		if len(wl) != len(gl) {
			t.Errorf("%s: model logged %d entries, client-go %d", want.Results[i].Reducer, len(wl), len(gl))
		}
		for j := range min(len(wl), len(gl)) {
			if logKey(wl[j]) != logKey(gl[j]) {
				t.Errorf("%s: log entry %d differs\n  model:     %s\n  client-go: %s",
					want.Results[i].Reducer, j, wl[j], gl[j])
				break
			}
		}
	}
}

func render(t *testing.T, r *sim.Report, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	if format == "json" {
		err = r.WriteJSON(&b, false)
	} else {
		err = r.WriteText(&b, false)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// logKey is what TestTracesMatchModel compares of a log entry.
func logKey(e sim.LogEntry) string {
	return fmt.Sprintf("%d|%d|%s|%s|%s|%v|%v", e.Step, e.Pod, e.PodUID, e.Event, e.Config, e.Changed, handlers(e.Outcome))
}

var handlerNames = regexp.MustCompile(`\b(AddFunc|UpdateFunc|DeleteFunc)\b`)

// handlers lists the KSM handlers an outcome says ran, in order.
func handlers(outcome string) []string { return handlerNames.FindAllString(outcome, -1) }
