package properties_test

import (
	"flag"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// The properties of static and DaemonSet sharding (issue 13). Each test
// compares the simulator's verdict at every quiescent point with an
// oracle the test computes itself, from the trace alone: the Deployments
// (or the nodes, taints and pod counts) after each step, followed op by
// op here, and the releases' rules read from the version number. The
// oracles share nothing with the simulator's replay (its pods, inboxes,
// reflectors and coverage counts); the static one uses model.Keeps, the
// ownership function KSM's sharded ListWatch applies, as the fault
// properties do.

// modeRapidChecks is the number of random traces of each mode property
// (a quarter with -short; -rapid.checks overrides it).
const modeRapidChecks = 400

// replayHint logs how to replay a failing mode property.
func replayHint(t *testing.T) {
	if t.Failed() {
		t.Logf("replay: go test ./properties -run '^%s$' -rapid.seed=SEED (SEED as printed by rapid above; the run started from -rapid.seed=%s)", t.Name(), flag.Lookup("rapid.seed").Value)
	}
}

// staticPod is the sharding flags of one pod of a static Deployment.
type staticPod struct {
	shard int32
	total int
}

// staticState is what the oracle knows after a step: the Deployments by
// name (flags and replicas) and the live ConfigMaps.
type staticState struct {
	deps map[string]sim.Deployment
	live map[string]bool
}

// staticStates follows tr's Deployments and ConfigMaps op by op and
// returns the state after each step of at (-1: the start).
func staticStates(tr *sim.Trace, at []int) map[int]staticState {
	cur := staticState{deps: map[string]sim.Deployment{}, live: map[string]bool{}}
	for _, d := range tr.Cluster.Deployments {
		cur.deps[d.Name] = d
	}
	for _, u := range tr.Cluster.Objects.UIDs {
		cur.live[u] = true
	}
	if tr.Cluster.Objects.Generate > 0 {
		for _, u := range sim.GenerateUIDs(tr.Cluster.Objects.Generate, tr.Cluster.Objects.Seed, 0) {
			cur.live[u] = true
		}
	}
	out := map[int]staticState{}
	snapshot := func(step int) {
		if !slices.Contains(at, step) {
			return
		}
		out[step] = staticState{deps: maps.Clone(cur.deps), live: maps.Clone(cur.live)}
	}
	snapshot(-1)
	for i, s := range tr.Steps {
		switch s.Op {
		case sim.OpApply:
			for _, d := range s.Deployments {
				cur.deps[d.Name] = d
			}
		case sim.OpDeleteDeployment:
			delete(cur.deps, s.Name)
		case sim.OpCreate:
			for _, u := range s.UIDs {
				cur.live[u] = true
			}
		case sim.OpDelete:
			for _, u := range s.UIDs {
				delete(cur.live, u)
			}
		}
		snapshot(i)
	}
	return out
}

// pods returns the flags of every pod the Deployments run: one per
// replica (1 when replicas is unset).
func (s staticState) pods() []staticPod {
	var out []staticPod
	for _, d := range s.deps {
		n := 1
		if d.Replicas != nil {
			n = int(*d.Replicas)
		}
		for range n {
			out = append(out, staticPod{d.Shard, d.TotalShards})
		}
	}
	return out
}

// validShards reports whether the pods run exactly shards 0..n-1 of one
// n, once each: the structural oracle, from the Deployments alone.
func validShards(pods []staticPod) bool {
	if len(pods) == 0 {
		return false
	}
	n := pods[0].total
	if len(pods) != n {
		return false
	}
	seen := make([]bool, n)
	for _, p := range pods {
		if p.total != n || p.shard < 0 || int(p.shard) >= n || seen[p.shard] {
			return false
		}
		seen[p.shard] = true
	}
	return true
}

// staticHolds is the object-level oracle: every live ConfigMap is kept by
// exactly one pod, a pod on shard s of t keeping the objects
// model.Keeps(uid, s, t) says (none when s >= t). As for a StatefulSet
// scaled to 0, when the Deployments want no pod at all completeness is not
// required (sim.ObjectSet.Evaluate: nothing is meant to export).
func staticHolds(s staticState) bool {
	pods := s.pods()
	for u := range s.live {
		n := 0
		for _, p := range pods {
			if model.Keeps(u, p.shard, p.total) {
				n++
			}
		}
		if n > 1 || n == 0 && len(pods) > 0 {
			return false
		}
	}
	return true
}

// duplicateShardOwnsObject reports whether two pods run the same shard of
// the same total and that shard owns a live ConfigMap: an overlap the
// oracle must see without counting every object.
func duplicateShardOwnsObject(s staticState) bool {
	count := map[staticPod]int{}
	for _, p := range s.pods() {
		count[p]++
	}
	for p, n := range count {
		if n < 2 {
			continue
		}
		for u := range s.live {
			if model.Keeps(u, p.shard, p.total) {
				return true
			}
		}
	}
	return false
}

// checkStatic compares the verdict of every quiescent point from the
// checked-th on with the oracles; it returns the number checked and
// counts what it saw in seen.
func checkStatic(t *rapid.T, b *properties.StaticBuilder, checked int, mustBeValid bool, seen map[string]int) int {
	res := b.Result()
	if checked == len(res.Checkpoints) {
		return checked
	}
	var at []int
	for _, c := range res.Checkpoints[checked:] {
		at = append(at, c.Step)
	}
	states := staticStates(b.Trace(), at)
	for _, c := range res.Checkpoints[checked:] {
		st := states[c.Step]
		valid, holds := validShards(st.pods()), staticHolds(st)
		fail := func(format string, args ...any) {
			data, _ := properties.Marshal(properties.CloneModeTrace(b.Trace()))
			t.Fatalf("after step %d (%s): %s\nverdict: %s\nthe trace:\n%s", c.Step, c.Op, fmt.Sprintf(format, args...), sim.Verdict(res), data)
		}
		switch {
		case mustBeValid && !valid:
			fail("the generator left the Deployments off shards 0..n-1 of one n: %v", st.pods())
		case valid && !holds:
			fail("the oracle disagrees with itself: shards 0..n-1 of n leave an object uncovered or doubled")
		case c.Holds() != holds:
			fail("the simulator says complete=%v disjoint=%v, the oracle computed from the Deployments %v says holds=%v", c.Complete, c.Disjoint, st.pods(), holds)
		case duplicateShardOwnsObject(st) && c.Disjoint:
			fail("a duplicate shard owning a live object, and disjoint")
		}
		switch {
		case valid:
			seen["valid"]++
		case holds:
			seen["invalid, holds"]++ // e.g. a pod on shard >= total beside a full set: it keeps nothing
		default:
			seen["invalid, violated"]++
		}
	}
	return len(res.Checkpoints)
}

// staticActions are the rapid actions of the static builder's ops.
func staticActions(b *properties.StaticBuilder, src rapidSource, misconfigure bool, check func(*rapid.T)) map[string]func(*rapid.T) {
	a := map[string]func(*rapid.T){
		"reshard": func(*rapid.T) { b.Reshard(src) },
		"create":  func(*rapid.T) { b.Create(src) },
		"restart": func(t *rapid.T) {
			if !b.Restart(src) {
				t.Skip("no pod to restart")
			}
		},
		"delete": func(t *rapid.T) {
			if !b.Delete(src) {
				t.Skip("no object to delete")
			}
		},
		"deleteDeployment": func(t *rapid.T) {
			if !b.DeleteDeployment(src) {
				t.Skip("no Deployment to delete")
			}
		},
		"deliver": func(t *rapid.T) {
			if !b.Deliver(src) {
				t.Skip("nothing to deliver")
			}
		},
		"settle": func(t *rapid.T) {
			if !b.Settle() {
				t.Skip("settle needs the explicit schedule")
			}
		},
		"": check,
	}
	if misconfigure {
		a["misapply"] = func(*rapid.T) { b.Misapply(src) }
	}
	return a
}

// TestStaticValidShardsHold: a static trace whose applies always leave
// the Deployments with pods on exactly shards 0..n-1 of one n, once each
// (reshards to any n, any strategy, restarts, ConfigMap churn, and under
// the explicit schedule any interleaving of the lanes' deliveries), holds
// at every quiescent point, as the oracle says.
func TestStaticValidShardsHold(t *testing.T) {
	rapidChecks(t, modeRapidChecks)
	seen := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		src := rapidSource{t}
		b := properties.NewStaticBuilder(src, properties.ModeConfig{})
		t.Cleanup(b.Close)
		checked := 0
		t.Repeat(staticActions(b, src, false, func(t *rapid.T) {
			checked = checkStatic(t, b, checked, true, seen)
		}))
	})
	replayHint(t)
	if seen["valid"] == 0 {
		t.Errorf("no quiescent point checked: %v", seen)
	}
}

