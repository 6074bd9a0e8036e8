package ksm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// These tests speak HTTP to the server's pods (DaemonSet sharding,
// pods.go) as a client-go clientset does: no KSM build, part of go test
// -short.

// podsServer starts a server (testServer: the StatefulSet at 1, no
// objects at 2) with pods a and b on node-a, c on node-b, d and e
// unscheduled, created at resourceVersion 3.
func podsServer(t *testing.T, api sim.APIServerConfig) *server {
	t.Helper()
	s, _ := testServer(t, api, 0)
	if err := s.setPods([]string{"a", "b", "c", "d", "e"}, []string{"node-a", "node-a", "node-b", "", ""}, false, "3"); err != nil {
		t.Fatal(err)
	}
	return s
}

func listPodsHTTP(t *testing.T, s *server, path string, q url.Values) (*corev1.PodList, *metav1.Status) {
	t.Helper()
	code, body := get(t, s, "", path, q)
	if code != http.StatusOK {
		var st metav1.Status
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatalf("status %d, body %s", code, body)
		}
		return nil, &st
	}
	var l corev1.PodList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return &l, nil
}

func podNames(l *corev1.PodList) []string {
	out := []string{}
	for _, p := range l.Items {
		out = append(out, p.Name)
	}
	return out
}

// TestPodsFieldSelector: LISTs of the pods are filtered by field
// selectors as the pod registry filters them (spec.nodeName, "" for an
// unscheduled pod; metadata.name; status.phase), an unknown field is 400,
// another namespace has none, and the KSM pods' own Pod objects are not
// the trace's pods.
func TestPodsFieldSelector(t *testing.T) {
	s := podsServer(t, defaultAPIServer)
	s.addPod("ksm-node-a", "ksm-uid", false)
	for _, tc := range []struct {
		path, sel string
		want      []string
	}{
		{"/api/v1/pods", "", []string{"a", "b", "c", "d", "e"}},
		{"/api/v1/pods", "spec.nodeName=node-a", []string{"a", "b"}},
		{"/api/v1/pods", "spec.nodeName=", []string{"d", "e"}},
		{"/api/v1/pods", "spec.nodeName!=node-a", []string{"c", "d", "e"}},
		{"/api/v1/pods", "spec.nodeName=node-a.ec2.internal", []string{}},
		{"/api/v1/pods", "metadata.name=c", []string{"c"}},
		{"/api/v1/pods", "status.phase=Pending", []string{"d", "e"}},
		{"/api/v1/pods", "spec.nodeName=node-a,metadata.namespace=" + testNS, []string{"a", "b"}},
		{"/api/v1/namespaces/" + testNS + "/pods", "spec.nodeName=node-b", []string{"c"}},
		{"/api/v1/namespaces/other/pods", "", []string{}},
	} {
		l, st := listPodsHTTP(t, s, tc.path, listOpts("fieldSelector", tc.sel, "resourceVersion", "0", "limit", "500"))
		if st != nil {
			t.Fatalf("%s %q: %d %s", tc.path, tc.sel, st.Code, st.Message)
		}
		if got := podNames(l); !slices.Equal(got, tc.want) || l.ResourceVersion != "3" {
			t.Errorf("%s fieldSelector=%q: %v at %s, want %v at 3", tc.path, tc.sel, got, l.ResourceVersion, tc.want)
		}
		for _, p := range l.Items {
			if string(p.UID) != p.Name || p.Namespace != testNS || (p.Spec.NodeName == "") != (p.Status.Phase == corev1.PodPending) {
				t.Errorf("pod %+v: want named by its UID in %s, Pending exactly while unscheduled", p.ObjectMeta, testNS)
			}
		}
	}
	_, st := listPodsHTTP(t, s, "/api/v1/pods", listOpts("fieldSelector", "spec.host=node-a"))
	if st == nil || st.Code != http.StatusBadRequest || !strings.Contains(st.Message, "field label not supported: spec.host") {
		t.Errorf("an unknown field: %+v, want 400 field label not supported", st)
	}
	_, st = listPodsHTTP(t, s, "/api/v1/pods", listOpts("fieldSelector", "spec.nodeName"))
	if st == nil || st.Code != http.StatusBadRequest {
		t.Errorf("a selector that does not parse: %+v, want 400", st)
	}
}

