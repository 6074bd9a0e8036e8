package clientgo

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

var (
	statefulSetsResource = appsv1.SchemeGroupVersion.WithResource("statefulsets")
	statefulSetKind      = appsv1.SchemeGroupVersion.WithKind("StatefulSet")
)

// Delivery says when an APIServer hands a watch the events it generated.
type Delivery int

const (
	// Immediate sends every event as soon as the write that caused it is
	// made, as a real API server does.
	Immediate Delivery = iota
	// Held keeps the events of each watch until Watch.Release hands them
	// out one by one: the simulator's schedule decides when a pod sees
	// them.
	Held
)

// APIServer emulates, in front of a fake clientset, the parts of
// kube-apiserver a StatefulSet informer depends on and the fake lacks:
//
//   - LIST filters by label and field selector (the fake's own List
//     ignores field selectors) and reports the current resourceVersion;
//   - WATCH filters by label and field selector with the cacher's
//     transition rules (the fake's own Watch ignores both): old and new
//     match → MODIFIED; only the new one → ADDED; only the old one →
//     DELETED carrying the old object, stamped with the resourceVersion of
//     the write; neither → nothing;
//   - namespaces: a watch in a namespace sees only its writes, a watch in
//     all namespaces sees every write;
//   - only metadata.name and metadata.namespace are StatefulSet field
//     selectors; any other field, or an unparsable selector, is a 400
//     BadRequest (model.ParseSelector);
//   - every written StatefulSet carries a resourceVersion from one global,
//     increasing counter, and a WATCH may resume from any earlier
//     resourceVersion: it replays the writes after it through its
//     selectors (an empty or "0" resourceVersion starts with a synthetic
//     ADDED per matching object, like the real server).
//
// Writes go through APIServer.Write and Delete, which store the object
// with the clientset's Tracker (not through the clientset, so no reactor
// runs and the tracker's own watchers, which know nothing of selectors,
// stay empty) and then compute every open watch's event from the object
// before and after the write. Reactors are installed with
// PrependReactor / PrependWatchReactor so they run before the fake's
// defaults, and they too read the Tracker directly: the fake holds its
// lock while a reactor runs, so a reactor calling back into the clientset
// would deadlock.
type APIServer struct {
	cs       *fake.Clientset
	delivery Delivery

	mu      sync.Mutex
	rv      uint64
	history []change // every StatefulSet write, in resourceVersion order
	watches []*Watch
}

// change is one StatefulSet write: old is nil for a creation, cur nil for a
// deletion.
type change struct {
	rv       uint64
	old, cur *appsv1.StatefulSet
}

// NewAPIServer installs the LIST and WATCH reactors for StatefulSets on cs
// and returns the server behind them. StatefulSets already in the tracker
// are kept; the resourceVersion counter starts after the largest of theirs.
func NewAPIServer(cs *fake.Clientset, delivery Delivery) *APIServer {
	a := &APIServer{cs: cs, delivery: delivery}
	if l, err := cs.Tracker().List(statefulSetsResource, statefulSetKind, metav1.NamespaceAll); err == nil {
		for _, ss := range l.(*appsv1.StatefulSetList).Items {
			if rv, err := strconv.ParseUint(ss.ResourceVersion, 10, 64); err == nil {
				a.rv = max(a.rv, rv)
			}
		}
	}
	cs.PrependReactor("list", "statefulsets", a.reactList)
	cs.PrependWatchReactor("statefulsets", a.reactWatch)
	return a
}

// ResourceVersion returns the resourceVersion of the last write.
func (a *APIServer) ResourceVersion() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strconv.FormatUint(a.rv, 10)
}

