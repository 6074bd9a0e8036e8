package clientgo_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

var (
	diffSeed   = flag.Uint64("clientgo.seed", 1, "seed of the differential test's random traces")
	diffEager  = flag.Int("clientgo.eager", 200, "random eager traces the differential test replays")
	diffManual = flag.Int("clientgo.explicit", 100, "random explicit-schedule traces the differential test replays")
)

// labelFamily is the label maps random relabels choose from: the original,
// a changed version, an added label, a removed label, and no labels at all
// (the empty selector, which matches everything).
var labelFamily = []map[string]string{
	{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0"},
	{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.13.0"},
	{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0", "team": "observability"},
	{"app.kubernetes.io/name": "kube-state-metrics"},
	{},
}

// randomTrace draws a trace from r: 1..4 replicas, 20..40 objects and
// 1..10 cluster ops (relabel, scale 0..5, restart, create, delete). Under
// the explicit schedule, deliver (one item of one pod) and settle steps are
// mixed in; a deliver from an inbox that runs empty makes the replay fail,
// and runDifferential then drops that step.
func randomTrace(r *rand.Rand, schedule string) *sim.Trace {
	replicas := int32(1 + r.IntN(4))
	t := &sim.Trace{
		Name:     "random",
		Schedule: schedule,
		Cluster: sim.Cluster{
			Namespace: "monitoring",
			StatefulSet: sim.StatefulSet{
				Name:     "kube-state-metrics",
				Labels:   maps.Clone(labelFamily[r.IntN(len(labelFamily))]),
				Replicas: &replicas,
			},
		},
	}
	var live []string
	next := 0
	newUIDs := func(n int) []string {
		var out []string
		for range n {
			out = append(out, fmt.Sprintf("obj-%04d", next))
			next++
		}
		live = append(live, out...)
		return out
	}
	t.Cluster.Objects = sim.Objects{Generate: 20 + r.IntN(21), Seed: r.Uint64N(1000)}
	live = sim.GenerateUIDs(t.Cluster.Objects.Generate, t.Cluster.Objects.Seed, 0)
	cur, maxPods := int(replicas), int(replicas)
	for range 1 + r.IntN(10) {
		if schedule == sim.Explicit {
			for range r.IntN(4) {
				if r.IntN(5) == 0 {
					t.Steps = append(t.Steps, sim.Step{Op: sim.OpSettle})
				} else {
					p := r.IntN(maxPods)
					t.Steps = append(t.Steps, sim.Step{Op: sim.OpDeliver, Pod: &p, Count: 1})
				}
			}
		}
		var s sim.Step
		switch p := r.IntN(100); {
		case p < 30:
			s = sim.Step{Op: sim.OpRelabel, Labels: maps.Clone(labelFamily[r.IntN(len(labelFamily))])}
		case p < 60 || cur == 0:
			n := int32(r.IntN(6))
			s = sim.Step{Op: sim.OpScale, Replicas: &n}
			cur, maxPods = int(n), max(maxPods, int(n))
		case p < 80:
			s = sim.Step{Op: sim.OpRestart, Pods: r.Perm(cur)[:1+r.IntN(cur)]}
		case p < 90 || len(live) < 4:
			s = sim.Step{Op: sim.OpCreate, UIDs: newUIDs(1 + r.IntN(10))}
		default:
			for range 1 + r.IntN(3) {
				j := r.IntN(len(live))
				s.UIDs = append(s.UIDs, live[j])
				live = slices.Delete(live, j, j+1)
			}
			s.Op = sim.OpDelete
		}
		t.Steps = append(t.Steps, s)
	}
	if schedule == sim.Explicit && r.IntN(2) == 0 {
		t.Steps = append(t.Steps, sim.Step{Op: sim.OpSettle})
	}
	return t
}

// TestDifferential replays random traces through the model backend and the
// client-go backend and requires the same per-pod (shard, total) at every
// quiescent point, and more: the same reports (checkpoints, gaps,
// overlaps, transient points, verdicts), the same configuration after
// every single delivery, the same KSM handlers run, and the same pod state
// (phase, informer options, informer cache by name and resourceVersion)
// after every delivery. The eager traces are the property; the
// explicit ones also put cluster ops between a pod's GET and its LIST and
// between a write and its delivery.
//
// A mismatch prints the seed, the trace (as JSON, ready for
// traces/regressions/), a shrunk trace that still fails, and both
// timelines. Explore further with e.g.
//
//	go test ./clientgo -run TestDifferential -clientgo.seed=7 -clientgo.eager=5000
func TestDifferential(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		n        int
		stream   uint64
	}{
		{sim.Eager, *diffEager, 0},
		{sim.Explicit, *diffManual, 1 << 32},
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			checked := 0
			for i := range tc.n {
				r := rand.New(rand.NewPCG(*diffSeed, tc.stream+uint64(i)))
				tr := randomTrace(r, tc.schedule)
				tr.Name = fmt.Sprintf("random-%s-%d-%d", tc.schedule, *diffSeed, i)
				tr, mismatch := runDifferential(t, tr)
				if tr == nil {
					continue // the first step already delivers from an empty inbox
				}
				checked++
				if mismatch != "" {
					t.Fatalf("seed %d, %s trace %d: the backends disagree: %s\n%s",
						*diffSeed, tc.schedule, i, mismatch, explain(t, tr))
				}
			}
			t.Logf("%d %s traces agree (seed %d)", checked, tc.schedule, *diffSeed)
			if checked < tc.n*3/4 {
				t.Errorf("only %d of %d traces were replayable", checked, tc.n)
			}
		})
	}
}

