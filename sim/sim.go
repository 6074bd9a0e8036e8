package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
)

// Verdicts used by Trace.Expect and reports.
const (
	Holds    = "holds"
	Violated = "violated"
)

// ExpectedReducers returns the reducers a replay of t runs by default:
// the named ones (model.Reducers) and every release t's expect names,
// oldest first.
func ExpectedReducers(t *Trace) []model.Reducer {
	out := model.Reducers()
	for _, r := range model.Releases() {
		if _, ok := t.Expect[r.Version]; ok {
			out = append(out, r)
		}
	}
	return out
}

// Options tune a replay.
type Options struct {
	// Strict makes violations at non-quiescent points failures too.
	Strict bool
	// Backend runs the pods; nil means ModelBackend.
	Backend NewBackend
	// Windows also evaluates the properties after every delivery that
	// changes a pod's configuration or whether it serves, and after
	// every LIST that replaces a store, between quiescent points (inside
	// eager drains too), and reports them per step as Result.Windows. It
	// costs one evaluation per such delivery.
	Windows bool

	// Timeline records the replay's impact over simulated time
	// (Result.Timeline); nil: none.
	Timeline *TimelineOptions

	// continuation marks the replays classify makes: they are not
	// classified themselves.
	continuation bool
}

// itemKind is what an inbox item asks a pod to do.
type itemKind int

const (
	itemGet        itemKind = iota // start, part 1: GET own Pod and its StatefulSet
	itemStart                      // start without autosharding: sharding from the flags
	itemList                       // start, part 2: the informer's LIST, then WATCH
	itemEvent                      // a watch event the pod's selector let through
	itemStop                       // the pod is deleted
	itemSSWatchEnd                 // the informer's watch connection closed
	itemSSExpired                  // the informer's re-watch got 410 Gone
	itemRestart                    // the kubelet restarts a crashed container

	// The objects stream (the data plane).
	itemObjPage     // the answer to the reflector's LIST request
	itemObjEvent    // a write of the objects on the reflector's watch
	itemObjWatchEnd // the reflector's watch ended
)

type item struct {
	kind    itemKind
	pod     *pod
	event   model.Watched
	objects model.ObjectsWatched // itemObjEvent
	expired bool                 // itemObjWatchEnd: with 410 Gone
	relist  bool                 // itemList: a relist after 410 Gone
	// waitStopped: the item is not delivered before every one of these
	// pods has stopped (a Recreate rollout's new pods).
	waitStopped []*pod
	// due is the simulated time the item can be delivered at; seq the
	// order it was queued in (clock.go).
	due time.Duration
	seq uint64
}

// ready reports whether the item can be delivered now.
func (it item) ready() bool {
	for _, p := range it.waitStopped {
		if p.state.Phase != model.Stopped {
			return false
		}
	}
	return true
}

// pod is one incarnation of a KSM pod: a restart creates a new one with the
// same ordinal.
type pod struct {
	// ordinal is the pod's lane: its StatefulSet ordinal, or the lane of
	// its Deployment's slot. A lane's incarnations share its queues.
	ordinal  int
	flags    model.Flags
	uid      string
	runner   PodRunner
	state    model.PodState // as of the last delivery
	selector model.Selector // the watch's, set when the LIST is delivered
	watching bool           // has an open watch
	stopping bool           // a Stop item is queued
	ssRV     uint64         // the informer's last synced resourceVersion

	crashedAt time.Duration // when its last start-up crashed it

	data      model.Reflector // the objects store and its reflector
	hasStore  bool            // ConfigureSharding has built the store
	dataWatch bool            // its watch is open: object writes reach it
}

// Sim replays one trace against one reducer.
type Sim struct {
	trace   *Trace
	reducer model.Reducer
	opts    Options

	api     *APIServer
	backend Backend
	err     error // a backend failure; stops the replay
	objects *ObjectSet
	// deployments are the static-sharding Deployments (no StatefulSet).
	deployments []*deployment
	// failures counts, by ordinal, the start-ups still to fail (-1: a
	// crash loop, until recover).
	failures map[int]int
	// ds is DaemonSet sharding's part (nil without a DaemonSet).
	ds      *daemonSetSharding
	lanes   []string // by lane: its name, for reports
	pods    []*pod   // the incarnations not stopped yet, in creation order
	latest  []*pod   // by ordinal: its latest incarnation
	inbox   [][]item // by ordinal: the StatefulSet stream
	objq    [][]item // by ordinal: the objects stream
	nextUID int

	apiConfig APIServerConfig
	objWrites []objectWrite            // every create and delete, in order
	splits    map[pageKey][]model.Page // SplitPage results for the current objects

	step      int           // index of the step being replayed, -1 before the first
	stepStart time.Duration // when it started
	clock     clock
	tl        *timeline // nil without Options.Timeline
	log       []LogEntry
	result    Result
}

