package ksm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/sim"
)

// These tests speak HTTP to the server as a client-go clientset does and
// check the list/watch protocol rules (listRead, watchFrom): no KSM build,
// part of go test -short.

const testNS = "monitoring"

// testServer starts a server with the StatefulSet created at
// resourceVersion 1 and objects 00..NN (n of them) at 2.
func testServer(t *testing.T, api sim.APIServerConfig, n int) (*server, []string) {
	t.Helper()
	s, err := newServer(testNS, api)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	s.setStatefulSet(testStatefulSet("1", 2))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%02d", i)
	}
	s.setObjects(names, nil, "2")
	return s, names
}

func testStatefulSet(rv string, replicas int32) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-state-metrics", Namespace: testNS, UID: "ss-uid", ResourceVersion: rv},
		Spec:       appsv1.StatefulSetSpec{Replicas: &replicas},
	}
}

// get sends GET path?query as pod uid ("" for none) and returns the status
// code and the body.
func get(t *testing.T, s *server, uid, path string, query url.Values) (int, []byte) {
	t.Helper()
	resp := do(t, s, uid, path, query)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func do(t *testing.T, s *server, uid, path string, query url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+path+"?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if uid != "" {
		req.Header.Set("User-Agent", "test pod=x uid="+uid)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func listOpts(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// listConfigMaps lists cluster-wide and decodes the page.
func listConfigMaps(t *testing.T, s *server, q url.Values) (*corev1.ConfigMapList, *metav1.Status) {
	t.Helper()
	code, body := get(t, s, "", "/api/v1/configmaps", q)
	if code != http.StatusOK {
		var st metav1.Status
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("status %d, body %s", code, body)
		}
		return nil, &st
	}
	var l corev1.ConfigMapList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return &l, nil
}

func names(l *corev1.ConfigMapList) []string {
	var out []string
	for _, cm := range l.Items {
		out = append(out, cm.Name)
	}
	return out
}

func mustList(t *testing.T, s *server, q url.Values) *corev1.ConfigMapList {
	t.Helper()
	l, st := listConfigMaps(t, s, q)
	if st != nil {
		t.Fatalf("LIST %s: %d %s: %s", q.Encode(), st.Code, st.Reason, st.Message)
	}
	return l
}

func wantExpired(t *testing.T, st *metav1.Status, message string) {
	t.Helper()
	if st == nil {
		t.Fatal("answered, want 410 Expired")
	}
	if st.Code != http.StatusGone || st.Reason != metav1.StatusReasonExpired || !strings.Contains(st.Message, message) {
		t.Errorf("status %d %s %q, want 410 Expired %q", st.Code, st.Reason, st.Message, message)
	}
}

var noCache = sim.APIServerConfig{WatchCache: false, WatchList: false, PageSize: 5}

// TestListPages: without the watch cache a LIST with a limit is paged by
// the page size, each continue token pinned to the first page's revision:
// later writes do not show, and the pages add up to the list at it.
func TestListPages(t *testing.T) {
	s, all := testServer(t, noCache, 12)
	l := mustList(t, s, listOpts("resourceVersion", "0", "limit", "500"))
	if got := names(l); !slices.Equal(got, all[:5]) || l.ResourceVersion != "2" || l.Continue == "" || l.RemainingItemCount == nil || *l.RemainingItemCount != 7 {
		t.Fatalf("first page %v at %s, continue %q, remaining %v; want %v at 2, a token, 7", got, l.ResourceVersion, l.Continue, l.RemainingItemCount, all[:5])
	}
	s.setObjects([]string{"99"}, []string{"07"}, "3")
	got := names(l)
	for l.Continue != "" {
		l = mustList(t, s, listOpts("limit", "500", "continue", l.Continue))
		if l.ResourceVersion != "2" {
			t.Errorf("a continued page at resourceVersion %s, want 2", l.ResourceVersion)
		}
		got = append(got, names(l)...)
	}
	if !slices.Equal(got, all) {
		t.Errorf("pages %v, want the list at revision 2: %v", got, all)
	}
	// A consistent read ("") pages at the current revision.
	l = mustList(t, s, listOpts("resourceVersion", "", "limit", "500"))
	if l.ResourceVersion != "3" || len(l.Items) != 5 {
		t.Errorf(`LIST resourceVersion="": %d items at %s, want 5 at 3`, len(l.Items), l.ResourceVersion)
	}
}

// TestListCompacted: after a compaction a continue token and an exact
// read from before it are 410 Expired; an exact read from after it pages
// at that revision; resourceVersion N without a limit reads the current
// revision whole.
func TestListCompacted(t *testing.T) {
	s, all := testServer(t, noCache, 12)
	first := mustList(t, s, listOpts("resourceVersion", "0", "limit", "500"))
	s.setObjects([]string{"99"}, nil, "3")
	s.setObjects(nil, []string{"00"}, "4")
	s.compact(3)
	_, st := listConfigMaps(t, s, listOpts("limit", "500", "continue", first.Continue))
	wantExpired(t, st, "The provided continue parameter is too old")
	_, st = listConfigMaps(t, s, listOpts("resourceVersion", "2", "limit", "500"))
	wantExpired(t, st, "too old resource version: 2 (3)")

	l := mustList(t, s, listOpts("resourceVersion", "3", "limit", "500"))
	if got := names(l); !slices.Equal(got, all[:5]) || l.ResourceVersion != "3" || l.Continue == "" {
		t.Errorf("exact read at 3: %v at %s, want %v at 3 with a continue token", got, l.ResourceVersion, all[:5])
	}
	l = mustList(t, s, listOpts("resourceVersion", "2"))
	if got := names(l); !slices.Equal(got, append(slices.Clone(all[1:]), "99")) || l.ResourceVersion != "4" || l.Continue != "" {
		t.Errorf("resourceVersion 2 without a limit: %v at %s, want all at 4", got, l.ResourceVersion)
	}
}

// TestListWatchCache: with the watch cache, resourceVersion "0" is
// answered whole (the limit dropped), at the cache's revision: under a lag
// of L writes, the state L writes ago.
func TestListWatchCache(t *testing.T) {
	s, all := testServer(t, sim.APIServerConfig{WatchCache: true, WatchList: true, PageSize: 5}, 12)
	s.setObjects([]string{"99"}, nil, "3")
	s.setObjects(nil, []string{"00"}, "4")
	l := mustList(t, s, listOpts("resourceVersion", "0", "limit", "500"))
	if len(l.Items) != 12 || l.Continue != "" || l.ResourceVersion != "4" {
		t.Errorf("resourceVersion 0: %d items at %s, continue %q; want 12 at 4, whole", len(l.Items), l.ResourceVersion, l.Continue)
	}
	s.setLag(2)
	l = mustList(t, s, listOpts("resourceVersion", "0", "limit", "500"))
	if got := names(l); !slices.Equal(got, all) || l.ResourceVersion != "2" {
		t.Errorf("resourceVersion 0 under a lag of 2: %v at %s, want the objects at 2", got, l.ResourceVersion)
	}
	s.setLag(10)
	if l = mustList(t, s, listOpts("resourceVersion", "0")); l.ResourceVersion != "1" || len(l.Items) != 0 {
		t.Errorf("a lag longer than the history: %d items at %s, want none at 1", len(l.Items), l.ResourceVersion)
	}
	// The lag is the cache's, for resourceVersion "0" only.
	if l = mustList(t, s, listOpts("resourceVersion", "", "limit", "500")); l.ResourceVersion != "4" || len(l.Items) != 5 {
		t.Errorf(`resourceVersion "": %d items at %s, want a page of 5 at 4`, len(l.Items), l.ResourceVersion)
	}
}

// watchStream reads one watch's events.
type watchStream struct {
	resp *http.Response
	r    *bufio.Reader
}

func openWatch(t *testing.T, s *server, uid, path string, q url.Values) *watchStream {
	t.Helper()
	q.Set("watch", "true")
	resp := do(t, s, uid, path, q)
	t.Cleanup(func() { resp.Body.Close() })
	return &watchStream{resp, bufio.NewReader(resp.Body)}
}

// next returns the next event, or ok false at the end of the stream.
func (w *watchStream) next(t *testing.T) (ev metav1.WatchEvent, ok bool) {
	t.Helper()
	line, err := w.r.ReadBytes('\n')
	if err == io.EOF && len(line) == 0 {
		return ev, false
	}
	if err != nil {
		t.Fatalf("read the watch: %v", err)
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatalf("event %s: %v", line, err)
	}
	return ev, true
}

func (w *watchStream) wantEvent(t *testing.T, typ watch.EventType, name string) {
	t.Helper()
	ev, ok := w.next(t)
	if !ok {
		t.Fatalf("the watch ended, want %s %s", typ, name)
	}
	var meta metav1.PartialObjectMetadata
	_ = json.Unmarshal(ev.Object.Raw, &meta)
	if ev.Type != string(typ) || meta.Name != name {
		t.Fatalf("event %s %s, want %s %s", ev.Type, meta.Name, typ, name)
	}
}

func (w *watchStream) wantEnd(t *testing.T) {
	t.Helper()
	if ev, ok := w.next(t); ok {
		t.Fatalf("event %s %s, want the end of the watch", ev.Type, ev.Object.Raw)
	}
}

// TestWatchCompacted: a watch from before the compaction gets one ERROR
// event, 410 Expired "too old resource version", and ends; one from the
// compacted revision on replays the history after it, then follows.
func TestWatchCompacted(t *testing.T) {
	s, _ := testServer(t, noCache, 3)
	s.setObjects([]string{"10"}, nil, "3")
	s.setObjects(nil, []string{"01"}, "4")
	s.compact(3)

	w := openWatch(t, s, "", "/api/v1/configmaps", listOpts("resourceVersion", "2"))
	if w.resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 and an ERROR event", w.resp.StatusCode)
	}
	ev, ok := w.next(t)
	var st metav1.Status
	if ok {
		_ = json.Unmarshal(ev.Object.Raw, &st)
	}
	if !ok || ev.Type != string(watch.Error) {
		t.Fatalf("first event %v %s, want ERROR", ok, ev.Type)
	}
	wantExpired(t, &st, "too old resource version: 2 (3)")
	w.wantEnd(t)

	w = openWatch(t, s, "", "/api/v1/configmaps", listOpts("resourceVersion", "3"))
	w.wantEvent(t, watch.Deleted, "01")
	s.setObjects([]string{"11"}, nil, "5")
	w.wantEvent(t, watch.Added, "11")
}

// TestWatchList: sendInitialEvents=true is refused with 422 without the
// WatchList feature gate, as kube-apiserver's validation refuses it, and
// with it answers ADDED per object and the initial-events-end BOOKMARK.
func TestWatchList(t *testing.T) {
	q := func() url.Values {
		return listOpts("sendInitialEvents", "true", "resourceVersionMatch", "NotOlderThan", "allowWatchBookmarks", "true")
	}
	s, _ := testServer(t, noCache, 2)
	q1 := q()
	q1.Set("watch", "true")
	code, body := get(t, s, "", "/api/v1/configmaps", q1)
	var st metav1.Status
	_ = json.Unmarshal(body, &st)
	want := `ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled`
	if code != http.StatusUnprocessableEntity || st.Reason != metav1.StatusReasonInvalid || st.Message != want {
		t.Errorf("WatchList off: %d %s %q, want 422 Invalid %q", code, st.Reason, st.Message, want)
	}

	s, _ = testServer(t, defaultAPIServer, 2)
	w := openWatch(t, s, "", "/api/v1/configmaps", q())
	w.wantEvent(t, watch.Added, "00")
	w.wantEvent(t, watch.Added, "01")
	ev, _ := w.next(t)
	var meta metav1.PartialObjectMetadata
	_ = json.Unmarshal(ev.Object.Raw, &meta)
	if ev.Type != string(watch.Bookmark) || meta.Annotations[initialEventsEnd] != "true" || meta.ResourceVersion != "2" {
		t.Errorf("after the objects: %s %+v, want the initial-events-end BOOKMARK at 2", ev.Type, meta.ObjectMeta)
	}
}

// startPod adds a pod incarnation and lets its StatefulSet informer's
// first LIST (held until the simulator delivers it) through, as
// Deliver(Listed) does; it returns the list.
func startPod(t *testing.T, s *server, name, uid string, q url.Values) *appsv1.StatefulSetList {
	t.Helper()
	p := s.addPod(name, uid, true)
	type answer struct {
		code int
		body []byte
	}
	done := make(chan answer, 1)
	go func() {
		resp := do(t, s, uid, "/apis/apps/v1/namespaces/"+testNS+"/statefulsets", q)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b}
	}()
	stop := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(stop) }) // failure guard only
	defer timer.Stop()
	if !s.waitFor(stop, func() bool { return p.list.waiting }) {
		t.Fatal("the first LIST was not held")
	}
	s.mu.Lock()
	s.release(&p.list)
	s.mu.Unlock()
	a := <-done
	var l appsv1.StatefulSetList
	if err := json.Unmarshal(a.body, &l); a.code != http.StatusOK || err != nil {
		t.Fatalf("LIST: %d %s", a.code, a.body)
	}
	return &l
}

