package clientgo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Name is the backend's name in flags and reports.
const Name = "client-go"

// stuckAfter bounds every wait for client-go. It is never reached when the
// backend works: each wait ends on a channel the informer's goroutines
// signal. It only turns a bug (an event the informer never hands to a
// handler) into an error instead of a hung replay.
var stuckAfter = time.Minute

var podsResource = corev1.SchemeGroupVersion.WithResource("pods")

// Backend runs every pod of a replay on a real client-go
// cache.SharedIndexInformer over one fake clientset, in front of which an
// APIServer emulates selectors, transitions and resourceVersions. It
// implements sim.Backend.
type Backend struct {
	reducer model.Reducer
	cs      *fake.Clientset
	api     *APIServer

	apiConfig sim.APIServerConfig // the trace's, recorded by ConfigureAPIServer

	// namespace is the pods': the trace's (Check), or the StatefulSet's
	// (the first Write).
	namespace   string
	statefulSet string
	pods        []*pod // every incarnation, in creation order
}

var (
	_ sim.NewBackend   = New
	_ sim.Backend      = (*Backend)(nil)
	_ sim.FlagsBackend = (*Backend)(nil)
)

// New returns a client-go backend for one replay with reducer r: the
// simulator's writes are mirrored into a fake clientset, and each pod
// detects its StatefulSet with real GETs and follows it with a real
// informer whose handlers are KSM's AddFunc and UpdateFunc.
//
// Its pods run KSM's sharded ListWatch of v2.10.0 to v2.18.0
// (model.KSMListWatch) over client-go v0.37's reflector without WatchList;
// a reducer with other rules (a release from v2.19.0) is refused with
// sim.ErrUnsupported.
func New(r model.Reducer) (sim.Backend, error) {
	if r.ListWatch() != model.KSMListWatch {
		return nil, fmt.Errorf("the %s backend runs the sharded ListWatch of kube-state-metrics v2.10.0 to v2.18.0 without WatchList, not that of %s (%w); replay it with --backend model or --backend ksm", Name, r.Name(), sim.ErrUnsupported)
	}
	cs := fake.NewSimpleClientset()
	return &Backend{reducer: r, cs: cs, api: NewAPIServer(cs, Held)}, nil
}

// Name implements sim.Backend.
func (*Backend) Name() string { return Name }

// Clientset is the fake clientset the pods talk to.
func (b *Backend) Clientset() *fake.Clientset { return b.cs }

// APIServer is the emulated API server in front of the clientset.
func (b *Backend) APIServer() *APIServer { return b.api }

// Write implements sim.Backend: the StatefulSet is stored, with the
// simulator's resourceVersion, through the APIServer, which queues the
// resulting event on every open watch. The events are handed to a pod's
// informer only when the simulator delivers them.
func (b *Backend) Write(ss *appsv1.StatefulSet) error {
	if b.statefulSet == "" {
		b.namespace, b.statefulSet = ss.Namespace, ss.Name
	}
	_, err := b.api.Write(ss)
	return err
}

// NewPod implements sim.Backend: it creates (or, for a restart, replaces)
// the Pod object, owned by the StatefulSet through a controller owner
// reference as the StatefulSet controller sets it, which the pod's
// start-up GET follows.
func (b *Backend) NewPod(name, uid string) (sim.PodRunner, error) {
	if b.statefulSet == "" {
		return nil, errors.New("no StatefulSet written yet")
	}
	obj := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: b.namespace, UID: types.UID(uid),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "StatefulSet", Name: b.statefulSet,
				Controller: new(true), BlockOwnerDeletion: new(true),
			}},
		},
	}
	if err := b.putPod(obj); err != nil {
		return nil, err
	}
	p := &pod{b: b, name: name, uid: uid, flags: model.AutoshardingFlags()}
	b.pods = append(b.pods, p)
	return p, nil
}

// NewPodWithFlags implements sim.FlagsBackend: a pod started with flags.
// Autosharding flags are NewPod's pod. A statically sharded pod (--shard
// and --total-shards, no --pod: a Deployment's) gets a Pod object with no
// StatefulSet owner reference and never reads a StatefulSet: Started
// configures it from its flags, as KSM's MetricsHandler.Run does without
// --pod ("Autosharding disabled"), and its data plane then runs as any
// pod's. DaemonSet sharding (--node, --track-unscheduled-pods) and
// resources other than configmaps are refused with errors.ErrUnsupported.
func (b *Backend) NewPodWithFlags(name, uid string, flags model.Flags) (sim.PodRunner, error) {
	if err := runnable(flags); err != nil {
		return nil, err
	}
	if flags.Autosharding {
		return b.NewPod(name, uid)
	}
	if b.namespace == "" {
		b.namespace = metav1.NamespaceDefault // no trace told it: Check was not called
	}
	obj := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: b.namespace, UID: types.UID(uid)},
	}
	if err := b.putPod(obj); err != nil {
		return nil, err
	}
	p := &pod{b: b, name: name, uid: uid, flags: flags}
	b.pods = append(b.pods, p)
	return p, nil
}

