package clientgo_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"testing/synctest"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/shardsim/shardsim/clientgo"
)

const ns = "monitoring"

var (
	v212 = map[string]string{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0"}
	v213 = map[string]string{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.13.0"}
	// The label selector KSM <= v2.12.0 builds from v212.
	v212Selector = metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=kube-state-metrics,app.kubernetes.io/version=2.12.0"}
	// The field selector KSM >= v2.13.0 builds.
	nameSelector = metav1.ListOptions{FieldSelector: "metadata.name=kube-state-metrics"}
)

func statefulSet(name string, labels map[string]string, replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: maps.Clone(labels)},
		Spec:       appsv1.StatefulSetSpec{Replicas: &replicas},
	}
}

func newServer(delivery clientgo.Delivery) (*fake.Clientset, *clientgo.APIServer) {
	cs := fake.NewSimpleClientset()
	return cs, clientgo.NewAPIServer(cs, delivery)
}

func write(t *testing.T, a *clientgo.APIServer, ss *appsv1.StatefulSet) *appsv1.StatefulSet {
	t.Helper()
	out, err := a.Write(ss)
	if err != nil {
		t.Fatalf("Write %s: %v", ss.Name, err)
	}
	return out
}

func watchFrom(t *testing.T, cs *fake.Clientset, opts metav1.ListOptions, rv string) watch.Interface {
	t.Helper()
	opts.ResourceVersion = rv
	w, err := cs.AppsV1().StatefulSets(ns).Watch(context.Background(), opts)
	if err != nil {
		t.Fatalf("Watch(%+v): %v", opts, err)
	}
	t.Cleanup(w.Stop)
	return w
}

// eventString renders an event as "TYPE name@rv replicas=N labels".
func eventString(ev watch.Event) string {
	ss, ok := ev.Object.(*appsv1.StatefulSet)
	if !ok {
		return fmt.Sprintf("%s %T", ev.Type, ev.Object)
	}
	return fmt.Sprintf("%s %s@%s replicas=%d version=%s", ev.Type, ss.Name, ss.ResourceVersion, *ss.Spec.Replicas, ss.Labels["app.kubernetes.io/version"])
}

// drained returns every event the watch has ready once the bubble is idle.
func drained(w watch.Interface) []string {
	synctest.Wait()
	var out []string
	for {
		select {
		case ev := <-w.ResultChan():
			out = append(out, eventString(ev))
			synctest.Wait()
		default:
			return out
		}
	}
}

// TestWatchTransitions covers the cacher's four transitions
// (k8s.io/apiserver cacheWatcher.convertToWatchEvent) for a label selector
// and for a field selector. A field selector can only select by
// metadata.name and metadata.namespace, which never change: its ADDED and
// DELETED come from a creation and a deletion. "Nothing" is checked in a
// synctest bubble: once every goroutine is idle, the watch has no event.
func TestWatchTransitions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts metav1.ListOptions
		// setup runs before the watch opens, change after; both return
		// nothing the test needs.
		setup  func(t *testing.T, a *clientgo.APIServer)
		change func(t *testing.T, a *clientgo.APIServer)
		want   []string
	}{
		{
			name: "label/old and new match: MODIFIED", opts: v212Selector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 2)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 3)) },
			want:   []string{"MODIFIED kube-state-metrics@2 replicas=3 version=2.12.0"},
		},
		{
			name: "label/only new matches: ADDED", opts: v212Selector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v213, 2)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 2)) },
			want:   []string{"ADDED kube-state-metrics@2 replicas=2 version=2.12.0"},
		},
		{
			// The old object, at the resourceVersion of the write.
			name: "label/only old matches: DELETED with the old object", opts: v212Selector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 2)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v213, 3)) },
			want:   []string{"DELETED kube-state-metrics@2 replicas=2 version=2.12.0"},
		},
		{
			name: "label/neither matches: nothing", opts: v212Selector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v213, 2)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v213, 3)) },
			want:   nil,
		},
		{
			name: "field/old and new match: MODIFIED", opts: nameSelector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 2)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v213, 3)) },
			want:   []string{"MODIFIED kube-state-metrics@2 replicas=3 version=2.13.0"},
		},
		{
			name: "field/only new matches: ADDED", opts: nameSelector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("other", v212, 1)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 2)) },
			want:   []string{"ADDED kube-state-metrics@2 replicas=2 version=2.12.0"},
		},
		{
			name: "field/only old matches: DELETED with the old object", opts: nameSelector,
			setup: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("kube-state-metrics", v212, 2)) },
			change: func(t *testing.T, a *clientgo.APIServer) {
				if err := a.Delete(ns, "kube-state-metrics"); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"DELETED kube-state-metrics@2 replicas=2 version=2.12.0"},
		},
		{
			name: "field/neither matches: nothing", opts: nameSelector,
			setup:  func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("other", v212, 1)) },
			change: func(t *testing.T, a *clientgo.APIServer) { write(t, a, statefulSet("other", v213, 2)) },
			want:   nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cs, a := newServer(clientgo.Immediate)
				tc.setup(t, a)
				w := watchFrom(t, cs, tc.opts, a.ResourceVersion())
				if got := drained(w); len(got) != 0 {
					t.Fatalf("events before the change: %v", got)
				}
				tc.change(t, a)
				if got := drained(w); fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		})
	}
}

