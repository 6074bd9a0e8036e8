package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/shardsim/shardsim/model"
)

// This file is pod failures: a KSM pod whose start-up GET fails exits
// (MetricsHandler.Run returns "detect StatefulSet: ..."), and the kubelet
// restarts its container after a back-off (restartPolicy Always); while
// the failure lasts it crash-loops: not Ready, serving nothing.

// Ops of pod failures.
const (
	// OpFailStart: the next count start-ups of the pods fail, each
	// followed by the container's restart.
	OpFailStart = "failStart"
	// OpCrashLoop: every start-up of the pods fails until OpRecover:
	// they sit in CrashLoopBackOff.
	OpCrashLoop = "crashLoop"
	// OpRecover ends a crash loop: the next restart succeeds.
	OpRecover = "recover"
)

// startFailReason is what a failing start-up gets: detectStatefulSet's
// first request, the GET of the pod's own Pod, answered 403 Forbidden (KSM's
// service account lacking the RBAC to read pods, a common cause), as
// KSM's error wraps the API server's.
func startFailReason(pod, namespace string) string {
	return fmt.Sprintf(`retrieve pod %s for sharding: pods %q is forbidden: User "system:serviceaccount:%s:kube-state-metrics" cannot get resource "pods" in API group "" in the namespace %q`,
		pod, pod, namespace, namespace)
}

// setStartFailures sets how many start-ups of pod ordinal fail: n > 0,
// or -1 for all until recoverStarts.
func (s *Sim) setStartFailures(ordinal, n int) {
	if s.failures == nil {
		s.failures = map[int]int{}
	}
	s.failures[ordinal] = n
	what := "its next start-ups fail"
	if n < 0 {
		what = "every start-up fails until it recovers (crash loop)"
	}
	s.logf(LogFault, ordinal, "", "%s", what)
}

// recoverStarts ends pod ordinal's start-up failures; a crashed pod
// waiting for its restart is restarted.
func (s *Sim) recoverStarts(ordinal int) {
	delete(s.failures, ordinal)
	s.logf(LogFault, ordinal, "", "recovers: its next start-up succeeds")
	if p := s.newest(ordinal); p != nil && p.state.Phase == model.Crashed && !p.stopping &&
		!slices.ContainsFunc(s.inbox[ordinal], func(it item) bool { return it.pod == p && it.kind == itemRestart }) {
		s.pushAfter(ordinal, item{kind: itemRestart, pod: p}, s.crashLoopWait(p))
	}
}

// crashLoopWait is how long after now the kubelet restarts pod p, which
// has crash-looped since p.crashedAt. The replay does not restart a
// crash-looping container (it would never settle), so the restarts the
// kubelet made meanwhile are counted here: after each crash it waits its
// back-off (10s, doubled each time, at most 5 minutes), and each restart
// fails again a pod start latency later. The wait is until the first
// restart from now on.
func (s *Sim) crashLoopWait(p *pod) time.Duration {
	t, k := p.crashedAt, p.state.Restarts
	for {
		t += restartBackOffAfter(k) // the restart
		if t >= s.clock.now {
			return t - s.clock.now
		}
		t += s.clock.lat.podStart // it fails again
		k++
	}
}

// startFails reports whether pod p's start-up GET fails now, using up one
// failure.
func (s *Sim) startFails(p *pod) (string, bool) {
	n := s.failures[p.ordinal]
	if n == 0 {
		return "", false
	}
	if n > 0 {
		s.failures[p.ordinal] = n - 1
	}
	return startFailReason(p.state.Name, s.api.Namespace), true
}

// afterStart follows a start-up item's outcome: a pod that crashed drops
// its informer's LIST (the process is gone) and, unless it crash-loops,
// waits for the kubelet's restart; a restarted container starts again.
func (s *Sim) afterStart(p *pod, kind itemKind) {
	switch {
	case kind == itemGet && p.state.Phase == model.Crashed:
		p.crashedAt = s.clock.now
		s.inbox[p.ordinal] = slices.DeleteFunc(s.inbox[p.ordinal], func(x item) bool { return x.pod == p && x.kind == itemList })
		if s.failures[p.ordinal] >= 0 {
			s.push(p.ordinal, item{kind: itemRestart, pod: p})
		}
	case kind == itemRestart && p.state.Phase == model.Starting:
		s.push(p.ordinal, item{kind: itemGet, pod: p})
		s.push(p.ordinal, item{kind: itemList, pod: p})
	}
}
