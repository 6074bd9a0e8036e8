package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/shardsim/shardsim/model"
)

// Benchmarks of the sharding modes besides autosharding (issue 13): the
// 100,000-object replay of each mode, next to autosharding's (benchTrace)
// in the same run, and the cost of one DaemonSet sharding step after a
// one-pod change as the pods grow. Run them with
//
//	go test -run x -bench 'Modes|Static|DaemonSet' -count 6 ./sim

// benchNodes is the number of nodes of the DaemonSet benchmarks.
const benchNodes = 100

// benchStrategy is the strategy of static Deployment i: the default
// RollingUpdate (surge first), Recreate, RollingUpdate with maxSurge 0,
// in turn.
func benchStrategy(i int) *appsv1.DeploymentStrategy {
	switch i % 3 {
	case 1:
		return &appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	case 2:
		zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
		return &appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &one}}
	}
	return nil
}

// benchReshard returns the apply of shards 0..n-1 of n, one replica each,
// with every Deployment among the first have beyond n scaled to 0.
func benchReshard(n, have int) []Deployment {
	var out []Deployment
	for i := range max(n, have) {
		d := Deployment{Name: "ksm-shard-" + strconv.Itoa(i), Shard: int32(i), TotalShards: n, Strategy: benchStrategy(i)}
		if i >= n {
			zero := int32(0)
			d.Replicas, d.Shard, d.TotalShards = &zero, int32(i), max(n, i+1)
		}
		out = append(out, d)
	}
	return out
}

// benchStaticTrace is benchTrace's static sharding twin: 100,000
// generated ConfigMaps, 32 Deployments on shards 0..31 of 32 (strategies
// in turn), and benchOps ops from the same PCG: reshard to 16..48 (every
// shard rolls out by its strategy; the Deployments beyond the total
// scale to 0), restart 1..3 live lanes, create 100 ConfigMaps, delete
// 1..10 live ones. Eager schedule.
func benchStaticTrace() *Trace {
	t := &Trace{
		Name: "bench-static",
		Cluster: Cluster{
			Namespace:   "monitoring",
			Deployments: benchReshard(benchReplicas, 0),
			Objects:     Objects{Generate: benchObjects, Seed: 1},
		},
		Schedule: Eager,
	}
	lanes := &laneTracker{}
	if err := lanes.apply(t.Cluster.Deployments, "cluster.deployments"); err != nil {
		panic(err.msg)
	}
	have := benchReplicas // Deployments created
	live := GenerateUIDs(benchObjects, 1, 0)
	r := rand.New(rand.NewPCG(42, 2024))
	for i := range benchOps {
		var s Step
		switch p := r.IntN(100); {
		case p < 40: // reshard within 16..48
			n := 16 + r.IntN(33)
			s = Step{Op: OpApply, Deployments: benchReshard(n, have)}
			have = max(have, n)
			if err := lanes.apply(s.Deployments, "deployments"); err != nil {
				panic(err.msg)
			}
		case p < 60: // restart 1..3 live lanes
			var alive []int
			for l := range lanes.lanes {
				if lanes.live(l) {
					alive = append(alive, l)
				}
			}
			for _, j := range r.Perm(len(alive))[:1+r.IntN(min(3, len(alive)))] {
				s.Pods = append(s.Pods, alive[j])
			}
			s.Op = OpRestart
		case p < 80: // create 100 ConfigMaps
			seed := uint64(1000 + i)
			s = Step{Op: OpCreate, Generate: 100, Seed: seed}
			live = append(live, GenerateUIDs(100, seed, i+1)...)
		default: // delete 1..10 live ConfigMaps
			n := 1 + r.IntN(10)
			for range n {
				j := r.IntN(len(live))
				s.UIDs = append(s.UIDs, live[j])
				live[j] = live[len(live)-1]
				live = live[:len(live)-1]
			}
			s.Op = OpDelete
		}
		t.Steps = append(t.Steps, s)
	}
	return t
}

// benchNodeName names node i.
func benchNodeName(i int) string { return "node-" + strconv.Itoa(i) }

// benchDaemonSetTrace is DaemonSet sharding over 100,000 pods: 100 nodes,
// the pods bound to them in turn but the last 1,000 (unscheduled, tracked
// by --track-unscheduled-pods), and benchOps ops from the same PCG:
// create 100 pods on a node or unscheduled, bind 1..50 unscheduled pods,
// taint or untaint a node, add a node or remove one (its pods go with it).
// Eager schedule.
func benchDaemonSetTrace() *Trace {
	nodes := make([]string, benchNodes)
	for i := range nodes {
		nodes[i] = benchNodeName(i)
	}
	t := &Trace{
		Name: "bench-daemonset",
		Cluster: Cluster{
			Namespace: "monitoring",
			DaemonSet: &DaemonSet{Name: "ksm", Unscheduled: UnscheduledTrack},
			Nodes:     nodes,
			Pods:      &PodObjects{Generate: benchObjects, Seed: 1, Unscheduled: 1000},
		},
		Schedule: Eager,
	}
	exists := map[string]bool{}
	tainted := map[string]bool{}
	for _, n := range nodes {
		exists[n] = true
	}
	next := benchNodes
	unscheduled := 1000
	r := rand.New(rand.NewPCG(42, 2024))
	pick := func() string {
		for {
			if n := benchNodeName(r.IntN(next)); exists[n] {
				return n
			}
		}
	}
	for range benchOps {
		var s Step
		switch p := r.IntN(100); {
		case p < 30: // create 100 pods on a node, or unscheduled
			n := ""
			if r.IntN(4) > 0 {
				n = pick()
			} else {
				unscheduled += 100
			}
			s = Step{Op: OpCreatePods, Node: &n, Generate: 100, Seed: 1}
		case p < 60: // bind 1..50 unscheduled pods
			n := pick()
			k := 1 + r.IntN(50)
			unscheduled -= min(k, unscheduled)
			s = Step{Op: OpBind, Node: &n, Count: k}
		case p < 80: // taint or untaint a node
			n := pick()
			s = Step{Op: OpTaint, Node: &n}
			if tainted[n] {
				s.Op = OpUntaint
			}
			tainted[n] = !tainted[n]
		case p < 90: // add a node
			n := benchNodeName(next)
			next++
			exists[n] = true
			s = Step{Op: OpAddNode, Node: &n}
		default: // remove a node and its pods
			n := pick()
			delete(exists, n)
			delete(tainted, n)
			s = Step{Op: OpRemoveNode, Node: &n}
		}
		t.Steps = append(t.Steps, s)
	}
	return t
}