// Run replays t against r and returns the result. It fails on a valid
// trace that cannot be replayed (a deliver from an inbox that runs empty),
// with a *TraceError whose File the caller fills in, and when the backend
// fails.
func Run(t *Trace, r model.Reducer, opts Options) (*Result, error) {
	s := New(t, r, opts)
	defer s.Close()
	if s.err != nil {
		return nil, s.err
	}
	for i := range t.Steps {
		if err := s.Apply(i); err != nil {
			return nil, err
		}
	}
	res := s.Finish()
	if s.err != nil {
		return nil, s.err // the backend failed during the hold's scrapes
	}
	if !opts.continuation {
		if err := classify(t, r, opts, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// classify marks each violated transient point permanent or
// self-healing by replaying the trace up to that step, on the same
// backend, followed by a settle: the continuation that delivers what is
// pending and does nothing else. (Checkpoints are marked as they are
// observed.) A violated window is self-healing when the point that ends
// its step holds or heals.
func classify(t *Trace, r model.Reducer, opts Options, res *Result) error {
	healing := map[int]string{} // step -> the healing of the point ending it
	for _, c := range res.Checkpoints {
		healing[c.Step] = c.Healing
	}
	for i := range res.Transient {
		c := &res.Transient[i]
		if c.Holds() {
			continue
		}
		prefix := *t
		prefix.Steps = append(slices.Clone(t.Steps[:c.Step+1]), Step{Op: OpSettle})
		prefix.Expect = nil
		cont, err := Run(&prefix, r, Options{Backend: opts.Backend, continuation: true})
		if err != nil {
			return err
		}
		c.Healing = Permanent
		if last := cont.Checkpoints[len(cont.Checkpoints)-1]; last.Holds() {
			c.Healing = SelfHealing
		}
		healing[c.Step] = c.Healing
	}
	for i := range res.Windows {
		w := &res.Windows[i]
		if w.Violated == 0 {
			continue
		}
		w.Healing = SelfHealing
		if healing[w.Step] == Permanent {
			w.Healing = Permanent
		}
	}
	return nil
}

// New sets up the cluster of t: the StatefulSet, its pods and the objects.
// Under both schedules the cluster starts settled (its pods have started
// and configured), so the first checkpoint is always the initial one; use
// restart to interleave ops with a pod's start.
func New(t *Trace, r model.Reducer, opts Options) *Sim {
	if t.Judge == JudgeEveryPoint {
		opts.Strict, opts.Windows = true, true
	}
	s := &Sim{trace: t, reducer: r, opts: opts, step: -1, apiConfig: t.Cluster.Config()}
	lat, err := t.Cluster.Latencies.resolve("cluster.latencies")
	if err != nil {
		s.err = err // Validate reports it first
	}
	s.clock = newClock(lat)
	if t.Cluster.StatefulSet.Name != "" {
		s.api = NewAPIServer(t.Cluster.Namespace, t.Cluster.StatefulSet)
	} else {
		s.api = &APIServer{Namespace: t.Cluster.Namespace}
	}
	newBackend := opts.Backend
	if newBackend == nil {
		newBackend = ModelBackend
	}
	if s.backend, s.err = newBackend(r); s.err == nil {
		s.err = s.configureBackend()
	}
	if s.err == nil && s.api.StatefulSet != nil {
		s.err = s.backend.Write(s.api.StatefulSet)
	}
	s.result = Result{Reducer: r.Name(), Models: r.Models()}
	switch {
	case t.Cluster.Deployments != nil:
		s.result.Mode = ModeStatic
	case t.Cluster.DaemonSet != nil && t.Cluster.StatefulSet.Name == "":
		s.result.Mode = ModeDaemonSet
	case t.Cluster.DaemonSet != nil:
		s.result.Mode = ModeMixed
	}
	if s.err != nil {
		return s // nothing runs on a failed backend
	}
	uids := slices.Clone(t.Cluster.Objects.UIDs)
	uids = append(uids, GenerateUIDs(t.Cluster.Objects.Generate, t.Cluster.Objects.Seed, 0)...)
	s.objects = NewObjectSet(uids)
	if s.api.StatefulSet == nil {
		// The cluster's first write: no list is ever answered at
		// resourceVersion 0, which client-go reads as "any".
		s.api.Bump()
	}
	s.writeObjects(uids, nil)
	s.reconcile()
	s.applyDeployments(t.Cluster.Deployments)
	if t.Cluster.DaemonSet != nil {
		_, isModel := s.backend.(modelBackend)
		_, flags := s.backend.(FlagsBackend)
		_, pods := s.backend.(PodWriter)
		if !isModel && !(flags && pods) {
			s.err = fmt.Errorf("the %s backend does not run DaemonSet sharding (%w); replay it with --backend model or --backend ksm", s.backend.Name(), ErrUnsupported)
			return s
		}
		s.setupDaemonSet(t)
	}
	s.drain()
	// Time starts at the initial checkpoint: the setup happened before
	// it (its log entries have negative times).
	for i := range s.log {
		s.log[i].At -= Seconds(s.clock.now)
	}
	s.clock.now = 0
	if opts.Timeline != nil && s.err == nil {
		s.startTimeline()
	}
	s.observe("initial")
	return s
}

// Close releases the backend.
func (s *Sim) Close() {
	if s.backend != nil {
		s.backend.Close()
	}
}

// Apply replays step i.
func (s *Sim) Apply(i int) error {
	if s.err != nil {
		return s.err
	}
	s.step = i
	s.stepStart = s.clock.now
	st := s.trace.Steps[i]
	s.beginStep(i, st.Op)
	switch st.Op {
	case OpRelabel:
		s.write(func(ss *appsv1.StatefulSet) { ss.Labels = cloneLabels(st.Labels) })
	case OpScale:
		s.write(func(ss *appsv1.StatefulSet) { r := *st.Replicas; ss.Spec.Replicas = &r })
		s.reconcile()
	case OpRestart:
		for _, o := range st.Pods {
			p := s.newest(o)
			if p != nil {
				s.stop(p)
			}
			if p != nil && !p.flags.Autosharding {
				// The ReplicaSet creates the replacement at once.
				s.createPod(o, s.replacementName(p), p.flags, nil)
				continue
			}
			if s.orderedReady() {
				// OrderedReady: the controller re-creates the pod once it
				// is gone, and only when every pod below it is Running
				// and Ready (reconcile, after the deletion's delivery); a
				// pod that does not exist yet is created in its turn.
				s.reconcile()
				continue
			}
			// Parallel: the replacement's start is queued behind the
			// deletion in the ordinal's inbox, so it starts once the old
			// pod is gone, as the controller creates it then.
			s.create(o)
		}
	case OpFailStart:
		for _, o := range st.Pods {
			s.setStartFailures(o, st.Count)
		}
	case OpCrashLoop:
		for _, o := range st.Pods {
			s.setStartFailures(o, -1)
		}
	case OpRecover:
		for _, o := range st.Pods {
			s.recoverStarts(o)
		}
	case OpCreate:
		uids := slices.Clone(st.UIDs)
		uids = append(uids, GenerateUIDs(st.Generate, st.Seed, i+1)...)
		s.objects.Add(uids)
		s.api.Bump()
		s.recordObjectWrite(uids, nil)
		s.writeObjects(uids, nil)
		s.logf(LogObjects, -1, "", "create %d objects", len(uids))
	case OpDelete:
		s.objects.Delete(st.UIDs)
		s.api.Bump()
		s.recordObjectWrite(nil, st.UIDs)
		s.writeObjects(nil, st.UIDs)
		s.logf(LogObjects, -1, "", "delete %d objects", len(st.UIDs))
	case OpAddNode, OpRemoveNode, OpTaint, OpUntaint, OpEvict, OpCreatePods, OpBind:
		s.applyNodeOp(i, st)
	case OpApply:
		s.applyDeployments(st.Deployments)
	case OpDeleteDeployment:
		s.deleteDeployment(st.Name)
	case OpCompact:
		s.compact()
	case OpCacheLag:
		s.cacheLag(*st.Writes)
	case OpDisconnect:
		for _, o := range st.Pods {
			s.disconnect(o)
		}
	case OpDeliver:
		if st.Node != nil {
			return s.deliverNodeStep(i, st)
		}
		queue, deliver, what := s.inbox, s.deliver, "inbox"
		if st.Stream == StreamObjects {
			queue, deliver, what = s.objq, s.deliverObjects, "objects stream"
		}
		for n := range st.Count {
			if s.err != nil {
				return s.err
			}
			if len(queue[*st.Pod]) == 0 {
				return &TraceError{Step: i, Field: "count",
					Msg: fmt.Sprintf("pod %d's %s ran empty after %d of %d deliveries", *st.Pod, what, n, st.Count)}
			}
			if !queue[*st.Pod][0].ready() {
				return &TraceError{Step: i, Field: "count",
					Msg: fmt.Sprintf("pod %d's next item waits for the old pods of a Recreate rollout to stop (after %d of %d deliveries): deliver their deletions first", *st.Pod, n, st.Count)}
			}
			s.advance(queue[*st.Pod][0].due)
			deliver(*st.Pod)
			s.recordPoint()
		}
	case OpSettle:
		s.drain()
	case OpWait:
		d, _ := ParseDuration(st.Duration) // Validate checked it
		s.advance(s.clock.now + d)
	}
	s.recordPoint() // the op's own effect, before anything is delivered
	switch {
	case s.trace.Schedule != Explicit:
		s.drain()
	case s.trace.DataPlane != Explicit:
		s.drainObjects()
	}
	if s.err != nil {
		return s.err // the backend failed: nothing after it is trusted
	}
	s.observe(st.Op)
	return nil
}

// Finish returns the result of the replay so far.
func (s *Sim) Finish() *Result {
	r := s.result
	r.Properties, r.Judge = s.trace.Properties, s.trace.Judge
	holds := r.judge
	r.Holds = true
	for _, c := range r.Checkpoints {
		r.Holds = r.Holds && holds(c.Complete, c.Disjoint)
	}
	if s.opts.Strict {
		for _, c := range r.Transient {
			r.Holds = r.Holds && holds(c.Complete, c.Disjoint)
		}
		for _, w := range r.Windows {
			r.Holds = r.Holds && holds(w.MaxGap == 0, w.MaxOverlap == 0)
		}
	}
	r.Pending = s.pending()
	r.Log = s.log
	if s.tl != nil && s.err == nil {
		r.Timeline = s.timelineResult()
	}
	return &r
}

// Pending returns the number of items waiting in pod ordinal's inbox (0
// for an ordinal that never existed): what a deliver step can take.
func (s *Sim) Pending(ordinal int) int {
	if ordinal < 0 || ordinal >= len(s.inbox) {
		return 0
	}
	return len(s.inbox[ordinal])
}

// Quiescent reports whether no item is waiting in any inbox.
func (s *Sim) Quiescent() bool { return s.pending() == 0 }

func (s *Sim) pending() int {
	n := 0
	for _, in := range s.inbox {
		n += len(in)
	}
	for _, q := range s.objq {
		n += len(q)
	}
	return n + s.nodePending()
}

// PendingObjects returns the number of items waiting in pod ordinal's
// objects stream.
func (s *Sim) PendingObjects(ordinal int) int {
	if ordinal < 0 || ordinal >= len(s.objq) {
		return 0
	}
	return len(s.objq[ordinal])
}

// Configs returns the configuration of every serving pod, by ordinal then
// incarnation.
func (s *Sim) Configs() []PodConfig {
	var out []PodConfig
	for _, p := range s.pods {
		if p.state.Serving() {
			out = append(out, PodConfig{Pod: p.ordinal, Name: s.laneName(p), Shard: p.state.Config.Shard, Total: p.state.Config.Total})
		}
	}
	slices.SortStableFunc(out, func(a, b PodConfig) int { return a.Pod - b.Pod })
	return out
}

// observe evaluates the properties at the end of a step (or of the setup):
// a checkpoint when the point is quiescent, a transient entry otherwise.
func (s *Sim) observe(op string) {
	pods, cov := s.evaluate()
	if n := len(s.result.Windows); n > 0 && s.result.Windows[n-1].Step == s.step {
		s.result.Windows[n-1].Op = op
	}
	s.endStep()
	c := Checkpoint{
		Step: s.step, Op: op, Pods: pods,
		Start: Seconds(s.stepStart), At: Seconds(s.clock.now),
		Replicas: s.desired(),
		Complete: cov.Complete, Disjoint: cov.Disjoint,
		Gap: s.uidSet(cov.Gap), Overlap: s.uidSet(cov.Overlap),
		Objects: s.objects.Len(),
	}
	if s.ds != nil {
		c.Nodes = s.nodeCheckpoint()
		c.Complete = c.Complete && c.Nodes.Complete
		c.Disjoint = c.Disjoint && c.Nodes.Disjoint
	}
	if s.Quiescent() {
		if !c.Holds() {
			c.Healing = Permanent
		}
		s.result.Checkpoints = append(s.result.Checkpoints, c)
		return
	}
	c.Pending = s.pending()
	s.result.Transient = append(s.result.Transient, c)
}

// evaluate checks the properties against what the serving pods export
// now. A pod whose store is synced is judged by its configuration (the
// same objects, and no per-object work when all agree); the others by the
// UIDs their stores hold.
func (s *Sim) evaluate() ([]PodConfig, Coverage) { return s.evaluateFor(s.desired()) }

// evaluateFor is evaluate as if desired pods were wanted: with none,
// completeness is not required (no gap).
func (s *Sim) evaluateFor(desired int) ([]PodConfig, Coverage) {
	if pods, cov, ok := s.exportCoverage(desired); ok {
		return pods, cov
	}
	var pods []PodConfig
	var configs []model.Config
	var stores, behind [][]string
	for _, p := range s.pods {
		if !p.state.Serving() {
			continue
		}
		pods = append(pods, PodConfig{Pod: p.ordinal, Name: s.laneName(p), Shard: p.state.Config.Shard, Total: p.state.Config.Total, Exported: s.exported(p)})
		if s.synced(p) {
			configs = append(configs, p.state.Config)
			continue
		}
		if missing, ok := s.behind(p); ok {
			configs = append(configs, p.state.Config)
			if len(missing) > 0 {
				behind = append(behind, missing)
			}
			continue
		}
		if st := s.storeOf(p); len(st) > 0 {
			stores = append(stores, st)
		}
	}
	slices.SortStableFunc(pods, func(a, b PodConfig) int { return a.Pod - b.Pod })
	return pods, s.objects.EvaluateStores(configs, stores, behind, desired)
}

// measureWindow records the properties at an intermediate point into the
// current step's transient window.
func (s *Sim) measureWindow() {
	_, cov := s.evaluate()
	gap, overlap := len(cov.Gap), len(cov.Overlap)
	if s.ds != nil {
		gap += len(s.ds.gap)
		overlap += len(s.ds.overlap)
	}
	ws := s.result.Windows
	if len(ws) == 0 || ws[len(ws)-1].Step != s.step {
		ws = append(ws, Window{Step: s.step})
	}
	w := &ws[len(ws)-1]
	w.States++
	if gap > 0 || overlap > 0 {
		w.Violated++
	}
	w.MaxGap = max(w.MaxGap, gap)
	w.MaxOverlap = max(w.MaxOverlap, overlap)
	s.result.Windows = ws
}

func (s *Sim) uidSet(idx []int) UIDSet {
	u := UIDSet{Count: len(idx), UIDs: make([]string, len(idx))}
	all := s.objects.UIDs()
	for i, j := range idx {
		u.UIDs[i] = all[j]
	}
	return u
}

// write updates the StatefulSet and queues the resulting watch events.
func (s *Sim) write(mutate func(*appsv1.StatefulSet)) {
	old, cur := s.api.Update(mutate)
	if cur == nil {
		s.logf(LogNoWrite, -1, "", "StatefulSet unchanged: no write, no watch event")
		return
	}
	if s.err != nil {
		return // the backend failed: nothing more reaches it
	}
	if err := s.backend.Write(cur); err != nil {
		s.err = fmt.Errorf("%s backend: write StatefulSet: %w", s.backend.Name(), err)
	}
	s.logf(LogWrite, -1, "", "StatefulSet %s written at resourceVersion %s: %s", cur.Name, cur.ResourceVersion, describe(cur))
	for _, p := range s.pods {
		if !p.watching {
			continue
		}
		if ev, ok := WatchEvent(p.selector, old, cur); ok {
			s.push(p.ordinal, item{kind: itemEvent, pod: p, event: ev})
		}
	}
}

// reconcile is the StatefulSet controller's sync
// (pkg/controller/statefulset/stateful_set_control.go, updateStatefulSet):
// it creates the missing ordinals below spec.replicas and deletes the pods
// at or above it. A pod being deleted is replaced only once it is gone.
// Under OrderedReady ("monotonic") it creates one pod per sync, and only
// when every pod below it is Running and Ready; it waits for a pod that is
// terminating or not Ready; and it deletes the condemned pods one at a
// time, the highest ordinal first, once all the others are Ready. Under
// Parallel it does all of it at once. The simulator syncs after every
// write of the StatefulSet and every delivery that may change a pod's
// readiness.
func (s *Sim) reconcile() {
	if s.api.StatefulSet == nil {
		return
	}
	want := int(*s.api.StatefulSet.Spec.Replicas)
	for len(s.inbox) < want {
		s.inbox = append(s.inbox, nil)
		s.objq = append(s.objq, nil)
	}
	if !s.orderedReady() {
		// Everything at once. A deleted pod's replacement is created
		// now, its start queued behind the deletion in the ordinal's
		// inbox: it starts once the old pod is gone.
		for o := range s.inbox {
			p := s.newest(o)
			alive := p != nil && !p.stopping && p.state.Phase != model.Stopped
			switch {
			case o < want && !alive:
				s.create(o)
			case o >= want && alive:
				s.stop(p)
			}
		}
		return
	}
	// OrderedReady ("monotonic"). processReplica, for each ordinal below
	// spec.replicas in order: create the first missing pod and stop;
	// wait for a pod that is terminating or not Running and Ready.
	for o := range want {
		p := s.newest(o)
		switch {
		case p == nil || p.state.Phase == model.Stopped:
			s.create(o)
			return
		case p.stopping:
			return // "waiting for Pod to Terminate"
		case !p.state.Ready():
			return // "waiting for Pod to be Running and Ready"
		}
	}
	// processCondemned, the highest ordinal first, one at a time: wait
	// for a terminating one, and for one not Ready unless it is the first
	// unhealthy pod (the lowest such ordinal).
	var firstUnhealthy *pod
	for o := want; o < len(s.inbox); o++ {
		if p := s.newest(o); p != nil && p.state.Phase != model.Stopped && !p.state.Ready() {
			firstUnhealthy = p
			break
		}
	}
	for o := len(s.inbox) - 1; o >= want; o-- {
		p := s.newest(o)
		switch {
		case p == nil || p.state.Phase == model.Stopped:
			continue
		case p.stopping:
			return // "waiting for Pod to Terminate prior to scale down"
		case !p.state.Ready() && p != firstUnhealthy:
			return
		}
		s.stop(p)
		return
	}
}

func (s *Sim) newest(ordinal int) *pod {
	if ordinal < len(s.latest) {
		return s.latest[ordinal]
	}
	return nil
}

func (s *Sim) podName(ordinal int) string {
	return s.api.StatefulSet.Name + "-" + strconv.Itoa(ordinal)
}

func (s *Sim) create(ordinal int) {
	s.createPod(ordinal, s.podName(ordinal), model.AutoshardingFlags(), nil)
}

// createPod creates a pod incarnation named name in lane ordinal, with
// KSM flags f; its start waits for the pods of waitStopped to stop.
func (s *Sim) createPod(ordinal int, name string, f model.Flags, waitStopped []*pod) {
	s.nextUID++
	p := &pod{ordinal: ordinal, flags: f, uid: fmt.Sprintf("pod-%d", s.nextUID), state: model.NewPod(name)}
	if s.err == nil { // after a backend failure no new pod reaches it
		var err error
		if p.runner, err = s.newRunner(p); err != nil {
			s.err = fmt.Errorf("%s backend: create pod %s: %w", s.backend.Name(), p.state.Name, err)
		}
	}
	s.pods = append(s.pods, p)
	for len(s.latest) <= ordinal {
		s.latest = append(s.latest, nil)
	}
	s.latest[ordinal] = p
	if f.Autosharding {
		s.push(ordinal, item{kind: itemGet, pod: p, waitStopped: waitStopped})
		s.push(ordinal, item{kind: itemList, pod: p})
		s.logf(LogCreated, ordinal, p.uid, "created; start queued (GET, then LIST)")
		return
	}
	s.push(ordinal, item{kind: itemStart, pod: p, waitStopped: waitStopped})
	s.logf(LogCreated, ordinal, p.uid, "%s created with %s; start queued", name, strings.Join(f.Args(name, s.api.Namespace), " "))
}

// newRunner asks the backend for pod p's runner.
func (s *Sim) newRunner(p *pod) (PodRunner, error) {
	if p.flags.Autosharding {
		return s.backend.NewPod(p.state.Name, p.uid)
	}
	fb, ok := s.backend.(FlagsBackend)
	if !ok {
		return nil, fmt.Errorf("the %s backend runs autosharding pods only, not %s (%w)", s.backend.Name(), p.flags, ErrUnsupported)
	}
	return fb.NewPodWithFlags(p.state.Name, p.uid, p.flags)
}

// newLane adds a lane named name and returns its index.
func (s *Sim) newLane(name string) int {
	s.inbox = append(s.inbox, nil)
	s.objq = append(s.objq, nil)
	for len(s.lanes) < len(s.inbox)-1 {
		s.lanes = append(s.lanes, "")
	}
	s.lanes = append(s.lanes, name)
	return len(s.inbox) - 1
}

// laneName is the name of p's lane in reports: empty for a StatefulSet
// ordinal, whose number says it.
func (s *Sim) laneName(p *pod) string {
	if p.ordinal < len(s.lanes) {
		return s.lanes[p.ordinal]
	}
	return ""
}

// replacementName names the pod that replaces p in its lane (a restart of
// a Deployment's pod: its ReplicaSet creates a new one).
func (s *Sim) replacementName(p *pod) string {
	for _, d := range s.deployments {
		if i := slices.Index(d.lanes, p.ordinal); i >= 0 {
			return d.nextPodName()
		}
	}
	return p.state.Name + "-restarted"
}

// orderedReady reports whether the StatefulSet's pods are managed
// OrderedReady (its default), not Parallel.
func (s *Sim) orderedReady() bool {
	return s.trace.Cluster.StatefulSet.PodManagementPolicy != appsv1.ParallelPodManagement
}

// desired is the number of pods the cluster wants: the StatefulSet's
// spec.replicas, or the Deployments' replicas summed. With none wanted,
// completeness is not required.
func (s *Sim) desired() int {
	if s.api.StatefulSet != nil {
		return int(*s.api.StatefulSet.Spec.Replicas)
	}
	return s.desiredStatic()
}

func (s *Sim) stop(p *pod) {
	if p.stopping || p.state.Phase == model.Stopped {
		return
	}
	p.stopping = true
	s.push(p.ordinal, item{kind: itemStop, pod: p})
	s.logf(LogDeletionQueued, p.ordinal, p.uid, "deletion queued")
}

// drain delivers every queued item, the earliest due first (clock.go),
// until nothing is left that can be delivered.
func (s *Sim) drain() {
	for s.err == nil {
		str, lane, ok := s.next(-1)
		if !ok {
			return
		}
		s.deliverNext(str, lane)
	}
}

// drainObjects delivers the objects streams only (the eager data plane
// under the explicit schedule), the earliest due first.
func (s *Sim) drainObjects() {
	for s.err == nil {
		str, lane, ok := s.next(streamObjects)
		if !ok {
			return
		}
		s.deliverNext(str, lane)
	}
}

// deliver processes the head of pod ordinal's inbox: the only place where
// a pod's state changes, always through model.Step.
func (s *Sim) deliver(ordinal int) {
	if s.err != nil {
		return // the backend failed: stop at the first error
	}
	it := s.inbox[ordinal][0]
	s.inbox[ordinal] = s.inbox[ordinal][1:]
	p := it.pod
	var ev model.Event
	var what string
	var kind LogKind
	switch it.kind {
	case itemStart:
		kind = LogStarted
		ev = model.Started{Shard: p.flags.Shard, TotalShards: p.flags.TotalShards}
		what = "started: " + strings.Join(p.flags.Args(p.state.Name, s.api.Namespace), " ")
	case itemGet:
		kind = LogGet
		ev = model.Got{StatefulSet: s.api.StatefulSet}
		what = "GET StatefulSet " + s.api.StatefulSet.Name + " at resourceVersion " + s.api.StatefulSet.ResourceVersion + ": " + describe(s.api.StatefulSet)
		if reason, fails := s.startFails(p); fails {
			ev = model.StartFailed{Reason: reason}
			what = "GET failed: " + reason
		}
	case itemRestart:
		kind = LogRestarted
		ev = model.ContainerRestarted{}
		what = "the kubelet restarts the container after its back-off"
	case itemList:
		sel, err := model.ParseSelector(p.state.ListOptions)
		if err != nil {
			s.logf(LogListFailed, ordinal, p.uid, "LIST failed: 400 Bad Request: %v; the informer never syncs", err)
			return
		}
		kind = LogList
		// The informer's first LIST asks resourceVersion "0" (a lagging
		// watch cache answers it); a relist after 410 Gone asks its last
		// resourceVersion, which the cache answers at its current one.
		// A reflector that asks for a watch list first, answered, reads
		// the current StatefulSet.
		watchList := s.reducer.ListWatch().WatchList && s.apiConfig.WatchList
		rv := s.api.rv
		if !it.relist && !watchList {
			rv = s.api.lagged(s.apiConfig.WatchCache)
		}
		items := s.api.listAt(sel, rv)
		p.selector, p.ssRV = sel, rv
		ev = model.Listed{Items: items}
		what = fmt.Sprintf("LIST (%s) returned %d StatefulSet(s) at resourceVersion %d; WATCH from there", sel, len(items), rv)
		if watchList {
			what = fmt.Sprintf("WATCH LIST (%s) sent %d StatefulSet(s) and the initial-events-end bookmark at resourceVersion %d; the watch goes on", sel, len(items), rv)
		}
		if it.relist && !watchList {
			what = "re" + what
		} else if it.relist {
			what += " (ListAndWatch again after 410 Gone)"
		}
		defer s.watchStatefulSet(p)
	case itemSSWatchEnd, itemSSExpired:
		s.deliverWatchEnd(it)
		return
	case itemEvent:
		p.ssRV = specRV(it.event.Object)
		kind = LogKind("watch-" + strings.ToLower(string(it.event.Type)))
		ev = it.event
		what = fmt.Sprintf("watch %s StatefulSet %s resourceVersion %s: %s", it.event.Type, it.event.Object.Name, it.event.Object.ResourceVersion, describe(it.event.Object))
	case itemStop:
		kind = LogStopped
		ev = model.Stop{}
		what = "deleted"
		p.watching, p.dataWatch = false, false
		// The watch is closed: events still queued for it are never read.
		s.inbox[ordinal] = slices.DeleteFunc(s.inbox[ordinal], func(x item) bool { return x.pod == p })
		s.dropObjectItems(p, func(item) bool { return true })
	}
	before := p.state.Config
	if p.runner == nil {
		return // the backend failed to create the pod: s.err is set
	}
	state, outcome, err := p.runner.Deliver(ev)
	if err != nil {
		s.err = fmt.Errorf("%s backend: pod %s: %w", s.backend.Name(), p.state.Name, err)
		return
	}
	serving := p.state.Serving()
	p.state = state
	if state.Serving() && before != state.Config {
		s.configureSharding(p)
	}
	if it.kind == itemStop {
		// A stopped incarnation serves and watches nothing: dropping it
		// keeps a step's cost independent of the restarts before it.
		s.pods = slices.DeleteFunc(s.pods, func(x *pod) bool { return x == p })
	}
	s.afterStart(p, it.kind)
	// The setup (step -1) is not measured: a trace starts settled.
	if s.opts.Windows && s.step >= 0 && (before != state.Config || serving != state.Serving()) {
		s.measureWindow()
	}
	s.log = append(s.log, LogEntry{
		Step: s.step, At: Seconds(s.clock.now), Kind: kind, Pod: ordinal, PodUID: p.uid, Event: what, Outcome: outcome,
		Config: p.state.Config, Changed: before != p.state.Config, event: ev,
	})
	if p.flags.Autosharding && s.orderedReady() && (it.kind == itemGet || it.kind == itemStop) {
		// The pod's readiness changed, or it is gone: what OrderedReady
		// waits for. (Parallel has nothing to wait for.)
		s.reconcile()
	}
}

func (s *Sim) logf(kind LogKind, ordinal int, uid, format string, args ...any) {
	s.log = append(s.log, LogEntry{Step: s.step, At: Seconds(s.clock.now), Kind: kind, Pod: ordinal, PodUID: uid, Event: fmt.Sprintf(format, args...)})
}

// describe renders the fields of a StatefulSet the model reads.
func describe(ss *appsv1.StatefulSet) string {
	keys := sortedKeys(ss.Labels)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + ss.Labels[k]
	}
	replicas := "nil"
	if ss.Spec.Replicas != nil {
		replicas = strconv.Itoa(int(*ss.Spec.Replicas))
	}
	return fmt.Sprintf("replicas=%s labels={%s}", replicas, strings.Join(parts, ","))
}
