package ksm

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shardsim/shardsim/model"
)

// TestCrashLoopRealKSM drives a crash-looping pod on real KSM v2.13.0
// through the backend's Go API, as the simulator replays crashLoop and
// recover: each failed start-up is the 403 on the GET of its own Pod, the
// only request the process sent, and a real exit (MetricsHandler.Run
// returned "detect StatefulSet: retrieve pod ...", the host runs it no
// more); each restart is a new KSM process in the same Pod (same object,
// name and UID) whose start-up GET is held again; once the GET succeeds
// the pod configures 1/2 and exports what shard 1 owns.
func TestCrashLoopRealKSM(t *testing.T) {
	if testing.Short() {
		t.Skip("real kube-state-metrics suites are skipped with -short (each release builds in about 2 minutes cold)")
	}
	b := faultBackend(t, "v2.13.0", defaultAPIServer)
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-state-metrics", Namespace: "monitoring", UID: "ss-uid", ResourceVersion: "1"},
		Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(2))},
	}
	if err := b.Write(ss); err != nil {
		t.Fatal(err)
	}
	uids := objectUIDs(t, 12)
	if err := b.WriteObjects(uids, nil, "2"); err != nil {
		t.Fatal(err)
	}
	const name, uid = "kube-state-metrics-1", "pod-1"
	r, err := b.NewPod(name, uid)
	if err != nil {
		t.Fatal(err)
	}
	p := r.(*pod)
	b.srv.mu.Lock()
	podObject := b.srv.pods[name]
	b.srv.mu.Unlock()
	getPod := []string{"GET /api/v1/namespaces/monitoring/pods/" + name}
	for i := range 2 {
		conn := p.conn
		b.srv.mu.Lock()
		held := conn.get.waiting
		b.srv.mu.Unlock()
		if got := p.requests(); got != getPod[0] || !held {
			t.Fatalf("start %d: the KSM process sent %q (its GET held: %v); want only %q, held", i, got, held, getPod[0])
		}
		state, note, err := p.Deliver(model.StartFailed{Reason: "RBAC"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("start %d: %s", i, note)
		if state.Phase != model.Crashed || state.Restarts != i {
			t.Fatalf("start %d: %s after %d restarts; want Crashed after %d", i, state.Phase, state.Restarts, i)
		}
		want := fmt.Sprintf(`MetricsHandler.Run returned "detect StatefulSet: retrieve pod %s for sharding: pods \"%s\" is forbidden: User \"system:serviceaccount:monitoring:kube-state-metrics\" cannot get resource \"pods\"`, name, name)
		if !strings.Contains(note, want) {
			t.Errorf("start %d: %q; want KSM's exit: %s", i, note, want)
		}
		b.srv.mu.Lock()
		sent := slices.Clone(conn.requests)
		b.srv.mu.Unlock()
		if !slices.Equal(sent, getPod) {
			t.Errorf("start %d: the crashed KSM process sent %q; want only %q (no GET of the StatefulSet)", i, sent, getPod)
		}
		if _, err := b.host.call(request{Op: opSelf, Pod: name, UID: uid}); err == nil || !strings.Contains(err.Error(), "no running pod incarnation") {
			t.Errorf("start %d: the host still runs the crashed KSM process: %v", i, err)
		}
		if got, err := p.Exported(); err != nil || got != nil {
			t.Errorf("start %d: a crashed pod exports %v (%v); want nothing", i, got, err)
		}

		state = deliver(t, p, model.ContainerRestarted{})
		if state.Phase != model.Starting || state.Restarts != i+1 {
			t.Fatalf("restart %d: %s after %d restarts; want Starting after %d", i, state.Phase, state.Restarts, i+1)
		}
		b.srv.mu.Lock()
		same := b.srv.pods[name] == podObject && b.srv.podsByUID[uid] == p.conn
		sent = slices.Clone(p.conn.requests)
		held = p.conn.get.waiting
		b.srv.mu.Unlock()
		if p.conn == conn || p.conn.uid != uid || !same {
			t.Errorf("restart %d: not a container restart in Pod %s (UID %s): a new Pod object or incarnation", i, name, uid)
		}
		if !slices.Equal(sent, getPod) || !held {
			t.Errorf("restart %d: the new KSM process sent %q (held: %v); want %q, held", i, sent, held, getPod)
		}
	}
	deliver(t, p, model.Got{StatefulSet: ss})
	state := deliver(t, p, model.Listed{Items: []*appsv1.StatefulSet{ss}})
	if want := (model.Config{Shard: 1, Total: 2}); state.Config != want || state.Phase != model.Watching || state.Restarts != 2 {
		t.Fatalf("after recovering: %s %s after %d restarts; want Watching %s after 2", state.Phase, state.Config, state.Restarts, want)
	}
	checkExports(t, []*pod{p}, [][]string{owned(uids, 1)})
	if _, _, err := p.Deliver(model.ContainerRestarted{}); err == nil {
		t.Error("a container restart of a running pod: no error")
	}
}
