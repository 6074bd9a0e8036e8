package ksm

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
)

// This file is DaemonSet sharding on the API server: the trace's pods
// (sim.PodWriter), served to KSM pods run with --resources=pods and
// --node or --track-unscheduled-pods, as the kube-apiserver serves them.
//
// A trace pod is a v1.Pod named by its UID, in the trace's namespace,
// with spec.nodeName its node ("" while unscheduled) and status.phase
// Pending while unscheduled, Running once bound. LIST and WATCH of
// /api/v1/pods (KSM lists cluster-wide: --namespaces defaults to all) and
// of /api/v1/namespaces/NS/pods take a field selector, parsed by
// k8s.io/apimachinery/pkg/fields and matched against the pod's selectable
// fields (pkg/registry/core/pod ToSelectableFields); an unknown field is
// 400 "field label not supported". A watch is filtered per watcher as the
// watch cache's cacheWatcher filters it: a pod that enters the selector
// is ADDED, one that leaves it (or is deleted) DELETED with its previous
// content at the event's resourceVersion, one that stays in it and
// changes MODIFIED. The KSM pods' own Pod objects are not listed: they
// are not the trace's pods.
//
// A KSM pod's pods reflector is held item by item, as the simulator
// schedules it (sim.ObjectsRunner): its LIST and its watch list wait at
// the server until DeliverObjects answers them, after checking that the
// server's own answer is the simulator's page; the events of its watch
// are queued and written one write at a time as the simulator delivers
// them. The MODIFIED events the simulator leaves out (a binding, for a KSM
// pod that watches every pod), which change no store's membership, go
// through as soon as nothing is queued before them; the backend checks
// that the pod's store is unchanged after them (WritePods).

// tracePod is one live pod of the trace: its node and the resourceVersion
// of its last write.
type tracePod struct {
	node string
	rv   uint64
}

// podChange is one pod's part of a write of the pods: its node before
// (was: it existed) and after (is: it still exists).
type podChange struct {
	uid      string
	from, to string
	was, is  bool
}

// podsWrite is one write of the pods, at resourceVersion rv.
type podsWrite struct {
	rv      uint64
	changes []podChange
}

// podEvent is one watch event of a pod, as a watcher's selector makes it.
type podEvent struct {
	typ watch.EventType
	uid string
	rv  uint64
	obj *corev1.Pod
}

// podsReflector is what the server knows of a KSM pod's pods reflector.
type podsReflector struct {
	// hold holds its LIST or watch list, sent with query (sel, ours
	// parsed from it), until DeliverObjects sets reply and releases it.
	hold      hold
	query     url.Values
	sel       fields.Selector
	ours      bool
	watchList bool
	reply     *podsReply
	// stream is its open watch (or watch list, once answered), from
	// resourceVersion rv as the simulator words the request; queue its
	// events not yet delivered.
	stream *stream
	rv     string
	queue  []podEvent
}

// podsReply is the answer DeliverObjects computed for the held request:
// a LIST's list or error, a watch list's initial pods at rv or error.
type podsReply struct {
	list    *corev1.PodList
	err     *apierrors.StatusError
	initial []*corev1.Pod
	rv      uint64
}

// podSelectableFields are the pod registry's selectable fields
// (pkg/registry/core/pod ToSelectableFields) of a trace pod.
func podSelectableFields(namespace, uid, node string) fields.Set {
	return fields.Set{
		"metadata.name":            uid,
		"metadata.namespace":       namespace,
		"spec.nodeName":            node,
		"spec.restartPolicy":       string(corev1.RestartPolicyAlways),
		"spec.schedulerName":       corev1.DefaultSchedulerName,
		"spec.serviceAccountName":  "default",
		"spec.hostNetwork":         "false",
		"status.phase":             string(podPhase(node)),
		"status.podIP":             "",
		"status.podIPs":            "",
		"status.nominatedNodeName": "",
	}
}

func podPhase(node string) corev1.PodPhase {
	if node == "" {
		return corev1.PodPending
	}
	return corev1.PodRunning
}

// parsePodFieldSelector parses a field selector on pods as the API server
// does: apimachinery's parser, then every field must be selectable.
func parsePodFieldSelector(s string) (fields.Selector, error) {
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, err
	}
	known := podSelectableFields("", "", "")
	for _, r := range sel.Requirements() {
		if _, ok := known[r.Field]; !ok {
			return nil, fmt.Errorf("field label not supported: %s", r.Field)
		}
	}
	return sel, nil
}

