package ksm_test

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// Random differential tests of the sharding modes besides autosharding's
// relabels and scales: static sharding, DaemonSet sharding, and pod
// management with failing start-ups. Each draws its traces from a seeded
// PCG source (properties.NewRandSource(-ksm.modeseed, i) for trace i), so
// a run replays the same traces; -ksm.modetraces N replays more (or
// fewer) of them, -ksm.modeseed others, -ksm.modeops longer ones.
//
//	go test ./ksm -run 'TestRandom(Static|DaemonSet|PodManagement)TracesAgree' -ksm.modetraces 200 -ksm.modeseed 7 -ksm.modeops 16
//
// A disagreement prints the seed, the trace index and the trace as JSON,
// and writes it to a file that simrun replays.
var (
	modeTraces = flag.Int("ksm.modetraces", 0, "TestRandom{Static,DaemonSet,PodManagement}TracesAgree: random traces per release (0: each test's default, 15, about 20 s for the three, warm)")
	modeSeed   = flag.Uint64("ksm.modeseed", 1, "TestRandom{Static,DaemonSet,PodManagement}TracesAgree: the seed of the random traces (trace i is stream i of it)")
	modeOps    = flag.Int("ksm.modeops", 8, "TestRandom{Static,DaemonSet,PodManagement}TracesAgree: the most ops a random trace draws (1..N)")
)

// The default number of random traces per release of each test: together
// about 20 s on two cores, warm (BENCHMARKS.md; 30 each took 36 s), so
// that a cold go test ./... stays within about ten minutes. Seeds 1 to 5 at
// 30 to 300 traces each found no disagreement.
const (
	defaultStaticTraces        = 15
	defaultDaemonSetTraces     = 15
	defaultPodManagementTraces = 15
)

func modeTraceCount(def int) int {
	if *modeTraces > 0 {
		return *modeTraces
	}
	return def
}

// A modeCase is one random trace of a mode test and where it came from.
type modeCase struct {
	test  string // the test's short name, for the saved file
	seed  uint64
	index int // the source's stream
	m     release
	trace *sim.Trace
}

// fail reports a disagreement (or a failed replay) of c: the reason, the
// seed and index, the trace as JSON, written to a file too, and the
// command that replays it on real KSM.
func (c modeCase) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	data := traceJSON(c.trace)
	file := filepath.Join(os.TempDir(), fmt.Sprintf("shardsim-%s-%s-seed%d-%d.json", c.test, c.m.release, c.seed, c.index))
	saved := "saved to " + file
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		saved = "not saved: " + err.Error()
	}
	t.Errorf("random %s trace %d of seed %d (-ksm.modeseed %d -ksm.modeops %d), kube-state-metrics %s: %s\n"+
		"replay: go run ./cmd/simrun --trace %s --backend ksm -r %s --windows --log   (trace %s)\n%s",
		c.test, c.index, c.seed, c.seed, *modeOps, c.m.release, fmt.Sprintf(format, args...), file, c.m.reducer.Name(), saved, data)
}