// runnable refuses the flags this backend cannot run, with
// errors.ErrUnsupported (and sim.ErrUnsupported, which simrun reports as a
// usage error).
func runnable(f model.Flags) error {
	switch {
	case f.Node != "" || f.TrackUnscheduledPods:
		return fmt.Errorf("the %s backend does not run DaemonSet sharding (%s): its pods serve configmaps only, which have no spec.nodeName; replay it with --backend model: %w (%w)", Name, f, errors.ErrUnsupported, sim.ErrUnsupported)
	case f.Resource != "configmaps":
		return fmt.Errorf("the %s backend runs pods with --resources=configmaps only, not %q: %w (%w)", Name, f.Resource, errors.ErrUnsupported, sim.ErrUnsupported)
	case f.Autosharding && f != model.AutoshardingFlags():
		return fmt.Errorf("the %s backend runs autosharding pods with KSM's default --shard and --total-shards only, not %+v: %w (%w)", Name, f, errors.ErrUnsupported, sim.ErrUnsupported)
	}
	return nil
}

// putPod creates the Pod object, or replaces it (a restart's new
// incarnation of the same name).
func (b *Backend) putPod(obj *corev1.Pod) error {
	tracker := b.cs.Tracker()
	if _, err := tracker.Get(podsResource, obj.Namespace, obj.Name); err == nil {
		return tracker.Update(podsResource, obj, obj.Namespace)
	}
	return tracker.Create(podsResource, obj, obj.Namespace)
}

// Close implements sim.Backend: every informer still running is stopped
// and waited for.
func (b *Backend) Close() {
	for _, p := range b.pods {
		p.stopInformer()
		p.stopObjects()
	}
}

// pod is one KSM pod incarnation. Deliver runs on the simulator's
// goroutine; the handlers run on the informer's, and report every call on
// handled.
type pod struct {
	b         *Backend
	name, uid string
	flags     model.Flags // what it was started with

	// Owned by the simulator's goroutine.
	phase       model.Phase
	statefulSet string             // fixed by the start-up GET
	options     metav1.ListOptions // fixed by the start-up GET
	informer    cache.SharedIndexInformer
	cancel      context.CancelFunc
	exited      chan struct{} // closed when the informer's Run returns
	watch       *Watch        // the informer's watch, once opened
	objects     *objectsRun   // the data plane's reflector, once configured

	// Filled by the informer's goroutines.
	lists   chan listResult
	watches chan watchResult
	handled chan string // one note per handler call, in order
	ctx     context.Context

	mu     sync.Mutex
	config model.Config // written by the handlers only
}

type listResult struct {
	list *appsv1.StatefulSetList
	err  error
}

type watchResult struct {
	w   watch.Interface
	err error
}

// Deliver implements sim.PodRunner.
func (p *pod) Deliver(ev model.Event) (model.PodState, string, error) {
	if p.phase == model.Stopped {
		return p.state(), "ignored: pod stopped", nil
	}
	var note string
	var err error
	switch ev := ev.(type) {
	case model.Started:
		note, err = p.started(ev)
	case model.Got:
		note, err = p.got(ev)
	case model.Listed:
		note, err = p.listed(ev)
	case model.Watched:
		note, err = p.watched(ev)
	case model.Stop:
		p.stopInformer()
		p.stopObjects()
		p.phase = model.Stopped
		err = p.deletePodObject()
		note = "stopped"
	default:
		note = fmt.Sprintf("ignored: unknown event %T", ev)
	}
	if err != nil {
		return model.PodState{}, "", err
	}
	return p.state(), note, nil
}

