package clientgo_test

// These tests pin the client-go v0.37 behaviour the package works around
// (see doc.go), on a bare fake clientset without the APIServer's reactors.
// If a client-go upgrade fixes a quirk, its test fails and the workaround
// can go.

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

var statefulSets = appsv1.SchemeGroupVersion.WithResource("statefulsets")

func plainListWatch(cs *fake.Clientset) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().StatefulSets(ns).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.AppsV1().StatefulSets(ns).Watch(ctx, o)
		},
	}
}

// synced runs an informer over lw in the bubble and reports whether it
// syncs within five (fake) seconds.
func synced(lw cache.ListerWatcher) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inf := cache.NewSharedIndexInformer(lw, &appsv1.StatefulSet{}, 0, cache.Indexers{})
	done := make(chan struct{})
	go func() { defer close(done); inf.RunWithContext(ctx) }()
	defer func() { cancel(); <-done }()
	waitCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	return cache.WaitFor(waitCtx, "", inf.HasSyncedChecker())
}

// TestQuirkWatchListNeedsTheWrapper: over a plain cache.ListWatch the
// reflector uses WatchList and waits for an initial-events bookmark the
// fake never sends; wrapped with ToListWatcherWithWatchListSemantics (the
// fake clientset says it lacks WatchList), it lists and syncs.
func TestQuirkWatchListNeedsTheWrapper(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := fake.NewSimpleClientset(statefulSet("kube-state-metrics", v212, 2))
		if synced(plainListWatch(cs)) {
			t.Error("an informer over a plain ListWatch synced: the WatchList quirk is gone")
		}
		if !synced(cache.ToListWatcherWithWatchListSemantics(plainListWatch(cs), cs)) {
			t.Error("the wrapped informer did not sync")
		}
	})
}

// TestQuirkFakeIgnoresSelectors: the fake's Watch ignores label and field
// selectors, and its List ignores field selectors.
func TestQuirkFakeIgnoresSelectors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := fake.NewSimpleClientset(statefulSet("kube-state-metrics", v212, 2))
		ctx := context.Background()
		l, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=other"})
		if err != nil || len(l.Items) != 1 {
			t.Errorf("fake LIST with a field selector matching nothing: %d items, %v; the quirk is gone", len(l.Items), err)
		}
		for _, opts := range []metav1.ListOptions{
			{LabelSelector: "app.kubernetes.io/version=9.9.9", ResourceVersion: "99"},
			{FieldSelector: "metadata.name=other", ResourceVersion: "99"},
		} {
			w, err := cs.AppsV1().StatefulSets(ns).Watch(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := cs.Tracker().Update(statefulSets, statefulSet("kube-state-metrics", v213, 3), ns); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			select {
			case ev := <-w.ResultChan():
				if ev.Type != watch.Modified {
					t.Errorf("got %s", ev.Type)
				}
			default:
				t.Errorf("fake WATCH %+v filtered a non-matching update: the quirk is gone", opts)
			}
			w.Stop()
		}
	})
}

// TestQuirkFakeWatchHolds100Events: the fake's watchers buffer 100 events
// and the write that would add the 101st panics.
func TestQuirkFakeWatchHolds100Events(t *testing.T) {
	cs := fake.NewSimpleClientset(statefulSet("kube-state-metrics", v212, 1))
	w, err := cs.AppsV1().StatefulSets(ns).Watch(context.Background(), metav1.ListOptions{ResourceVersion: "99"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	writes := 0
	func() {
		defer func() { _ = recover() }()
		for writes < 200 {
			if err := cs.Tracker().Update(statefulSets, statefulSet("kube-state-metrics", v212, int32(writes+2)), ns); err != nil {
				t.Fatal(err)
			}
			writes++
		}
	}()
	if writes != int(watch.DefaultChanSize) {
		t.Errorf("%d unread events fit in a fake watch, want %d and a panic on the next", writes, watch.DefaultChanSize)
	}
}
