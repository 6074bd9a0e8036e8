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
