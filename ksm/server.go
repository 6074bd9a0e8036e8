package ksm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// initialEventsEnd is the annotation of the BOOKMARK that ends a watch
// list's initial events (k8s.io/apimachinery metav1.InitialEventsAnnotationKey).
const initialEventsEnd = "k8s.io/initial-events-end"

// server is the simulator's API server over HTTP on loopback, for real KSM
// pods. It serves what autosharding KSM asks: its own Pod (GET), the
// StatefulSet (GET; LIST and WATCH with label and field selectors, plain
// or as a watch list) and the trace's objects as ConfigMaps (LIST, WATCH).
// The selector rules are the simulator's own (model.ParseSelector,
// sim.WatchEvent): the server decides nothing about them itself. Its
// list/watch protocol (resourceVersions, paging, compaction, the watch
// cache's lag, WatchList) follows the kube-apiserver's rules: see
// listRead and watchFrom.
//
// The StatefulSet requests of each pod are held until the simulator
// delivers the matching inbox item: the start-up GET of the Pod, the
// informer's first LIST (or watch list) and every relist (after a 410),
// its re-watch after a disconnect, and every watch event. ConfigMap requests, whose pages and events the
// simulator schedules only in its model, are answered at once.
type server struct {
	namespace string
	listener  net.Listener
	http      *http.Server

	mu       sync.Mutex
	activity chan struct{} // closed and replaced on every change
	conns    map[net.Conn]*connState
	byPort   map[int]*countingConn // by the client's port: the newest
	api      sim.APIServerConfig
	rv       uint64 // the current resourceVersion: every write bumps it
	// compacted is the revision the history is compacted at (0: never):
	// reads and watches from an older one get 410 Gone.
	compacted uint64
	// lag is how many writes behind the watch cache answers reads with
	// resourceVersion "0" (0: none).
	lag        uint64
	ss         *appsv1.StatefulSet
	ssVersions []*appsv1.StatefulSet // every write, the creation first
	ssHistory  []ssWrite
	pods       map[string]*corev1.Pod // by name: the current incarnation
	podsByUID  map[string]*podConn
	objects    map[string]uint64 // ConfigMap name (the UID) -> resourceVersion
	cmHistory  []cmEvent         // in resourceVersion order
	streams    map[*stream]bool  // every open watch
	pending    int               // watch events handed to streams, not yet written
	// tracePods are the trace's pods (DaemonSet sharding, pods.go) by
	// UID, podsHistory their writes in resourceVersion order.
	tracePods   map[string]tracePod
	podsHistory []podsWrite
}

// connState is where a connection is in its request cycle: active from
// the first byte of a request read (countingConn.Read; net/http's
// StateActive only comes once the headers are parsed, too late) until
// net/http reports it idle again after the response, and parked while its
// handler waits on the simulator.
type connState struct{ active, parked bool }

type ssWrite struct{ old, cur *appsv1.StatefulSet }

type cmEvent struct {
	typ  watch.EventType
	name string
	rv   uint64
}

// podConn is what the server knows of one pod incarnation's requests.
type podConn struct {
	name, uid string
	stopped   bool
	// get holds the start-up GET of the Pod; getFail, if set, is what
	// it is answered once released (a failing start-up: failures.go).
	get     hold
	getFail *apierrors.StatusError
	// ssName is the StatefulSet the pod read (its start-up GET).
	ssName string
	// list holds the informer's LIST (its first request, a LIST or a
	// watch list, or a relist), sent with listOptions and listQuery.
	list        hold
	listOptions metav1.ListOptions
	listQuery   url.Values // its resourceVersion, limit, continue
	listed      bool       // the first LIST was answered
	// rewatch holds the informer's re-watch after a disconnect until the
	// simulator delivers the pod's next StatefulSet item: the simulator
	// re-watches when the pod handles the end of its watch, so that a
	// compaction in between gives the re-watch its 410.
	rewatch     hold
	holdRewatch bool // the next WATCH is the re-watch to hold
	// stream is the StatefulSet watch, queue the events written to the
	// API server's history for it, not yet delivered by the simulator.
	stream     *stream
	queue      []model.Watched
	configured int // ConfigMap lists (and watch lists) started
	// pods is its pods reflector (DaemonSet sharding, pods.go).
	pods podsReflector
	// requests lists the pod's requests, newest last (at most 20), for
	// error messages; sent counts them all.
	requests []string
	sent     int
}

