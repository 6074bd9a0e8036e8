package clientgo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// This file is the pod's data plane on real code: a client-go
// cache.Reflector filling a cache store of ConfigMaps over a
// transcription of KSM's sharded ListWatch, itself over a held
// ListerWatcher that the simulator answers item by item (sim.ObjectsRunner).

var _ sim.ObjectsRunner = (*pod)(nil)

// veryShortWatch is client-go's: a watch that ends within it with no event
// is an error (VeryShortWatchError), after which the reflector relists.
// The model follows long-lived watches, so the fake clock is stepped past
// it before a watch is closed.
const veryShortWatch = time.Second

// objectsRun is one reflector of a pod (one ConfigureSharding) and what it
// runs over.
type objectsRun struct {
	shard    int32
	total    int
	pageSize int // the trace's pager page size

	clock  *clocktesting.FakeClock
	store  *notifyingStore
	cancel context.CancelFunc
	done   chan struct{} // closed when the run is stopped: unblocks held calls
	exited chan struct{} // closed when the reflector's Run returns

	calls   chan *call // every LIST and WATCH the reflector makes, in order
	pending *call      // the request in flight, owned by the simulator's goroutine
}

// call is one request of the reflector: a LIST waiting for its answer, or
// an open WATCH (as the reflector reads it: through the sharded filter).
type call struct {
	opts   metav1.ListOptions
	answer chan listAnswer // LIST
	watch  feeder          // WATCH
}

type listAnswer struct {
	obj runtime.Object
	err error
}

// pagerPageSize is the real pager's page size (tools/pager's
// defaultPageSize, unexported), the limit of every paged LIST the
// reflector sends.
const pagerPageSize = 500

// request is the call as the model words it. The simulator scales the
// pager's page size down to the trace's (cluster.pageSize, which its API
// server pages with); the real pager's is a constant, so its limit is
// reported as the trace's. A limit of 0 (no paging) is reported as is, and
// so is any other, which the model never asks.
func (run *objectsRun) request() model.Request {
	c := run.pending
	if c.watch != nil {
		return model.Request{Watch: true, ResourceVersion: c.opts.ResourceVersion}
	}
	limit := int(c.opts.Limit)
	if limit == pagerPageSize {
		limit = run.pageSize
	}
	return model.Request{ResourceVersion: c.opts.ResourceVersion, Limit: limit, Continue: c.opts.Continue}
}

// ConfigureSharding implements sim.ObjectsRunner: KSM's ConfigureSharding
// for this pod's one store. The previous reflector is stopped and waited
// for; a new one starts over an empty store, and ConfigureSharding returns
// once its first LIST has arrived (and checks it is the model's).
func (p *pod) ConfigureSharding(shard int32, total int, pageSize int) error {
	p.stopObjects()
	run := &objectsRun{
		shard: shard, total: total, pageSize: pageSize,
		clock:  clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		calls:  make(chan *call),
	}
	run.store = &notifyingStore{Store: cache.NewStore(cache.MetaNamespaceKeyFunc), applied: make(chan struct{}), done: run.done}
	held := &heldListWatch{run: run}
	lw := &noWatchList{lw: newShardedListWatch(shard, total, held), run: run}
	r := cache.NewReflectorWithOptions(lw, &corev1.ConfigMap{}, run.store, cache.ReflectorOptions{
		Name:  "objects " + p.name,
		Clock: run.clock,
		// The backoff between ListAndWatch calls (after a watch's 410, or a
		// failed list) runs on a real timer (wait.DelayFunc.Until uses the
		// real clock, not this one): no delay, the simulator is untimed.
		Backoff: &wait.Backoff{},
	})
	var ctx context.Context
	ctx, run.cancel = context.WithCancel(context.Background())
	go func() {
		defer close(run.exited)
		r.RunWithContext(ctx)
	}()
	p.objects = run
	if err := run.await(); err != nil {
		p.stopObjects()
		return err
	}
	want := model.NewReflector(shard, total, model.KSMListWatch, pageSize).Request
	if got := run.request(); got != want {
		p.stopObjects()
		return fmt.Errorf("the new reflector asks %s, the model's %s", got, want)
	}
	return nil
}

// DeliverObjects implements sim.ObjectsRunner.
func (p *pod) DeliverObjects(ev model.Event) (model.Request, []string, error) {
	run := p.objects
	if run == nil {
		return model.Request{}, nil, errors.New("objects item delivered with no reflector running")
	}
	if err := run.deliver(ev); err != nil {
		p.stopObjects()
		return model.Request{}, nil, err
	}
	return run.request(), run.store.uids(), nil
}