// started is KSM's MetricsHandler.Run without --pod and --pod-namespace:
// it logs "Autosharding disabled" and calls ConfigureSharding with
// --shard and --total-shards at once; no GET, no informer. The
// configuration is the pod's own flags; the simulator's event must carry
// the same.
func (p *pod) started(ev model.Started) (string, error) {
	if p.phase != model.Starting {
		return "ignored: already started", nil
	}
	if p.flags.Autosharding {
		return "", fmt.Errorf("pod %s runs with %s (--pod and --pod-namespace): it detects its StatefulSet, the simulator delivers a start without autosharding (%d/%d)", p.name, p.flags, ev.Shard, ev.TotalShards)
	}
	c := model.Config{Shard: p.flags.Shard, Total: p.flags.TotalShards}
	if want := (model.Config{Shard: ev.Shard, Total: ev.TotalShards}); c != want {
		return "", fmt.Errorf("pod %s runs with %s, the simulator starts it as %s", p.name, p.flags, want)
	}
	p.phase = model.Static
	p.mu.Lock()
	p.config = c
	p.mu.Unlock()
	return fmt.Sprintf("autosharding disabled: configured %s from --shard and --total-shards", c), nil
}

// got is KSM's detectStatefulSet: GET the own Pod, follow its controller
// owner reference to an apps/v1 StatefulSet, GET that. The informer's
// options come from the reducer.
func (p *pod) got(ev model.Got) (string, error) {
	if p.phase != model.Starting {
		return "ignored: StatefulSet already detected", nil
	}
	ctx := context.Background()
	ns := p.b.namespace
	po, err := p.b.cs.CoreV1().Pods(ns).Get(ctx, p.name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("GET pod %s: %w", p.name, err)
	}
	var ss *appsv1.StatefulSet
	for _, o := range po.GetOwnerReferences() {
		if o.APIVersion != "apps/v1" || o.Kind != "StatefulSet" || o.Controller == nil || !*o.Controller {
			continue
		}
		if ss, err = p.b.cs.AppsV1().StatefulSets(ns).Get(ctx, o.Name, metav1.GetOptions{}); err != nil {
			return "", fmt.Errorf("GET StatefulSet %s: %w", o.Name, err)
		}
		break
	}
	if ss == nil {
		return "", fmt.Errorf("pod %s has no controller owner reference to an apps/v1 StatefulSet", p.name)
	}
	if want := ev.StatefulSet; want != nil && (want.Name != ss.Name || want.ResourceVersion != ss.ResourceVersion) {
		return "", fmt.Errorf("GET StatefulSet returned %s at resourceVersion %s, the simulator's API server %s at %s",
			ss.Name, ss.ResourceVersion, want.Name, want.ResourceVersion)
	}
	p.phase = model.Detected
	p.statefulSet = ss.Name
	p.options = p.b.reducer.ListOptions(ss)
	return fmt.Sprintf("detected StatefulSet %s; informer %s", p.statefulSet, model.DescribeOptions(p.options)), nil
}

// listed starts the informer and returns once its LIST is done, every
// initial item has gone through a handler, the informer and the handler
// report synced, and the informer's WATCH is open.
func (p *pod) listed(ev model.Listed) (string, error) {
	if p.phase != model.Detected {
		return "ignored: informer not expected to list now", nil
	}
	cs, ns := p.b.cs, p.b.namespace
	p.lists = make(chan listResult, 1)
	p.watches = make(chan watchResult, 1)
	p.handled = make(chan string, 16)
	var ctx context.Context
	ctx, p.cancel = context.WithCancel(context.Background())
	p.ctx = ctx
	tweak := func(o *metav1.ListOptions) {
		// KSM's NewFilteredListWatchFromClient tweak function.
		o.LabelSelector, o.FieldSelector = p.options.LabelSelector, p.options.FieldSelector
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			l, err := cs.AppsV1().StatefulSets(ns).List(ctx, o)
			select {
			case p.lists <- listResult{l, err}:
			case <-ctx.Done():
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			tweak(&o)
			w, err := cs.AppsV1().StatefulSets(ns).Watch(ctx, o)
			select {
			case p.watches <- watchResult{w, err}:
			case <-ctx.Done():
			}
			return w, err
		},
	}
	// The fake clientset says it does not support WatchList; without the
	// wrapper the reflector would wait for an initial-events bookmark the
	// fake never sends.
	p.informer = cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, cs), &appsv1.StatefulSet{}, 0, cache.Indexers{})
	reg, err := p.informer.AddEventHandler(p)
	if err != nil {
		return "", fmt.Errorf("add event handler: %w", err)
	}
	p.exited = make(chan struct{})
	go func() {
		defer close(p.exited)
		p.informer.RunWithContext(ctx)
	}()

	timeout := time.NewTimer(stuckAfter)
	defer timeout.Stop()
	var lr listResult
	select {
	case lr = <-p.lists:
	case <-timeout.C:
		return "", p.fail("the informer did not LIST within %s", stuckAfter)
	}
	if lr.err != nil {
		return "", p.fail("LIST: %v", lr.err)
	}
	if err := sameItems(lr.list.Items, ev.Items); err != nil {
		return "", p.fail("LIST: %v", err)
	}
	notes := make([]string, 0, len(lr.list.Items))
	for range lr.list.Items {
		note, err := p.awaitHandler(timeout.C)
		if err != nil {
			return "", err
		}
		notes = append(notes, note)
	}
	syncCtx, cancel := context.WithTimeout(ctx, stuckAfter)
	defer cancel()
	if !cache.WaitFor(syncCtx, "", p.informer.HasSyncedChecker(), reg.HasSyncedChecker()) {
		return "", p.fail("the informer did not sync within %s", stuckAfter)
	}
	var wr watchResult
	select {
	case wr = <-p.watches:
	case <-timeout.C:
		return "", p.fail("the informer did not WATCH within %s", stuckAfter)
	}
	if wr.err != nil {
		return "", p.fail("WATCH: %v", wr.err)
	}
	w, ok := wr.w.(*Watch)
	if !ok {
		return "", p.fail("WATCH returned a %T, not the APIServer's watch", wr.w)
	}
	p.watch = w
	p.phase = model.Watching
	if len(notes) == 0 {
		return "listed nothing: no Add, the pod stays " + p.currentConfig().String(), nil
	}
	return strings.Join(notes, "; "), nil
}