// hold is one request the server keeps waiting for the simulator.
type hold struct {
	waiting bool // a request waits
	// counted: released while waiting, and counted in server.pending
	// until its handler has resumed, so that nothing looks settled in
	// between.
	counted bool
	done    chan struct{} // closed to release it
}

func newHold() hold { return hold{done: make(chan struct{})} }

// released reports whether the hold has let its request through.
func (h *hold) released() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// release lets the held request through; s.mu is held.
func (s *server) release(h *hold) {
	if h.done == nil || h.released() {
		return // never armed, or released already
	}
	close(h.done)
	if h.waiting {
		h.counted = true
		s.pending++
	}
	s.changed()
}

// wait parks request r in h until the simulator releases it; it reports
// whether to answer it (false: the client went away or the pod stopped).
func (s *server) wait(r *http.Request, p *podConn, h *hold) bool {
	s.mu.Lock()
	h.waiting = true
	s.changed()
	s.mu.Unlock()
	s.park(r, true)
	select {
	case <-h.done:
	case <-r.Context().Done():
	}
	s.park(r, false)
	s.mu.Lock()
	defer s.mu.Unlock()
	h.waiting = false
	if h.counted {
		h.counted = false
		s.pending--
	}
	s.changed()
	return !p.stopped && r.Context().Err() == nil
}

// stream is one open watch connection: the encoded events waiting to be
// written (guarded by server.mu) and a wake-up for its writer.
type stream struct {
	queue  [][]byte
	wake   chan struct{}
	sel    model.Selector
	closed bool
	// pod is the pod incarnation that opened it (nil: another client),
	// opened when, and configMaps whether it watches the ConfigMaps (it
	// is then sent every object write).
	pod        *podConn
	opened     time.Time
	configMaps bool
	// pods: it watches the trace's pods, through podsSel; podsOurs: in
	// the trace's namespace, with a label selector the pods pass.
	pods     bool
	podsSel  fields.Selector
	podsOurs bool
	// ended: the server ends it (disconnect); unwritten events are lost.
	ended bool
}

func newStream(p *podConn, sel model.Selector) *stream {
	return &stream{wake: make(chan struct{}, 1), sel: sel, pod: p, opened: time.Now()}
}

func newServer(namespace string, api sim.APIServerConfig) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &server{
		namespace: namespace, activity: make(chan struct{}), api: api,
		conns: map[net.Conn]*connState{}, byPort: map[int]*countingConn{}, pods: map[string]*corev1.Pod{},
		podsByUID: map[string]*podConn{}, objects: map[string]uint64{}, tracePods: map[string]tracePod{},
		streams: map[*stream]bool{},
	}
	s.listener = &countingListener{Listener: l, s: s}
	s.http = &http.Server{
		Handler:     s,
		ConnState:   s.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ErrorLog:    nil,
	}
	go func() { _ = s.http.Serve(s.listener) }()
	return s, nil
}

// URL is the address KSM's clients connect to.
func (s *server) URL() string { return "http://" + s.listener.Addr().String() }

func (s *server) close() {
	_ = s.http.Close()
}

// changed wakes every waiter; s.mu is held.
func (s *server) changed() {
	close(s.activity)
	s.activity = make(chan struct{})
}

// busy reports the connections with a request in hand: read (partly or
// whole) and neither answered nor parked in a hold or an idle watch.
func (s *server) busy() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.pending
	for _, c := range s.conns {
		if c.active && !c.parked {
			n++
		}
	}
	// A stream the server ended (disconnect) is work in hand until its
	// handler has woken and returned: its connection still looks parked.
	for st := range s.streams {
		if st.ended {
			n++
		}
	}
	return n
}

type connKey struct{}