func (run *objectsRun) deliver(ev model.Event) error {
	c := run.pending
	switch ev := ev.(type) {
	case model.ObjectsListed:
		if c.answer == nil {
			return fmt.Errorf("a LIST answer delivered, the reflector has %s in flight", run.request())
		}
		var a listAnswer
		if ev.Page.Expired {
			a.err = apierrors.NewResourceExpired("too old resource version")
		} else {
			a.obj = configMapList(ev.Page)
		}
		c.answer <- a // buffered
		return run.await()
	case model.ObjectsWatched:
		if c.watch == nil {
			return fmt.Errorf("a watch event delivered, the reflector has %s in flight", run.request())
		}
		for _, u := range ev.UIDs {
			e := watch.Event{Type: ev.Type, Object: configMap(u, ev.ResourceVersion)}
			kept, err := c.watch.feed(e)
			if err != nil {
				return err
			}
			if kept {
				if err := run.awaitApplied(); err != nil {
					return err
				}
			}
		}
		return nil
	case model.WatchEnded:
		if c.watch == nil {
			return fmt.Errorf("a watch end delivered, the reflector has %s in flight", run.request())
		}
		if ev.Expired {
			status := &metav1.Status{
				Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired,
				Message: "too old resource version",
			}
			if _, err := c.watch.feed(watch.Event{Type: watch.Error, Object: status}); err != nil {
				return err
			}
		} else {
			// A long-lived watch, not a "very short" one.
			run.clock.Step(2 * veryShortWatch)
		}
		c.watch.end()
		return run.await()
	}
	return fmt.Errorf("unknown objects item %T", ev)
}

// await waits for the reflector's next request.
func (run *objectsRun) await() error {
	timeout := time.NewTimer(stuckAfter)
	defer timeout.Stop()
	select {
	case c := <-run.calls:
		run.pending = c
		return nil
	case <-run.exited:
		return errors.New("the objects reflector exited")
	case <-timeout.C:
		return fmt.Errorf("the objects reflector sent no request within %s", stuckAfter)
	}
}

// awaitApplied waits for the store to apply one watch event.
func (run *objectsRun) awaitApplied() error {
	timeout := time.NewTimer(stuckAfter)
	defer timeout.Stop()
	select {
	case <-run.store.applied:
		return nil
	case <-run.exited:
		return errors.New("the objects reflector exited before applying a watch event")
	case <-timeout.C:
		return fmt.Errorf("the objects store applied no event within %s", stuckAfter)
	}
}

// stopObjects cancels the pod's reflector and waits for Run to return.
func (p *pod) stopObjects() {
	run := p.objects
	if run == nil {
		return
	}
	p.objects = nil
	close(run.done)
	run.cancel()
	<-run.exited
}

func configMap(uid, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: uid, UID: types.UID(uid), ResourceVersion: rv}}
}

// configMapList is the server's page as a ConfigMapList: objects named by
// their UID, in the page's order.
func configMapList(p model.Page) *corev1.ConfigMapList {
	l := &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: p.ResourceVersion, Continue: p.Continue}}
	l.Items = make([]corev1.ConfigMap, len(p.UIDs))
	for i, u := range p.UIDs {
		l.Items[i] = *configMap(u, p.ResourceVersion)
	}
	return l
}

// heldListWatch is the API server as the reflector reaches it: every LIST
// is reported and blocks until the simulator's answer is delivered; every
// WATCH returns a heldWatch the simulator feeds.
type heldListWatch struct{ run *objectsRun }

func (h *heldListWatch) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	c := &call{opts: options, answer: make(chan listAnswer, 1)}
	select {
	case h.run.calls <- c:
	case <-h.run.done:
		return nil, errors.New("reflector stopped")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case a := <-c.answer:
		return a.obj, a.err
	case <-h.run.done:
		return nil, errors.New("reflector stopped")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *heldListWatch) WatchWithContext(context.Context, metav1.ListOptions) (watch.Interface, error) {
	return &heldWatch{ch: make(chan watch.Event), stopped: make(chan struct{}), done: h.run.done}, nil
}

// A feeder is a watch the simulator's goroutine hands events to, one at a
// time: feed returns once the reader has received the event (kept), or at
// once when a filter drops it.
type feeder interface {
	watch.Interface
	feed(ev watch.Event) (kept bool, err error)
	end()
}

// heldWatch is one watch of the held API server. Its result channel is
// unbuffered: feed returns when the reflector has received the event.
type heldWatch struct {
	ch       chan watch.Event
	stopped  chan struct{}
	done     <-chan struct{}
	stopOnce sync.Once
	endOnce  sync.Once
}

func (w *heldWatch) ResultChan() <-chan watch.Event { return w.ch }
func (w *heldWatch) Stop()                          { w.stopOnce.Do(func() { close(w.stopped) }) }
func (w *heldWatch) end()                           { w.endOnce.Do(func() { close(w.ch) }) }

func (w *heldWatch) feed(ev watch.Event) (bool, error) {
	timeout := time.NewTimer(stuckAfter)
	defer timeout.Stop()
	select {
	case w.ch <- ev:
		return true, nil
	case <-w.stopped:
		return false, errors.New("the reflector stopped its watch before reading an event")
	case <-w.done:
		return false, errors.New("reflector stopped")
	case <-timeout.C:
		return false, fmt.Errorf("the reflector read no watch event within %s", stuckAfter)
	}
}