// checkModeAgreement replays c's trace on the model and on real KSM (nb),
// windows measured, and fails t where they differ: the checkpoints and
// transient points exactly (disagreement), the windows of a trace of
// DaemonSet sharding alone exactly (its pods' reflectors are held item by
// item, TestDaemonSetTracesAgree), any other trace's by the bounds
// checkAgreement allows (windowDisagreement: the ConfigMaps are answered
// at once, so real KSM's stores are never behind the model's). It returns
// both results, nil after a failed replay.
func checkModeAgreement(t *testing.T, c modeCase, nb sim.NewBackend) (want, got *sim.Result) {
	t.Helper()
	want, err := sim.Run(c.trace, c.m.reducer, sim.Options{Windows: true})
	if err != nil {
		c.fail(t, "model: %v", err)
		return nil, nil
	}
	got, err = sim.Run(c.trace, c.m.reducer, sim.Options{Backend: nb, Windows: true})
	if err != nil {
		c.fail(t, "replay: %v", err)
		return nil, nil
	}
	if c.trace.DataPlane == sim.Explicit {
		want.Transient, got.Transient = nil, nil
	}
	if d := disagreement(want, got); d != "" {
		c.fail(t, "disagrees with the %s model: %s", c.m.reducer.Name(), d)
		return want, got
	}
	daemonSetOnly := c.trace.Cluster.StatefulSet.Name == "" && len(c.trace.Cluster.Deployments) == 0
	switch {
	case daemonSetOnly && !slices.Equal(want.Windows, got.Windows):
		c.fail(t, "windows %s on the model, %s on real KSM", describeWindows(want.Windows), describeWindows(got.Windows))
	case !daemonSetOnly:
		if d := windowDisagreement(want.Windows, got.Windows); d != "" {
			c.fail(t, "disagrees with the %s model: %s", c.m.reducer.Name(), d)
		}
	}
	return want, got
}

// A modeSummary counts what the random traces of one release covered,
// logged at the end (go test -v) so that a generator that stopped
// reaching something shows.
type modeSummary struct {
	traces, explicit, violated int
	ops                        map[string]int
}

func (s *modeSummary) add(tr *sim.Trace, want *sim.Result) {
	s.traces++
	if tr.Schedule == sim.Explicit {
		s.explicit++
	}
	if want != nil && !want.Holds {
		s.violated++
	}
	if s.ops == nil {
		s.ops = map[string]int{}
	}
	for _, st := range tr.Steps {
		s.ops[st.Op]++
	}
}

func (s *modeSummary) String() string {
	var ops []string
	for _, op := range slices.Sorted(maps.Keys(s.ops)) {
		ops = append(ops, fmt.Sprintf("%s %d", op, s.ops[op]))
	}
	return fmt.Sprintf("%d traces (seed %d), %d explicit, %d violated on the model; ops: %s", s.traces, *modeSeed, s.explicit, s.violated, strings.Join(ops, ", "))
}

// modeRelease returns the release v and the reducer that stands for it.
func modeRelease(t *testing.T, v string) release {
	t.Helper()
	r, ok := model.ReleaseByVersion(v)
	if !ok {
		t.Fatalf("no model of release %s", v)
	}
	return release{v, r}
}

// TestRandomStaticTracesAgree: random static sharding traces
// (properties.StaticBuilder: 1..4 Deployments on --shard i
// --total-shards n with drawn strategies, eager and explicit schedules,
// reshards, misconfigured applies (duplicate shards, shards at or above
// the total, mixed totals, two replicas), Deployment deletions, restarts,
// ConfigMap churn) give the same checkpoints and transient points on the
// model and on real KSM v2.13.0 and v2.20.0, windows within
// checkAgreement's bounds, and every KSM pod started through KSM's own
// "Autosharding disabled" path.
func TestRandomStaticTracesAgree(t *testing.T) {
	n := modeTraceCount(defaultStaticTraces)
	for _, v := range []string{"v2.13.0", "v2.20.0"} {
		t.Run(v, func(t *testing.T) {
			m := modeRelease(t, v)
			nb := backend(t, v)
			var sum modeSummary
			defer func() { t.Log(&sum) }()
			for i := range n {
				src := properties.NewRandSource(*modeSeed, uint64(i))
				b := properties.NewStaticBuilder(src, properties.ModeConfig{Reducer: v, Objects: 40, Misconfigure: true})
				for range 1 + src.Draw("ops", max(1, *modeOps)) {
					b.Op(src)
				}
				c := modeCase{test: "static", seed: *modeSeed, index: i, m: m, trace: properties.CloneModeTrace(b.Trace())}
				b.Close()
				want, got := checkModeAgreement(t, c, nb)
				sum.add(c.trace, want)
				if got == nil {
					continue
				}
				for _, e := range got.Log {
					if e.Kind == sim.LogStarted && (!strings.Contains(e.Outcome, "autosharding disabled: KSM started with --shard=") || !strings.Contains(e.Outcome, "configured "+e.Config.String())) {
						c.fail(t, "pod %s started with outcome %q, config %s; want KSM's Autosharding disabled path", e.PodUID, e.Outcome, e.Config)
						break
					}
				}
			}
		})
	}
}