// Write creates or replaces a StatefulSet and returns the stored copy. An
// object that carries a resourceVersion keeps it (it must be larger than
// every earlier one: that is how the simulator's API server and this one
// stay in step); one without gets the next. Every open watch whose
// selectors the object passed before or passes now gets its event.
func (a *APIServer) Write(ss *appsv1.StatefulSet) (*appsv1.StatefulSet, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cur := ss.DeepCopy()
	rv := a.rv + 1
	if cur.ResourceVersion != "" {
		n, err := strconv.ParseUint(cur.ResourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid resourceVersion %q: %v", cur.ResourceVersion, err))
		}
		if n <= a.rv {
			return nil, apierrors.NewConflict(statefulSetsResource.GroupResource(), cur.Name,
				fmt.Errorf("resourceVersion %d is not after the current %d", n, a.rv))
		}
		rv = n
	}
	cur.ResourceVersion = strconv.FormatUint(rv, 10)
	tracker := a.cs.Tracker()
	var old *appsv1.StatefulSet
	if o, err := tracker.Get(statefulSetsResource, cur.Namespace, cur.Name); err == nil {
		old = o.(*appsv1.StatefulSet)
		err = tracker.Update(statefulSetsResource, cur, cur.Namespace)
		if err != nil {
			return nil, err
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, err
	} else if err := tracker.Create(statefulSetsResource, cur, cur.Namespace); err != nil {
		return nil, err
	}
	a.rv = rv
	a.record(change{rv: rv, old: old, cur: cur})
	return cur.DeepCopy(), nil
}

// Delete removes a StatefulSet. The watches it passed get a DELETED event
// carrying its last state at the resourceVersion of the deletion.
func (a *APIServer) Delete(namespace, name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	tracker := a.cs.Tracker()
	o, err := tracker.Get(statefulSetsResource, namespace, name)
	if err != nil {
		return err
	}
	if err := tracker.Delete(statefulSetsResource, namespace, name); err != nil {
		return err
	}
	a.rv++
	a.record(change{rv: a.rv, old: o.(*appsv1.StatefulSet)})
	return nil
}

// record appends c to the history and emits its events. a.mu is held.
func (a *APIServer) record(c change) {
	a.history = append(a.history, c)
	for _, w := range a.watches {
		if ev, ok := w.convert(c); ok {
			w.emit(ev, a.delivery)
		}
	}
}

// List answers a StatefulSet LIST in namespace (metav1.NamespaceAll: every
// namespace) with opts, as the reactor does.
func (a *APIServer) List(namespace string, opts metav1.ListOptions) (*appsv1.StatefulSetList, error) {
	sel, err := model.ParseSelector(opts)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	obj, err := a.cs.Tracker().List(statefulSetsResource, statefulSetKind, namespace)
	if err != nil {
		return nil, err
	}
	all := obj.(*appsv1.StatefulSetList)
	out := &appsv1.StatefulSetList{}
	out.ResourceVersion = strconv.FormatUint(a.rv, 10)
	for i := range all.Items {
		if sel.Matches(&all.Items[i]) {
			out.Items = append(out.Items, all.Items[i])
		}
	}
	slices.SortFunc(out.Items, compareStatefulSets)
	return out, nil
}

// compareStatefulSets orders by namespace, then name: the tracker keeps a
// map, and answers must not depend on its iteration order.
func compareStatefulSets(x, y appsv1.StatefulSet) int {
	return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
}

func (a *APIServer) reactList(action clienttesting.Action) (bool, runtime.Object, error) {
	la, ok := action.(clienttesting.ListActionImpl)
	if !ok {
		return false, nil, nil
	}
	l, err := a.List(la.GetNamespace(), la.ListOptions)
	if err != nil {
		return true, nil, err
	}
	return true, l, nil
}

// OpenWatch answers a StatefulSet WATCH in namespace with opts, as the
// reactor does.
func (a *APIServer) OpenWatch(namespace string, opts metav1.ListOptions) (*Watch, error) {
	sel, err := model.ParseSelector(opts)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := newWatch(a, namespace, sel)
	switch opts.ResourceVersion {
	case "", "0":
		// Start at the most recent state: a synthetic ADDED per object
		// that passes the selectors.
		obj, err := a.cs.Tracker().List(statefulSetsResource, statefulSetKind, namespace)
		if err != nil {
			return nil, err
		}
		items := obj.(*appsv1.StatefulSetList).Items
		slices.SortFunc(items, compareStatefulSets)
		for i := range items {
			if sel.Matches(&items[i]) {
				w.emit(watch.Event{Type: watch.Added, Object: items[i].DeepCopy()}, a.delivery)
			}
		}
	default:
		from, err := strconv.ParseUint(opts.ResourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid resourceVersion %q: %v", opts.ResourceVersion, err))
		}
		if from > a.rv {
			return nil, apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", from, a.rv), 1)
		}
		for _, c := range a.history {
			if c.rv <= from {
				continue
			}
			if ev, ok := w.convert(c); ok {
				w.emit(ev, a.delivery)
			}
		}
	}
	a.watches = append(a.watches, w)
	go w.pump()
	return w, nil
}

func (a *APIServer) reactWatch(action clienttesting.Action) (bool, watch.Interface, error) {
	wa, ok := action.(clienttesting.WatchActionImpl)
	if !ok {
		return false, nil, nil
	}
	w, err := a.OpenWatch(wa.GetNamespace(), wa.ListOptions)
	if err != nil {
		return true, nil, err
	}
	return true, w, nil
}

// Watches returns the open watches, in the order they were opened.
func (a *APIServer) Watches() []*Watch {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.watches)
}

