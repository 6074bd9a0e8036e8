package model_test

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

func ExampleKeeps() {
	uid := "6f1c2e0a-3b5d-4c8e-9f7a-1b2c3d4e5f60"
	for total := 1; total <= 4; total++ {
		for shard := int32(0); shard < int32(total); shard++ {
			if model.Keeps(uid, shard, total) {
				fmt.Printf("%d shards: shard %d keeps it\n", total, shard)
			}
		}
	}
	// Output:
	// 1 shards: shard 0 keeps it
	// 2 shards: shard 1 keeps it
	// 3 shards: shard 1 keeps it
	// 4 shards: shard 1 keeps it
}

// A pod of the label-selector reducer misses a scale after a relabel: the
// relabel reaches it as DELETED (its frozen selector no longer matches), and
// the API server sends it nothing after that.
func ExampleStep() {
	replicas := func(n int32) *int32 { return &n }
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "ksm", Namespace: "monitoring", ResourceVersion: "1",
			Labels: map[string]string{"version": "2.12.0"}},
		Spec: appsv1.StatefulSetSpec{Replicas: replicas(2)},
	}
	r := model.LabelSelector{}
	pod := model.NewPod("ksm-1")
	for _, ev := range []model.Event{
		model.Got{StatefulSet: ss},
		model.Listed{Items: []*appsv1.StatefulSet{ss}},
		model.Watched{Type: watch.Deleted, Object: ss},
	} {
		var note string
		pod, note = model.Step(r, pod, ev)
		fmt.Println(note)
	}
	fmt.Println("serving", pod.Config)
	// Output:
	// detected StatefulSet ksm; informer selects labelSelector=version=2.12.0
	// AddFunc: reconfigured 0/0 -> 1/2
	// removed from informer cache; no DeleteFunc, the pod stays 1/2
	// serving 1/2
}

// The field selector a DaemonSet pod of each release lists its pods
// through, for a node name with dots (issue #2374), and the unscheduled
// pods' Deployment (--track-unscheduled-pods, v2.14.0).
func ExampleNodeRules_NodeFieldSelector() {
	node := model.Flags{Node: "ip-10-0-1-7.ec2.internal", TotalShards: 1, Resource: "pods"}
	unscheduled := model.Flags{TrackUnscheduledPods: true, TotalShards: 1, Resource: "pods"}
	for _, v := range []string{"v2.10.0", "v2.13.0", "v2.14.0"} {
		r, _ := model.ReleaseByVersion(v)
		sel, _ := r.Node.NodeFieldSelector(node)
		_, err := r.Node.NodeFieldSelector(unscheduled)
		fmt.Printf("%s: %s; --track-unscheduled-pods: %v\n", v, sel, err)
	}
	// Output:
	// v2.10.0: spec.nodeName=ip-10-0-1-7.ec2.internal; --track-unscheduled-pods: unknown flag: --track-unscheduled-pods
	// v2.13.0: spec.nodeName=ip-10-0-1-7ec2internal; --track-unscheduled-pods: unknown flag: --track-unscheduled-pods
	// v2.14.0: spec.nodeName=ip-10-0-1-7.ec2.internal; --track-unscheduled-pods: <nil>
}

// The command line of a statically sharded pod, and what MetricsHandler.Run
// makes of it.
func ExampleFlags_Args() {
	f := model.StaticFlags(1, 3)
	fmt.Println(f.Args("ksm-shard-1-abc12", "monitoring"))
	s, note := model.Step(model.FieldSelector{}, model.NewPod("ksm-shard-1-abc12"), model.Started{Shard: f.Shard, TotalShards: f.TotalShards})
	fmt.Println(s.Phase, s.Config, note)
	// Output:
	// [--shard=1 --total-shards=3 --resources=configmaps]
	// Static 1/3 autosharding disabled: configured 1/3 from --shard and --total-shards
}