// TestRandomDaemonSetTracesAgree: random DaemonSet sharding traces
// (properties.DaemonSetBuilder: 1..3 nodes, plain or dotted names, 0..24
// pods, the unscheduled ones served by nothing, a --track-unscheduled-pods
// pod or a pod without --node; node additions and removals, taints,
// pod creations and bindings, eager and explicit schedules) give the same
// checkpoints and transient points on the model and on real KSM v2.13.0
// (#2374's stripped node names, no --track-unscheduled-pods) and v2.20.0,
// DaemonSet sharding's included, and the model's windows; every KSM pod
// started through "Autosharding disabled" or, with
// --track-unscheduled-pods before v2.14.0, exited on KSM's own flag
// parsing.
func TestRandomDaemonSetTracesAgree(t *testing.T) {
	n := modeTraceCount(defaultDaemonSetTraces)
	for _, v := range []string{"v2.13.0", "v2.20.0"} {
		t.Run(v, func(t *testing.T) {
			m := modeRelease(t, v)
			nb := backend(t, v)
			var sum modeSummary
			defer func() { t.Log(&sum) }()
			for i := range n {
				src := properties.NewRandSource(*modeSeed, uint64(i))
				b := properties.NewDaemonSetBuilder(src, properties.ModeConfig{Reducer: v, Unscheduled: properties.AnyUnscheduled, DottedNodes: true})
				for range 1 + src.Draw("ops", max(1, *modeOps)) {
					b.Op(src)
				}
				c := modeCase{test: "daemonset", seed: *modeSeed, index: i, m: m, trace: properties.CloneModeTrace(b.Trace())}
				b.Close()
				want, got := checkModeAgreement(t, c, nb)
				sum.add(c.trace, want)
				if got == nil {
					continue
				}
				old := v < "v2.14.0"
				for _, e := range got.Log {
					if e.Kind != sim.LogStarted || !strings.Contains(e.Event, "--resources=pods") {
						continue
					}
					exited := strings.Contains(e.Outcome, "exited: ")
					track := strings.Contains(e.Event, "--track-unscheduled-pods")
					if (exited && !(track && old)) || (!exited && !strings.Contains(e.Outcome, "pods store built")) || (track && old && !exited) {
						c.fail(t, "KSM pod %s %s: %s", e.PodUID, e.Event, e.Outcome)
						break
					}
				}
			}
		})
	}
}

// TestRandomPodManagementTracesAgree: random autosharding traces under
// OrderedReady or Parallel pod management, whose ops mix failing
// start-ups (failStart, crashLoop, recover, on existing ordinals and on
// ones a later scale creates) with scales, relabels, restarts and object
// churn, eager and explicit schedules (podManagementBuilder), give the
// same checkpoints and transient points on the model and on real KSM
// v2.12.0 and v2.13.0, windows within checkAgreement's bounds, and the
// same start-ups, failed start-ups (real exits of KSM) and container
// restarts, pod by pod, in the same order (startsDisagreement).
func TestRandomPodManagementTracesAgree(t *testing.T) {
	n := modeTraceCount(defaultPodManagementTraces)
	for _, m := range modelled {
		t.Run(m.release, func(t *testing.T) {
			nb := backend(t, m.release)
			var sum modeSummary
			defer func() { t.Log(&sum) }()
			for i := range n {
				src := properties.NewRandSource(*modeSeed, uint64(i))
				b := newPodManagementBuilder(src, m.reducer)
				for range 1 + src.Draw("ops", max(1, *modeOps)) {
					b.op(src)
				}
				c := modeCase{test: "podmanagement", seed: *modeSeed, index: i, m: m, trace: properties.CloneTrace(b.trace)}
				b.close()
				want, got := checkModeAgreement(t, c, nb)
				sum.add(c.trace, want)
				if got == nil {
					continue
				}
				if d := startsDisagreement(want.Log, got.Log); d != "" {
					c.fail(t, "%s", d)
				}
			}
		})
	}
}