// TestStatefulSetListLag: the informer's first LIST (resourceVersion "0")
// is the watch cache's too: under a lag it answers the StatefulSet as it
// was then, and the watch from there replays the writes since.
func TestStatefulSetListLag(t *testing.T) {
	s, _ := testServer(t, defaultAPIServer, 1)
	s.setStatefulSet(testStatefulSet("3", 3))
	s.setLag(2)
	l := startPod(t, s, "kube-state-metrics-0", "pod-0", listOpts("resourceVersion", "0", "limit", "500"))
	if len(l.Items) != 1 || l.Items[0].ResourceVersion != "1" || l.ResourceVersion != "1" {
		t.Fatalf("LIST under a lag of 2: %d items at %s, want the StatefulSet of resourceVersion 1", len(l.Items), l.ResourceVersion)
	}
	openWatch(t, s, "pod-0", "/apis/apps/v1/namespaces/"+testNS+"/statefulsets", listOpts("resourceVersion", "1"))
	stop := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(stop) }) // failure guard only
	defer timer.Stop()
	s.mu.Lock()
	p := s.podsByUID["pod-0"]
	s.mu.Unlock()
	if !s.waitFor(stop, func() bool { return p.stream != nil }) {
		t.Fatal("the watch did not open")
	}
	s.mu.Lock()
	q := p.queue
	s.mu.Unlock()
	if len(q) != 1 || q[0].Type != watch.Modified || q[0].Object.ResourceVersion != "3" {
		t.Errorf("the watch from 1 waits to deliver %v, want MODIFIED at 3", q)
	}
}

