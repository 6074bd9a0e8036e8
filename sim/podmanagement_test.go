package sim_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestPodManagementPolicyQuiescentPoints: without failures, the pod
// management policy only orders the controller's creations and deletions,
// and under the eager schedule every op ends settled, so OrderedReady and
// Parallel reach the same quiescent points (configurations, exports, gaps
// and overlaps) on any trace of relabels, scales, restarts and object
// churn. A metamorphic property: each policy is the other's oracle.
func TestPodManagementPolicyQuiescentPoints(t *testing.T) {
	labels := []map[string]string{{"app": "ksm", "v": "1"}, {"app": "ksm", "v": "2"}, {"app": "ksm"}, {}}
	n := 300
	if testing.Short() {
		n = 60
	}
	for seed := range uint64(n) {
		rng := rand.New(rand.NewPCG(seed, 13))
		r3 := int32(rng.IntN(4) + 1)
		tr := &sim.Trace{Name: "t", Cluster: sim.Cluster{Namespace: "ns",
			StatefulSet: sim.StatefulSet{Name: "ksm", Labels: labels[0], Replicas: &r3},
			Objects:     sim.Objects{Generate: 50 + rng.IntN(100), Seed: seed}}}
		replicas := int(r3)
		for i := range 6 {
			var st sim.Step
			switch k := rng.IntN(5); {
			case k == 0:
				st = sim.Step{Op: sim.OpRelabel, Labels: labels[rng.IntN(len(labels))]}
			case k == 1 && replicas > 0:
				st = sim.Step{Op: sim.OpRestart, Pods: []int{rng.IntN(replicas)}}
			case k == 2:
				st = sim.Step{Op: sim.OpCreate, Generate: 1 + rng.IntN(20), Seed: seed + uint64(i)}
			default:
				r := int32(rng.IntN(6))
				replicas = int(r)
				st = sim.Step{Op: sim.OpScale, Replicas: &r}
			}
			tr.Steps = append(tr.Steps, st)
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		for _, r := range model.Reducers() {
			var points [2][]sim.Checkpoint
			for j, policy := range []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement} {
				tr.Cluster.StatefulSet.PodManagementPolicy = policy
				res, err := sim.Run(tr, r, sim.Options{})
				if err != nil {
					t.Fatalf("seed %d %s %s: %v", seed, r.Name(), policy, err)
				}
				// OrderedReady takes longer to get there: one pod start
				// after the other.
				points[j] = sim.Untimed(res.Checkpoints)
			}
			if !reflect.DeepEqual(points[0], points[1]) {
				t.Fatalf("seed %d %s: OrderedReady and Parallel reach different quiescent points:\n%+v\n%+v", seed, r.Name(), points[0], points[1])
			}
		}
	}
}

// TestCrashLoopBlocksOrderedReady: a crash-looping pod k stops an
// OrderedReady scale-up at k (no pod above it is ever created) and not a
// Parallel one; once it recovers both reach every replica.
func TestCrashLoopBlocksOrderedReady(t *testing.T) {
	for k := range 4 {
		for _, policy := range []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement} {
			two, six := int32(2), int32(6)
			if k < 2 {
				two = int32(k) // the crash-looping pod is created by the scale
			}
			tr := &sim.Trace{Name: "t", Cluster: sim.Cluster{Namespace: "ns",
				StatefulSet: sim.StatefulSet{Name: "ksm", Replicas: &two, PodManagementPolicy: policy},
				Objects:     sim.Objects{Generate: 100, Seed: 1}},
				Steps: []sim.Step{
					{Op: sim.OpCrashLoop, Pods: []int{k}},
					{Op: sim.OpScale, Replicas: &six},
					{Op: sim.OpRecover, Pods: []int{k}},
				}}
			if k >= 2 {
				tr.Steps[0].Pods = []int{k}
			}
			if err := tr.Validate(); err != nil {
				t.Fatal(err)
			}
			res, err := sim.Run(tr, model.FieldSelector{}, sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			blocked := res.Checkpoints[2] // after the scale
			var serving []int
			for _, p := range blocked.Pods {
				serving = append(serving, p.Pod)
			}
			want := []int{}
			for o := range 6 {
				if o != k && (policy == appsv1.ParallelPodManagement || o < k) {
					want = append(want, o)
				}
			}
			if len(serving) == 0 {
				serving = []int{}
			}
			if !reflect.DeepEqual(serving, want) {
				t.Errorf("k=%d %s: after the scale pods %v serve, want %v", k, policy, serving, want)
			}
			if last := res.Checkpoints[3]; len(last.Pods) != 6 || !last.Holds() {
				t.Errorf("k=%d %s: after recover: %v, want all 6 pods partitioning the objects", k, policy, last.Pods)
			}
		}
	}
}

// TestPendingNode: a node lane's pending items are what a deliver can
// take, and none once drained.
func TestPendingNode(t *testing.T) {
	tr, err := sim.ParseTrace("t.json", []byte(`{"name": "t", "schedule": "explicit", "cluster": {"namespace": "ns",
		"daemonSet": {"name": "ksm", "unscheduled": "track"}, "nodes": ["a"], "pods": {"generate": 4, "seed": 1, "unscheduled": 1}},
		"steps": [{"op": "bind", "node": "a", "count": 1}, {"op": "addNode", "node": "b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	v20, _ := model.ReleaseByVersion("v2.20.0") // it has --track-unscheduled-pods
	s := sim.New(tr, v20, sim.Options{})
	defer s.Close()
	for i := range tr.Steps {
		if err := s.Apply(i); err != nil {
			t.Fatal(err)
		}
	}
	// The bind: ADDED for a, DELETED for the unscheduled pods'; node b:
	// its KSM pod's start.
	for node, want := range map[string]int{"a": 1, "": 1, "b": 1, "c": 0} {
		if got := s.PendingNode(node); got != want {
			t.Errorf("PendingNode(%q) = %d, want %d", node, got, want)
		}
	}
}
