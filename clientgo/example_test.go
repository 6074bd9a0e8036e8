package clientgo_test

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Replay the relabel trace with every pod on a real client-go informer.
// The report is the model backend's, byte for byte.
func ExampleNew() {
	tr, err := sim.LoadTrace("../traces/relabel.json")
	if err != nil {
		panic(err)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: clientgo.New})
	if err != nil {
		panic(err)
	}
	for _, res := range rep.Results {
		last := res.Checkpoints[len(res.Checkpoints)-1]
		fmt.Printf("%s after %s: pods %v, overlap %d, holds %v\n", res.Reducer, last.Op, last.Pods, last.Overlap.Count, res.Holds)
	}
	// Output:
	// label-selector after scale: pods [0:0/2=517 1:1/2=483 2:2/3=340], overlap 340, holds false
	// field-selector after scale: pods [0:0/3=342 1:1/3=318 2:2/3=340], overlap 0, holds true
}

// A relabel seen through a fake clientset with the APIServer's reactors: the
// label-selected watch gets a DELETED carrying the old labels, the
// field-selected one a MODIFIED.
func ExampleAPIServer() {
	cs := fake.NewSimpleClientset()
	api := clientgo.NewAPIServer(cs, clientgo.Immediate)
	replicas := int32(2)
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-state-metrics", Namespace: "monitoring",
			Labels: map[string]string{"app.kubernetes.io/version": "2.12.0"}},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas},
	}
	if _, err := api.Write(ss); err != nil {
		panic(err)
	}
	ctx := context.Background()
	byLabel, _ := cs.AppsV1().StatefulSets("monitoring").Watch(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/version=2.12.0", ResourceVersion: api.ResourceVersion()})
	byName, _ := cs.AppsV1().StatefulSets("monitoring").Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=kube-state-metrics", ResourceVersion: api.ResourceVersion()})
	defer byLabel.Stop()
	defer byName.Stop()

	ss.Labels["app.kubernetes.io/version"] = "2.13.0"
	if _, err := api.Write(ss); err != nil {
		panic(err)
	}
	for _, w := range []struct {
		name string
		ch   <-chan watch.Event
	}{{"label selector", byLabel.ResultChan()}, {"field selector", byName.ResultChan()}} {
		ev := <-w.ch
		obj := ev.Object.(*appsv1.StatefulSet)
		fmt.Printf("%s: %s version=%s resourceVersion=%s\n", w.name, ev.Type, obj.Labels["app.kubernetes.io/version"], obj.ResourceVersion)
	}
	// Output:
	// label selector: DELETED version=2.12.0 resourceVersion=2
	// field selector: MODIFIED version=2.13.0 resourceVersion=2
}
