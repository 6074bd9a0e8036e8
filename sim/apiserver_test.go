package sim

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

func ss(name string, rv string, labels map[string]string) *appsv1.StatefulSet {
	two := int32(2)
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "monitoring", ResourceVersion: rv, Labels: labels},
		Spec:       appsv1.StatefulSetSpec{Replicas: &two},
	}
}

// TestWatchEventTransitions covers the cacher's four transitions for a
// label and for a field selector.
func TestWatchEventTransitions(t *testing.T) {
	v12 := map[string]string{"app": "ksm", "version": "2.12.0"}
	v13 := map[string]string{"app": "ksm", "version": "2.13.0"}
	label := metav1.ListOptions{LabelSelector: "app=ksm,version=2.12.0"}
	field := metav1.ListOptions{FieldSelector: "metadata.name=ksm"}
	tests := []struct {
		name     string
		opts     metav1.ListOptions
		old, cur *appsv1.StatefulSet
		want     watch.EventType // "" for no event
		wantObj  string          // resourceVersion of the object carried (DELETED: the write's)
	}{
		{"label: both match", label, ss("ksm", "1", v12), ss("ksm", "2", v12), watch.Modified, "2"},
		{"label: only new matches", label, ss("ksm", "1", v13), ss("ksm", "2", v12), watch.Added, "2"},
		{"label: only old matches", label, ss("ksm", "1", v12), ss("ksm", "2", v13), watch.Deleted, "2"},
		{"label: neither matches", label, ss("ksm", "1", v13), ss("ksm", "2", nil), "", ""},
		{"field: both match", field, ss("ksm", "1", v12), ss("ksm", "2", v13), watch.Modified, "2"},
		{"field: only new matches", field, ss("other", "1", v12), ss("ksm", "2", v12), watch.Added, "2"},
		{"field: only old matches", field, ss("ksm", "1", v12), ss("other", "2", v12), watch.Deleted, "2"},
		{"field: neither matches", field, ss("other", "1", v12), ss("other", "2", v13), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := model.ParseSelector(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ev, ok := WatchEvent(sel, tt.old, tt.cur)
			if !ok {
				if tt.want != "" {
					t.Fatalf("no event, want %s", tt.want)
				}
				return
			}
			if ev.Type != tt.want || ev.Object.ResourceVersion != tt.wantObj {
				t.Fatalf("event %s rv %s, want %s rv %s", ev.Type, ev.Object.ResourceVersion, tt.want, tt.wantObj)
			}
		})
	}
}

func TestAPIServerUpdate(t *testing.T) {
	three := int32(3)
	a := NewAPIServer("monitoring", StatefulSet{Name: "ksm", Labels: map[string]string{"app": "ksm"}, Replicas: &three})
	if rv := a.StatefulSet.ResourceVersion; rv != "1" {
		t.Fatalf("initial resourceVersion %s, want 1", rv)
	}
	if old, cur := a.Update(func(s *appsv1.StatefulSet) { s.Labels = map[string]string{"app": "ksm"} }); old != nil || cur != nil {
		t.Fatalf("a no-op update was written")
	}
	first := a.StatefulSet
	old, cur := a.Update(func(s *appsv1.StatefulSet) { four := int32(4); s.Spec.Replicas = &four })
	if old != first || cur.ResourceVersion != "2" || *cur.Spec.Replicas != 4 || *first.Spec.Replicas != 3 {
		t.Fatalf("update: old %v cur %v; the stored object must be replaced, not modified", old, cur)
	}
	a.Bump()
	_, cur = a.Update(func(s *appsv1.StatefulSet) { s.Labels = nil })
	if cur.ResourceVersion != "4" {
		t.Fatalf("resourceVersion %s after another write, want 4 (every write bumps the revision)", cur.ResourceVersion)
	}
}

// TestTransitionCreateDelete: a creation (no old object) is ADDED when the
// new one passes, a deletion (no new object) is DELETED carrying the old
// one stamped with the deletion's resourceVersion, and neither passing
// gives nothing.
func TestTransitionCreateDelete(t *testing.T) {
	sel, err := model.ParseSelector(metav1.ListOptions{FieldSelector: "metadata.name=ksm"})
	if err != nil {
		t.Fatal(err)
	}
	ksm := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ksm", ResourceVersion: "4"}}
	other := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "other", ResourceVersion: "4"}}
	if ev, ok := Transition(sel, nil, ksm, "4"); !ok || ev.Type != watch.Added || ev.Object != ksm {
		t.Errorf("creation: %v %v", ev, ok)
	}
	ev, ok := Transition(sel, ksm, nil, "9")
	if !ok || ev.Type != watch.Deleted || ev.Object.Name != "ksm" || ev.Object.ResourceVersion != "9" {
		t.Errorf("deletion: %v %v", ev, ok)
	}
	if ksm.ResourceVersion != "4" {
		t.Error("the deletion stamped the stored object")
	}
	if _, ok := Transition(sel, nil, other, "5"); ok {
		t.Error("a creation no selector passes gave an event")
	}
	if _, ok := Transition(sel, other, nil, "6"); ok {
		t.Error("a deletion no selector passes gave an event")
	}
}
