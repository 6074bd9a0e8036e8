package clientgo

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestDeliverIsQuiescent replays every trace file inside a synctest bubble
// and, after every Deliver, waits until every goroutine of the bubble (the
// informers', the watches') is durably blocked. Nothing may have happened
// in between: no handler ran late, no LIST or WATCH was issued, the pod's
// state and the informer's store are what Deliver returned. That is the
// claim the simulator relies on: Deliver returns only once the item is
// completely handled.
func TestDeliverIsQuiescent(t *testing.T) {
	files, _ := filepath.Glob("../traces/*.json")
	if len(files) == 0 {
		t.Fatal("no traces")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(t *testing.T) {
			tr, err := sim.LoadTrace(path)
			if err != nil {
				t.Fatal(err)
			}
			synctest.Test(t, func(t *testing.T) {
				deliveries := 0
				nb := func(r model.Reducer) (sim.Backend, error) {
					b, err := New(r)
					return &checkingBackend{Backend: b.(*Backend), t: t, deliveries: &deliveries}, err
				}
				if _, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: nb}); err != nil {
					t.Fatal(err)
				}
				if deliveries == 0 {
					t.Error("no delivery checked")
				}
			})
		})
	}
}

type checkingBackend struct {
	*Backend
	t          *testing.T
	deliveries *int
}

func (b *checkingBackend) NewPod(name, uid string) (sim.PodRunner, error) {
	r, err := b.Backend.NewPod(name, uid)
	if err != nil {
		return nil, err
	}
	return &checkingPod{pod: r.(*pod), t: b.t, deliveries: b.deliveries}, nil
}

type checkingPod struct {
	*pod
	t          *testing.T
	deliveries *int
}

func (p *checkingPod) Deliver(ev model.Event) (model.PodState, string, error) {
	s, note, err := p.pod.Deliver(ev)
	if err != nil {
		return s, note, err
	}
	*p.deliveries++
	synctest.Wait()
	for _, pending := range []int{len(p.handled), len(p.lists), len(p.watches)} {
		if pending != 0 {
			p.t.Errorf("%s after %T: a handler, LIST or WATCH ran after Deliver returned", p.name, ev)
		}
	}
	if got, want := cacheString(p.state()), cacheString(s); got != want || p.state().Config != s.Config {
		p.t.Errorf("%s after %T: state changed after Deliver returned: %s %s, returned %s %s", p.name, ev, p.state().Config, got, s.Config, want)
	}
	return s, note, nil
}

func cacheString(s model.PodState) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(s.Cache)) {
		out = append(out, k+"@"+s.Cache[k].ResourceVersion)
	}
	return fmt.Sprint(out)
}