// Bounds of podManagementBuilder.
const (
	pmObjects     = 40
	pmMaxReplicas = 4 // scale draws 0..pmMaxReplicas; failures name ordinals below it
	pmMaxInitial  = 3
	pmMaxFailures = 3 // failStart's count: 1..pmMaxFailures
	pmMaxChurn    = 10
)

// A podManagementBuilder grows a random autosharding trace with pod
// management and pod failures, as properties.Builder grows the others
// (which keeps Parallel and has no failure ops): every choice from a
// Source, 0 the simplest, the trace replayed on one reducer as it grows
// so that the explicit deliveries it draws are valid.
type podManagementBuilder struct {
	trace    *sim.Trace
	run      *sim.Sim
	replicas int
	slots    int          // ordinals that ever had an inbox
	failing  map[int]bool // ordinals a failStart or crashLoop named, until recover
	live     []string
	salt     int
}

// newPodManagementBuilder draws a cluster: the pod management policy
// (OrderedReady, the default, or Parallel), the schedule, 1..pmMaxInitial
// replicas, over pmObjects ConfigMaps.
func newPodManagementBuilder(src properties.Source, r model.Reducer) *podManagementBuilder {
	policy := []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement}[src.Draw("pod management", 2)]
	schedule := []string{sim.Eager, sim.Explicit}[src.Draw("schedule", 2)]
	replicas := 1 + src.Draw("initial replicas", pmMaxInitial)
	r32 := int32(replicas)
	uids := sim.GenerateUIDs(pmObjects, properties.DefaultObjectSeed, 0)
	t := &sim.Trace{
		Name: "generated-podmanagement",
		Cluster: sim.Cluster{
			Namespace:   properties.Namespace,
			StatefulSet: sim.StatefulSet{Name: properties.StatefulSetName, Labels: properties.OriginalLabels(), Replicas: &r32, PodManagementPolicy: policy},
			Objects:     sim.Objects{UIDs: uids},
		},
		Schedule: schedule,
		Steps:    []sim.Step{},
	}
	return &podManagementBuilder{trace: t, run: sim.New(t, r, sim.Options{}), replicas: replicas, slots: replicas, failing: map[int]bool{}, live: slices.Clone(uids)}
}

func (b *podManagementBuilder) close() { b.run.Close() }

func (b *podManagementBuilder) apply(st sim.Step) {
	b.trace.Steps = append(b.trace.Steps, st)
	i := len(b.trace.Steps) - 1
	if err := b.run.Apply(i); err != nil {
		panic(fmt.Sprintf("podManagementBuilder: the model cannot replay generated step %d (%s): %v", i, st.Op, err))
	}
}