func (s *server) connState(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.conns[c]
	if cs == nil {
		cs = &connState{}
		s.conns[c] = cs
	}
	switch st {
	case http.StateActive:
		cs.active = true
	case http.StateIdle:
		cs.active, cs.parked = false, false
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
	s.changed()
}

// park marks the request's connection as waiting on the simulator (true)
// or working again (false).
func (s *server) park(r *http.Request, parked bool) {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.conns[c]; cs != nil {
		cs.parked = parked
	}
	s.changed()
}

// setStatefulSet records a write of the StatefulSet (old is nil for its
// creation) and queues, for every pod's open watch, the event its
// selector lets through.
func (s *server) setStatefulSet(cur *appsv1.StatefulSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.ss
	s.ss = cur
	s.ssVersions = append(s.ssVersions, cur)
	s.bump(cur.ResourceVersion)
	if old == nil {
		return
	}
	s.ssHistory = append(s.ssHistory, ssWrite{old, cur})
	for _, p := range s.podsByUID {
		if p.stream == nil || p.stopped {
			continue
		}
		if ev, ok := sim.WatchEvent(p.stream.sel, old, cur); ok {
			p.queue = append(p.queue, ev)
		}
	}
	s.changed()
}

func (s *server) bump(rv string) {
	if n, err := strconv.ParseUint(rv, 10, 64); err == nil && n > s.rv {
		s.rv = n
	}
}

// setObjects creates and deletes ConfigMaps at resourceVersion rv (one
// write) and sends the events to every ConfigMap watch at once.
func (s *server) setObjects(created, deleted []string, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump(rv)
	var evs []cmEvent
	for _, u := range created {
		if _, ok := s.objects[u]; !ok {
			s.objects[u] = s.rv
			evs = append(evs, cmEvent{watch.Added, u, s.rv})
		}
	}
	for _, u := range deleted {
		if _, ok := s.objects[u]; ok {
			delete(s.objects, u)
			evs = append(evs, cmEvent{watch.Deleted, u, s.rv})
		}
	}
	s.cmHistory = append(s.cmHistory, evs...)
	for st := range s.streams {
		if st.configMaps {
			for _, e := range evs {
				s.send(st, s.cmWatchEvent(e))
			}
		}
	}
	s.changed()
}

// compact compacts the history at revision rv: from here on a read or a
// watch from an older revision gets 410 Gone. It ends no watch.
func (s *server) compact(rv uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacted = max(s.compacted, rv)
	s.changed()
}

// setLag makes the watch cache answer reads with resourceVersion "0"
// writes behind the current resourceVersion (0: not behind).
func (s *server) setLag(writes uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lag = writes
	s.changed()
}

// minWatchAge is how long a watch has been open before disconnect ends it.
// client-go's reflector (tools/cache/reflector.go, watchHandler) treats a
// watch that ends within a second having received no event as an error
// ("very short watch") and relists after its backoff, instead of
// re-watching from its last resourceVersion. Which of the two happens
// would then depend on the wall clock; an API server restart or a network
// blip meets watches that have been open for minutes, so the server lets
// every watch reach that age: the reflector always re-watches.
const minWatchAge = time.Second

// disconnect ends every open watch of pod incarnation p, StatefulSet and
// ConfigMaps, as an API server restart does: the events not yet written
// are lost. It returns once each has been open minWatchAge.
func (s *server) disconnect(p *podConn) {
	s.mu.Lock()
	var streams []*stream
	var newest time.Time
	for st := range s.streams {
		if st.pod == p {
			streams = append(streams, st)
			if st.opened.After(newest) {
				newest = st.opened
			}
		}
	}
	s.mu.Unlock()
	time.Sleep(time.Until(newest.Add(minWatchAge)))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range streams {
		if st == p.stream {
			p.rewatch, p.holdRewatch = newHold(), true
		}
		st.ended = true
		select {
		case st.wake <- struct{}{}:
		default:
		}
	}
	s.changed()
}

// send hands one encoded event to a stream; s.mu is held.
func (s *server) send(st *stream, b []byte) {
	if st.closed {
		return
	}
	s.pending++
	st.queue = append(st.queue, b)
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// addPod creates the Pod object of a pod incarnation: owned by the
// StatefulSet (a controller owner reference, which an autosharding pod's
// start-up GET follows) when ofStatefulSet, else with no owner.
func (s *server) addPod(name, uid string, ofStatefulSet bool) *podConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: s.namespace, UID: types.UID(uid),
			ResourceVersion: strconv.FormatUint(s.rv, 10),
		},
	}
	if ofStatefulSet {
		ctrl := true
		obj.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "StatefulSet", Name: s.ss.Name,
			UID: s.ss.UID, Controller: &ctrl,
		}}
	}
	s.pods[name] = obj
	p := &podConn{name: name, uid: uid, get: newHold(), list: newHold()}
	s.podsByUID[uid] = p
	s.changed()
	return p
}

// stopPod forgets a pod incarnation: its held requests and streams end.
func (s *server) stopPod(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.podsByUID[uid]
	if p == nil || p.stopped {
		return
	}
	p.stopped = true
	s.release(&p.get)
	s.release(&p.list)
	s.release(&p.rewatch)
	s.release(&p.pods.hold)
	if cur := s.pods[p.name]; cur != nil && string(cur.UID) == uid {
		delete(s.pods, p.name)
	}
	s.changed()
}