// outcome is everything one backend produced for a trace.
type outcome struct {
	report *sim.Report
	states []string // the pod state after every delivery, in order
}

// replayWith replays tr against both reducers on one backend, recording
// the pod state after every delivery.
func replayWith(tr *sim.Trace, nb sim.NewBackend) (outcome, error) {
	var o outcome
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: recording(nb, &o.states)})
	o.report = rep
	return o, err
}

// runDifferential replays tr through both backends and describes the
// first difference ("" if none). A deliver from an empty inbox (explicit
// schedules) is dropped from the trace and the trace replayed again; the
// trace actually compared is returned (nil if no step is left).
func runDifferential(t *testing.T, tr *sim.Trace) (*sim.Trace, string) {
	t.Helper()
	for {
		if err := tr.Validate(); err != nil {
			t.Fatalf("generated trace is invalid: %v\n%s", err, traceJSON(tr))
		}
		want, err := replayWith(tr, sim.ModelBackend)
		var te *sim.TraceError
		if errors.As(err, &te) && te.Step >= 0 && tr.Schedule == sim.Explicit && tr.Steps[te.Step].Op == sim.OpDeliver {
			tr.Steps = slices.Delete(tr.Steps, te.Step, te.Step+1)
			if len(tr.Steps) == 0 {
				return nil, ""
			}
			continue
		}
		if err != nil {
			t.Fatalf("model backend: %v\n%s", err, traceJSON(tr))
		}
		got, err := replayWith(tr, clientgo.New)
		if err != nil {
			return tr, "client-go backend: " + err.Error()
		}
		return tr, difference(want, got)
	}
}

// difference describes the first difference between two outcomes.
func difference(want, got outcome) string {
	for _, format := range []string{"json", "text"} {
		w, g := renderReport(want.report, format), renderReport(got.report, format)
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("the %s reports differ at line %d", format, firstDiffLine(w, g))
		}
	}
	for i := range want.report.Results {
		wl, gl := want.report.Results[i].Log, got.report.Results[i].Log
		for j := range max(len(wl), len(gl)) {
			if j >= len(wl) || j >= len(gl) {
				return fmt.Sprintf("%s: the logs have %d and %d entries", want.report.Results[i].Reducer, len(wl), len(gl))
			}
			if logKey(wl[j]) != logKey(gl[j]) {
				return fmt.Sprintf("%s: log entry %d:\n  model:     %s\n  client-go: %s", want.report.Results[i].Reducer, j, wl[j], gl[j])
			}
		}
	}
	for j := range max(len(want.states), len(got.states)) {
		if j >= len(want.states) || j >= len(got.states) {
			return fmt.Sprintf("%d and %d deliveries", len(want.states), len(got.states))
		}
		if want.states[j] != got.states[j] {
			return fmt.Sprintf("pod state after delivery %d:\n  model:     %s\n  client-go: %s", j, want.states[j], got.states[j])
		}
	}
	return ""
}

// explain renders a failing trace for the test log: the trace, a shrunk
// version of it, and both backends' timelines for the shrunk one.
func explain(t *testing.T, tr *sim.Trace) string {
	small := shrink(t, tr)
	var b strings.Builder
	fmt.Fprintf(&b, "trace:\n%s\nshrunk to %d of %d steps:\n%s\n", traceJSON(tr), len(small.Steps), len(tr.Steps), traceJSON(small))
	for _, side := range []struct {
		name string
		nb   sim.NewBackend
	}{{"model", sim.ModelBackend}, {"client-go", clientgo.New}} {
		o, err := replayWith(small, side.nb)
		fmt.Fprintf(&b, "\n=== %s timeline (shrunk trace)\n", side.name)
		if err != nil {
			fmt.Fprintf(&b, "replay failed: %v\n", err)
		}
		if o.report != nil {
			b.Write(renderReport(o.report, "text"))
			for _, res := range o.report.Results {
				fmt.Fprintf(&b, "%s event log:\n", res.Reducer)
				for _, e := range res.Log {
					fmt.Fprintf(&b, "  %s [config %s]\n", e, e.Config)
				}
			}
		}
	}
	return b.String()
}