// noWatchList is the ListerWatcher the reflector gets: it reports that it
// does not support WatchList semantics (so the v0.37 reflector does LIST
// then WATCH, as the model's v0.29/v0.30 one), and reports every WATCH it
// opens, as the reflector reads it. The reflector calls the context
// methods; List and Watch only complete cache.ListerWatcher.
type noWatchList struct {
	lw  cache.ListerWatcherWithContext
	run *objectsRun
}

func (*noWatchList) IsWatchListSemanticsUnSupported() bool { return true }

func (lw *noWatchList) List(options metav1.ListOptions) (runtime.Object, error) {
	return lw.ListWithContext(context.Background(), options)
}

func (lw *noWatchList) Watch(options metav1.ListOptions) (watch.Interface, error) {
	return lw.WatchWithContext(context.Background(), options)
}

func (lw *noWatchList) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	return lw.lw.ListWithContext(ctx, options)
}

func (lw *noWatchList) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	w, err := lw.lw.WatchWithContext(ctx, options)
	if err != nil {
		return nil, err
	}
	f, ok := w.(feeder)
	if !ok {
		return nil, fmt.Errorf("the watch is a %T, not a held one", w)
	}
	select {
	case lw.run.calls <- &call{opts: options, watch: f}:
	case <-lw.run.done:
		return nil, errors.New("reflector stopped")
	}
	return f, nil
}

// shardedListWatch is a transcription of KSM's (v2.13.0
// pkg/sharding/listwatch.go), with client-go's context methods where KSM
// v2.13.0 (client-go v0.30) has List and Watch: List keeps the items whose UID the shard
// owns and copies only the list's ResourceVersion (the continue token is
// dropped); Watch passes the events of the objects the shard owns (and any
// event whose object has no metadata, such as an ERROR's Status). Its
// watch filters synchronously where KSM's uses watch.Filter's goroutine,
// so that the runner knows when an event is handled.
type shardedListWatch struct {
	shard int32
	total int
	lw    cache.ListerWatcherWithContext
}

// newShardedListWatch is KSM's NewShardedListWatch: shard 0 of 1 is the
// plain ListWatch.
func newShardedListWatch(shard int32, total int, lw cache.ListerWatcherWithContext) cache.ListerWatcherWithContext {
	if shard == 0 && total == 1 {
		return lw
	}
	return &shardedListWatch{shard: shard, total: total, lw: lw}
}

func (s *shardedListWatch) keep(o metav1.Object) bool {
	return model.Keeps(string(o.GetUID()), s.shard, s.total)
}

func (s *shardedListWatch) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	list, err := s.lw.ListWithContext(ctx, options)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	metaObj, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	res := &metav1.List{
		Items: []runtime.RawExtension{},
	}
	for _, item := range items {
		a, err := meta.Accessor(item)
		if err != nil {
			return nil, err
		}
		if s.keep(a) {
			res.Items = append(res.Items, runtime.RawExtension{Object: item})
		}
	}
	res.ListMeta.ResourceVersion = metaObj.GetResourceVersion()
	return res, nil
}

func (s *shardedListWatch) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	w, err := s.lw.WatchWithContext(ctx, options)
	if err != nil {
		return nil, err
	}
	f, ok := w.(feeder)
	if !ok {
		return nil, fmt.Errorf("the watch is a %T, not a held one", w)
	}
	return &shardedWatch{feeder: f, s: s}, nil
}

// shardedWatch is watch.Filter(w, keep) without the goroutine: an event
// the shard does not keep never reaches the result channel.
type shardedWatch struct {
	feeder
	s *shardedListWatch
}

func (w *shardedWatch) feed(ev watch.Event) (bool, error) {
	a, err := meta.Accessor(ev.Object)
	if err == nil && !w.s.keep(a) {
		return false, nil
	}
	return w.feeder.feed(ev)
}

// notifyingStore is the reflector's store; each watch event it applies
// (Add, Update, Delete) is reported on applied.
type notifyingStore struct {
	cache.Store
	applied chan struct{}
	done    <-chan struct{}
}

func (s *notifyingStore) notify() {
	select {
	case s.applied <- struct{}{}:
	case <-s.done:
	}
}

func (s *notifyingStore) Add(obj any) error {
	defer s.notify()
	return s.Store.Add(obj)
}

func (s *notifyingStore) Update(obj any) error {
	defer s.notify()
	return s.Store.Update(obj)
}

func (s *notifyingStore) Delete(obj any) error {
	defer s.notify()
	return s.Store.Delete(obj)
}

// uids returns the UIDs the store holds, sorted.
func (s *notifyingStore) uids() []string {
	var out []string
	for _, o := range s.List() {
		out = append(out, string(o.(*corev1.ConfigMap).UID))
	}
	slices.Sort(out)
	return out
}