// waitFor blocks until cond (called with s.mu held) is true or done is
// closed.
func (s *server) waitFor(done <-chan struct{}, cond func() bool) bool {
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.activity
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-done:
			return false
		}
	}
}

// ServeHTTP answers KSM's requests.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := s.podOf(r)
	if p != nil {
		s.mu.Lock()
		p.sent++
		p.requests = append(p.requests, r.Method+" "+r.URL.RequestURI())
		if len(p.requests) > 20 {
			p.requests = p.requests[1:]
		}
		s.mu.Unlock()
	}
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	q := r.URL.Query()
	isWatch := q.Get("watch") == "true" || q.Get("watch") == "1"
	switch {
	case r.Method != http.MethodGet:
		s.fail(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", "the simulator's API server only serves GET")
	case path == "version":
		writeJSON(w, map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.0-shardsim"})
	case path == "api/v1/pods" || (len(parts) == 5 && parts[0] == "api" && parts[2] == "namespaces" && parts[4] == "pods"):
		ns := ""
		if len(parts) == 5 {
			ns = parts[3]
		}
		s.listPods(w, r, p, ns, isWatch)
	case len(parts) == 6 && parts[0] == "api" && parts[2] == "namespaces" && parts[4] == "pods":
		s.getPod(w, r, p, parts[3], parts[5])
	case len(parts) == 7 && parts[0] == "apis" && parts[1] == "apps" && parts[3] == "namespaces" && parts[5] == "statefulsets":
		s.getStatefulSet(w, r, p, parts[4], parts[6])
	case len(parts) == 6 && parts[0] == "apis" && parts[1] == "apps" && parts[3] == "namespaces" && parts[5] == "statefulsets":
		s.listStatefulSets(w, r, p, parts[4], isWatch)
	case path == "api/v1/configmaps" || (len(parts) == 5 && parts[0] == "api" && parts[2] == "namespaces" && parts[4] == "configmaps"):
		ns := ""
		if len(parts) == 5 {
			ns = parts[3]
		}
		s.configMaps(w, r, p, ns, isWatch)
	default:
		s.fail(w, r, http.StatusNotFound, "NotFound", "the simulator's API server does not serve "+r.URL.Path)
	}
}

// podOf finds the pod incarnation a request comes from, by the User-Agent
// the KSM host gives each pod's clientset ("... pod=NAME uid=UID").
func (s *server) podOf(r *http.Request) *podConn {
	ua := r.UserAgent()
	i := strings.LastIndex(ua, " uid=")
	if i < 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.podsByUID[ua[i+len(" uid="):]]
}

func (s *server) getPod(w http.ResponseWriter, r *http.Request, p *podConn, ns, name string) {
	if p != nil && p.name == name {
		// The start-up GET: held until the simulator delivers it.
		if !s.wait(r, p, &p.get) {
			return
		}
		s.mu.Lock()
		fail := p.getFail
		s.mu.Unlock()
		if fail != nil {
			s.failStatus(w, fail)
			return
		}
	}
	s.mu.Lock()
	pod := s.pods[name]
	s.mu.Unlock()
	if ns != s.namespace || pod == nil {
		s.fail(w, r, http.StatusNotFound, "NotFound", fmt.Sprintf("pods %q not found", name))
		return
	}
	writeJSON(w, pod)
}

func (s *server) getStatefulSet(w http.ResponseWriter, r *http.Request, p *podConn, ns, name string) {
	s.mu.Lock()
	ss := s.ss
	if p != nil {
		p.ssName = name
	}
	s.mu.Unlock()
	if ns != s.namespace || ss == nil || ss.Name != name {
		s.fail(w, r, http.StatusNotFound, "NotFound", fmt.Sprintf("statefulsets.apps %q not found", name))
		return
	}
	writeJSON(w, withKind(ss))
}

// listStatefulSets serves the informer's LIST and WATCH. Its LISTs (the
// first request, a LIST or a watch list, and a relist after a 410) are
// held until the simulator delivers the pod's LIST item.
func (s *server) listStatefulSets(w http.ResponseWriter, r *http.Request, p *podConn, ns string, isWatch bool) {
	q := r.URL.Query()
	opts := metav1.ListOptions{LabelSelector: q.Get("labelSelector"), FieldSelector: q.Get("fieldSelector")}
	sel, err := model.ParseSelector(opts)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	// KSM up to v2.12.0 lists the label terms in map iteration order: keep
	// the canonical (sorted) form, as model.LabelSelector does, so that
	// reports are deterministic.
	opts = metav1.ListOptions{LabelSelector: sel.Label.String(), FieldSelector: sel.Field.String()}
	if ns != s.namespace || p == nil {
		s.fail(w, r, http.StatusForbidden, "Forbidden", "only the simulated KSM pods may list StatefulSets of namespace "+s.namespace)
		return
	}
	watchList := isWatch && q.Get("sendInitialEvents") == "true"
	s.mu.Lock()
	if watchList && !s.api.WatchList {
		s.mu.Unlock()
		s.failStatus(w, watchListForbidden())
		return
	}
	if !p.listed && isWatch && !watchList {
		s.mu.Unlock()
		s.fail(w, r, http.StatusBadRequest, "BadRequest", "a watch before the informer's first list")
		return
	}
	held := !isWatch || !p.listed
	if held {
		if p.list.waiting {
			s.mu.Unlock()
			s.fail(w, r, http.StatusConflict, "Conflict", "a second LIST while the informer's LIST waits")
			return
		}
		if p.list.released() && !p.stopped {
			p.list = newHold() // a relist
		}
		p.listOptions, p.listQuery = opts, q
	}
	s.mu.Unlock()
	if held {
		if !s.wait(r, p, &p.list) {
			return
		}
		s.mu.Lock()
		p.listed = true
		s.mu.Unlock()
	}
	if !isWatch {
		s.mu.Lock()
		list, err := s.statefulSets(sel, q)
		s.mu.Unlock()
		if err != nil {
			s.failStatus(w, err)
			return
		}
		writeJSON(w, list)
		return
	}
	s.mu.Lock()
	rewatch := !watchList && p.holdRewatch
	p.holdRewatch = false
	s.mu.Unlock()
	if rewatch && !s.wait(r, p, &p.rewatch) {
		return
	}
	st := newStream(p, sel)
	s.mu.Lock()
	if watchList {
		if sel.Matches(s.ss) {
			s.send(st, encodeEvent(watch.Added, withKind(s.ss)))
		}
		s.send(st, encodeEvent(watch.Bookmark, bookmark(&appsv1.StatefulSet{}, "apps/v1", "StatefulSet", s.rv)))
	} else {
		from, err := s.watchFrom(q)
		if err != nil {
			s.mu.Unlock()
			s.watchFailed(w, r, err)
			return
		}
		// A watch from resourceVersion N replays the writes after N,
		// then follows; the simulator delivers them one by one like
		// every later event. A re-watch (after a disconnect) resumes
		// from the last event its reflector read: its replay is what
		// the closed watch had not delivered yet.
		p.queue = nil
		for _, wr := range s.ssHistory {
			if rvOf(wr.cur) > from {
				if ev, ok := sim.WatchEvent(sel, wr.old, wr.cur); ok {
					p.queue = append(p.queue, ev)
				}
			}
		}
	}
	p.stream = st
	s.streams[st] = true
	s.changed()
	s.mu.Unlock()
	s.serveStream(w, r, st, func() {
		if p.stream == st {
			p.stream = nil
		}
	})
}

// statefulSets answers a LIST of StatefulSets by the rules of every LIST
// (listRead): the StatefulSet as it was at the revision read, if the
// selector lets it through; s.mu is held.
func (s *server) statefulSets(sel model.Selector, q url.Values) (*appsv1.StatefulSetList, *apierrors.StatusError) {
	rd, err := s.listRead(q)
	if err != nil {
		return nil, err
	}
	ss := s.statefulSetAt(rd.rev)
	var names []string
	if ss != nil && sel.Matches(ss) {
		names = []string{ss.Name}
	}
	page, cont, remaining := rd.page(names)
	list := &appsv1.StatefulSetList{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSetList"},
		ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(rd.rev, 10), Continue: cont, RemainingItemCount: remaining},
	}
	if len(page) == 1 {
		list.Items = append(list.Items, *withKind(ss))
	}
	return list, nil
}

