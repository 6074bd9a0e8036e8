package ksm

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestFaultsRealKSM drives the ksm backend through its Go API, as the
// simulator would replay a trace with cluster.apiServer {watchCache:
// false, watchList: false}, pageSize 5 and the fault ops, and checks what
// real KSM v2.13.0 exports:
//
//   - without the watch cache, the reflectors' first LIST
//     (resourceVersion "0", limit 500) is paged by 5; KSM's sharded List
//     (pkg/sharding/listwatch.go, until v2.20.0) drops the continue token,
//     so each pod exports only what it owns among the first 5 names, and
//     the 7 others are exported by no pod;
//   - a disconnect without compaction: every watch of the pod ends and its
//     reflectors re-watch from their last resourceVersion, no relist;
//   - an object written, the history compacted at its resourceVersion, both
//     pods disconnected: the owner's reflector saw the object's event and
//     resumes at the compacted revision; the other's sharded Watch filtered
//     it out, so it resumes from before and gets 410 Gone, backs off and
//     relists with resourceVersion 2 and no limit (the pager pages only
//     lists from "0" once one came back paged): the whole list, every
//     object it owns. The StatefulSet informers' re-watches (from 2) wait
//     for the simulator's next delivery, the relist it predicts: released,
//     they get 410 and relist, held like the first LIST until delivered.
func TestFaultsRealKSM(t *testing.T) {
	if testing.Short() {
		t.Skip("real kube-state-metrics suites are skipped with -short (each release builds in about 2 minutes cold)")
	}
	b := faultBackend(t, "v2.13.0", sim.APIServerConfig{WatchCache: false, WatchList: false, PageSize: 5})
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-state-metrics", Namespace: "monitoring", UID: "ss-uid", ResourceVersion: "1",
			Labels: map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(2))},
	}
	if err := b.Write(ss); err != nil {
		t.Fatal(err)
	}
	uids := objectUIDs(t, 12)
	if err := b.WriteObjects(uids, nil, "2"); err != nil {
		t.Fatal(err)
	}
	pods := make([]*pod, 2)
	for i := range pods {
		r, err := b.NewPod(fmt.Sprintf("kube-state-metrics-%d", i), fmt.Sprintf("pod-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		pods[i] = r.(*pod)
		deliver(t, pods[i], model.Got{StatefulSet: ss})
		state := deliver(t, pods[i], model.Listed{Items: []*appsv1.StatefulSet{ss}})
		if want := (model.Config{Shard: int32(i), Total: 2}); state.Config != want {
			t.Fatalf("pod %d configured %s, want %s", i, state.Config, want)
		}
	}
	firstPage := uids[:5]
	want := [][]string{owned(firstPage, 0), owned(firstPage, 1)}
	checkExports(t, pods, want)
	var exported []string
	for _, w := range want {
		exported = append(exported, w...)
	}
	if missing := len(uids) - len(exported); missing != 7 {
		t.Errorf("%d objects exported by no pod, want 7", missing)
	}

	// A disconnect: pod 0's watches end, its reflectors re-watch from
	// resourceVersion 2, and nothing is relisted.
	sent, _ := requests(t, pods[0], 0)
	if err := pods[0].Disconnect(); err != nil {
		t.Fatal(err)
	}
	_, after := requests(t, pods[0], sent)
	slices.Sort(after)
	if wantReqs := []string{"WATCH configmaps from 2", "WATCH statefulsets from 2"}; !slices.Equal(after, wantReqs) {
		t.Errorf("after the disconnect pod 0 sent %q, want %q", after, wantReqs)
	}
	checkExports(t, pods, want)

	// An object, compaction at its write, both pods disconnected.
	x := "ffffffff-0000-4000-8000-000000000000"
	xOwner := int(model.Owner(model.HashUID(x), 2))
	if err := b.WriteObjects([]string{x}, nil, "3"); err != nil {
		t.Fatal(err)
	}
	if err := b.Compact("3"); err != nil {
		t.Fatal(err)
	}
	otherPod := pods[1-xOwner]
	sent, _ = requests(t, otherPod, 0)
	for _, p := range pods {
		if err := p.Disconnect(); err != nil {
			t.Fatal(err)
		}
	}
	// The StatefulSet informers' re-watches wait at the server until the
	// simulator's next delivery, here the relist it schedules after the
	// 410 it predicts: released, each gets 410 (from 2), backs off and
	// relists, held in turn until delivered.
	for _, p := range pods {
		deliver(t, p, model.Listed{Items: []*appsv1.StatefulSet{ss}})
	}
	all := append(slices.Clone(uids), x)
	want[xOwner] = append(want[xOwner], x)
	want[1-xOwner] = owned(all, 1-xOwner)
	checkExports(t, pods, want)
	_, other := requests(t, otherPod, sent)
	t.Logf("pod %d after the compaction and the disconnect: %q", 1-xOwner, other)
	for _, want := range []string{"LIST configmaps resourceVersion=2 limit=", "WATCH configmaps from 3", "LIST statefulsets resourceVersion=2 limit=", "WATCH statefulsets from 3"} {
		if !slices.Contains(other, want) {
			t.Errorf("pod %d, whose watches resumed from a compacted resourceVersion, sent %q; want %q", 1-xOwner, other, want)
		}
	}
	for i, p := range pods {
		note, err := p.observe("after the compaction")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(note, "KSM stays 0/2") && !strings.Contains(note, "KSM stays 1/2") {
			t.Errorf("pod %d: %s; want its configuration unchanged", i, note)
		}
	}
}

// faultBackend builds (once, cached) release and returns its backend with
// the API server configured.
func faultBackend(t *testing.T, release string, api sim.APIServerConfig) *Backend {
	t.Helper()
	nb := New(Config{Build: Build{Release: release}, Progress: io.Discard})
	sb, err := nb(model.FieldSelector{})
	if err != nil {
		t.Fatalf("build kube-state-metrics %s: %v", release, err)
	}
	b := sb.(*Backend)
	t.Cleanup(b.Close)
	if err := b.ConfigureAPIServer(api); err != nil {
		t.Fatal(err)
	}
	return b
}

func deliver(t *testing.T, p *pod, ev model.Event) model.PodState {
	t.Helper()
	state, note, err := p.Deliver(ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", p.conn.name, note)
	return state
}

// objectUIDs returns n sorted UIDs, at least one owned by each of 2 shards
// among the first 5 (so that both pods export something).
func objectUIDs(t *testing.T, n int) []string {
	t.Helper()
	uids := make([]string, n)
	for i := range uids {
		uids[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", (i+1)*0x10000000/(n+1))
	}
	if len(owned(uids[:5], 0)) == 0 || len(owned(uids[:5], 1)) == 0 {
		t.Fatalf("one shard of 2 owns none of %v", uids[:5])
	}
	return uids
}

func owned(uids []string, shard int) []string {
	var out []string
	for _, u := range uids {
		if model.Keeps(u, int32(shard), 2) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out
}

func checkExports(t *testing.T, pods []*pod, want [][]string) {
	t.Helper()
	for i, p := range pods {
		got, err := p.Exported()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("pod %d exports %v, want %v", i, got, want[i])
		}
	}
}

// requests returns how many requests the pod has sent and its
// ConfigMap and StatefulSet lists and watches among the last since (at
// most 20), in short: "LIST configmaps resourceVersion=0 limit=500",
// "WATCH statefulsets from 2".
func requests(t *testing.T, p *pod, since int) (int, []string) {
	t.Helper()
	s := p.b.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	n := p.conn.sent - since
	if n > len(p.conn.requests) {
		t.Fatalf("pod %s sent %d requests, more than the server keeps", p.conn.name, n)
	}
	var out []string
	for _, r := range p.conn.requests[len(p.conn.requests)-n:] {
		_, uri, _ := strings.Cut(r, " ")
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		kind := path.Base(u.Path)
		if kind != "configmaps" && kind != "statefulsets" {
			continue
		}
		q := u.Query()
		if q.Get("watch") == "true" {
			out = append(out, fmt.Sprintf("WATCH %s from %s", kind, q.Get("resourceVersion")))
		} else {
			out = append(out, fmt.Sprintf("LIST %s resourceVersion=%s limit=%s", kind, q.Get("resourceVersion"), q.Get("limit")))
		}
	}
	return p.conn.sent, out
}

func ptr[T any](v T) *T { return &v }