// TestDisconnect: every watch of the pod ends, StatefulSet and ConfigMaps,
// once each has been open a second (a shorter one client-go would take
// for a "very short watch"); another pod's watches go on.
func TestDisconnect(t *testing.T) {
	s, _ := testServer(t, noCache, 1)
	startPod(t, s, "kube-state-metrics-0", "pod-0", listOpts("resourceVersion", "0", "limit", "500"))
	s.addPod("kube-state-metrics-1", "pod-1", true)
	ssWatch := openWatch(t, s, "pod-0", "/apis/apps/v1/namespaces/"+testNS+"/statefulsets", listOpts("resourceVersion", "2"))
	cmWatch := openWatch(t, s, "pod-0", "/api/v1/configmaps", listOpts("resourceVersion", "2"))
	other := openWatch(t, s, "pod-1", "/api/v1/configmaps", listOpts("resourceVersion", "2"))
	stop := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { close(stop) }) // failure guard only
	defer timer.Stop()
	if !s.waitFor(stop, func() bool { return len(s.streams) == 3 }) {
		t.Fatal("the watches did not open")
	}
	s.mu.Lock()
	p := s.podsByUID["pod-0"]
	var newest time.Time
	for st := range s.streams {
		if st.pod == p && st.opened.After(newest) {
			newest = st.opened
		}
	}
	s.mu.Unlock()
	s.disconnect(p)
	if age := time.Since(newest); age < minWatchAge {
		t.Errorf("disconnect ended a watch %s old, want at least %s", age, minWatchAge)
	}
	ssWatch.wantEnd(t)
	cmWatch.wantEnd(t)
	s.setObjects([]string{"05"}, nil, "3")
	other.wantEvent(t, watch.Added, "05")
}
