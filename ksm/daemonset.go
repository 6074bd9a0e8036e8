package ksm

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/fields"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// DaemonSet sharding on real KSM: the backend is a sim.PodWriter (its API
// server serves the trace's pods, pods.go), and each KSM pod run with
// --resources=pods is a sim.ObjectsRunner whose reflector is KSM's own
// pods reflector, held at the server item by item.

var (
	_ sim.PodWriter     = (*Backend)(nil)
	_ sim.ObjectsRunner = podsPod{}
	_ sim.Exporter      = podsPod{}
)

// podsPod is a KSM pod run with --resources=pods: a pod whose pods
// reflector is an ObjectsRunner. (The ConfigMap pods are no
// ObjectsRunners: the server answers their ConfigMap requests at once.)
type podsPod struct{ *pod }

// WritePods implements sim.PodWriter: one write of the trace's pods at
// resourceVersion rv. The KSM pods' watches get its events when the
// simulator delivers them (DeliverObjects).
func (b *Backend) WritePods(uids, nodes []string, deleted bool, rv string) error {
	if err := b.start(b.serverNamespace()); err != nil {
		return err
	}
	if err := b.srv.setPods(uids, nodes, deleted, rv); err != nil {
		return err
	}
	if err := b.settle(); err != nil {
		return err
	}
	// The MODIFIED events no simulator item stands for go through now,
	// as a real API server sends them: KSM's store must hold the same
	// pods after them.
	for _, c := range b.srv.modifiedFirst() {
		before, err := b.podsStore(c)
		if err != nil {
			return err
		}
		b.srv.mu.Lock()
		n := b.srv.flushModified(c)
		b.srv.mu.Unlock()
		if err := b.settle(); err != nil {
			return err
		}
		after, err := b.podsStore(c)
		if err != nil {
			return err
		}
		if !slices.Equal(before, after) {
			return fmt.Errorf("KSM pod %s held %d pods, and %d after %d MODIFIED events of its pods watch, which change no pod's membership", c.name, len(before), len(after), n)
		}
	}
	return nil
}

// podsStore returns the pods KSM pod c's /metrics shows, by UID.
func (b *Backend) podsStore(c *podConn) ([]string, error) {
	resp, err := b.host.call(request{Op: opScrape, Pod: c.name, UID: c.uid})
	if err != nil {
		return nil, err
	}
	return exportedPods(resp.Metrics), nil
}

// startPods starts KSM with --resources=pods and --node,
// --track-unscheduled-pods or neither (DaemonSet sharding). KSM exits at
// start-up when its own flag parsing (options.Parse, Validate) refuses the
// flags, e.g. --track-unscheduled-pods before v2.14.0: the pod is then
// Crashed, which the simulator checks against the model. Otherwise KSM
// disables autosharding and configures 0/1 at once; once it has settled
// its pods reflector must have sent its first LIST (or watch list), held
// at the server, with the field selector the model's release builds from
// the flags (model.NodeRules.NodeFieldSelector), no GET of its own Pod or
// of a StatefulSet, and its self-metrics must say 0/1.
func (p *pod) startPods(ev model.Started) (string, error) {
	if p.state.Phase != model.Starting {
		return "ignored: already started", nil
	}
	cmd := strings.Join(p.args, " ")
	if ev.Shard != 0 || ev.TotalShards != 1 {
		return "", fmt.Errorf("KSM pod %s runs with %s, unsharded; the simulator starts it as %d/%d", p.conn.name, cmd, ev.Shard, ev.TotalShards)
	}
	if err := p.start(); err != nil {
		msg, ok := flagError(err)
		if !ok {
			return "", err
		}
		p.state.Phase = model.Crashed
		return fmt.Sprintf("exited at start-up: KSM's flag parsing refuses %s: %s; the pod crash-loops and never serves", cmd, msg), nil
	}
	s := p.b.srv
	s.mu.Lock()
	req, reqErr := s.podsRequest(p.conn, model.DefaultPageSize)
	sent := p.conn.pods.query.Get("fieldSelector")
	requests := slices.Clone(p.conn.requests)
	s.mu.Unlock()
	for _, r := range requests {
		if strings.Contains(r, "/pods/") || strings.Contains(r, "/statefulsets") {
			return "", fmt.Errorf("KSM pod %s, started with %s, sent %s: autosharding is not disabled", p.conn.name, cmd, r)
		}
	}
	if reqErr != nil || req.Watch && !req.SendInitialEvents {
		return "", fmt.Errorf("KSM pod %s, started with %s, did not start listing the pods: %v; the end of the log:\n%s", p.conn.name, cmd, reqErr, p.b.host.log.String())
	}
	if p.b.reducer != nil {
		want, err := model.NodeRulesOf(p.b.reducer).NodeFieldSelector(p.flags)
		if err == nil && canonicalFields(sent) != canonicalFields(want) {
			hint := ""
			if _, ok := p.b.reducer.(model.Release); !ok {
				hint = fmt.Sprintf(" (the reducer is a %T, not a model.Release: model.NodeRulesOf gives it the rules of v2.12.0 and v2.13.0)", p.b.reducer)
			}
			return "", fmt.Errorf("KSM pod %s, started with %s, lists the pods with fieldSelector=%q; the model of %s builds %q%s", p.conn.name, cmd, sent, p.b.reducer.Name(), want, hint)
		}
	}
	c, err := p.checkSelfConfig(cmd, model.Config{Shard: 0, Total: 1})
	if err != nil {
		return "", err
	}
	p.state.Phase, p.state.Config = model.Static, c
	sel := "no field selector: every pod"
	if sent != "" {
		sel = "fieldSelector=" + sent
	}
	return fmt.Sprintf("autosharding disabled: KSM started with %s configured %s; its pods reflector lists with %s", cmd, c, sel), nil
}