// heldList is what the pod's held LIST answers when released: the
// StatefulSets a LIST (statefulSets) or a watch list (the current one)
// gives it; s.mu is held.
func (s *server) heldList(p *podConn) []*appsv1.StatefulSet {
	sel, err := model.ParseSelector(p.listOptions)
	if err != nil {
		return nil
	}
	if p.listQuery.Get("sendInitialEvents") == "true" {
		if sel.Matches(s.ss) {
			return []*appsv1.StatefulSet{s.ss}
		}
		return nil
	}
	list, status := s.statefulSets(sel, p.listQuery)
	if status != nil || len(list.Items) == 0 {
		return nil
	}
	return []*appsv1.StatefulSet{&list.Items[0]}
}

// statefulSetAt returns the StatefulSet as it was at revision rev (nil
// before its creation); s.mu is held.
func (s *server) statefulSetAt(rev uint64) *appsv1.StatefulSet {
	i := sort.Search(len(s.ssVersions), func(i int) bool { return rvOf(s.ssVersions[i]) > rev })
	if i == 0 {
		return nil
	}
	return s.ssVersions[i-1]
}

func rvOf(ss *appsv1.StatefulSet) uint64 {
	n, _ := strconv.ParseUint(ss.ResourceVersion, 10, 64)
	return n
}