// shrink removes steps one at a time, and cluster objects, as long as the
// backends still disagree.
func shrink(t *testing.T, tr *sim.Trace) *sim.Trace {
	cur := cloneTrace(tr)
	fails := func(c *sim.Trace) bool {
		if c.Validate() != nil {
			return false
		}
		want, err := replayWith(c, sim.ModelBackend)
		if err != nil {
			return false
		}
		got, err := replayWith(c, clientgo.New)
		return err != nil || difference(want, got) != ""
	}
	for changed := true; changed; {
		changed = false
		for i := len(cur.Steps) - 1; i >= 0; i-- {
			c := cloneTrace(cur)
			c.Steps = slices.Delete(c.Steps, i, i+1)
			if fails(c) {
				cur, changed = c, true
			}
		}
	}
	return cur
}

func cloneTrace(tr *sim.Trace) *sim.Trace {
	c := *tr
	c.Steps = slices.Clone(tr.Steps)
	return &c
}

// traceJSON renders a trace in the file format, ready for
// traces/regressions/.
func traceJSON(tr *sim.Trace) string {
	b, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

func renderReport(r *sim.Report, format string) []byte {
	var b bytes.Buffer
	if format == "json" {
		_ = r.WriteJSON(&b, false)
	} else {
		_ = r.WriteText(&b, false)
	}
	return b.Bytes()
}

func firstDiffLine(a, b []byte) int {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(al), len(bl)) {
		if !bytes.Equal(al[i], bl[i]) {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// recording wraps a backend so that every delivery appends the pod's state
// afterwards to states.
func recording(nb sim.NewBackend, states *[]string) sim.NewBackend {
	return func(r model.Reducer) (sim.Backend, error) {
		b, err := nb(r)
		if err != nil {
			return nil, err
		}
		return &recBackend{Backend: b, states: states}, nil
	}
}

type recBackend struct {
	sim.Backend
	states *[]string
}

func (b *recBackend) NewPod(name, uid string) (sim.PodRunner, error) {
	p, err := b.Backend.NewPod(name, uid)
	if err != nil {
		return nil, err
	}
	rp := &recPod{PodRunner: p, uid: uid, states: b.states}
	if or, ok := p.(sim.ObjectsRunner); ok {
		return &recObjectsPod{recPod: rp, or: or}, nil
	}
	return rp, nil
}

// The wrapper passes on what the simulator asks of a FaultBackend and a
// TraceChecker (both backends are FaultBackends).

func (b *recBackend) Check(t *sim.Trace) string {
	if tc, ok := b.Backend.(sim.TraceChecker); ok {
		return tc.Check(t)
	}
	return ""
}

func (b *recBackend) fb() (sim.FaultBackend, error) {
	fb, ok := b.Backend.(sim.FaultBackend)
	if !ok {
		return nil, fmt.Errorf("the %s backend is no sim.FaultBackend", b.Name())
	}
	return fb, nil
}

func (b *recBackend) ConfigureAPIServer(c sim.APIServerConfig) error {
	fb, err := b.fb()
	if err != nil {
		return err
	}
	return fb.ConfigureAPIServer(c)
}

func (b *recBackend) Compact(rv string) error {
	fb, err := b.fb()
	if err != nil {
		return err
	}
	return fb.Compact(rv)
}

func (b *recBackend) CacheLag(writes int) error {
	fb, err := b.fb()
	if err != nil {
		return err
	}
	return fb.CacheLag(writes)
}

// recObjectsPod is a recPod whose pod runs the data plane on real code:
// the simulator's objects items are passed on.
type recObjectsPod struct {
	*recPod
	or sim.ObjectsRunner
}

func (p *recObjectsPod) ConfigureSharding(shard int32, total int, pageSize int) error {
	return p.or.ConfigureSharding(shard, total, pageSize)
}

func (p *recObjectsPod) DeliverObjects(ev model.Event) (model.Request, []string, error) {
	return p.or.DeliverObjects(ev)
}

type recPod struct {
	sim.PodRunner
	uid    string
	states *[]string
}

func (p *recPod) Deliver(ev model.Event) (model.PodState, string, error) {
	s, note, err := p.PodRunner.Deliver(ev)
	if err == nil {
		*p.states = append(*p.states, fmt.Sprintf("%s after %T: %s", p.uid, ev, stateString(s)))
	}
	return s, note, err
}

// stateString renders the parts of a pod state both backends must agree
// on.
func stateString(s model.PodState) string {
	var cache []string
	for _, name := range slices.Sorted(maps.Keys(s.Cache)) {
		cache = append(cache, name+"@"+s.Cache[name].ResourceVersion)
	}
	return fmt.Sprintf("%s phase=%s statefulSet=%q labelSelector=%q fieldSelector=%q config=%s cache=%v",
		s.Name, s.Phase, s.StatefulSetName, s.ListOptions.LabelSelector, s.ListOptions.FieldSelector, s.Config, cache)
}