// someOrdinals draws a non-empty subset of 0..n-1, sorted.
func someOrdinals(src properties.Source, what string, n int) []int {
	rest := make([]int, n)
	for i := range rest {
		rest[i] = i
	}
	var out []int
	for range 1 + src.Draw(what+" count", n) {
		i := src.Draw(what+" ordinal", len(rest))
		out = append(out, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	slices.Sort(out)
	return out
}

// deliver delivers the next item of the first inbox, from a drawn ordinal
// on, whose head can be delivered; if none can, it settles.
func (b *podManagementBuilder) deliver(src properties.Source) {
	start := src.Draw("deliver pod", b.slots)
	for k := range b.slots {
		p := (start + k) % b.slots
		if b.run.Pending(p) == 0 {
			continue
		}
		b.trace.Steps = append(b.trace.Steps, sim.Step{Op: sim.OpDeliver, Pod: &p, Count: 1})
		if b.run.Apply(len(b.trace.Steps)-1) == nil {
			return
		}
		b.trace.Steps = b.trace.Steps[:len(b.trace.Steps)-1]
	}
	b.apply(sim.Step{Op: sim.OpSettle})
}

// op draws one op valid now and applies it.
func (b *podManagementBuilder) op(src properties.Source) {
	type weighted struct {
		op     string
		weight int
	}
	ops := []weighted{{sim.OpScale, 3}, {sim.OpRelabel, 2}, {sim.OpFailStart, 2}, {sim.OpCrashLoop, 2}, {sim.OpCreate, 1}}
	if b.replicas > 0 {
		ops = append(ops, weighted{sim.OpRestart, 2})
	}
	if len(b.failing) > 0 {
		ops = append(ops, weighted{sim.OpRecover, 3})
	}
	if len(b.live) > 0 {
		ops = append(ops, weighted{sim.OpDelete, 1})
	}
	if b.trace.Schedule == sim.Explicit {
		ops = append(ops, weighted{sim.OpSettle, 2})
		if !b.run.Quiescent() {
			ops = append(ops, weighted{sim.OpDeliver, 8})
		}
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	k := src.Draw("op", total)
	op := ops[0].op
	for _, o := range ops {
		if k < o.weight {
			op = o.op
			break
		}
		k -= o.weight
	}
	switch op {
	case sim.OpScale:
		n := src.Draw("replicas", pmMaxReplicas+1)
		r := int32(n)
		b.replicas, b.slots = n, max(b.slots, n)
		b.apply(sim.Step{Op: sim.OpScale, Replicas: &r})
	case sim.OpRelabel:
		choices := properties.LabelChoices()
		b.apply(sim.Step{Op: sim.OpRelabel, Labels: choices[src.Draw("labels", len(choices))].Labels})
	case sim.OpFailStart, sim.OpCrashLoop:
		pods := someOrdinals(src, op, pmMaxReplicas)
		st := sim.Step{Op: op, Pods: pods}
		if op == sim.OpFailStart {
			st.Count = 1 + src.Draw("failures", pmMaxFailures)
		}
		for _, p := range pods {
			b.failing[p] = true
		}
		b.apply(st)
	case sim.OpRecover:
		failing := slices.Sorted(maps.Keys(b.failing))
		var pods []int
		for _, i := range someOrdinals(src, "recover", len(failing)) {
			pods = append(pods, failing[i])
			delete(b.failing, failing[i])
		}
		b.apply(sim.Step{Op: sim.OpRecover, Pods: pods})
	case sim.OpRestart:
		b.apply(sim.Step{Op: sim.OpRestart, Pods: someOrdinals(src, "restart", b.replicas)})
	case sim.OpCreate:
		b.salt++
		uids := sim.GenerateUIDs(1+src.Draw("create count", pmMaxChurn), properties.DefaultObjectSeed+1, b.salt)
		uids = slices.DeleteFunc(uids, func(u string) bool { return slices.Contains(b.live, u) })
		if len(uids) == 0 {
			return
		}
		b.live = append(b.live, uids...)
		b.apply(sim.Step{Op: sim.OpCreate, UIDs: uids})
	case sim.OpDelete:
		var uids []string
		for range 1 + src.Draw("delete count", min(pmMaxChurn, len(b.live))) {
			i := src.Draw("delete object", len(b.live))
			uids = append(uids, b.live[i])
			b.live = slices.Delete(b.live, i, i+1)
		}
		b.apply(sim.Step{Op: sim.OpDelete, UIDs: uids})
	case sim.OpDeliver:
		b.deliver(src)
	case sim.OpSettle:
		b.apply(sim.Step{Op: sim.OpSettle})
	}
}