// tracePodObject is the trace pod uid as bound to node, at rv.
func (s *server) tracePodObject(uid, node string, rv uint64) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: uid, Namespace: s.namespace, UID: types.UID(uid), ResourceVersion: strconv.FormatUint(rv, 10),
		},
		Spec: corev1.PodSpec{
			NodeName: node, RestartPolicy: corev1.RestartPolicyAlways, SchedulerName: corev1.DefaultSchedulerName,
			ServiceAccountName: "default",
			Containers:         []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}},
		},
		Status: corev1.PodStatus{Phase: podPhase(node)},
	}
}

// matchesPod reports whether sel selects the trace pod uid bound to node.
func (s *server) matchesPod(sel fields.Selector, uid, node string) bool {
	return sel.Matches(podSelectableFields(s.namespace, uid, node))
}

// setPods records one write of the pods at resourceVersion rv: uids[i]
// created or bound to nodes[i], or, with deleted, the uids deleted. Each
// open pods watch gets the events its selector makes of it: a KSM pod's
// are queued until the simulator delivers them, any other client's are
// sent at once.
func (s *server) setPods(uids, nodes []string, deleted bool, rv string) error {
	if !deleted && len(nodes) != len(uids) {
		return fmt.Errorf("%d pods written with %d nodes", len(uids), len(nodes))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump(rv)
	w := podsWrite{rv: s.rv}
	for i, u := range uids {
		old, was := s.tracePods[u]
		c := podChange{uid: u, from: old.node, was: was}
		switch {
		case deleted && !was:
			continue
		case deleted:
			c.to = old.node
			delete(s.tracePods, u)
		default:
			c.to, c.is = nodes[i], true
			s.tracePods[u] = tracePod{node: nodes[i], rv: s.rv}
		}
		w.changes = append(w.changes, c)
	}
	if len(w.changes) == 0 {
		return nil
	}
	s.podsHistory = append(s.podsHistory, w)
	for st := range s.streams {
		if !st.pods || !st.podsOurs {
			continue
		}
		evs := s.podEvents(st.podsSel, w)
		if p := st.pod; p != nil && p.pods.stream == st {
			p.pods.queue = append(p.pods.queue, evs...)
			continue
		}
		for _, e := range evs {
			s.send(st, encodeEvent(e.typ, e.obj))
		}
	}
	s.changed()
	return nil
}

// podEvents is what a watcher with selector sel gets of write w, as the
// watch cache's cacheWatcher makes it: ADDED for a pod that enters sel,
// DELETED (its previous content at w's resourceVersion) for one that
// leaves it or is deleted, MODIFIED for one that stays and changes; each
// kind in UID order, ADDED first, then DELETED, then MODIFIED (the
// simulator's order within one write); s.mu is held.
func (s *server) podEvents(sel fields.Selector, w podsWrite) []podEvent {
	var added, deleted, modified []podEvent
	for _, c := range w.changes {
		before := c.was && s.matchesPod(sel, c.uid, c.from)
		after := c.is && s.matchesPod(sel, c.uid, c.to)
		switch {
		case !before && after:
			added = append(added, podEvent{watch.Added, c.uid, w.rv, s.tracePodObject(c.uid, c.to, w.rv)})
		case before && !after:
			deleted = append(deleted, podEvent{watch.Deleted, c.uid, w.rv, s.tracePodObject(c.uid, c.from, w.rv)})
		case before && after && c.from != c.to:
			modified = append(modified, podEvent{watch.Modified, c.uid, w.rv, s.tracePodObject(c.uid, c.to, w.rv)})
		}
	}
	for _, evs := range [][]podEvent{added, deleted, modified} {
		slices.SortFunc(evs, func(a, b podEvent) int { return strings.Compare(a.uid, b.uid) })
	}
	return slices.Concat(added, deleted, modified)
}

// podsAt returns the trace pods live at revision rev; s.mu is held.
func (s *server) podsAt(rev uint64) map[string]tracePod {
	if rev >= s.rv {
		return s.tracePods
	}
	at := map[string]tracePod{}
	for _, w := range s.podsHistory {
		if w.rv > rev {
			break
		}
		for _, c := range w.changes {
			if c.is {
				at[c.uid] = tracePod{node: c.to, rv: w.rv}
			} else {
				delete(at, c.uid)
			}
		}
	}
	return at
}

// selectedPods returns the names (UIDs) of the pods at rev that sel
// selects, in etcd key order; s.mu is held.
func (s *server) selectedPods(sel fields.Selector, ours bool, rev uint64) ([]string, map[string]tracePod) {
	if !ours {
		return nil, nil
	}
	at := s.podsAt(rev)
	var names []string
	for u, p := range at {
		if s.matchesPod(sel, u, p.node) {
			names = append(names, u)
		}
	}
	sort.Strings(names)
	return names, at
}

// podList answers a LIST of the pods by the rules of every LIST
// (listRead); s.mu is held.
func (s *server) podList(sel fields.Selector, ours bool, q url.Values) (*corev1.PodList, *apierrors.StatusError) {
	rd, err := s.listRead(q)
	if err != nil {
		return nil, err
	}
	names, at := s.selectedPods(sel, ours, rd.rev)
	page, cont, remaining := rd.page(names)
	list := &corev1.PodList{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"},
		ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(rd.rev, 10), Continue: cont, RemainingItemCount: remaining},
		Items:    []corev1.Pod{},
	}
	for _, u := range page {
		list.Items = append(list.Items, *s.tracePodObject(u, at[u].node, at[u].rv))
	}
	return list, nil
}