// startedPod returns a backend holding one StatefulSet (labels v2.12.0,
// 2 replicas, resourceVersion 1) and its pod 0, started (GET and LIST
// delivered) with reducer r.
func startedPod(t *testing.T, r model.Reducer) (*Backend, *pod, *appsv1.StatefulSet) {
	t.Helper()
	b, _ := New(r)
	t.Cleanup(b.Close)
	replicas := int32(2)
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-state-metrics", Namespace: "monitoring", ResourceVersion: "1",
			Labels: map[string]string{"app.kubernetes.io/version": "2.12.0"}},
		Spec: appsv1.StatefulSetSpec{Replicas: &replicas},
	}
	if err := b.Write(ss); err != nil {
		t.Fatal(err)
	}
	runner, err := b.NewPod("kube-state-metrics-0", "pod-1")
	if err != nil {
		t.Fatal(err)
	}
	p := runner.(*pod)
	if _, _, err := p.Deliver(model.Got{StatefulSet: ss}); err != nil {
		t.Fatal(err)
	}
	s, note, err := p.Deliver(model.Listed{Items: []*appsv1.StatefulSet{ss}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Config != (model.Config{Shard: 0, Total: 2}) || note != "AddFunc: reconfigured 0/0 -> 0/2" {
		t.Fatalf("after start: %s, %q", s.Config, note)
	}
	return b.(*Backend), p, ss
}

// TestDeliverChecksTheSimulator: the backend answers from its own API and
// fails loudly when the simulator's view differs.
func TestDeliverChecksTheSimulator(t *testing.T) {
	t.Run("watch event the API server did not generate", func(t *testing.T) {
		_, p, ss := startedPod(t, model.FieldSelector{})
		_, _, err := p.Deliver(model.Watched{Type: watch.Modified, Object: ss})
		if err == nil || !strings.Contains(err.Error(), "no event for this watch") {
			t.Errorf("err %v, want: no event for this watch", err)
		}
	})
	t.Run("watch event of another type", func(t *testing.T) {
		b, p, ss := startedPod(t, model.FieldSelector{})
		next := ss.DeepCopy()
		next.ResourceVersion = "2"
		*next.Spec.Replicas = 3
		if err := b.Write(next); err != nil {
			t.Fatal(err)
		}
		_, _, err := p.Deliver(model.Watched{Type: watch.Added, Object: next})
		if err == nil || !strings.Contains(err.Error(), "generated MODIFIED") {
			t.Errorf("err %v, want: generated MODIFIED", err)
		}
	})
	t.Run("LIST result", func(t *testing.T) {
		b, _ := New(model.FieldSelector{})
		defer b.Close()
		replicas := int32(1)
		ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ksm", Namespace: "ns", ResourceVersion: "3"}, Spec: appsv1.StatefulSetSpec{Replicas: &replicas}}
		if err := b.Write(ss); err != nil {
			t.Fatal(err)
		}
		r, _ := b.NewPod("ksm-0", "pod-1")
		if _, _, err := r.Deliver(model.Got{StatefulSet: ss}); err != nil {
			t.Fatal(err)
		}
		_, _, err := r.Deliver(model.Listed{})
		if err == nil || !strings.Contains(err.Error(), "the simulator's API server lists []") {
			t.Errorf("err %v, want a LIST mismatch", err)
		}
	})
}

// TestScaleThroughInformer drives one pod by hand: a scale reaches the
// UpdateFunc, a relabel away from the label selector is a DELETED the pod
// ignores (no DeleteFunc), and the next scale never arrives.
func TestScaleThroughInformer(t *testing.T) {
	b, p, ss := startedPod(t, model.LabelSelector{})
	w := b.APIServer().Watches()
	if len(w) != 1 || w[0].Selector().String() != "labelSelector=app.kubernetes.io/version=2.12.0" {
		t.Fatalf("open watches %v", w)
	}
	steps := []struct {
		mutate func(*appsv1.StatefulSet)
		event  watch.EventType
		config string
		note   string
	}{
		{func(s *appsv1.StatefulSet) { *s.Spec.Replicas = 3 }, watch.Modified, "0/3", "UpdateFunc: reconfigured 0/2 -> 0/3"},
		{func(s *appsv1.StatefulSet) { s.Labels["app.kubernetes.io/version"] = "2.13.0" }, watch.Deleted, "0/3", "removed from informer cache; no DeleteFunc, the pod stays 0/3"},
		{func(s *appsv1.StatefulSet) { *s.Spec.Replicas = 4 }, "", "0/3", ""},
	}
	cur := ss
	for i, st := range steps {
		next := cur.DeepCopy()
		st.mutate(next)
		next.ResourceVersion = fmt.Sprint(i + 2)
		if err := b.Write(next); err != nil {
			t.Fatal(err)
		}
		held := w[0].Held()
		if st.event == "" {
			if len(held) != 0 {
				t.Errorf("step %d: held %v, want nothing", i, held)
			}
			cur = next
			continue
		}
		obj := next
		if st.event == watch.Deleted {
			obj = cur
		}
		s, note, err := p.Deliver(model.Watched{Type: st.event, Object: obj})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if s.Config.String() != st.config || note != st.note {
			t.Errorf("step %d: %s %q, want %s %q", i, s.Config, note, st.config, st.note)
		}
		cur = next
	}
	s, note, err := p.Deliver(model.Stop{})
	if err != nil || note != "stopped" || s.Phase != model.Stopped {
		t.Errorf("Stop: %v %q %v", s.Phase, note, err)
	}
	if len(b.APIServer().Watches()) != 0 {
		t.Error("the watch is still open after Stop")
	}
	if _, err := b.Clientset().Tracker().Get(podsResource, "monitoring", "kube-state-metrics-0"); err == nil {
		t.Error("the Pod object survived the pod's Stop")
	}
}

// TestGotFollowsTheOwnerReference: without a controller owner reference to
// an apps/v1 StatefulSet, detection fails as in KSM.
func TestGotFollowsTheOwnerReference(t *testing.T) {
	b, _ := New(model.FieldSelector{})
	defer b.Close()
	replicas := int32(1)
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ksm", Namespace: "ns"}, Spec: appsv1.StatefulSetSpec{Replicas: &replicas}}
	if err := b.Write(ss); err != nil {
		t.Fatal(err)
	}
	r, _ := b.NewPod("ksm-0", "pod-1")
	cs := b.(*Backend).Clientset()
	po, _ := cs.Tracker().Get(podsResource, "ns", "ksm-0")
	orphan := po.DeepCopyObject()
	orphan.(metav1.Object).SetOwnerReferences(nil)
	if err := cs.Tracker().Update(podsResource, orphan, "ns"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Deliver(model.Got{StatefulSet: ss}); err == nil || !strings.Contains(err.Error(), "no controller owner reference") {
		t.Errorf("err %v, want: no controller owner reference", err)
	}
}