// configMaps serves the objects: LIST and WATCH (plain or watch list),
// answered at once. Only the trace's namespace has any.
func (s *server) configMaps(w http.ResponseWriter, r *http.Request, p *podConn, ns string, isWatch bool) {
	q := r.URL.Query()
	ours := ns == "" || ns == s.namespace
	watchList := isWatch && q.Get("sendInitialEvents") == "true"
	s.mu.Lock()
	if watchList && !s.api.WatchList {
		s.mu.Unlock()
		s.failStatus(w, watchListForbidden())
		return
	}
	if p != nil && (!isWatch || watchList) {
		p.configured++
		s.changed()
	}
	if !isWatch {
		rd, err := s.listRead(q)
		if err != nil {
			s.mu.Unlock()
			s.failStatus(w, err)
			return
		}
		var objects map[string]uint64
		if ours {
			objects = s.configMapsAt(rd.rev)
		}
		names := make([]string, 0, len(objects))
		for n := range objects {
			names = append(names, n)
		}
		sort.Strings(names) // etcd key order
		page, cont, remaining := rd.page(names)
		list := &corev1.ConfigMapList{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMapList"},
			ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(rd.rev, 10), Continue: cont, RemainingItemCount: remaining},
		}
		for _, name := range page {
			list.Items = append(list.Items, *s.configMap(name, objects[name]))
		}
		s.mu.Unlock()
		writeJSON(w, list)
		return
	}
	st := newStream(p, model.Selector{})
	st.configMaps = ours
	if watchList {
		if ours {
			for name, rv := range sortedObjects(s.objects) {
				s.send(st, encodeEvent(watch.Added, s.configMap(name, rv)))
			}
		}
		s.send(st, encodeEvent(watch.Bookmark, bookmark(&corev1.ConfigMap{}, "v1", "ConfigMap", s.rv)))
	} else {
		from, err := s.watchFrom(q)
		if err != nil {
			s.mu.Unlock()
			s.watchFailed(w, r, err)
			return
		}
		if ours {
			// The history is in resourceVersion order: replay what
			// comes after the watch's resourceVersion.
			i := sort.Search(len(s.cmHistory), func(i int) bool { return s.cmHistory[i].rv > from })
			for _, e := range s.cmHistory[i:] {
				s.send(st, s.cmWatchEvent(e))
			}
		}
	}
	s.streams[st] = true
	s.changed()
	s.mu.Unlock()
	s.serveStream(w, r, st, func() {})
}

// configMapsAt returns the ConfigMaps at revision rev, by name, with the
// resourceVersion of their creation: those created at or before rev and
// not deleted at or before it; s.mu is held.
func (s *server) configMapsAt(rev uint64) map[string]uint64 {
	if rev >= s.rv {
		return s.objects
	}
	at := map[string]uint64{}
	for _, e := range s.cmHistory {
		if e.rv > rev {
			break
		}
		if e.typ == watch.Added {
			at[e.name] = e.rv
		} else {
			delete(at, e.name)
		}
	}
	return at
}

// sortedObjects iterates objects in etcd key (name) order.
func sortedObjects(objects map[string]uint64) func(yield func(string, uint64) bool) {
	return func(yield func(string, uint64) bool) {
		names := make([]string, 0, len(objects))
		for n := range objects {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if !yield(n, objects[n]) {
				return
			}
		}
	}
}

func (s *server) configMap(name string, rv uint64) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: s.namespace, UID: types.UID(name), ResourceVersion: strconv.FormatUint(rv, 10),
		},
	}
}

func (s *server) cmWatchEvent(e cmEvent) []byte {
	return encodeEvent(e.typ, s.configMap(e.name, e.rv))
}