// TestPodsPaging: without the watch cache a LIST with a limit is paged,
// each continue token pinned to the first page's revision: a later
// binding does not show in the next page.
func TestPodsPaging(t *testing.T) {
	s := podsServer(t, sim.APIServerConfig{PageSize: 2})
	l, st := listPodsHTTP(t, s, "/api/v1/pods", listOpts("limit", "500"))
	if st != nil || !slices.Equal(podNames(l), []string{"a", "b"}) || l.Continue == "" || l.RemainingItemCount == nil || *l.RemainingItemCount != 3 {
		t.Fatalf("first page %v %+v, want [a b] with a continue token, 3 remaining", st, l)
	}
	if tok, err := simContinue(l.Continue); err != nil || tok != "3/b" {
		t.Errorf("continue token %q (%v), want the simulator's 3/b", tok, err)
	}
	if err := s.setPods([]string{"d"}, []string{"node-a"}, false, "4"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for l.Continue != "" {
		if l, st = listPodsHTTP(t, s, "/api/v1/pods", listOpts("limit", "500", "continue", l.Continue, "fieldSelector", "spec.nodeName=")); st != nil {
			t.Fatal(st.Message)
		}
		if l.ResourceVersion != "3" {
			t.Errorf("page at %s, want pinned to 3", l.ResourceVersion)
		}
		got = append(got, podNames(l)...)
	}
	if !slices.Equal(got, []string{"d", "e"}) {
		t.Errorf("the unscheduled pods after b at 3: %v, want [d e] (d was bound at 4)", got)
	}
	l, _ = listPodsHTTP(t, s, "/api/v1/pods", listOpts("fieldSelector", "spec.nodeName="))
	if !slices.Equal(podNames(l), []string{"e"}) || l.ResourceVersion != "4" {
		t.Errorf("unpaged at 4: %v at %s, want [e] at 4", podNames(l), l.ResourceVersion)
	}
}

// wantPodEvent reads the next event and checks its type, pod, node and
// resourceVersion.
func (w *watchStream) wantPodEvent(t *testing.T, typ watch.EventType, name, node, rv string) {
	t.Helper()
	ev, ok := w.next(t)
	if !ok {
		t.Fatalf("the watch ended, want %s %s", typ, name)
	}
	var p corev1.Pod
	_ = json.Unmarshal(ev.Object.Raw, &p)
	if ev.Type != string(typ) || p.Name != name || p.Spec.NodeName != node || p.ResourceVersion != rv {
		t.Fatalf("event %s %s on %q at %s, want %s %s on %q at %s", ev.Type, p.Name, p.Spec.NodeName, p.ResourceVersion, typ, name, node, rv)
	}
}

// TestPodsWatchTransitions: each watch is filtered by its own selector as
// the watch cache filters it: a binding "" -> node-a is DELETED (the pod
// as it was, at the binding's resourceVersion) for spec.nodeName=, ADDED
// for spec.nodeName=node-a, MODIFIED for a watch of every pod; a deletion
// is DELETED where the pod was selected; a watch from an older
// resourceVersion replays what came after it.
func TestPodsWatchTransitions(t *testing.T) {
	s := podsServer(t, defaultAPIServer)
	unscheduled := openWatch(t, s, "", "/api/v1/pods", listOpts("fieldSelector", "spec.nodeName=", "resourceVersion", "3"))
	nodeA := openWatch(t, s, "", "/api/v1/pods", listOpts("fieldSelector", "spec.nodeName=node-a", "resourceVersion", "3"))
	all := openWatch(t, s, "", "/api/v1/pods", listOpts("resourceVersion", "3"))
	if err := s.setPods([]string{"e", "d"}, []string{"node-a", "node-a"}, false, "4"); err != nil {
		t.Fatal(err)
	}
	unscheduled.wantPodEvent(t, watch.Deleted, "d", "", "4")
	unscheduled.wantPodEvent(t, watch.Deleted, "e", "", "4")
	nodeA.wantPodEvent(t, watch.Added, "d", "node-a", "4")
	nodeA.wantPodEvent(t, watch.Added, "e", "node-a", "4")
	all.wantPodEvent(t, watch.Modified, "d", "node-a", "4")
	all.wantPodEvent(t, watch.Modified, "e", "node-a", "4")
	if err := s.setPods([]string{"a", "c"}, nil, true, "5"); err != nil {
		t.Fatal(err)
	}
	if err := s.setPods([]string{"f"}, []string{""}, false, "6"); err != nil {
		t.Fatal(err)
	}
	nodeA.wantPodEvent(t, watch.Deleted, "a", "node-a", "5")
	all.wantPodEvent(t, watch.Deleted, "a", "node-a", "5")
	all.wantPodEvent(t, watch.Deleted, "c", "node-b", "5")
	all.wantPodEvent(t, watch.Added, "f", "", "6")
	unscheduled.wantPodEvent(t, watch.Added, "f", "", "6")

	replay := openWatch(t, s, "", "/api/v1/pods", listOpts("fieldSelector", "spec.nodeName=node-a", "resourceVersion", "4"))
	replay.wantPodEvent(t, watch.Deleted, "a", "node-a", "5")
	if err := s.setPods([]string{"g"}, []string{"node-a"}, false, "7"); err != nil {
		t.Fatal(err)
	}
	replay.wantPodEvent(t, watch.Added, "g", "node-a", "7")
}

// TestPodsHeld: a KSM pod's pods LIST waits until the simulator's page is
// delivered, and is answered only if the server's own answer is that
// page; its watch's events wait in its queue and go one write at a time,
// the MODIFIED events the simulator leaves out first; its watch list is
// held likewise. podsRequest words each request as the simulator does.
func TestPodsHeld(t *testing.T) {
	s := podsServer(t, defaultAPIServer)
	p := s.addPod("ksm-all", "ksm-uid", false)
	answered := make(chan *corev1.PodList, 1)
	go func() {
		code, body := get(t, s, "ksm-uid", "/api/v1/pods", listOpts("resourceVersion", "0", "limit", "500"))
		var l corev1.PodList
		if code == http.StatusOK && json.Unmarshal(body, &l) == nil {
			answered <- &l
		}
		close(answered)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !s.waitFor(ctx.Done(), func() bool { return p.pods.hold.waiting }) {
		t.Fatal("the pod's LIST did not wait at the server")
	}
	s.mu.Lock()
	req, err := s.podsRequest(p, 7)
	s.mu.Unlock()
	if want := (model.Request{ResourceVersion: "0", Limit: 7}); err != nil || req != want {
		t.Errorf("held LIST worded %s (%v), want %s", req, err, want)
	}
	s.mu.Lock()
	err = s.answerPods(p, model.ObjectsListed{Page: model.Page{UIDs: []string{"a", "b"}, ResourceVersion: "3"}})
	s.mu.Unlock()
	if err == nil || !strings.Contains(err.Error(), "5 pods at resourceVersion 3") {
		t.Errorf("a page that is not the server's: %v, want refused", err)
	}
	s.mu.Lock()
	err = s.answerPods(p, model.ObjectsListed{Page: model.Page{UIDs: []string{"a", "b", "c", "d", "e"}, ResourceVersion: "3"}})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if l := <-answered; l == nil || len(l.Items) != 5 {
		t.Fatalf("the released LIST answered %v, want 5 pods", l)
	}

	// The reflector's watch from 3: the writes after it wait in its queue.
	w := openWatch(t, s, "ksm-uid", "/api/v1/pods", listOpts("resourceVersion", "3"))
	if err := s.setPods([]string{"d"}, []string{"node-b"}, false, "4"); err != nil {
		t.Fatal(err)
	}
	if err := s.setPods([]string{"b"}, nil, true, "5"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	req, err = s.podsRequest(p, 7)
	queued := len(p.pods.queue)
	s.mu.Unlock()
	if want := (model.Request{Watch: true, ResourceVersion: "3"}); err != nil || req != want || queued != 2 {
		t.Errorf("watching: %s (%v), %d events queued; want %s, 2 (MODIFIED d, DELETED b)", req, err, queued, want)
	}
	s.mu.Lock()
	err = s.releasePodEvents(p, model.ObjectsWatched{Type: watch.Deleted, UIDs: []string{"a"}, ResourceVersion: "5"})
	s.mu.Unlock()
	if err == nil {
		t.Error("a DELETED of a pod the server's watch does not send next: accepted")
	}
	s.mu.Lock()
	err = s.releasePodEvents(p, model.ObjectsWatched{Type: watch.Deleted, UIDs: []string{"b"}, ResourceVersion: "5"})
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	w.wantPodEvent(t, watch.Modified, "d", "node-b", "4")
	w.wantPodEvent(t, watch.Deleted, "b", "node-a", "5")

	// A watch list of another pod incarnation: held, then the initial
	// events at the current resourceVersion and the bookmark.
	q := listOpts("sendInitialEvents", "true", "resourceVersionMatch", "NotOlderThan", "allowWatchBookmarks", "true", "fieldSelector", "spec.nodeName=node-a")
	p2 := s.addPod("ksm-node-a", "ksm-uid-2", false)
	opened := make(chan *watchStream, 1)
	go func() { opened <- openWatch(t, s, "ksm-uid-2", "/api/v1/pods", q) }()
	if !s.waitFor(ctx.Done(), func() bool { return p2.pods.hold.waiting }) {
		t.Fatal("the watch list did not wait at the server")
	}
	s.mu.Lock()
	req, _ = s.podsRequest(p2, 7)
	err = s.answerPods(p2, model.ObjectsStreamed{Page: model.Page{UIDs: []string{"a"}, ResourceVersion: "5"}})
	s.mu.Unlock()
	if want := (model.Request{Watch: true, SendInitialEvents: true}); req != want || err != nil {
		t.Fatalf("watch list worded %s, answered %v; want %s, answered", req, err, want)
	}
	wl := <-opened
	wl.wantPodEvent(t, watch.Added, "a", "node-a", "3")
	ev, _ := wl.next(t)
	var meta metav1.PartialObjectMetadata
	_ = json.Unmarshal(ev.Object.Raw, &meta)
	if ev.Type != string(watch.Bookmark) || meta.Annotations[initialEventsEnd] != "true" || meta.ResourceVersion != "5" {
		t.Errorf("after the pods: %s %+v, want the initial-events-end BOOKMARK at 5", ev.Type, meta.ObjectMeta)
	}
	s.mu.Lock()
	req, err = s.podsRequest(p2, 7)
	s.mu.Unlock()
	if want := (model.Request{Watch: true, ResourceVersion: "5"}); err != nil || req != want {
		t.Errorf("after the watch list: %s (%v), want %s", req, err, want)
	}
}