func (a *APIServer) remove(w *Watch) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.watches = slices.DeleteFunc(a.watches, func(x *Watch) bool { return x == w })
}

// Watch is one open WATCH on an APIServer. It implements watch.Interface
// with an unbounded queue in front of its result channel, so that unlike
// the fake's watchers (a 100-event channel that panics when full) no
// number of unread events can break it.
type Watch struct {
	srv       *APIServer
	namespace string
	selector  model.Selector

	result chan watch.Event
	done   chan struct{} // closed by Stop

	mu      sync.Mutex
	cond    *sync.Cond
	held    []watch.Event // generated, not yet released (Held delivery)
	out     []watch.Event // released, not yet read from result
	stopped bool
	emitted int
}

func newWatch(a *APIServer, namespace string, sel model.Selector) *Watch {
	w := &Watch{srv: a, namespace: namespace, selector: sel, result: make(chan watch.Event), done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// Namespace is the namespace the watch was opened in ("" for all).
func (w *Watch) Namespace() string { return w.namespace }

// Selector is the watch's parsed selectors.
func (w *Watch) Selector() model.Selector { return w.selector }

// convert applies the cacher's transition rules (sim.Transition, the one
// copy every API server of the project calls) to one write.
func (w *Watch) convert(c change) (watch.Event, bool) {
	obj := c.cur
	if obj == nil {
		obj = c.old
	}
	if w.namespace != metav1.NamespaceAll && obj.Namespace != w.namespace {
		return watch.Event{}, false
	}
	ev, ok := sim.Transition(w.selector, c.old, c.cur, strconv.FormatUint(c.rv, 10))
	if !ok {
		return watch.Event{}, false
	}
	return watch.Event{Type: ev.Type, Object: ev.Object.DeepCopy()}, true
}

func (w *Watch) emit(ev watch.Event, d Delivery) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.emitted++
	if d == Held {
		w.held = append(w.held, ev)
		return
	}
	w.out = append(w.out, ev)
	w.cond.Signal()
}

// Emitted counts the events the watch generated, released or not.
func (w *Watch) Emitted() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.emitted
}

// Held returns the events generated and not yet released (Held delivery).
func (w *Watch) Held() []watch.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.held)
}

// Release sends the oldest held event to the watch's reader and returns
// it; ok is false when none is held.
func (w *Watch) Release() (ev watch.Event, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || len(w.held) == 0 {
		return watch.Event{}, false
	}
	ev, w.held = w.held[0], w.held[1:]
	w.out = append(w.out, ev)
	w.cond.Signal()
	return ev, true
}

// pump moves released events to the result channel until Stop.
func (w *Watch) pump() {
	defer close(w.result)
	for {
		w.mu.Lock()
		for len(w.out) == 0 && !w.stopped {
			w.cond.Wait()
		}
		if w.stopped {
			w.mu.Unlock()
			return
		}
		ev := w.out[0]
		w.out = w.out[1:]
		w.mu.Unlock()
		select {
		case w.result <- ev:
		case <-w.done:
			return
		}
	}
}

// ResultChan implements watch.Interface.
func (w *Watch) ResultChan() <-chan watch.Event { return w.result }

// Stop implements watch.Interface: the watch is closed, its pending events
// are dropped and its result channel is closed.
func (w *Watch) Stop() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	w.held, w.out = nil, nil
	close(w.done)
	w.cond.Broadcast()
	w.mu.Unlock()
	w.srv.remove(w)
}
