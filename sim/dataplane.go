package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

// This file is the data plane: each pod's objects store and reflector
// (model.Reflector), and the API server's side of their list/watch
// protocol (DESIGN.md, "The API server's list/watch protocol").

// objectWrite is one write of the objects: a create or delete op, all at
// one resourceVersion.
type objectWrite struct {
	rv               uint64
	created, deleted []string
}

// pageKey names one page of the current objects for the SplitPage memo:
// the set's generation, where the page starts, its size and the total.
type pageKey struct {
	gen    uint64
	lo, hi int
	total  int
}

// objectsAt returns the live UIDs at revision rv, sorted, and whether
// they are the current objects (s.objects.UIDs() itself, in the
// ObjectSet's order). Older states are rebuilt from the current one by
// undoing the writes after rv, newest first.
func (s *Sim) objectsAt(rv uint64) (uids []string, current bool) {
	n := len(s.objWrites)
	i := n
	for i > 0 && s.objWrites[i-1].rv > rv {
		i--
	}
	if i == n {
		return s.objects.UIDs(), true
	}
	live := map[string]bool{}
	for j := n - 1; j >= i; j-- {
		for _, u := range s.objWrites[j].created {
			live[u] = false
		}
		for _, u := range s.objWrites[j].deleted {
			live[u] = true
		}
	}
	var out []string
	for _, u := range s.objects.UIDs() {
		if in, touched := live[u]; !touched || in {
			out = append(out, u)
			delete(live, u)
		}
	}
	for u, in := range live { // deleted since rv: live then
		if in {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out, false
}

// continueToken encodes a page's position: the revision the list is
// pinned to and the last key returned.
func continueToken(rv uint64, after string) string {
	return strconv.FormatUint(rv, 10) + "/" + after
}

func parseContinue(tok string) (rv uint64, after string) {
	r, a, _ := strings.Cut(tok, "/")
	return model.ParseResourceVersion(r), a
}

// planList is how the API server answers a reflector's LIST request now:
// PlanList over the request, the server's configuration and its state.
func (s *Sim) planList(req model.Request) ListRead {
	q := ListQuery{ResourceVersion: req.ResourceVersion, Limit: req.Limit}
	if req.Continue != "" {
		q.Continue = true
		q.ContinueRev, q.ContinueAfter = parseContinue(req.Continue)
	}
	return PlanList(q, s.apiConfig, s.api.rv, s.api.compacted, s.api.lagged(s.apiConfig.WatchCache))
}

// serveObjects answers a LIST of the objects by PlanList's rules. For a
// page of the current objects, key locates it in the ObjectSet (current
// is true).
func (s *Sim) serveObjects(req model.Request) (p model.Page, key pageKey, current bool) {
	rd := s.planList(req)
	if rd.Expired {
		return model.Page{Expired: true}, key, false
	}
	rv, after, limit := rd.Rev, rd.After, rd.Limit
	uids, current := s.objectsAt(rv)
	lo, _ := slices.BinarySearch(uids, after)
	if after != "" && lo < len(uids) && uids[lo] == after {
		lo++
	}
	hi := len(uids)
	if limit > 0 && lo+limit < hi {
		hi = lo + limit
	}
	p = model.Page{UIDs: uids[lo:hi:hi], ResourceVersion: strconv.FormatUint(rv, 10), Whole: lo == 0 && hi == len(uids)}
	if hi < len(uids) {
		p.Continue = continueToken(rv, uids[hi-1])
	}
	return p, pageKey{gen: s.objects.gen, lo: lo, hi: hi}, current
}

// answerList answers pod p's LIST request and filters the page through
// KSM's sharded List for p, splitting each page once per total for all
// the pods that list it.
func (s *Sim) answerList(p *pod) model.ObjectsListed {
	page, key, current := s.serveObjects(p.data.Request)
	r := &p.data
	switch {
	case !current || page.Expired || page.Whole:
		// The reflector filters (a whole list it need not: its store
		// is then Whole, which storeOf resolves).
		return model.ObjectsListed{Page: page}
	case r.Shard == 0 && r.Total == 1:
		// The plain ListWatch keeps the page. A page of the current
		// objects is a window on the ObjectSet, which later writes move:
		// the store gets its own copy.
		page.UIDs = slices.Clone(page.UIDs)
		return model.ObjectsListed{Page: page}
	case r.Total < 2 || r.Shard < 0 || int(r.Shard) >= r.Total:
		kept := model.ShardedList(page, r.Shard, r.Total, r.Rules) // keeps nothing, without hashing
		return model.ObjectsListed{Page: page, Kept: &kept}
	}
	key.total = r.Total
	split, ok := s.splits[key]
	if !ok {
		split = model.SplitPage(page, r.Total, r.Rules, s.objects.Owners(r.Total)[key.lo:key.hi])
		if s.splits == nil {
			s.splits = map[pageKey][]model.Page{}
		}
		s.splits[key] = split
	}
	kept := split[r.Shard]
	kept.ResourceVersion = page.ResourceVersion // the same page of the same set, at another revision
	if !r.Rules.DropsContinue {
		kept.Continue = page.Continue
	}
	return model.ObjectsListed{Page: page, Kept: &kept}
}

// answerWatchList answers a watch list (sendInitialEvents=true,
// resourceVersionMatch=NotOlderThan): refused without the WatchList
// feature gate; otherwise an ADDED event for every current object and the
// initial-events-end bookmark at the current resourceVersion, with or
// without the watch cache (DESIGN.md: the API server's list/watch
// protocol). Every resourceVersion a reflector asks is at most the
// current one, so the answer is the current state.
func (s *Sim) answerWatchList() model.ObjectsStreamed {
	if !s.apiConfig.WatchList {
		return model.ObjectsStreamed{Refused: true}
	}
	return model.ObjectsStreamed{Page: model.Page{UIDs: s.objects.UIDs(), ResourceVersion: strconv.FormatUint(s.api.rv, 10), Whole: true}}
}

// configureSharding is MetricsHandler.ConfigureSharding after pod p's
// configuration changed: its stores are rebuilt, empty, and their new
// reflector starts listing. What the old reflector had in flight is
// dropped with its context.
func (s *Sim) configureSharding(p *pod) {
	s.dropObjectItems(p, func(item) bool { return true })
	c := p.state.Config
	p.data = model.NewReflector(c.Shard, c.Total, s.reducer.ListWatch(), s.apiConfig.PageSize)
	p.hasStore, p.dataWatch = true, false
	s.pushObjects(p.ordinal, item{kind: itemObjPage, pod: p})
	if or, ok := p.runner.(ObjectsRunner); ok && s.err == nil {
		if err := or.ConfigureSharding(c.Shard, c.Total, s.apiConfig.PageSize); err != nil {
			s.err = fmt.Errorf("%s backend: pod %s: ConfigureSharding: %w", s.backend.Name(), p.state.Name, err)
		}
	}
}

func (s *Sim) dropObjectItems(p *pod, drop func(item) bool) {
	s.objq[p.ordinal] = slices.DeleteFunc(s.objq[p.ordinal], func(x item) bool { return x.pod == p && drop(x) })
}

// follow queues what pod p's reflector asked for: its next page, or the
// opening of its watch. A watch from a compacted resourceVersion gets one
// ERROR event (410 Gone) and ends; otherwise the writes after that
// resourceVersion are replayed and later ones follow as they happen.
func (s *Sim) follow(p *pod) {
	r := p.data
	if !r.Watching {
		s.pushObjects(p.ordinal, item{kind: itemObjPage, pod: p})
		return
	}
	if p.dataWatch {
		return
	}
	from := model.ParseResourceVersion(r.Request.ResourceVersion)
	if from < s.api.compacted {
		s.pushObjects(p.ordinal, item{kind: itemObjWatchEnd, pod: p, expired: true})
		return
	}
	p.dataWatch = true
	for _, w := range s.objWrites {
		if w.rv > from {
			s.queueObjectWrite(p, w)
		}
	}
}

func (s *Sim) queueObjectWrite(p *pod, w objectWrite) {
	rv := strconv.FormatUint(w.rv, 10)
	if len(w.created) > 0 {
		s.pushObjects(p.ordinal, item{kind: itemObjEvent, pod: p,
			objects: model.ObjectsWatched{Type: watch.Added, UIDs: w.created, ResourceVersion: rv}})
	}
	if len(w.deleted) > 0 {
		s.pushObjects(p.ordinal, item{kind: itemObjEvent, pod: p,
			objects: model.ObjectsWatched{Type: watch.Deleted, UIDs: w.deleted, ResourceVersion: rv}})
	}
}

// recordObjectWrite keeps a write of the objects in the history and sends
// it to every open watch.
func (s *Sim) recordObjectWrite(created, deleted []string) {
	w := objectWrite{rv: s.api.rv, created: created, deleted: deleted}
	s.objWrites = append(s.objWrites, w)
	clear(s.splits) // a new generation of the set: the old keys never come back
	for _, p := range s.pods {
		if p.dataWatch {
			s.queueObjectWrite(p, w)
		}
	}
}

// deliverObjects processes the head of pod ordinal's objects stream.
func (s *Sim) deliverObjects(ordinal int) {
	it := s.objq[ordinal][0]
	s.objq[ordinal] = s.objq[ordinal][1:]
	p := it.pod
	var ev model.Event
	var kind LogKind
	var what string
	switch it.kind {
	case itemObjPage:
		kind = LogObjectsList
		what = p.data.Request.String()
		if p.data.Request.SendInitialEvents {
			streamed := s.answerWatchList()
			if streamed.Refused {
				what += ": 422 Invalid (sendInitialEvents is forbidden: the WatchList feature gate is off)"
			}
			ev = streamed
			break
		}
		listed := s.answerList(p)
		if listed.Page.Expired {
			what += ": 410 Gone (Expired)"
		}
		ev = listed
	case itemObjEvent:
		kind = LogObjectsWatch
		ev = it.objects
		what = fmt.Sprintf("watch %s of %d objects at resourceVersion %s", it.objects.Type, len(it.objects.UIDs), it.objects.ResourceVersion)
	case itemObjWatchEnd:
		kind = LogObjectsWatchEnd
		ev = model.WatchEnded{Expired: it.expired}
		what = "watch closed"
		if it.expired {
			what = "watch ERROR 410 Gone (too old resource version)"
		}
	}
	wasWatching := p.data.Watching
	var outcome string
	p.data, outcome = model.StepReflector(p.data, ev)
	s.follow(p)
	s.deliverToRunner(p, ev)
	// A window state per completed LIST (the store replaced); a watch
	// event's few objects are not worth an evaluation each.
	if s.opts.Windows && s.step >= 0 && it.kind == itemObjPage && !wasWatching && p.data.Watching {
		s.measureWindow()
	}
	s.log = append(s.log, LogEntry{
		Step: s.step, At: Seconds(s.clock.now), Kind: kind, Pod: ordinal, PodUID: p.uid, Event: what, Outcome: outcome,
		Config: p.state.Config,
	})
}

// deliverToRunner hands an objects item to a runner that runs the data
// plane on real code, and fails the replay if its reflector then differs
// from the model's: another request in flight, or other objects held.
func (s *Sim) deliverToRunner(p *pod, ev model.Event) {
	or, ok := p.runner.(ObjectsRunner)
	if !ok || s.err != nil {
		return
	}
	next, store, err := or.DeliverObjects(ev)
	if err != nil {
		s.err = fmt.Errorf("%s backend: pod %s: %w", s.backend.Name(), p.state.Name, err)
		return
	}
	if want := s.storeOf(p); next != p.data.Request || !slices.Equal(store, want) {
		s.err = fmt.Errorf("%s backend: pod %s: the real reflector differs from the model's: it asks %s and holds %d objects, the model asks %s and holds %d",
			s.backend.Name(), p.state.Name, next, len(store), p.data.Request, len(want))
	}
}

// storeOf returns the UIDs pod p's store holds, sorted: its Store, or for
// a Whole store the live objects at its resourceVersion that its shard
// keeps.
func (s *Sim) storeOf(p *pod) []string {
	r := p.data
	if !r.Whole {
		return r.Store
	}
	uids, current := s.objectsAt(model.ParseResourceVersion(r.StoreAt))
	var out []string
	if current && r.Total >= 1 {
		own := s.objects.Owners(r.Total)
		for i, u := range uids {
			if own[i] == r.Shard {
				out = append(out, u)
			}
		}
		return out
	}
	for _, u := range uids {
		if model.Keeps(u, r.Shard, r.Total) {
			out = append(out, u)
		}
	}
	return out
}

// exported counts the objects pod p's store holds. For a Whole store of
// the current objects it is the size of its shard among them
// (ObjectSet.ShardSizes).
func (s *Sim) exported(p *pod) int {
	r := p.data
	if !r.Whole {
		return len(r.Store)
	}
	if _, current := s.objectsAt(model.ParseResourceVersion(r.StoreAt)); !current || r.Total < 1 {
		return len(s.storeOf(p))
	}
	if r.Shard < 0 || int(r.Shard) >= r.Total {
		return 0
	}
	return s.objects.ShardSizes(r.Total)[r.Shard]
}

// synced reports whether pod p's store holds exactly the live objects its
// configuration keeps, so that judging it by its configuration is judging
// its exports: its reflector completed a list that was not cut short and
// has every write since (its stream is empty and its watch open). A pod
// with no store (never configured: 0/0) keeps nothing either way.
func (s *Sim) synced(p *pod) bool {
	if !p.hasStore {
		return true
	}
	r := p.data
	return r.Synced && !r.Truncated && !r.WaitingForBookmark && p.dataWatch && len(s.objq[p.ordinal]) == 0 &&
		r.Shard == p.state.Config.Shard && r.Total == p.state.Config.Total
}

// behind returns, for a pod whose store was synced and that only has
// object watch events pending, the live objects it keeps that those events
// add (sorted): its store is what its configuration keeps minus these. ok
// is false for any other pod. An object's first pending event decides:
// ADDED means the store does not hold it yet.
func (s *Sim) behind(p *pod) (missing []string, ok bool) {
	r := p.data
	if !p.hasStore || !r.Synced || r.Truncated || r.WaitingForBookmark || !p.dataWatch ||
		r.Shard != p.state.Config.Shard || r.Total != p.state.Config.Total {
		return nil, false
	}
	if len(s.objq[p.ordinal]) == 0 {
		return nil, true
	}
	first := map[string]bool{} // UID -> its first pending event adds it
	for _, it := range s.objq[p.ordinal] {
		if it.kind != itemObjEvent {
			return nil, false
		}
		for _, u := range it.objects.UIDs {
			if _, seen := first[u]; !seen {
				first[u] = it.objects.Type == watch.Added
			}
		}
	}
	live := s.objects.UIDs()
	for u, added := range first {
		if _, isLive := slices.BinarySearch(live, u); added && isLive && model.Keeps(u, r.Shard, r.Total) {
			missing = append(missing, u)
		}
	}
	slices.Sort(missing)
	return missing, true
}

// compact is the compact op: the history is compacted at the current
// revision.
func (s *Sim) compact() {
	s.api.compacted = s.api.rv
	if fb, ok := s.backend.(FaultBackend); ok && s.err == nil {
		if err := fb.Compact(s.api.ResourceVersion()); err != nil {
			s.err = fmt.Errorf("%s backend: compact: %w", s.backend.Name(), err)
		}
	}
	s.logf(LogFault, -1, "", "history compacted at resourceVersion %d: watches and exact reads from older ones get 410 Gone", s.api.rv)
}

// cacheLag is the cacheLag op.
func (s *Sim) cacheLag(writes int) {
	s.api.lag = writes
	if fb, ok := s.backend.(FaultBackend); ok && s.err == nil {
		if err := fb.CacheLag(writes); err != nil {
			s.err = fmt.Errorf("%s backend: cacheLag: %w", s.backend.Name(), err)
		}
	}
	if writes == 0 {
		s.logf(LogFault, -1, "", "watch cache lag ended: reads with resourceVersion \"0\" see the current state")
		return
	}
	plural := "s"
	if writes == 1 {
		plural = ""
	}
	s.logf(LogFault, -1, "", "watch cache lags %d write%s: reads with resourceVersion \"0\" see resourceVersion %d", writes, plural, s.api.lagged(true))
}

// disconnect is the disconnect op for one pod: every watch connection
// of its newest incarnation ends. Events sent on them and not yet read are
// lost; each reflector re-watches from its last resourceVersion.
func (s *Sim) disconnect(ordinal int) {
	p := s.newest(ordinal)
	if p == nil || p.state.Phase == model.Stopped {
		return
	}
	var ended []string
	if p.watching {
		p.watching = false
		s.inbox[ordinal] = slices.DeleteFunc(s.inbox[ordinal], func(x item) bool { return x.pod == p && x.kind == itemEvent })
		s.push(ordinal, item{kind: itemSSWatchEnd, pod: p})
		ended = append(ended, "StatefulSet")
	}
	if p.dataWatch {
		p.dataWatch = false
		s.dropObjectItems(p, func(x item) bool { return x.kind == itemObjEvent })
		s.pushObjects(ordinal, item{kind: itemObjWatchEnd, pod: p})
		ended = append(ended, "objects")
	}
	if d, ok := p.runner.(Disconnecter); ok && s.err == nil {
		if err := d.Disconnect(); err != nil {
			s.err = fmt.Errorf("%s backend: pod %s: disconnect: %w", s.backend.Name(), p.state.Name, err)
		}
	}
	if len(ended) == 0 {
		s.logf(LogFault, ordinal, p.uid, "disconnected: no watch open")
		return
	}
	s.logf(LogFault, ordinal, p.uid, "disconnected: %s watch ended", strings.Join(ended, " and "))
}

// configureBackend hands the trace's API server configuration to a
// FaultBackend, and refuses a trace that needs one from any other.
func (s *Sim) configureBackend() error {
	if tc, ok := s.backend.(TraceChecker); ok {
		if why := tc.Check(s.trace); why != "" {
			return fmt.Errorf("the %s backend does not model %s (%w); replay it with --backend model or --backend ksm", s.backend.Name(), why, ErrUnsupported)
		}
	}
	if _, ok := s.backend.(StartFailer); !ok {
		for i, st := range s.trace.Steps {
			switch st.Op {
			case OpFailStart, OpCrashLoop, OpRecover:
				return fmt.Errorf("the %s backend does not model failing start-ups: the %s op (steps[%d]) (%w); replay it with --backend model or --backend ksm", s.backend.Name(), st.Op, i, ErrUnsupported)
			}
		}
	}
	if fb, ok := s.backend.(FaultBackend); ok {
		return fb.ConfigureAPIServer(s.apiConfig)
	}
	if why := needsFaults(s.trace); why != "" {
		return fmt.Errorf("the %s backend does not model %s (%w); replay it with --backend model or --backend ksm", s.backend.Name(), why, ErrUnsupported)
	}
	return nil
}

// ErrUnsupported is a trace that uses what a backend does not model. It
// is also errors.ErrUnsupported (errors.Is says so).
var ErrUnsupported error = unsupportedError{}

type unsupportedError struct{}

func (unsupportedError) Error() string { return "not supported by this backend" }

func (unsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// needsFaults names the first thing in t that only a FaultBackend models,
// or returns "".
func needsFaults(t *Trace) string {
	if t.Cluster.Config() != (APIServerConfig{WatchCache: true, WatchList: true, PageSize: model.DefaultPageSize}) {
		return "a non-default cluster.apiServer or cluster.pageSize"
	}
	if t.DataPlane == Explicit {
		return `"dataPlane": "explicit"`
	}
	for i, st := range t.Steps {
		if st.IsFault() {
			return fmt.Sprintf("the %s op (steps[%d])", st.Op, i)
		}
	}
	return ""
}

// watchStatefulSet opens pod p's informer watch from its last synced
// resourceVersion: the writes after it arrive first (a lagged LIST is
// followed by what it missed), then later writes as they happen. From a
// compacted resourceVersion the watch gets 410 Gone instead.
func (s *Sim) watchStatefulSet(p *pod) {
	if s.err != nil || p.state.Phase == model.Stopped || p.stopping {
		return
	}
	evs, expired := s.api.watchFrom(p.selector, p.ssRV)
	if expired {
		s.push(p.ordinal, item{kind: itemSSExpired, pod: p})
		return
	}
	p.watching = true
	for _, ev := range evs {
		s.push(p.ordinal, item{kind: itemEvent, pod: p, event: ev})
	}
}

// deliverWatchEnd is the informer noticing its watch ended: closed, it
// re-watches from its last resourceVersion; with 410 Gone it relists
// (client-go Reflector.watch, then ListAndWatch again). The pod's handlers
// see nothing of either.
func (s *Sim) deliverWatchEnd(it item) {
	p := it.pod
	if it.kind == itemSSWatchEnd {
		s.logf(LogWatchEnd, p.ordinal, p.uid, "informer watch closed: re-WATCH from resourceVersion %d", p.ssRV)
		if rw, ok := p.runner.(Rewatcher); ok && s.err == nil {
			if err := rw.Rewatch(); err != nil {
				s.err = fmt.Errorf("%s backend: pod %s: re-watch: %w", s.backend.Name(), p.state.Name, err)
				return
			}
		}
		s.watchStatefulSet(p)
		return
	}
	s.logf(LogWatchEnd, p.ordinal, p.uid, "informer watch ERROR 410 Gone (resourceVersion %d compacted): relist", p.ssRV)
	s.push(p.ordinal, item{kind: itemList, pod: p, relist: true})
}