// TestWatchResumesFromResourceVersion opens watches at several points of a
// history (create, relabel away, relabel back, scale) and checks each
// replays exactly the writes after its resourceVersion through the label
// selector's transitions.
func TestWatchResumesFromResourceVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs, a := newServer(clientgo.Immediate)
		write(t, a, statefulSet("kube-state-metrics", v212, 2)) // rv 1
		write(t, a, statefulSet("kube-state-metrics", v213, 2)) // rv 2: no longer matches
		write(t, a, statefulSet("kube-state-metrics", v212, 2)) // rv 3: matches again
		write(t, a, statefulSet("kube-state-metrics", v212, 3)) // rv 4
		for _, tc := range []struct {
			rv   string
			want []string
		}{
			{rv: "1", want: []string{
				"DELETED kube-state-metrics@2 replicas=2 version=2.12.0",
				"ADDED kube-state-metrics@3 replicas=2 version=2.12.0",
				"MODIFIED kube-state-metrics@4 replicas=3 version=2.12.0",
			}},
			{rv: "3", want: []string{"MODIFIED kube-state-metrics@4 replicas=3 version=2.12.0"}},
			{rv: "4", want: nil},
			// No resourceVersion: the current state as a synthetic ADDED.
			{rv: "", want: []string{"ADDED kube-state-metrics@4 replicas=3 version=2.12.0"}},
		} {
			w := watchFrom(t, cs, v212Selector, tc.rv)
			if got := drained(w); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("watch from %q: got %v, want %v", tc.rv, got, tc.want)
			}
		}
		// A resourceVersion the server has not reached yet.
		opts := v212Selector
		opts.ResourceVersion = "99"
		if _, err := cs.AppsV1().StatefulSets(ns).Watch(context.Background(), opts); !apierrors.IsTimeout(err) {
			t.Errorf("watch from a future resourceVersion: err %v, want a 504 Timeout", err)
		}
	})
}