// watched hands the informer the next event the APIServer generated for
// its watch, checks it is the one the simulator delivers, and returns once
// the informer has handed it to a handler (OnDelete included).
func (p *pod) watched(ev model.Watched) (string, error) {
	if p.phase != model.Watching {
		return "ignored: informer not watching", nil
	}
	switch ev.Type {
	case watch.Added, watch.Modified, watch.Deleted:
	default:
		return "ignored: watch event " + string(ev.Type), nil
	}
	select {
	case note := <-p.handled:
		return "", p.fail("a handler ran with no event delivered: %s", note)
	case lr := <-p.lists:
		return "", p.fail("the informer listed again (err %v): its watch ended", lr.err)
	case wr := <-p.watches:
		return "", p.fail("the informer watched again (err %v): its watch ended", wr.err)
	default:
	}
	got, ok := p.watch.Release()
	if !ok {
		return "", fmt.Errorf("the simulator delivers %s, the emulated API server has no event for this watch", describeEvent(ev.Type, ev.Object))
	}
	if err := sameEvent(got, ev); err != nil {
		return "", err
	}
	timeout := time.NewTimer(stuckAfter)
	defer timeout.Stop()
	return p.awaitHandler(timeout.C)
}

func (p *pod) awaitHandler(timeout <-chan time.Time) (string, error) {
	select {
	case note := <-p.handled:
		return note, nil
	case <-p.exited:
		return "", errors.New("the informer exited before handling the event")
	case <-timeout:
		return "", p.fail("no handler ran within %s", stuckAfter)
	}
}

// fail stops the informer and returns an error.
func (p *pod) fail(format string, args ...any) error {
	p.stopInformer()
	return fmt.Errorf(format, args...)
}

// stopInformer cancels the informer and waits for Run to return.
func (p *pod) stopInformer() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	<-p.exited
	p.cancel = nil
}

// deletePodObject removes the Pod object unless a newer incarnation has
// replaced it.
func (p *pod) deletePodObject() error {
	tracker := p.b.cs.Tracker()
	obj, err := tracker.Get(podsResource, p.b.namespace, p.name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("GET pod %s: %w", p.name, err)
	}
	if string(obj.(*corev1.Pod).UID) != p.uid {
		return nil // a newer incarnation replaced it
	}
	if err := tracker.Delete(podsResource, p.b.namespace, p.name); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s: %w", p.name, err)
	}
	return nil
}

func (p *pod) currentConfig() model.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.config
}

// state renders the pod as a model.PodState; Cache is the informer's store.
func (p *pod) state() model.PodState {
	s := model.PodState{
		Name: p.name, Phase: p.phase, StatefulSetName: p.statefulSet,
		ListOptions: p.options, Config: p.currentConfig(),
	}
	if p.informer != nil {
		s.Cache = map[string]*appsv1.StatefulSet{}
		for _, o := range p.informer.GetStore().List() {
			ss := o.(*appsv1.StatefulSet)
			s.Cache[ss.Name] = ss
		}
	}
	return s
}

