package ksm

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shardsim/shardsim/model"
)

// This file is pod failures on real KSM (sim.StartFailer): a start-up
// GET that fails makes KSM's MetricsHandler.Run return "detect
// StatefulSet: ..." and the process exit (model.StartFailed, Crashed);
// the kubelet's restart after its back-off (model.ContainerRestarted)
// starts a new KSM process in the same pod: the same Pod object, name and
// UID, its start-up GET held again.

// FailsStarts implements sim.StartFailer: the ksm backend runs failStart,
// crashLoop and recover.
func (*Backend) FailsStarts() {}

// serviceAccount is the user KSM's requests are made as in the
// Forbidden message: KSM's service account in the pods' namespace.
func serviceAccount(namespace string) string {
	return "system:serviceaccount:" + namespace + ":kube-state-metrics"
}

// forbiddenPod is the API server's answer to a GET of Pod name that RBAC
// denies, as kube-apiserver words it (403, reason Forbidden, details
// naming the pod).
func forbiddenPod(namespace, name string) *apierrors.StatusError {
	why := fmt.Sprintf("User %q cannot get resource \"pods\" in API group \"\" in the namespace %q", serviceAccount(namespace), namespace)
	return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, name, errors.New(why))
}

// expect folds ev into the pod's model state and fails unless what real
// KSM did (p.state) is the model's phase and restart count.
func (p *pod) expect(before model.PodState, ev model.Event) error {
	want, _ := model.Step(p.b.reducer, before, ev)
	if want.Phase != p.state.Phase || want.Restarts != p.state.Restarts {
		return fmt.Errorf("KSM pod %s is %s after %d restarts on real KSM; the model (%s) says %s after %d", p.conn.name, p.state.Phase, p.state.Restarts, p.b.reducer.Name(), want.Phase, want.Restarts)
	}
	return nil
}

// startFailed answers the pod's held start-up request, the GET of its own
// Pod (detectStatefulSet's first request; the StatefulSet's follows it and
// is never sent), with 403 Forbidden. KSM's MetricsHandler.Run must
// return "detect StatefulSet: ..." and nothing else may exit; the process
// is then gone (its connections closed) and the pod Crashed.
func (p *pod) startFailed(ev model.StartFailed) (string, error) {
	before := p.state
	if p.state.Phase != model.Starting || !p.flags.Autosharding {
		return "", fmt.Errorf("KSM pod %s is %s (%s): it has no start-up GET to fail", p.conn.name, p.state.Phase, strings.Join(p.args, " "))
	}
	if err := p.await("its start-up GET of Pod "+p.conn.name, func() bool { return p.conn.get.waiting }); err != nil {
		return "", err
	}
	b, s := p.b, p.b.srv
	uid := p.conn.uid
	fail := forbiddenPod(s.namespace, p.conn.name)
	b.crashing[uid] = true
	defer delete(b.crashing, uid)
	s.mu.Lock()
	p.conn.getFail = fail
	s.release(&p.conn.get)
	s.mu.Unlock()
	if err := b.settle(); err != nil {
		return "", err
	}
	msg, exited := b.exits[uid]
	delete(b.exits, uid)
	if !exited {
		return "", fmt.Errorf("KSM pod %s did not exit after its start-up GET of Pod %s was answered %d %s; its requests: %s", p.conn.name, p.conn.name, fail.ErrStatus.Code, fail.ErrStatus.Reason, p.requests())
	}
	if want := "detect StatefulSet: "; !strings.HasPrefix(msg, want) || !strings.Contains(msg, fail.ErrStatus.Message) {
		return "", fmt.Errorf("KSM pod %s exited with %q; a failed start-up GET returns %q followed by the API server's %q", p.conn.name, msg, want+"...", fail.ErrStatus.Message)
	}
	// The process exits: its connections close with it.
	if _, err := b.host.call(request{Op: opStop, Pod: p.conn.name, UID: uid}); err != nil {
		return "", err
	}
	if err := b.settle(); err != nil {
		return "", err
	}
	p.state.Phase = model.Crashed
	if err := p.expect(before, ev); err != nil {
		return "", err
	}
	return fmt.Sprintf("its start-up GET of Pod %s answered %d %s; KSM's MetricsHandler.Run returned %q: the process exited, the container waits for its restart (CrashLoopBackOff)",
		p.conn.name, fail.ErrStatus.Code, fail.ErrStatus.Reason, msg), nil
}

// restarted is the kubelet's restart of the crashed container: a new KSM
// process with the same flags in the same pod (its Pod object, name and
// UID unchanged), whose start-up GET waits at the server again.
func (p *pod) restarted() (string, error) {
	before := p.state
	if p.state.Phase != model.Crashed {
		return "", fmt.Errorf("KSM pod %s is %s: only a crashed container is restarted", p.conn.name, p.state.Phase)
	}
	p.conn = p.b.srv.restartPod(p.conn.uid)
	p.state = model.NewPod(before.Name)
	p.state.Restarts = before.Restarts + 1
	if err := p.start(); err != nil {
		return "", err
	}
	if err := p.await("its start-up GET of Pod "+p.conn.name+" after the restart", func() bool { return p.conn.get.waiting }); err != nil {
		return "", err
	}
	if err := p.expect(before, model.ContainerRestarted{}); err != nil {
		return "", err
	}
	return fmt.Sprintf("container restarted (restart %d): a new KSM process in Pod %s (UID %s) sent its start-up GET, held", p.state.Restarts, p.conn.name, p.conn.uid), nil
}

// restartPod is a container restart in pod incarnation uid: the Pod
// object stays (same name and UID); what the server knows of the old
// process's requests is forgotten, and its next start-up GET is held
// again. The old process must be gone (opStop).
func (s *server) restartPod(uid string) *podConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.podsByUID[uid]
	old.stopped = true
	s.release(&old.get)
	s.release(&old.list)
	s.release(&old.rewatch)
	s.release(&old.pods.hold)
	p := &podConn{name: old.name, uid: uid, get: newHold(), list: newHold()}
	s.podsByUID[uid] = p
	s.changed()
	return p
}
