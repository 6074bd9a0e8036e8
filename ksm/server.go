package ksm

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
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
// sim.WatchEvent): the server decides nothing about them itself.
//
// The StatefulSet requests of each pod are held until the simulator
// delivers the matching inbox item: the start-up GET of the Pod, the
// informer's first LIST (or watch list), and every watch event. ConfigMap
// requests, which the model does not schedule, are answered at once.
type server struct {
	namespace string
	listener  net.Listener
	http      *http.Server

	mu        sync.Mutex
	activity  chan struct{} // closed and replaced on every change
	conns     map[net.Conn]*connState
	byPort    map[int]*countingConn // by the client's port: the newest
	rv        uint64
	ss        *appsv1.StatefulSet
	ssHistory []ssWrite
	pods      map[string]*corev1.Pod // by name: the current incarnation
	podsByUID map[string]*podConn
	objects   map[string]string // ConfigMap name (the UID) -> resourceVersion
	cmHistory []cmEvent
	cmStreams map[*stream]bool
	pending   int // watch events handed to streams, not yet written
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
	rv   string
}

// podConn is what the server knows of one pod incarnation's requests.
type podConn struct {
	name, uid string
	stopped   bool
	// get holds the start-up GET of the Pod.
	get hold
	// ssName is the StatefulSet the pod read (its start-up GET).
	ssName string
	// list holds the informer's first request (a LIST, or a watch list),
	// sent with listOptions.
	list        hold
	listOptions metav1.ListOptions
	listed      bool
	// stream is the StatefulSet watch, queue the events written to the
	// API server's history for it, not yet delivered by the simulator.
	stream     *stream
	queue      []model.Watched
	configured int // ConfigMap lists (and watch lists) started
	// requests lists the pod's requests, newest last (at most 20), for
	// error messages.
	requests []string
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

// release lets the held request through; s.mu is held.
func (s *server) release(h *hold) {
	select {
	case <-h.done:
		return
	default:
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
}

func newStream(sel model.Selector) *stream { return &stream{wake: make(chan struct{}, 1), sel: sel} }

func newServer(namespace string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &server{
		namespace: namespace, activity: make(chan struct{}),
		conns: map[net.Conn]*connState{}, byPort: map[int]*countingConn{}, pods: map[string]*corev1.Pod{},
		podsByUID: map[string]*podConn{}, objects: map[string]string{},
		cmStreams: map[*stream]bool{},
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

// setObjects creates and deletes ConfigMaps at resourceVersion rv and
// sends the events to every ConfigMap watch at once.
func (s *server) setObjects(created, deleted []string, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bump(rv)
	var evs []cmEvent
	for _, u := range created {
		if _, ok := s.objects[u]; !ok {
			s.objects[u] = rv
			evs = append(evs, cmEvent{watch.Added, u, rv})
		}
	}
	for _, u := range deleted {
		if _, ok := s.objects[u]; ok {
			delete(s.objects, u)
			evs = append(evs, cmEvent{watch.Deleted, u, rv})
		}
	}
	s.cmHistory = append(s.cmHistory, evs...)
	for st := range s.cmStreams {
		for _, e := range evs {
			s.send(st, s.cmWatchEvent(e))
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

func (s *server) addPod(name, uid string) *podConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctrl := true
	s.pods[name] = &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: s.namespace, UID: types.UID(uid),
			ResourceVersion: strconv.FormatUint(s.rv, 10),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "StatefulSet", Name: s.ss.Name,
				UID: s.ss.UID, Controller: &ctrl,
			}},
		},
	}
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

// listStatefulSets serves the informer's LIST and WATCH. The first
// request of a pod's informer (a LIST, or a watch list) is held until the
// simulator delivers the pod's LIST item.
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
	first := !p.listed && !p.list.waiting
	if first && isWatch && !watchList {
		s.mu.Unlock()
		s.fail(w, r, http.StatusBadRequest, "BadRequest", "a watch before the informer's first list")
		return
	}
	if first {
		p.listOptions = opts
	}
	s.mu.Unlock()
	if first {
		if !s.wait(r, p, &p.list) {
			return
		}
		s.mu.Lock()
		p.listed = true
		s.mu.Unlock()
	}
	if !isWatch {
		s.mu.Lock()
		list := &appsv1.StatefulSetList{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSetList"},
			ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(s.rv, 10)},
		}
		if sel.Matches(s.ss) {
			list.Items = append(list.Items, *withKind(s.ss))
		}
		s.mu.Unlock()
		writeJSON(w, list)
		return
	}
	st := newStream(sel)
	s.mu.Lock()
	if watchList {
		if sel.Matches(s.ss) {
			s.send(st, encodeEvent(watch.Added, withKind(s.ss)))
		}
		s.send(st, encodeEvent(watch.Bookmark, bookmark(&appsv1.StatefulSet{}, "apps/v1", "StatefulSet", s.rv)))
	} else {
		// A watch from resourceVersion N replays the writes after N
		// still in the history, then follows; the simulator delivers
		// them one by one like every later event.
		from, _ := strconv.ParseUint(q.Get("resourceVersion"), 10, 64)
		for _, wr := range s.ssHistory {
			if n, _ := strconv.ParseUint(wr.cur.ResourceVersion, 10, 64); n > from {
				if ev, ok := sim.WatchEvent(sel, wr.old, wr.cur); ok {
					p.queue = append(p.queue, ev)
				}
			}
		}
	}
	p.stream = st
	s.changed()
	s.mu.Unlock()
	s.serveStream(w, r, st, func() {
		s.mu.Lock()
		if p.stream == st {
			p.stream = nil
		}
		s.mu.Unlock()
	})
}

// configMaps serves the objects: LIST and WATCH (plain or watch list),
// answered at once.
func (s *server) configMaps(w http.ResponseWriter, r *http.Request, p *podConn, ns string, isWatch bool) {
	q := r.URL.Query()
	if ns != "" && ns != s.namespace {
		if isWatch {
			s.serveStream(w, r, newStream(model.Selector{}), func() {})
			return
		}
		writeJSON(w, &corev1.ConfigMapList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMapList"},
			ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(s.rv, 10)}})
		return
	}
	watchList := isWatch && q.Get("sendInitialEvents") == "true"
	s.mu.Lock()
	if p != nil && (!isWatch || watchList) {
		p.configured++
	}
	if !isWatch {
		list := &corev1.ConfigMapList{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMapList"},
			ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(s.rv, 10)},
		}
		for _, name := range s.objectNames() {
			list.Items = append(list.Items, *s.configMap(name, s.objects[name]))
		}
		s.changed()
		s.mu.Unlock()
		writeJSON(w, list)
		return
	}
	st := newStream(model.Selector{})
	if watchList {
		for _, name := range s.objectNames() {
			s.send(st, encodeEvent(watch.Added, s.configMap(name, s.objects[name])))
		}
		s.send(st, encodeEvent(watch.Bookmark, bookmark(&corev1.ConfigMap{}, "v1", "ConfigMap", s.rv)))
	} else {
		// The history is in resourceVersion order: replay what comes
		// after the watch's resourceVersion.
		from, _ := strconv.ParseUint(q.Get("resourceVersion"), 10, 64)
		i := sort.Search(len(s.cmHistory), func(i int) bool {
			n, _ := strconv.ParseUint(s.cmHistory[i].rv, 10, 64)
			return n > from
		})
		for _, e := range s.cmHistory[i:] {
			s.send(st, s.cmWatchEvent(e))
		}
	}
	s.cmStreams[st] = true
	s.changed()
	s.mu.Unlock()
	s.serveStream(w, r, st, func() {
		s.mu.Lock()
		delete(s.cmStreams, st)
		s.mu.Unlock()
	})
}

// objectNames returns the ConfigMap names in etcd key order; s.mu is held.
func (s *server) objectNames() []string {
	names := make([]string, 0, len(s.objects))
	for n := range s.objects {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s *server) configMap(name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: s.namespace, UID: types.UID(name), ResourceVersion: rv,
		},
	}
}

func (s *server) cmWatchEvent(e cmEvent) []byte {
	return encodeEvent(e.typ, s.configMap(e.name, e.rv))
}

// serveStream writes a watch's events as they come until the client goes.
func (s *server) serveStream(w http.ResponseWriter, r *http.Request, st *stream, done func()) {
	defer func() {
		s.mu.Lock()
		st.closed = true
		s.pending -= len(st.queue) // never written
		st.queue = nil
		s.changed()
		s.mu.Unlock()
		done()
	}()
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	for {
		s.mu.Lock()
		var next []byte
		if len(st.queue) > 0 {
			next = st.queue[0]
			st.queue = st.queue[1:]
		}
		s.mu.Unlock()
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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(&metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure, Message: msg, Reason: reason, Code: int32(code),
	})
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