// The list/watch protocol, by the kube-apiserver's rules as DESIGN.md
// ("The API server's list/watch protocol") records them, observed with
// k8s.io/apiserver v0.37.2's etcd3 store and watch cache over a real etcd.
// The simulator applies the same rules; every write bumps the
// resourceVersion by one.

// A listRead is how one LIST is read: the objects at revision rev whose
// names (etcd keys) sort after after, at most limit of them (0: all).
type listRead struct {
	rev   uint64
	after string
	limit int
}

// listRead decides how a LIST with the query's resourceVersion, limit and
// continue is read, by the simulator's rules (sim.PlanList); s.mu is held.
func (s *server) listRead(q url.Values) (listRead, *apierrors.StatusError) {
	lq := sim.ListQuery{ResourceVersion: q.Get("resourceVersion")}
	if l := q.Get("limit"); l != "" {
		limit, err := strconv.ParseInt(l, 10, 64)
		if err != nil || limit < 0 {
			return listRead{}, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", l))
		}
		lq.Limit = int(min(limit, 1<<31-1))
	}
	if cont := q.Get("continue"); cont != "" {
		rev, after, err := decodeContinue(cont)
		if err != nil {
			return listRead{}, apierrors.NewBadRequest("continue key is not valid: " + err.Error())
		}
		lq.Continue, lq.ContinueRev, lq.ContinueAfter = true, rev, after
	} else if rv := lq.ResourceVersion; rv != "" {
		if _, err := strconv.ParseUint(rv, 10, 64); err != nil {
			return listRead{}, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv))
		}
	}
	rd := sim.PlanList(lq, s.api, s.rv, s.compacted, s.cacheRevision())
	switch {
	case rd.Expired && lq.Continue:
		return listRead{}, apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
	case rd.Expired:
		return listRead{}, tooOld(model.ParseResourceVersion(lq.ResourceVersion), s.compacted)
	}
	return listRead{rev: rd.Rev, after: rd.After, limit: rd.Limit}, nil
}

// cacheRevision is the revision the watch cache is at: lag writes behind,
// at least 1; s.mu is held.
func (s *server) cacheRevision() uint64 {
	if s.lag >= s.rv {
		return 1
	}
	return max(s.rv-s.lag, 1)
}

// page returns the part of names (sorted) the read answers, the continue
// token when more remain, and how many remain after it.
func (rd listRead) page(names []string) (page []string, cont string, remaining *int64) {
	i := 0
	if rd.after != "" {
		i = sort.Search(len(names), func(i int) bool { return names[i] > rd.after })
	}
	page = names[i:]
	if rd.limit > 0 && len(page) > rd.limit {
		n := int64(len(page) - rd.limit)
		page = page[:rd.limit]
		return page, encodeContinue(rd.rev, page[len(page)-1]), &n
	}
	return page, "", nil
}

// continueToken is the continue parameter's content, as the apiserver
// encodes it (k8s.io/apiserver pkg/storage/continue.go): the revision the
// list is pinned to and the key to resume at (the last key returned and a
// NUL byte), in base64 JSON.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion uint64 `json:"rv"`
	StartKey        string `json:"start"`
}

func encodeContinue(rev uint64, last string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: rev, StartKey: last + "\x00"})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (rev uint64, after string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", err
	}
	var t continueToken
	if err := json.Unmarshal(b, &t); err != nil {
		return 0, "", err
	}
	if t.APIVersion != "meta.k8s.io/v1" || t.ResourceVersion == 0 || !strings.HasSuffix(t.StartKey, "\x00") {
		return 0, "", fmt.Errorf("not a continue token of this server")
	}
	return t.ResourceVersion, strings.TrimSuffix(t.StartKey, "\x00"), nil
}

// watchFrom returns the revision a WATCH (not a watch list) resumes after:
// its resourceVersion; the history after it is replayed, then the watch
// follows. "0" and "" replay the whole history. One older than the
// compacted revision is gone: 410 Expired ("too old resource version", as
// k8s.io/apiserver's watch cache says it); s.mu is held.
func (s *server) watchFrom(q url.Values) (uint64, *apierrors.StatusError) {
	rv := q.Get("resourceVersion")
	if rv == "" || rv == "0" {
		return 0, nil
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv))
	}
	if n < s.compacted {
		return 0, tooOld(n, s.compacted)
	}
	return n, nil
}

func tooOld(rv, compacted uint64) *apierrors.StatusError {
	return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, compacted))
}