// The informer's handlers: KSM's AddFunc and UpdateFunc, and an OnDelete
// that only reports (KSM registers no DeleteFunc).

// OnAdd implements cache.ResourceEventHandler: KSM's AddFunc.
func (p *pod) OnAdd(obj any, _ bool) {
	ss := obj.(*appsv1.StatefulSet)
	if ss.Name != p.statefulSet {
		p.notify("AddFunc: ignored, StatefulSet " + ss.Name + " is not " + p.statefulSet)
		return
	}
	p.notify(p.configure("AddFunc", ss))
}

// OnUpdate implements cache.ResourceEventHandler: KSM's UpdateFunc.
func (p *pod) OnUpdate(oldObj, newObj any) {
	old, cur := oldObj.(*appsv1.StatefulSet), newObj.(*appsv1.StatefulSet)
	if cur.Name != p.statefulSet {
		p.notify("UpdateFunc: ignored, StatefulSet " + cur.Name + " is not " + p.statefulSet)
		return
	}
	if old.ResourceVersion == cur.ResourceVersion {
		p.notify("UpdateFunc: ignored, resourceVersion unchanged (" + cur.ResourceVersion + ")")
		return
	}
	p.notify(p.configure("UpdateFunc", cur))
}

// OnDelete implements cache.ResourceEventHandler. KSM has no DeleteFunc:
// the informer has dropped the object from its store, the pod keeps its
// configuration.
func (p *pod) OnDelete(any) {
	p.notify("removed from informer cache; no DeleteFunc, the pod stays " + p.currentConfig().String())
}

// configure derives the configuration with model.ShardingSettings, as
// KSM's shardingSettingsFromStatefulSet, and applies it unless unchanged.
func (p *pod) configure(handler string, ss *appsv1.StatefulSet) string {
	c, err := model.ShardingSettings(ss, p.name)
	if err != nil {
		return handler + ": " + err.Error()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c == p.config {
		return handler + ": unchanged " + c.String()
	}
	note := fmt.Sprintf("%s: reconfigured %s -> %s", handler, p.config, c)
	p.config = c
	return note
}

func (p *pod) notify(note string) {
	select {
	case p.handled <- note:
	case <-p.ctx.Done():
	}
}

// sameItems checks that the informer's LIST returned what the simulator's
// API server lists: the same StatefulSets at the same resourceVersions.
func sameItems(got []appsv1.StatefulSet, want []*appsv1.StatefulSet) error {
	g := make([]string, len(got))
	for i := range got {
		g[i] = got[i].Name + "@" + got[i].ResourceVersion
	}
	w := make([]string, len(want))
	for i, ss := range want {
		w[i] = ss.Name + "@" + ss.ResourceVersion
	}
	if !slices.Equal(g, w) {
		return fmt.Errorf("returned %v, the simulator's API server lists %v", g, w)
	}
	return nil
}

// sameEvent checks that the event the APIServer generated is the one the
// simulator delivers. A DELETED event carries the old object's content in
// both, but the APIServer stamps it with the resourceVersion of the write,
// as the real cacher does, so only the content is compared.
func sameEvent(got watch.Event, want model.Watched) error {
	ss, ok := got.Object.(*appsv1.StatefulSet)
	mismatch := !ok || got.Type != want.Type || ss.Name != want.Object.Name ||
		!maps.Equal(ss.Labels, want.Object.Labels) || replicas(ss) != replicas(want.Object) ||
		(got.Type != watch.Deleted && ss.ResourceVersion != want.Object.ResourceVersion)
	if mismatch {
		var gotObj *appsv1.StatefulSet
		if ok {
			gotObj = ss
		}
		return fmt.Errorf("the emulated API server generated %s, the simulator delivers %s",
			describeEvent(got.Type, gotObj), describeEvent(want.Type, want.Object))
	}
	return nil
}

func replicas(ss *appsv1.StatefulSet) int32 {
	if ss.Spec.Replicas == nil {
		return -1
	}
	return *ss.Spec.Replicas
}

func describeEvent(t watch.EventType, ss *appsv1.StatefulSet) string {
	if ss == nil {
		return string(t) + " (no StatefulSet)"
	}
	return fmt.Sprintf("%s %s at resourceVersion %s (replicas %d, labels %v)", t, ss.Name, ss.ResourceVersion, replicas(ss), ss.Labels)
}