// TestStaticVerdictMatchesOracle: with misconfigured applies too (a
// duplicate shard, a shard >= total, mixed totals, two replicas of a
// shard, a deleted Deployment), the verdict at every quiescent point is
// the oracle's: every live ConfigMap kept by exactly one pod. A shard
// >= total keeps nothing, so it breaks the properties only when it leaves
// a shard of the total the others run missing (traces/static/
// shard-out-of-range.json); a duplicate shard owning a live object always
// breaks disjointness.
func TestStaticVerdictMatchesOracle(t *testing.T) {
	rapidChecks(t, modeRapidChecks)
	seen := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		src := rapidSource{t}
		b := properties.NewStaticBuilder(src, properties.ModeConfig{Misconfigure: true})
		t.Cleanup(b.Close)
		checked := 0
		t.Repeat(staticActions(b, src, true, func(t *rapid.T) {
			checked = checkStatic(t, b, checked, false, seen)
		}))
	})
	replayHint(t)
	for _, want := range []string{"valid", "invalid, violated"} {
		if seen[want] == 0 && !t.Failed() {
			t.Errorf("no %q quiescent point in the generated traces: %v", want, seen)
		}
	}
	t.Logf("quiescent points: %v", seen)
}

// releaseMinor returns X of a release vX.Y.Z.
func releaseMinor(t interface{ Fatalf(string, ...any) }, version string) int {
	parts := strings.Split(strings.TrimPrefix(version, "v"), ".")
	if len(parts) != 3 || parts[0] != "2" {
		t.Fatalf("unexpected release %q", version)
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil {
		t.Fatalf("release %q: %v", version, err)
	}
	return minor
}

// nodeRules are a release's DaemonSet sharding rules as the oracle reads
// them from its version number, from the KSM changelog rather than the
// model: v2.11.0 to v2.13.0 strip everything but [a-zA-Z0-9_,-] from
// --node (#2217, issue #2374); --track-unscheduled-pods exists from
// v2.14.0 (#2388); KSM exits on an unknown flag.
type nodeRules struct{ strips, track bool }

func rulesOf(t interface{ Fatalf(string, ...any) }, version string) nodeRules {
	m := releaseMinor(t, version)
	return nodeRules{strips: m >= 11 && m <= 13, track: m >= 14}
}

// nodeState is what the oracle knows after a step: the existing nodes,
// the tainted ones, the pods bound to each node and the unscheduled ones.
type nodeState struct {
	nodes       []string
	tainted     map[string]bool
	pods        map[string]int
	unscheduled int
}

// nodeStates follows tr's nodes and pod counts op by op: states[0] is the
// start, states[i+1] the state after step i. A bind binds min(count,
// unscheduled) pods; removing a node deletes its pods (the pod garbage
// collector).
func nodeStates(tr *sim.Trace) []nodeState {
	cur := nodeState{nodes: slices.Clone(tr.Cluster.Nodes), tainted: map[string]bool{}, pods: map[string]int{}}
	if p := tr.Cluster.Pods; p != nil {
		bound := p.Generate - p.Unscheduled
		for i := range bound {
			cur.pods[tr.Cluster.Nodes[i%len(tr.Cluster.Nodes)]]++
		}
		cur.unscheduled = p.Unscheduled
	}
	snapshot := func() nodeState {
		c := nodeState{nodes: slices.Clone(cur.nodes), tainted: map[string]bool{}, pods: map[string]int{}, unscheduled: cur.unscheduled}
		for k, v := range cur.tainted {
			c.tainted[k] = v
		}
		for k, v := range cur.pods {
			c.pods[k] = v
		}
		return c
	}
	out := []nodeState{snapshot()}
	for _, s := range tr.Steps {
		switch s.Op {
		case sim.OpAddNode:
			cur.nodes = append(cur.nodes, *s.Node)
		case sim.OpRemoveNode:
			cur.nodes = slices.DeleteFunc(cur.nodes, func(n string) bool { return n == *s.Node })
			delete(cur.tainted, *s.Node)
			delete(cur.pods, *s.Node)
		case sim.OpTaint:
			cur.tainted[*s.Node] = true
		case sim.OpUntaint:
			delete(cur.tainted, *s.Node)
		case sim.OpCreatePods:
			if *s.Node == "" {
				cur.unscheduled += s.Generate
			} else {
				cur.pods[*s.Node] += s.Generate
			}
		case sim.OpEvict:
			// The DaemonSet controller replaces the evicted KSM pod (a
			// tainted node has none): once its replacement has listed,
			// nothing the oracle counts has changed.
		case sim.OpBind:
			k := min(s.Count, cur.unscheduled)
			cur.unscheduled -= k
			cur.pods[*s.Node] += k
		}
		out = append(out, snapshot())
	}
	return out
}

// nodeHolds is the DaemonSet oracle: every pod is exported by exactly one
// KSM pod. A node's pods are exported by its KSM pod when it runs (the
// node is untainted) and selects them (its name survives the release's
// stripping), and by the all-pods Deployment (unscheduled "all") besides;
// the unscheduled pods by the --track-unscheduled-pods Deployment if the
// release knows the flag, and by the all-pods Deployment.
func nodeHolds(s nodeState, unscheduled string, r nodeRules) bool {
	all := 0
	if unscheduled == sim.UnscheduledAll {
		all = 1
	}
	for _, n := range s.nodes {
		if s.pods[n] == 0 {
			continue
		}
		served := 0
		if !s.tainted[n] && !(r.strips && strings.Contains(n, ".")) {
			served = 1
		}
		if served+all != 1 {
			return false
		}
	}
	if s.unscheduled > 0 {
		tracked := 0
		if unscheduled == sim.UnscheduledTrack && r.track {
			tracked = 1
		}
		if tracked+all != 1 {
			return false
		}
	}
	return true
}

// everyNodeServed is the claim for v2.14.0 and later with "track": every
// node with pods has an untainted KSM pod.
func everyNodeServed(s nodeState) bool {
	for _, n := range s.nodes {
		if s.pods[n] > 0 && s.tainted[n] {
			return false
		}
	}
	return true
}

// hasServedDottedNode reports whether an untainted node whose name has a
// dot runs pods.
func hasServedDottedNode(s nodeState) bool {
	for _, n := range s.nodes {
		if s.pods[n] > 0 && !s.tainted[n] && strings.Contains(n, ".") {
			return true
		}
	}
	return false
}

// checkNodes compares the verdict of every quiescent point from the
// checked-th on with nodeHolds, runs extra on each, and returns the number
// checked.
func checkNodes(t *rapid.T, b *properties.DaemonSetBuilder, checked int, extra func(s nodeState, holds bool) string) int {
	res := b.Result()
	if checked == len(res.Checkpoints) {
		return checked
	}
	states := nodeStates(b.Trace())
	r := rulesOf(t, b.Reducer())
	for _, c := range res.Checkpoints[checked:] {
		st := states[c.Step+1]
		holds := nodeHolds(st, b.Unscheduled(), r)
		why := ""
		if c.Holds() != holds {
			why = fmt.Sprintf("the simulator says complete=%v disjoint=%v, the oracle says holds=%v (nodes %v, tainted %v, pods %v, unscheduled %d)",
				c.Complete, c.Disjoint, holds, st.nodes, st.tainted, st.pods, st.unscheduled)
		} else if extra != nil {
			why = extra(st, holds)
		}
		if why != "" {
			data, _ := properties.Marshal(properties.CloneModeTrace(b.Trace()))
			t.Fatalf("%s after step %d (%s): %s\nverdict: %s\nthe trace:\n%s", b.Reducer(), c.Step, c.Op, why, sim.Verdict(res), data)
		}
	}
	return len(res.Checkpoints)
}

// nodeActions are the rapid actions of the DaemonSet builder's ops.
func nodeActions(b *properties.DaemonSetBuilder, src rapidSource, check func(*rapid.T)) map[string]func(*rapid.T) {
	skipUnless := func(ok bool, why string, t *rapid.T) {
		if !ok {
			t.Skip(why)
		}
	}
	return map[string]func(*rapid.T){
		"addNode":    func(*rapid.T) { b.AddNode(src) },
		"removeNode": func(t *rapid.T) { skipUnless(b.RemoveNode(src), "no node", t) },
		"taint":      func(t *rapid.T) { skipUnless(b.Taint(src), "no untainted node", t) },
		"untaint":    func(t *rapid.T) { skipUnless(b.Untaint(src), "no tainted node", t) },
		"createPods": func(*rapid.T) { b.CreatePods(src) },
		"bind":       func(t *rapid.T) { skipUnless(b.Bind(src), "nothing to bind", t) },
		"evict":      func(t *rapid.T) { skipUnless(b.Evict(src), "no node", t) },
		"deliver":    func(t *rapid.T) { skipUnless(b.Deliver(src), "nothing to deliver", t) },
		"settle":     func(t *rapid.T) { skipUnless(b.Settle(), "eager schedule", t) },
		"":           check,
	}
}

// releasesFrom returns the releases v2.<minor>.0 and later, or up to
// v2.<-minor>.x for a negative minor.
func releasesFrom(t testing.TB, minor int) []string {
	var out []string
	for _, v := range model.ReleaseVersions() {
		m := releaseMinor(t, v)
		if minor >= 0 && m >= minor || minor < 0 && m <= -minor {
			out = append(out, v)
		}
	}
	return out
}

// TestDaemonSetTrackHoldsIffEveryNodeServed: on every release from
// v2.14.0 with the unscheduled pods tracked (--track-unscheduled-pods),
// for any sequence of node ops, pod creations and bindings (node names
// with dots among them) and any interleaving of the KSM pods' deliveries,
// a quiescent point holds iff every node with pods has an untainted KSM
// pod.
func TestDaemonSetTrackHoldsIffEveryNodeServed(t *testing.T) {
	rapidChecks(t, modeRapidChecks)
	releases := releasesFrom(t, 14)
	seen := map[bool]int{}
	rapid.Check(t, func(t *rapid.T) {
		release := rapid.SampledFrom(releases).Draw(t, "release")
		src := rapidSource{t}
		b := properties.NewDaemonSetBuilder(src, properties.ModeConfig{Reducer: release, Unscheduled: sim.UnscheduledTrack, DottedNodes: true})
		t.Cleanup(b.Close)
		checked := 0
		t.Repeat(nodeActions(b, src, func(t *rapid.T) {
			checked = checkNodes(t, b, checked, func(s nodeState, holds bool) string {
				seen[holds]++
				if holds != everyNodeServed(s) {
					return fmt.Sprintf("holds=%v, but every node with pods has a KSM pod: %v", holds, everyNodeServed(s))
				}
				return ""
			})
		}))
	})
	replayHint(t)
	if !t.Failed() && (seen[true] == 0 || seen[false] == 0) {
		t.Errorf("the generated traces do not reach both verdicts: %v", seen)
	}
}

// TestDaemonSetTrackV2130: v2.13.0 does not know --track-unscheduled-pods,
// so the KSM pod run with it exits: every quiescent point with an
// unscheduled pod is violated, and the verdict is the oracle's.
func TestDaemonSetTrackV2130(t *testing.T) {
	rapidChecks(t, modeRapidChecks)
	seen := 0
	rapid.Check(t, func(t *rapid.T) {
		src := rapidSource{t}
		b := properties.NewDaemonSetBuilder(src, properties.ModeConfig{Reducer: "v2.13.0", Unscheduled: sim.UnscheduledTrack})
		t.Cleanup(b.Close)
		checked := 0
		t.Repeat(nodeActions(b, src, func(t *rapid.T) {
			checked = checkNodes(t, b, checked, func(s nodeState, holds bool) string {
				if s.unscheduled > 0 {
					seen++
					if holds {
						return fmt.Sprintf("%d unscheduled pods and no KSM pod to track them, yet it holds", s.unscheduled)
					}
				}
				return ""
			})
		}))
	})
	replayHint(t)
	if !t.Failed() && seen == 0 {
		t.Error("no quiescent point with an unscheduled pod was generated")
	}
}

// TestDaemonSetDottedNodes: a node name with dots, as cloud node names
// have, leaves the pods on it unexported on v2.11.0 to v2.13.0 only. On
// every release, without unscheduled pods, a quiescent point holds iff
// every node with pods is untainted and, on v2.11.0 to v2.13.0, has no dot
// in its name.
func TestDaemonSetDottedNodes(t *testing.T) {
	rapidChecks(t, modeRapidChecks)
	releases := model.ReleaseVersions()
	broken := map[bool]int{} // dotted nodes with pods: violated on a stripping release, or not
	rapid.Check(t, func(t *rapid.T) {
		release := rapid.SampledFrom(releases).Draw(t, "release")
		strips := rulesOf(t, release).strips
		src := rapidSource{t}
		b := properties.NewDaemonSetBuilder(src, properties.ModeConfig{Reducer: release, DottedNodes: true, NoUnscheduledPods: true})
		t.Cleanup(b.Close)
		checked := 0
		t.Repeat(nodeActions(b, src, func(t *rapid.T) {
			checked = checkNodes(t, b, checked, func(s nodeState, holds bool) string {
				if !everyNodeServed(s) {
					return ""
				}
				dotted := hasServedDottedNode(s)
				if dotted {
					broken[strips]++
				}
				if want := !(dotted && strips); holds != want {
					return fmt.Sprintf("every node with pods has a KSM pod, a dotted one among them: %v; the release strips dots: %v; holds=%v", dotted, strips, holds)
				}
				return ""
			})
		}))
	})
	replayHint(t)
	if !t.Failed() && (broken[true] == 0 || broken[false] == 0) {
		t.Errorf("dotted nodes with pods on stripping and other releases: %v", broken)
	}
}

// TestDaemonSetVerdictMatchesOracle: on any release, with the unscheduled
// pods served by nothing, the tracking Deployment or the all-pods one
// (which exports every scheduled pod a second time), the verdict at every
// quiescent point is the oracle's.
func TestDaemonSetVerdictMatchesOracle(t *testing.T) {
	rapidChecks(t, modeRapidChecks)
	releases := model.ReleaseVersions()
	rapid.Check(t, func(t *rapid.T) {
		release := rapid.SampledFrom(releases).Draw(t, "release")
		src := rapidSource{t}
		b := properties.NewDaemonSetBuilder(src, properties.ModeConfig{Reducer: release, Unscheduled: properties.AnyUnscheduled, DottedNodes: true})
		t.Cleanup(b.Close)
		checked := 0
		t.Repeat(nodeActions(b, src, func(t *rapid.T) {
			checked = checkNodes(t, b, checked, nil)
		}))
	})
	replayHint(t)
}

// TestModeBuilderTracesReplayAsBuilt: the traces the mode builders
// generate are valid trace files, and replaying them from scratch gives
// exactly the checkpoints the builder saw (its delivery probes leave no
// trace); across the seeds every op of each mode occurs, under both
// schedules.
func TestModeBuilderTracesReplayAsBuilt(t *testing.T) {
	replay := "go test ./properties -run '^TestModeBuilderTracesReplayAsBuilt$'"
	seen := map[string]int{}
	seeds := uint64(40)
	if testing.Short() {
		seeds = 15
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		for _, mode := range []string{properties.ModeStatic, properties.ModeDaemonSet} {
			src := properties.NewRandSource(seed, 0)
			cfg := properties.ModeConfig{Reducer: "v2.14.0", Misconfigure: seed%2 == 0, Unscheduled: properties.AnyUnscheduled, DottedNodes: true, Evict: seed%3 == 0}
			var tr *sim.Trace
			var built *sim.Result
			if mode == properties.ModeStatic {
				b := properties.NewStaticBuilder(src, cfg)
				for range 30 {
					b.Op(src)
				}
				tr, built = properties.CloneModeTrace(b.Trace()), b.Result()
				b.Close()
			} else {
				b := properties.NewDaemonSetBuilder(src, cfg)
				for range 30 {
					b.Op(src)
				}
				tr, built = properties.CloneModeTrace(b.Trace()), b.Result()
				b.Close()
			}
			seen[mode+" "+tr.Schedule]++
			for _, s := range tr.Steps {
				seen[mode+" "+s.Op]++
			}
			data, err := properties.Marshal(tr)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := sim.ParseTrace("generated", data)
			if err != nil {
				t.Fatalf("%s seed %d: generated trace does not parse: %v\nreplay: %s\n%s", mode, seed, err, replay, data)
			}
			r, _ := model.ReducerByName(cfg.Reducer)
			res, err := sim.Run(parsed, r, sim.Options{})
			if err != nil {
				t.Fatalf("%s seed %d: %v\nreplay: %s\n%s", mode, seed, err, replay, data)
			}
			for i := range res.Transient {
				res.Transient[i].Healing = "" // Run classifies transient points, the builder does not
			}
			if !reflect.DeepEqual(res.Checkpoints, built.Checkpoints) || !reflect.DeepEqual(res.Transient, built.Transient) {
				t.Fatalf("%s seed %d: replay differs from the builder's\nreplay: %s\n%s", mode, seed, replay, data)
			}
		}
	}
	for _, want := range []string{
		"static eager", "static explicit", "static apply", "static restart", "static create", "static delete", "static deleteDeployment", "static deliver", "static settle",
		"daemonset eager", "daemonset explicit", "daemonset addNode", "daemonset removeNode", "daemonset taint", "daemonset untaint",
		"daemonset createPods", "daemonset bind", "daemonset evict", "daemonset deliver", "daemonset settle",
	} {
		if seen[want] == 0 {
			t.Errorf("no %q in the generated traces (seen: %v)", want, seen)
		}
	}
}