// TestInvalidFieldSelector: StatefulSets support only metadata.name and
// metadata.namespace field selectors; any other field is a 400 for LIST and
// WATCH alike, before any object is looked at.
func TestInvalidFieldSelector(t *testing.T) {
	cs, a := newServer(clientgo.Immediate)
	write(t, a, statefulSet("kube-state-metrics", v212, 2))
	for _, fs := range []string{"spec.replicas=2", "metadata.labels=x", "status.replicas!=0", "metadata.name=kube-state-metrics,spec.serviceName=ksm"} {
		opts := metav1.ListOptions{FieldSelector: fs}
		_, err := cs.AppsV1().StatefulSets(ns).List(context.Background(), opts)
		if !apierrors.IsBadRequest(err) {
			t.Errorf("LIST fieldSelector=%s: err %v, want 400 BadRequest", fs, err)
		}
		_, err = cs.AppsV1().StatefulSets(ns).Watch(context.Background(), opts)
		if !apierrors.IsBadRequest(err) {
			t.Errorf("WATCH fieldSelector=%s: err %v, want 400 BadRequest", fs, err)
		}
	}
	// The two supported fields are fine.
	for _, fs := range []string{"metadata.name=kube-state-metrics", "metadata.namespace=" + ns} {
		l, err := cs.AppsV1().StatefulSets(ns).List(context.Background(), metav1.ListOptions{FieldSelector: fs})
		if err != nil || len(l.Items) != 1 {
			t.Errorf("LIST fieldSelector=%s: %v items, err %v; want 1, nil", fs, l, err)
		}
	}
}

// TestListFiltersBySelectors: the LIST reactor applies label and field
// selectors and namespaces (the fake's own List ignores field selectors)
// and reports the server's resourceVersion.
func TestListFiltersBySelectors(t *testing.T) {
	cs, a := newServer(clientgo.Immediate)
	write(t, a, statefulSet("kube-state-metrics", v212, 2))
	write(t, a, statefulSet("other", v213, 1))
	elsewhere := statefulSet("kube-state-metrics", v212, 1)
	elsewhere.Namespace = "elsewhere"
	write(t, a, elsewhere)
	for _, tc := range []struct {
		namespace string
		opts      metav1.ListOptions
		want      string
	}{
		{ns, metav1.ListOptions{}, "[monitoring/kube-state-metrics@1 monitoring/other@2]"},
		{ns, v212Selector, "[monitoring/kube-state-metrics@1]"},
		{ns, nameSelector, "[monitoring/kube-state-metrics@1]"},
		{ns, metav1.ListOptions{FieldSelector: "metadata.name=other"}, "[monitoring/other@2]"},
		{ns, metav1.ListOptions{FieldSelector: "metadata.name!=other"}, "[monitoring/kube-state-metrics@1]"},
		{ns, metav1.ListOptions{LabelSelector: "team=x"}, "[]"},
		{metav1.NamespaceAll, nameSelector, "[elsewhere/kube-state-metrics@3 monitoring/kube-state-metrics@1]"},
		{metav1.NamespaceAll, metav1.ListOptions{FieldSelector: "metadata.namespace=elsewhere"}, "[elsewhere/kube-state-metrics@3]"},
	} {
		l, err := cs.AppsV1().StatefulSets(tc.namespace).List(context.Background(), tc.opts)
		if err != nil {
			t.Fatalf("LIST %q %+v: %v", tc.namespace, tc.opts, err)
		}
		var got []string
		for _, ss := range l.Items {
			got = append(got, ss.Namespace+"/"+ss.Name+"@"+ss.ResourceVersion)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("LIST %q %+v: got %v, want %s", tc.namespace, tc.opts, got, tc.want)
		}
		if l.ResourceVersion != "3" {
			t.Errorf("LIST resourceVersion %q, want 3", l.ResourceVersion)
		}
	}
}

// TestWatchNamespaces: a namespaced watch sees only its namespace's writes;
// a watch in all namespaces sees every write.
func TestWatchNamespaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs, a := newServer(clientgo.Immediate)
		mine := watchFrom(t, cs, nameSelector, "0")
		all, err := cs.AppsV1().StatefulSets(metav1.NamespaceAll).Watch(context.Background(), nameSelector)
		if err != nil {
			t.Fatal(err)
		}
		defer all.Stop()
		write(t, a, statefulSet("kube-state-metrics", v212, 2))
		elsewhere := statefulSet("kube-state-metrics", v212, 1)
		elsewhere.Namespace = "elsewhere"
		write(t, a, elsewhere)
		if got, want := fmt.Sprint(drained(mine)), "[ADDED kube-state-metrics@1 replicas=2 version=2.12.0]"; got != want {
			t.Errorf("namespaced watch: got %s, want %s", got, want)
		}
		if got := drained(all); len(got) != 2 {
			t.Errorf("all-namespaces watch: got %v, want both ADDED", got)
		}
	})
}