// benchReplayMode replays t against each reducer, as BenchmarkReplay
// does, reporting ns/step and the violated checkpoints.
func benchReplayMode(b *testing.B, t *Trace, versions ...string) {
	if err := t.Validate(); err != nil {
		b.Fatal(err)
	}
	for _, v := range versions {
		r, ok := model.ReducerByName(v)
		if !ok {
			b.Fatalf("unknown reducer %s", v)
		}
		b.Run(v, func(b *testing.B) {
			res, err := Run(t, r, Options{})
			if err != nil {
				b.Fatal(err)
			}
			violated := 0
			for _, c := range res.Checkpoints {
				if !c.Holds() {
					violated++
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Run(t, r, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(t.Steps)), "ns/step")
			b.ReportMetric(float64(violated), "violated-checkpoints")
		})
	}
}

// BenchmarkModesAutosharding100k is BenchmarkReplay's trace (100,000
// objects, 32 replicas, 200 ops) under field-selector and v2.20.0: the
// autosharding figure the other modes are compared with in the same run.
func BenchmarkModesAutosharding100k(b *testing.B) {
	benchReplayMode(b, benchTrace(), "field-selector", "v2.20.0")
}

// BenchmarkReplayStatic100k replays benchStaticTrace: one iteration is
// one full Run, generating and hashing the 100,000 ConfigMaps, starting
// 32 pods and 200 ops with their rollouts.
func BenchmarkReplayStatic100k(b *testing.B) {
	benchReplayMode(b, benchStaticTrace(), "field-selector", "v2.20.0")
}

// BenchmarkReplayDaemonSet100k replays benchDaemonSetTrace: one
// iteration is one full Run, generating the 100,000 pods, starting 101
// KSM pods (each lists its node's pods) and 200 ops.
func BenchmarkReplayDaemonSet100k(b *testing.B) {
	benchReplayMode(b, benchDaemonSetTrace(), "v2.14.0", "v2.20.0")
}

// BenchmarkDaemonSetStep measures one DaemonSet sharding step after a
// one-pod change, eager schedule, v2.20.0, at 10,000 and 100,000 pods on
// 100 nodes: createPods creates one pod on a node; bind is a pair of
// steps, one unscheduled pod created (--track-unscheduled-pods serves
// it), then bound to a node (a DELETED event for the tracking KSM pod, an
// ADDED one for the node's). One Sim is set up per case, outside the
// timer, and the steps are appended to its trace as the loop runs, so
// ns/op is one step (one pair for bind): the op, its deliveries and the
// checkpoint that follows. O(changed pods) per step means ns/op stays
// flat from 10,000 to 100,000 pods.
func BenchmarkDaemonSetStep(b *testing.B) {
	r, _ := model.ReleaseByVersion("v2.20.0")
	nodes := make([]string, benchNodes)
	for i := range nodes {
		nodes[i] = benchNodeName(i)
	}
	for _, op := range []string{OpBind, OpCreatePods} {
		for _, pods := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/pods=%d", op, pods), func(b *testing.B) {
				t := &Trace{
					Name: "bench-daemonset-" + op,
					Cluster: Cluster{
						Namespace: "monitoring",
						DaemonSet: &DaemonSet{Name: "ksm", Unscheduled: UnscheduledTrack},
						Nodes:     nodes,
						Pods:      &PodObjects{Generate: pods, Seed: 1},
					},
					Schedule: Eager,
				}
				if err := t.Validate(); err != nil {
					b.Fatal(err)
				}
				s := New(t, r, Options{})
				defer s.Close()
				apply := func(st Step) {
					t.Steps = append(t.Steps, st)
					if err := s.Apply(len(t.Steps) - 1); err != nil {
						b.Fatal(err)
					}
				}
				unscheduled := ""
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					n := nodes[i%len(nodes)]
					i++
					if op == OpCreatePods {
						apply(Step{Op: OpCreatePods, Node: &n, Generate: 1, Seed: 1})
						continue
					}
					apply(Step{Op: OpCreatePods, Node: &unscheduled, Generate: 1, Seed: 1})
					apply(Step{Op: OpBind, Node: &n, Count: 1})
				}
				b.StopTimer()
				if !s.Finish().Holds {
					b.Fatal("violated")
				}
			})
		}
	}
}
