package properties_test

import (
	"strings"
	"testing"

	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// TestHuntModes: a hunt in static sharding (misconfigured applies) and in
// DaemonSet sharding (a tainted node's pods; v2.13.0 without
// --track-unscheduled-pods) finds a counterexample, shrinks it to a valid
// explicit trace that still fails, names it after the mode, and finds the
// same one again; the command that finds it names the mode.
func TestHuntModes(t *testing.T) {
	for _, tc := range []struct{ mode, reducer, kind string }{
		{properties.ModeStatic, "field-selector", "static-"},
		{properties.ModeDaemonSet, "v2.20.0", "daemonset-taint-gap"},
		{properties.ModeDaemonSet, "v2.13.0", "daemonset-"},
	} {
		opts := properties.HuntOptions{Reducer: tc.reducer, Seed: 1, Mode: tc.mode}
		cmd := properties.HuntCommand(opts, "DIR")
		ce, err := properties.Hunt(opts)
		if err != nil || ce == nil {
			t.Fatalf("%s: %v, %v", cmd, ce, err)
		}
		data, err := properties.Marshal(ce.Trace)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cmd, " --mode "+tc.mode) || !strings.Contains(ce.Trace.Description, "--mode "+tc.mode+"`") {
			t.Errorf("%s: the command or the description does not name the mode: %s", cmd, ce.Trace.Description)
		}
		if !strings.Contains(ce.Trace.Name, tc.kind) || ce.Trace.Schedule != sim.Explicit || ce.Trace.Expect[tc.reducer] != sim.Violated {
			t.Errorf("%s: %s, schedule %s, expect %v", cmd, ce.Trace.Name, ce.Trace.Schedule, ce.Trace.Expect)
		}
		parsed, err := sim.ParseTrace("cx.json", data)
		if err != nil || !properties.FailsMode(parsed, tc.reducer) {
			t.Fatalf("%s: the exported trace does not parse or does not fail: %v\n%s", cmd, err, data)
		}
		if len(properties.ClusterOps(ce.Trace)) > len(properties.ClusterOps(ce.Found)) {
			t.Errorf("%s: shrunk to more cluster ops than found", cmd)
		}
		again, err := properties.Hunt(opts)
		if err != nil || again == nil {
			t.Fatal(err)
		}
		if d2, _ := properties.Marshal(again.Trace); string(d2) != string(data) {
			t.Errorf("%s: a second hunt found another counterexample", cmd)
		}
		if s := ce.Summary(); !strings.Contains(s, tc.mode+" mode") {
			t.Errorf("%s: summary:\n%s", cmd, s)
		}
	}
}

// TestHuntModeRefuses: an unknown mode, and the autosharding generator
// options with a mode, are refused.
func TestHuntModeRefuses(t *testing.T) {
	for _, opts := range []properties.HuntOptions{
		{Reducer: "field-selector", Mode: "nodes"},
		{Reducer: "field-selector", Mode: properties.ModeStatic, Gen: properties.FaultGenConfig()},
		{Reducer: "field-selector", Mode: properties.ModeDaemonSet, Gen: properties.GenConfig{APIServer: true}},
	} {
		if _, err := properties.Hunt(opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
}