// watchListForbidden is the answer to a watch list (sendInitialEvents=true)
// without the WatchList feature gate: 422, as the apiserver's validation
// of ListOptions says it (k8s.io/apiserver ValidateListOptions).
func watchListForbidden() *apierrors.StatusError {
	return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
		field.Forbidden(field.NewPath("sendInitialEvents"), "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"),
	})
}

// watchFailed answers a WATCH that cannot start: a resourceVersion gone
// with 200 and one ERROR event carrying the Status, then the end of the
// stream (what the watch cache does); anything else with its status.
func (s *server) watchFailed(w http.ResponseWriter, r *http.Request, err *apierrors.StatusError) {
	if !apierrors.IsResourceExpired(err) {
		s.failStatus(w, err)
		return
	}
	status := err.ErrStatus
	status.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(encodeEvent(watch.Error, &status))
}

// serveStream writes a watch's events as they come until the client goes
// or the server ends the stream; done runs with s.mu held after.
func (s *server) serveStream(w http.ResponseWriter, r *http.Request, st *stream, done func()) {
	defer func() {
		s.mu.Lock()
		st.closed = true
		s.pending -= len(st.queue) // never written
		st.queue = nil
		delete(s.streams, st)
		done()
		s.changed()
		s.mu.Unlock()
	}()
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		s.mu.Lock()
		ended := st.ended
		var next []byte
		if len(st.queue) > 0 && !ended {
			next = st.queue[0]
			st.queue = st.queue[1:]
		}
		s.mu.Unlock()
		if ended {
			return
		}
		if next == nil {
			s.park(r, true)
			select {
			case <-st.wake:
			case <-r.Context().Done():
			}
			s.park(r, false)
			if r.Context().Err() != nil {
				return
			}
			continue
		}
		_, err := w.Write(next)
		if err == nil && flusher != nil {
			flusher.Flush()
		}
		s.mu.Lock()
		s.pending--
		s.changed()
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *server) fail(w http.ResponseWriter, _ *http.Request, code int, reason metav1.StatusReason, msg string) {
	s.failStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	}})
}

// failStatus answers with err's Status and code.
func (s *server) failStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	status := err.ErrStatus
	status.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(status.Code))
	b, _ := json.Marshal(&status)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func withKind(ss *appsv1.StatefulSet) *appsv1.StatefulSet {
	c := ss.DeepCopy()
	c.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}
	return c
}

// bookmark is the watch list's closing BOOKMARK: an object of the watched
// kind with only the resourceVersion and the initial-events-end annotation.
func bookmark[T interface {
	runtime.Object
	metav1.Object
}](o T, apiVersion, kind string, rv uint64) runtime.Object {
	o.SetResourceVersion(strconv.FormatUint(rv, 10))
	o.SetAnnotations(map[string]string{initialEventsEnd: "true"})
	o.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(apiVersion, kind))
	return o
}

func encodeEvent(t watch.EventType, obj runtime.Object) []byte {
	raw, err := json.Marshal(obj)
	if err != nil {
		panic(err) // the API types always encode
	}
	b, _ := json.Marshal(metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: raw}})
	return append(b, '\n')
}

// countingListener counts the bytes of every accepted connection.
type countingListener struct {
	net.Listener
	s *server
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, s: l.s}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		cc.port = a.Port
	}
	l.s.mu.Lock()
	l.s.byPort[cc.port] = cc // a reused port means the old connection is gone
	l.s.mu.Unlock()
	return cc, nil
}

// countingConn counts the bytes one connection has read and written.
type countingConn struct {
	net.Conn
	s             *server
	port          int
	read, written atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.s.mu.Lock()
		cs := c.s.conns[c]
		if cs == nil {
			cs = &connState{}
			c.s.conns[c] = cs
		}
		cs.active = true
		c.read.Add(int64(n))
		c.s.changed()
		c.s.mu.Unlock()
	}
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written.Add(int64(n))
	return n, err
}

// inSync reports whether every connection the host still has open has
// read all this server wrote to it and written all this server read, and
// otherwise names one that has not.
func (s *server) inSync(host []connStats) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range host {
		c := s.byPort[h.Port]
		if c == nil {
			return false, fmt.Sprintf("port %d: not accepted yet", h.Port)
		}
		if r, w := c.read.Load(), c.written.Load(); r != h.Written || w != h.Read {
			return false, fmt.Sprintf("port %d: server read %d written %d, host read %d written %d", h.Port, r, w, h.Read, h.Written)
		}
	}
	return true, ""
}