// watchListInitial is a watch list's initial pods: those sel selects
// now, in key order; s.mu is held.
func (s *server) watchListInitial(sel fields.Selector, ours bool) []*corev1.Pod {
	names, at := s.selectedPods(sel, ours, s.rv)
	out := make([]*corev1.Pod, len(names))
	for i, u := range names {
		out[i] = s.tracePodObject(u, at[u].node, at[u].rv)
	}
	return out
}

// listPods serves LIST and WATCH of the pods. A KSM pod's LIST and watch
// list wait until the simulator delivers their answer; its watch events
// are queued (setPods). Any other client is answered at once.
func (s *server) listPods(w http.ResponseWriter, r *http.Request, p *podConn, ns string, isWatch bool) {
	q := r.URL.Query()
	sel, err := parsePodFieldSelector(q.Get("fieldSelector"))
	if err != nil {
		s.failStatus(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	lsel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		s.failStatus(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	// The trace's pods carry no labels.
	ours := (ns == "" || ns == s.namespace) && lsel.Matches(labels.Set{})
	watchList := isWatch && q.Get("sendInitialEvents") == "true"
	var reply *podsReply
	if p != nil && (!isWatch || watchList) {
		s.mu.Lock()
		if p.stopped {
			s.mu.Unlock()
			return
		}
		if p.pods.hold.waiting {
			s.mu.Unlock()
			s.fail(w, r, http.StatusConflict, "Conflict", "a second pods LIST while the reflector's LIST waits")
			return
		}
		p.pods.hold = newHold()
		p.pods.query, p.pods.sel, p.pods.ours, p.pods.watchList, p.pods.reply = q, sel, ours, watchList, nil
		s.changed()
		s.mu.Unlock()
		if !s.wait(r, p, &p.pods.hold) {
			return
		}
		s.mu.Lock()
		reply, p.pods.reply = p.pods.reply, nil
		s.mu.Unlock()
		if reply == nil {
			s.fail(w, r, http.StatusInternalServerError, "InternalError", "a held pods request released with no answer")
			return
		}
	}
	if !isWatch {
		if reply == nil {
			s.mu.Lock()
			reply = &podsReply{}
			reply.list, reply.err = s.podList(sel, ours, q)
			s.mu.Unlock()
		}
		if reply.err != nil {
			s.failStatus(w, reply.err)
			return
		}
		writeJSON(w, reply.list)
		return
	}
	s.mu.Lock()
	st := newStream(p, model.Selector{})
	st.pods, st.podsSel, st.podsOurs = true, sel, ours
	var queue []podEvent
	rv := ""
	if watchList {
		if reply == nil {
			reply = &podsReply{rv: s.rv}
			if !s.api.WatchList {
				reply.err = watchListForbidden()
			} else {
				reply.initial = s.watchListInitial(sel, ours)
			}
		}
		if reply.err != nil {
			s.mu.Unlock()
			s.failStatus(w, reply.err)
			return
		}
		for _, pod := range reply.initial {
			s.send(st, encodeEvent(watch.Added, pod))
		}
		s.send(st, encodeEvent(watch.Bookmark, bookmark(&corev1.Pod{}, "v1", "Pod", reply.rv)))
		rv = strconv.FormatUint(reply.rv, 10)
	} else {
		from, err := s.watchFrom(q)
		if err != nil {
			s.mu.Unlock()
			s.watchFailed(w, r, err)
			return
		}
		if ours {
			// Replay the writes after the watch's resourceVersion.
			for _, wr := range s.podsHistory {
				if wr.rv > from {
					queue = append(queue, s.podEvents(sel, wr)...)
				}
			}
		}
		rv = q.Get("resourceVersion")
	}
	if p != nil {
		p.pods.stream, p.pods.rv, p.pods.queue = st, rv, queue
	} else {
		for _, e := range queue {
			s.send(st, encodeEvent(e.typ, e.obj))
		}
	}
	s.streams[st] = true
	s.changed()
	s.mu.Unlock()
	s.serveStream(w, r, st, func() {
		if p != nil && p.pods.stream == st {
			p.pods.stream, p.pods.queue = nil, nil
		}
	})
}

// podsRequest is the request p's pods reflector has in flight, as the
// simulator words it (model.Request): the pager's limit (500) is the
// trace's page size, which the server pages with, and a continue token is
// the simulator's ("rev/after"); s.mu is held.
func (s *server) podsRequest(p *podConn, pageSize int) (model.Request, error) {
	switch {
	case p.pods.hold.waiting && p.pods.watchList:
		return model.Request{Watch: true, SendInitialEvents: true, ResourceVersion: p.pods.query.Get("resourceVersion")}, nil
	case p.pods.hold.waiting:
		q := p.pods.query
		req := model.Request{ResourceVersion: q.Get("resourceVersion")}
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil {
				return req, fmt.Errorf("pods LIST with limit %q", l)
			}
			req.Limit = n
			if n == pagerPageSize {
				req.Limit = pageSize
			}
		}
		if c := q.Get("continue"); c != "" {
			tok, err := simContinue(c)
			if err != nil {
				return req, fmt.Errorf("pods LIST with continue %q: %w", c, err)
			}
			req.Continue = tok
		}
		return req, nil
	case p.pods.stream != nil:
		return model.Request{Watch: true, ResourceVersion: p.pods.rv}, nil
	}
	return model.Request{}, fmt.Errorf("its pods reflector has no request in flight; its requests: %s", strings.Join(p.requests, "; "))
}

// pagerPageSize is client-go's pager page size (tools/pager
// defaultPageSize), the limit of every paged LIST a reflector sends.
const pagerPageSize = 500

// simContinue is the simulator's form ("rev/after") of a continue token.
func simContinue(tok string) (string, error) {
	rev, after, err := decodeContinue(tok)
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(rev, 10) + "/" + after, nil
}

// answerPods answers p's held LIST or watch list with what the server
// itself serves, after checking that it is what the simulator delivers
// (ev: model.ObjectsListed or model.ObjectsStreamed), and releases it;
// s.mu is held.
func (s *server) answerPods(p *podConn, ev model.Event) error {
	if !p.pods.hold.waiting {
		return fmt.Errorf("the simulator delivers %s, but its pods reflector has no LIST or watch list waiting", describeObjects(ev))
	}
	reply := &podsReply{}
	switch ev := ev.(type) {
	case model.ObjectsListed:
		if p.pods.watchList {
			return fmt.Errorf("the simulator answers a LIST, but its pods reflector sent a watch list")
		}
		reply.list, reply.err = s.podList(p.pods.sel, p.pods.ours, p.pods.query)
		if err := samePage(reply, ev.Page); err != nil {
			return err
		}
	case model.ObjectsStreamed:
		if !p.pods.watchList {
			return fmt.Errorf("the simulator answers a watch list, but its pods reflector sent a LIST")
		}
		reply.rv = s.rv
		if !s.api.WatchList {
			reply.err = watchListForbidden()
		} else {
			reply.initial = s.watchListInitial(p.pods.sel, p.pods.ours)
		}
		if ev.Refused != (reply.err != nil) {
			return fmt.Errorf("the API server refuses the watch list: %v, the simulator: %v", reply.err != nil, ev.Refused)
		}
		if !ev.Refused {
			var names []string
			for _, pod := range reply.initial {
				names = append(names, pod.Name)
			}
			if !slices.Equal(names, ev.Page.UIDs) || strconv.FormatUint(reply.rv, 10) != ev.Page.ResourceVersion {
				return fmt.Errorf("the API server's watch list sends %d pods at resourceVersion %d, the simulator's %d at %s", len(names), reply.rv, len(ev.Page.UIDs), ev.Page.ResourceVersion)
			}
		}
	default:
		return fmt.Errorf("not an answer to a LIST: %T", ev)
	}
	p.pods.reply = reply
	s.release(&p.pods.hold)
	return nil
}

// samePage checks the server's answer to a LIST against the simulator's.
func samePage(reply *podsReply, want model.Page) error {
	if want.Expired || reply.err != nil {
		if want.Expired && reply.err != nil && apierrors.IsResourceExpired(reply.err) {
			return nil
		}
		return fmt.Errorf("the API server answers the pods LIST with %v, the simulator with a page (expired: %v)", reply.err, want.Expired)
	}
	l := reply.list
	names := make([]string, len(l.Items))
	for i := range l.Items {
		names[i] = l.Items[i].Name
	}
	cont := ""
	if l.Continue != "" {
		var err error
		if cont, err = simContinue(l.Continue); err != nil {
			return err
		}
	}
	if !slices.Equal(names, want.UIDs) || l.ResourceVersion != want.ResourceVersion || cont != want.Continue {
		return fmt.Errorf("the API server answers the pods LIST with %d pods at resourceVersion %s (continue %q), the simulator with %d at %s (continue %q)",
			len(names), l.ResourceVersion, cont, len(want.UIDs), want.ResourceVersion, want.Continue)
	}
	return nil
}

// releasePodEvents writes the next write of p's pods watch, after
// checking it is the simulator's ev: first the MODIFIED events the
// simulator leaves out, then ev's events, in ev's order; s.mu is held.
func (s *server) releasePodEvents(p *podConn, ev model.ObjectsWatched) error {
	st := p.pods.stream
	if st == nil {
		return fmt.Errorf("the simulator delivers %s, but its pods reflector has no watch open", describeObjects(ev))
	}
	q := p.pods.queue
	for len(q) > 0 && q[0].typ == watch.Modified && ev.Type != watch.Modified {
		s.send(st, encodeEvent(q[0].typ, q[0].obj))
		q = q[1:]
	}
	rv := model.ParseResourceVersion(ev.ResourceVersion)
	if len(q) < len(ev.UIDs) {
		p.pods.queue = q
		return fmt.Errorf("the simulator delivers %s, the API server's watch has %d events waiting", describeObjects(ev), len(q))
	}
	for i, u := range ev.UIDs {
		if e := q[i]; e.typ != ev.Type || e.uid != u || e.rv != rv {
			p.pods.queue = q
			return fmt.Errorf("the API server's watch sends %s %s@%d next, the simulator delivers %s", e.typ, e.uid, e.rv, describeObjects(ev))
		}
	}
	for _, e := range q[:len(ev.UIDs)] {
		s.send(st, encodeEvent(e.typ, e.obj))
	}
	p.pods.queue = q[len(ev.UIDs):]
	s.flushModified(p)
	s.changed()
	return nil
}

// flushModified sends the MODIFIED events at the head of p's pods watch
// queue, which the simulator has no item for (they change no store's
// membership), and returns how many; s.mu is held.
func (s *server) flushModified(p *podConn) int {
	st := p.pods.stream
	n := 0
	for st != nil && n < len(p.pods.queue) && p.pods.queue[n].typ == watch.Modified {
		e := p.pods.queue[n]
		s.send(st, encodeEvent(e.typ, e.obj))
		n++
	}
	p.pods.queue = p.pods.queue[n:]
	if n > 0 {
		s.changed()
	}
	return n
}

// modifiedFirst returns the KSM pods whose pods watch has MODIFIED events
// at the head of its queue, by name.
func (s *server) modifiedFirst() []*podConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*podConn
	for _, p := range s.podsByUID {
		if !p.stopped && p.pods.stream != nil && len(p.pods.queue) > 0 && p.pods.queue[0].typ == watch.Modified {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *podConn) int { return strings.Compare(a.name+" "+a.uid, b.name+" "+b.uid) })
	return out
}

func describeObjects(ev model.Event) string {
	switch ev := ev.(type) {
	case model.ObjectsListed:
		return fmt.Sprintf("a LIST page of %d pods at resourceVersion %s", len(ev.Page.UIDs), ev.Page.ResourceVersion)
	case model.ObjectsStreamed:
		if ev.Refused {
			return "a refused watch list"
		}
		return fmt.Sprintf("a watch list of %d pods at resourceVersion %s", len(ev.Page.UIDs), ev.Page.ResourceVersion)
	case model.ObjectsWatched:
		return fmt.Sprintf("watch %s of %d pods at resourceVersion %s", ev.Type, len(ev.UIDs), ev.ResourceVersion)
	case model.WatchEnded:
		return fmt.Sprintf("the end of the watch (expired: %v)", ev.Expired)
	}
	return fmt.Sprintf("%T", ev)
}