// flagError reports whether a start failed on KSM's flag parsing or
// validation (the host's newKSM: "parse flags", "validate flags"), as a
// real KSM process exits on them, and returns KSM's message.
func flagError(err error) (string, bool) {
	msg := err.Error()
	if strings.Contains(msg, "the KSM host process failed") {
		return "", false
	}
	for _, what := range []string{": parse flags ", ": validate flags "} {
		if i := strings.Index(msg, what); i >= 0 {
			rest := msg[i+2:]
			if j := strings.Index(rest, "]: "); j >= 0 {
				return rest[j+3:], true
			}
			return rest, true
		}
	}
	return "", false
}

// canonicalFields is a field selector as apimachinery prints it once
// parsed (terms sorted), or s itself if it does not parse.
func canonicalFields(s string) string {
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return s
	}
	return sel.String()
}

// ConfigureSharding implements sim.ObjectsRunner for a pods pod. KSM
// configured its stores when it started (startPods): its pods reflector's
// first request waits at the server. ConfigureSharding records the
// trace's page size and checks that request is the model's.
func (p podsPod) ConfigureSharding(shard int32, total int, pageSize int) error {
	if p.flags.Resource != "pods" || !p.started {
		return fmt.Errorf("KSM pod %s (%s) has no pods reflector", p.conn.name, strings.Join(p.args, " "))
	}
	if shard != 0 || total != 1 {
		return fmt.Errorf("KSM pod %s runs unsharded (0/1), not %d/%d", p.conn.name, shard, total)
	}
	p.pageSize = pageSize
	s := p.b.srv
	s.mu.Lock()
	got, err := s.podsRequest(p.conn, pageSize)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("KSM pod %s: %w", p.conn.name, err)
	}
	if p.b.reducer != nil {
		if want := model.NewReflector(0, 1, p.b.reducer.ListWatch(), pageSize).Request; got != want {
			return fmt.Errorf("KSM pod %s's pods reflector asks %s, the model's %s", p.conn.name, got, want)
		}
	}
	return nil
}

// DeliverObjects implements sim.ObjectsRunner: the server answers the
// held LIST or watch list with its own answer, once it has checked it is
// the simulator's, or writes the next write of the watch; then KSM
// settles. It returns the request KSM's reflector has in flight and the
// pods its /metrics shows (its store), by UID.
func (p podsPod) DeliverObjects(ev model.Event) (model.Request, []string, error) {
	if p.flags.Resource != "pods" || !p.started || p.state.Phase == model.Stopped {
		return model.Request{}, nil, fmt.Errorf("KSM pod %s (%s) has no pods reflector running", p.conn.name, strings.Join(p.args, " "))
	}
	s := p.b.srv
	var err error
	s.mu.Lock()
	switch ev := ev.(type) {
	case model.ObjectsListed, model.ObjectsStreamed:
		err = s.answerPods(p.conn, ev)
	case model.ObjectsWatched:
		err = s.releasePodEvents(p.conn, ev)
	case model.WatchEnded:
		err = fmt.Errorf("%s: the %s backend does not end a pods watch: %w", describeObjects(ev), Name, errors.ErrUnsupported)
	default:
		err = fmt.Errorf("unknown objects item %T", ev)
	}
	s.mu.Unlock()
	if err != nil {
		return model.Request{}, nil, fmt.Errorf("KSM pod %s: %w", p.conn.name, err)
	}
	if err := p.b.settle(); err != nil {
		return model.Request{}, nil, err
	}
	s.mu.Lock()
	next, err := s.podsRequest(p.conn, p.pageSize)
	s.mu.Unlock()
	if err != nil {
		return model.Request{}, nil, fmt.Errorf("KSM pod %s, after %s: %w", p.conn.name, describeObjects(ev), err)
	}
	store, err := p.Exported()
	if err != nil {
		return model.Request{}, nil, err
	}
	return next, store, nil
}

// exportedPods returns the distinct pod label values (the pods' names:
// their UIDs) of the kube_pod_ samples in a /metrics body, sorted.
func exportedPods(body string) []string { return distinctLabel(body, "kube_pod_", "pod") }
