package properties_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// A campaign runs every trace of its slice and keeps the distinct shrunk
// counterexamples; MergeCampaign puts the slices back together.
func ExampleRunCampaignSlice() {
	id := properties.CampaignID{Reducer: "label-selector", Backend: "model", Seed: 1, Traces: 40, MaxOps: properties.DefaultMaxOps}
	var files []properties.LoadedSlice
	for i := range 2 {
		s, err := properties.RunCampaignSlice(properties.CampaignOptions{
			HuntOptions: properties.HuntOptions{Reducer: id.Reducer, Seed: id.Seed, Traces: id.Traces},
			Index:       i, Count: 2,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("slice %d of 2: %d traces, %d violations\n", i, s.Traces, s.Violations)
		files = append(files, properties.LoadedSlice{Path: fmt.Sprint(i), SliceFile: &properties.SliceFile{Campaign: id, CampaignSlice: *s}})
	}
	rep, err := properties.MergeCampaign(files, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("campaign: %d traces, %d violations, %d distinct counterexamples\n", rep.Run, rep.Violations, len(rep.Counterexamples))
	for _, c := range rep.Counterexamples {
		fmt.Printf("%s: %d traces, first %d\n", c.Trace.Name, c.Traces, c.First)
	}
	// Output:
	// slice 0 of 2: 20 traces, 4 violations
	// slice 1 of 2: 20 traces, 8 violations
	// campaign: 40 traces, 12 violations, 1 distinct counterexamples
	// label-selector-scale-up-overlap-seed-1-trace-1: 12 traces, first 1
}

func TestSliceTraces(t *testing.T) {
	for _, tc := range []struct{ n, index, count, want int }{
		{10, 0, 1, 10}, {10, 0, 3, 4}, {10, 1, 3, 3}, {10, 2, 3, 3},
		{2, 2, 3, 0}, {0, 0, 1, 0}, {10, 3, 3, 0}, {10, -1, 3, 0}, {10, 0, 0, 0},
	} {
		if got := properties.SliceTraces(tc.n, tc.index, tc.count); got != tc.want {
			t.Errorf("SliceTraces(%d, %d, %d) = %d, want %d", tc.n, tc.index, tc.count, got, tc.want)
		}
	}
	// The slices partition the campaign, whatever the count.
	for n := range 20 {
		for c := 1; c <= 7; c++ {
			sum := 0
			for i := range c {
				sum += properties.SliceTraces(n, i, c)
			}
			if sum != n {
				t.Errorf("%d traces in %d slices: the slices hold %d", n, c, sum)
			}
		}
	}
}

func TestFormatIndices(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{3}, "3"}, {[]int{0, 1, 2}, "0-2"}, {[]int{1, 3, 4, 5, 9}, "1, 3-5, 9"},
	} {
		if got := properties.FormatIndices(tc.in); got != tc.want {
			t.Errorf("FormatIndices(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// campaignSlices runs the campaign in count slices, as slice files.
func campaignSlices(t *testing.T, id properties.CampaignID, gen properties.GenConfig, count int) []properties.LoadedSlice {
	t.Helper()
	var out []properties.LoadedSlice
	for i := range count {
		s, err := properties.RunCampaignSlice(properties.CampaignOptions{
			HuntOptions: properties.HuntOptions{Reducer: id.Reducer, Seed: id.Seed, Traces: id.Traces, Gen: gen, Mode: id.Mode},
			Index:       i, Count: count,
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.Index != i || s.Count != count || s.Traces != properties.SliceTraces(id.Traces, i, count) {
			t.Fatalf("slice %d of %d: index %d, count %d, %d traces", i, count, s.Index, s.Count, s.Traces)
		}
		f := &properties.SliceFile{Campaign: id, CampaignSlice: *s}
		data, err := properties.MarshalSlice(f)
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("slice-%d-of-%d.json", i, count)
		back, err := properties.ParseSlice(path, data)
		if err != nil {
			t.Fatalf("a slice file does not parse back: %v", err)
		}
		out = append(out, properties.LoadedSlice{Path: path, SliceFile: back})
	}
	return out
}

// deterministic is the part of a report that must not depend on the
// slicing: everything but the timings.
func deterministic(t *testing.T, rep *properties.CampaignReport) string {
	t.Helper()
	c := *rep
	c.Slices, c.Count = nil, 0
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCampaignSlicingInvariant: one slice, three and seven give the same
// merged campaign, and it is Hunt's: its first counterexample is the one
// Hunt finds, from the same trace.
func TestCampaignSlicingInvariant(t *testing.T) {
	for _, tc := range []struct {
		id  properties.CampaignID
		gen properties.GenConfig
	}{
		{properties.CampaignID{Reducer: "label-selector", Seed: 1, Traces: 60}, properties.GenConfig{}},
		{properties.CampaignID{Reducer: "label-selector", Seed: 3, Traces: 30, Faults: true}, properties.FaultGenConfig()},
		{properties.CampaignID{Reducer: "v2.19.1", Seed: 1, Traces: 30, APIServer: true}, properties.GenConfig{APIServer: true}},
		{properties.CampaignID{Reducer: "field-selector", Seed: 2, Traces: 40}, properties.GenConfig{}},
		{properties.CampaignID{Reducer: "field-selector", Seed: 1, Traces: 30, Mode: properties.ModeStatic}, properties.GenConfig{}},
		{properties.CampaignID{Reducer: "v2.20.0", Seed: 1, Traces: 30, Mode: properties.ModeDaemonSet}, properties.GenConfig{}},
	} {
		t.Run(tc.id.Reducer+"/"+tc.id.Mode, func(t *testing.T) {
			tc.id.Backend, tc.id.MaxOps = "model", properties.DefaultMaxOps
			one, err := properties.MergeCampaign(campaignSlices(t, tc.id, tc.gen, 1), false)
			if err != nil {
				t.Fatal(err)
			}
			want := deterministic(t, one)
			counts := []int{3, 7}
			if testing.Short() {
				counts = counts[:1]
			}
			for _, c := range counts {
				rep, err := properties.MergeCampaign(campaignSlices(t, tc.id, tc.gen, c), false)
				if err != nil {
					t.Fatal(err)
				}
				if got := deterministic(t, rep); got != want {
					t.Errorf("%d slices merge to\n%s\none slice to\n%s", c, got, want)
				}
				if len(rep.Slices) != c {
					t.Errorf("%d slices: %d timings", c, len(rep.Slices))
				}
			}
			if one.Run != tc.id.Traces {
				t.Errorf("ran %d traces, want %d", one.Run, tc.id.Traces)
			}
			total := 0
			for _, c := range one.Counterexamples {
				total += c.Traces
				if c.Key != properties.CounterexampleKey(c.Trace) {
					t.Errorf("%s: key %s, not its trace's", c.Trace.Name, c.Key)
				}
				if !strings.HasPrefix(c.Trace.Description, "Found by `simrun campaign --reducer "+tc.id.Reducer) {
					t.Errorf("%s: description %q", c.Trace.Name, c.Trace.Description)
				}
			}
			if total != one.Violations {
				t.Errorf("%d violations, but the counterexamples count %d traces", one.Violations, total)
			}
			ce, err := properties.Hunt(properties.HuntOptions{Reducer: tc.id.Reducer, Seed: tc.id.Seed, Traces: tc.id.Traces, Gen: tc.gen, Mode: tc.id.Mode})
			if err != nil {
				t.Fatal(err)
			}
			if (ce == nil) != (one.Violations == 0) {
				t.Fatalf("Hunt found %v, the campaign %d violations", ce != nil, one.Violations)
			}
			if ce != nil {
				first := one.Counterexamples[0]
				if first.First != ce.Index || first.Key != properties.CounterexampleKey(ce.Trace) {
					t.Errorf("the campaign's first counterexample is trace %d (%s), Hunt's trace %d (%s)", first.First, first.Key, ce.Index, properties.CounterexampleKey(ce.Trace))
				}
			}
		})
	}
}

func TestCounterexampleKeyIgnoresObjectsAndNames(t *testing.T) {
	a := &sim.Trace{Name: "a", Description: "one", Cluster: sim.Cluster{Namespace: "ns", Objects: sim.Objects{UIDs: []string{"u1", "u2"}}},
		Schedule: sim.Explicit, Steps: []sim.Step{{Op: sim.OpCreate, UIDs: []string{"u3"}}, {Op: sim.OpSettle}}, Expect: map[string]string{"x": "holds"}}
	b := properties.CloneTrace(a)
	b.Name, b.Description, b.Expect = "b", "two", nil
	b.Cluster.Objects.UIDs = []string{"v"}
	b.Steps[0].UIDs = []string{"w1", "w2"}
	if properties.CounterexampleKey(a) != properties.CounterexampleKey(b) {
		t.Error("traces that differ only in names and objects have different keys")
	}
	c := properties.CloneTrace(a)
	c.Steps[0].Op = sim.OpDelete
	if properties.CounterexampleKey(a) == properties.CounterexampleKey(c) {
		t.Error("traces with different steps have the same key")
	}
	d := properties.CloneTrace(a)
	d.Cluster.PageSize = 2
	if properties.CounterexampleKey(a) == properties.CounterexampleKey(d) {
		t.Error("traces with different page sizes have the same key")
	}
}

func TestMergeCampaignRefuses(t *testing.T) {
	id := properties.CampaignID{Reducer: "label-selector", Backend: "model", Seed: 1, Traces: 10, MaxOps: properties.DefaultMaxOps}
	slice := func(path string, id properties.CampaignID, index, count int) properties.LoadedSlice {
		return properties.LoadedSlice{Path: path, SliceFile: &properties.SliceFile{Campaign: id, CampaignSlice: properties.CampaignSlice{
			Index: index, Count: count, Traces: properties.SliceTraces(id.Traces, index, count)}}}
	}
	other := id
	other.Seed = 2
	for _, tc := range []struct {
		name  string
		files []properties.LoadedSlice
		want  []string
	}{
		{"none", nil, []string{"no slice files"}},
		{"missing", []properties.LoadedSlice{slice("a", id, 0, 5), slice("b", id, 2, 5)}, []string{"3 of 5 slices missing: 1, 3-4"}},
		{"duplicate", []properties.LoadedSlice{slice("a", id, 0, 2), slice("b", id, 1, 2), slice("c", id, 1, 2)}, []string{"b and c both hold slice 1"}},
		{"campaigns", []properties.LoadedSlice{slice("a", id, 0, 2), slice("b", other, 1, 2)}, []string{"not of one campaign", "a and 0 other file(s): label-selector on the model backend, seed 1", "b and 0 other file(s): label-selector on the model backend, seed 2"}},
		{"counts", []properties.LoadedSlice{slice("a", id, 0, 2), slice("b", id, 1, 3)}, []string{"not of one campaign", "a and 0 other file(s)", "2 slices", "b and 0 other file(s)", "3 slices"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := properties.MergeCampaign(tc.files, false)
			if err == nil {
				t.Fatalf("merged: %+v", rep)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var se *properties.SliceSetError
			if tc.name != "none" && !errors.As(err, &se) {
				t.Errorf("error %T, want *SliceSetError", err)
			}
		})
	}
	// With partial, the missing slices are listed; duplicates are still refused.
	rep, err := properties.MergeCampaign([]properties.LoadedSlice{slice("a", id, 0, 5), slice("b", id, 2, 5)}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Missing, []int{1, 3, 4}) || rep.Run != 4 {
		t.Errorf("partial: missing %v, %d traces run; want [1 3 4], 4", rep.Missing, rep.Run)
	}
	if _, err := properties.MergeCampaign([]properties.LoadedSlice{slice("a", id, 0, 2), slice("b", id, 0, 2)}, true); err == nil {
		t.Error("partial: duplicates merged")
	}
}

func TestParseSliceRefuses(t *testing.T) {
	id := properties.CampaignID{Reducer: "label-selector", Backend: "model", Seed: 1, Traces: 10, MaxOps: properties.DefaultMaxOps}
	good := &properties.SliceFile{Campaign: id, CampaignSlice: properties.CampaignSlice{Index: 1, Count: 3, Traces: 3}}
	data, err := properties.MarshalSlice(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := properties.ParseSlice("f.json", data); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*properties.SliceFile)) []byte {
		c := *good
		f(&c)
		d, _ := properties.MarshalSlice(&c)
		return d
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte("not json"), "f.json: not a campaign slice file"},
		{"trace file", []byte(`{"name": "x", "steps": []}`), `f.json: not a campaign slice file: format ""`},
		{"index", edit(func(f *properties.SliceFile) { f.Index = 3 }), "f.json: index 3 of 3"},
		{"traces", edit(func(f *properties.SliceFile) { f.Traces = 4 }), "f.json: 4 traces, but slice 1 of 3 of 10 traces has 3"},
		{"violations", edit(func(f *properties.SliceFile) { f.Violations = 4 }), "f.json: 4 violations"},
		{"unsupported", edit(func(f *properties.SliceFile) { f.Unsupported = 1 }), "f.json: 1 unsupported traces, first <nil>"},
		{"counterexample", edit(func(f *properties.SliceFile) {
			f.Counterexamples = []properties.CampaignCounterexample{{Key: "k", Traces: 1, First: 2, Trace: &sim.Trace{}}}
		}), "f.json: counterexamples[0]: incomplete, or not of this slice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := properties.ParseSlice("f.json", tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRunCampaignSliceRefuses(t *testing.T) {
	for _, o := range []properties.CampaignOptions{
		{HuntOptions: properties.HuntOptions{Reducer: "nope", Traces: 1}},
		{HuntOptions: properties.HuntOptions{Reducer: "label-selector", Traces: 1}, Index: 2, Count: 2},
		{HuntOptions: properties.HuntOptions{Reducer: "label-selector", Traces: 1}, Index: -1, Count: 2},
		{HuntOptions: properties.HuntOptions{Reducer: "label-selector", Traces: -1}},
		{HuntOptions: properties.HuntOptions{Reducer: "label-selector", Traces: 1, Mode: "nope"}},
		{HuntOptions: properties.HuntOptions{Reducer: "label-selector", Traces: 1, Mode: properties.ModeStatic}, Backend: clientgo.New},
	} {
		if _, err := properties.RunCampaignSlice(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestCampaignBackendAgrees: on the client-go backend a campaign counts
// the same violations as on the model and no disagreement, and replays
// each shrunk counterexample on it.
func TestCampaignBackendAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("replays every trace on client-go informers")
	}
	base := properties.HuntOptions{Reducer: "label-selector", Seed: 1, Traces: 20}
	m, err := properties.RunCampaignSlice(properties.CampaignOptions{HuntOptions: base})
	if err != nil {
		t.Fatal(err)
	}
	cg, err := properties.RunCampaignSlice(properties.CampaignOptions{HuntOptions: base, Backend: clientgo.New})
	if err != nil {
		t.Fatal(err)
	}
	if cg.Violations != m.Violations || cg.Disagreements != 0 || len(cg.Counterexamples) != len(m.Counterexamples) {
		t.Fatalf("client-go: %d violations, %d disagreements, %d counterexamples; model: %d violations, %d counterexamples",
			cg.Violations, cg.Disagreements, len(cg.Counterexamples), m.Violations, len(m.Counterexamples))
	}
	for _, c := range cg.Counterexamples {
		if c.BackendHolds == nil || *c.BackendHolds {
			t.Errorf("%s: the backend's verdict on the shrunk trace: %v, want violated", c.Trace.Name, c.BackendHolds)
		}
	}
}

// TestCampaignProgress: a slice reports its progress in its own traces,
// and once more at the end, with every trace done.
func TestCampaignProgress(t *testing.T) {
	var got []properties.HuntProgress
	s, err := properties.RunCampaignSlice(properties.CampaignOptions{
		HuntOptions: properties.HuntOptions{Reducer: "field-selector", Seed: 1, Traces: 20,
			Progress: func(p properties.HuntProgress) { got = append(got, p) }, ProgressInterval: time.Nanosecond},
		Index: 1, Count: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 {
		t.Fatalf("%d progress reports, want one per trace after the first and one at the end", len(got))
	}
	for i, p := range got {
		if p.Traces != s.Traces || p.Tried < 1 || p.Tried > s.Traces || (i > 0 && p.Tried < got[i-1].Tried) {
			t.Errorf("report %d: %+v (the slice has %d traces)", i, p, s.Traces)
		}
	}
	if last := got[len(got)-1]; last.Tried != 5 || last.Traces != 5 {
		t.Errorf("last report %+v, want 5 of 5 traces", last)
	}
}

// TestCampaignDisagreement: a backend that disagrees with the model (here
// the field selector's model standing in for a backend, where the campaign
// checks the label selector) holds where the model is violated: every such
// trace is a disagreement, kept and shrunk while the two still disagree,
// and the merge does not depend on the slicing.
func TestCampaignDisagreement(t *testing.T) {
	wrong := func(model.Reducer) (sim.Backend, error) { return sim.ModelBackend(model.FieldSelector{}) }
	base := properties.HuntOptions{Reducer: "label-selector", Seed: 1, Traces: 20}
	m, err := properties.RunCampaignSlice(properties.CampaignOptions{HuntOptions: base})
	if err != nil {
		t.Fatal(err)
	}
	id := properties.CampaignID{Reducer: "label-selector", Backend: "wrong", Seed: 1, Traces: 20, MaxOps: properties.DefaultMaxOps}
	var reports []string
	for _, count := range []int{1, 2} {
		var files []properties.LoadedSlice
		for i := range count {
			s, err := properties.RunCampaignSlice(properties.CampaignOptions{HuntOptions: base, Index: i, Count: count, Backend: wrong})
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, properties.LoadedSlice{Path: fmt.Sprint(i), SliceFile: &properties.SliceFile{Campaign: id, CampaignSlice: *s}})
		}
		rep, err := properties.MergeCampaign(files, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Violations != 0 || rep.Disagreements != m.Violations || m.Violations == 0 {
			t.Fatalf("%d slices: %d violations, %d disagreements; the model has %d violations", count, rep.Violations, rep.Disagreements, m.Violations)
		}
		total := 0
		for _, c := range rep.Counterexamples {
			total += c.Traces
			if c.Kind != properties.DisagreementKind || c.ModelHolds || c.BackendHolds == nil || !*c.BackendHolds {
				t.Errorf("%s: kind %s, model holds %v, backend holds %v", c.Trace.Name, c.Kind, c.ModelHolds, c.BackendHolds)
			}
			if len(properties.ClusterOps(c.Trace)) != 2 {
				t.Errorf("%s: %d cluster ops, want the relabel and the scale", c.Trace.Name, len(properties.ClusterOps(c.Trace)))
			}
		}
		if total != rep.Disagreements {
			t.Errorf("%d disagreements, the counterexamples count %d", rep.Disagreements, total)
		}
		reports = append(reports, deterministic(t, rep))
	}
	if reports[0] != reports[1] {
		t.Errorf("two slices merge to\n%s\none to\n%s", reports[1], reports[0])
	}
}