// TestWriteResourceVersions: every written object carries a
// resourceVersion; one the writer sets is kept if it is newer than the
// server's, and a stale one is a conflict.
func TestWriteResourceVersions(t *testing.T) {
	_, a := newServer(clientgo.Immediate)
	if got := write(t, a, statefulSet("kube-state-metrics", v212, 2)).ResourceVersion; got != "1" {
		t.Errorf("first write at %s, want 1", got)
	}
	ss := statefulSet("kube-state-metrics", v212, 3)
	ss.ResourceVersion = "7"
	if got := write(t, a, ss).ResourceVersion; got != "7" {
		t.Errorf("write with resourceVersion 7 stored at %s", got)
	}
	if got := write(t, a, statefulSet("kube-state-metrics", v212, 4)).ResourceVersion; got != "8" {
		t.Errorf("next write at %s, want 8", got)
	}
	ss.ResourceVersion = "5"
	if _, err := a.Write(ss); !apierrors.IsConflict(err) {
		t.Errorf("write with stale resourceVersion 5: err %v, want a Conflict", err)
	}
	if a.ResourceVersion() != "8" {
		t.Errorf("server at %s after a rejected write, want 8", a.ResourceVersion())
	}
}

// TestWatchHasNoCapacityLimit writes far more than the 100 events a fake
// watcher's channel holds (where the fake panics) before reading any.
func TestWatchHasNoCapacityLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs, a := newServer(clientgo.Immediate)
		write(t, a, statefulSet("kube-state-metrics", v212, 1))
		w := watchFrom(t, cs, nameSelector, a.ResourceVersion())
		const n = 1000
		for i := range n {
			write(t, a, statefulSet("kube-state-metrics", v212, int32(i+2)))
		}
		for i := range n {
			ev := <-w.ResultChan()
			if got := *ev.Object.(*appsv1.StatefulSet).Spec.Replicas; got != int32(i+2) {
				t.Fatalf("event %d has replicas %d, want %d", i, got, i+2)
			}
		}
	})
}

// TestHeldDelivery: with Held delivery the events wait until Release, one
// at a time, in order; Stop drops them and closes the result channel.
func TestHeldDelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs, a := newServer(clientgo.Held)
		write(t, a, statefulSet("kube-state-metrics", v212, 1))
		w := watchFrom(t, cs, v212Selector, a.ResourceVersion()).(*clientgo.Watch)
		write(t, a, statefulSet("kube-state-metrics", v212, 2))
		write(t, a, statefulSet("kube-state-metrics", v213, 2))
		if got := drained(w); len(got) != 0 {
			t.Fatalf("events before Release: %v", got)
		}
		if len(w.Held()) != 2 || w.Emitted() != 2 {
			t.Fatalf("held %d, emitted %d; want 2, 2", len(w.Held()), w.Emitted())
		}
		for _, want := range []string{
			"[MODIFIED kube-state-metrics@2 replicas=2 version=2.12.0]",
			"[DELETED kube-state-metrics@3 replicas=2 version=2.12.0]",
		} {
			if _, ok := w.Release(); !ok {
				t.Fatal("Release: nothing held")
			}
			if got := fmt.Sprint(drained(w)); got != want {
				t.Errorf("after Release: got %s, want %s", got, want)
			}
		}
		if _, ok := w.Release(); ok {
			t.Error("Release with nothing held returned an event")
		}
		write(t, a, statefulSet("kube-state-metrics", v212, 5))
		w.Stop()
		if _, open := <-w.ResultChan(); open {
			t.Error("result channel open after Stop")
		}
		if len(a.Watches()) != 0 {
			t.Errorf("%d watches open after Stop", len(a.Watches()))
		}
	})
}
