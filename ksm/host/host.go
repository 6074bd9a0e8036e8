package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// host holds the running pods.
type host struct {
	apiServer string
	conns     *connCounter

	mu     sync.Mutex
	pods   map[string]*pod // by incarnation UID: a restarted pod's old and new incarnations may run at once
	exited []exit
}

// pod is one KSM pod incarnation.
type pod struct {
	name, uid string
	cancel    context.CancelFunc
	handler   http.Handler
	registry  *prometheus.Registry
	dialer    *podDialer
	stopped   bool
}

func newHost(apiServer string) *host {
	return &host{apiServer: apiServer, conns: &connCounter{}, pods: map[string]*pod{}}
}

func (h *host) handle(req request) response {
	switch req.Op {
	case opStart:
		if err := h.start(req.Pod, req.UID, req.Args); err != nil {
			return response{Error: err.Error()}
		}
		return response{}
	case opStop:
		h.stop(req.UID)
		return response{}
	case opIdle:
		return h.idle()
	case opScrape, opSelf:
		return h.scrape(req.UID, req.Op == opScrape)
	case opQuit:
		h.mu.Lock()
		uids := make([]string, 0, len(h.pods))
		for u := range h.pods {
			uids = append(uids, u)
		}
		h.mu.Unlock()
		for _, u := range uids {
			h.stop(u)
		}
		return response{}
	}
	return response{Error: fmt.Sprintf("unknown op %q", req.Op)}
}

// start builds and runs one pod: see ksm.go.
func (h *host) start(name, uid string, args []string) error {
	h.mu.Lock()
	if old := h.pods[uid]; old != nil {
		h.mu.Unlock()
		return fmt.Errorf("pod %s incarnation %s is already running", name, uid)
	}
	h.mu.Unlock()

	p := &pod{name: name, uid: uid, dialer: newPodDialer(h.conns)}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	run, err := newKSM(ctx, p, h.apiServer, args)
	if err != nil {
		cancel()
		return err
	}
	h.mu.Lock()
	h.pods[uid] = p
	h.mu.Unlock()
	go func() {
		err := run(ctx)
		h.mu.Lock()
		defer h.mu.Unlock()
		if !p.stopped {
			msg := "MetricsHandler.Run returned"
			if err != nil {
				msg = err.Error()
			}
			h.exited = append(h.exited, exit{Pod: name, UID: uid, Error: msg})
		}
	}()
	return nil
}

// stop ends a pod as a killed process ends: nothing it does afterwards
// reaches the API server.
func (h *host) stop(uid string) {
	h.mu.Lock()
	p := h.pods[uid]
	if p == nil || p.stopped {
		h.mu.Unlock()
		return
	}
	p.stopped = true
	delete(h.pods, uid)
	h.mu.Unlock()
	p.cancel()
	p.dialer.closeAll()
}

func (h *host) idle() response {
	idle, busy, conns := quiescent(h.conns)
	h.mu.Lock()
	exited := h.exited
	h.exited = nil
	h.mu.Unlock()
	return response{Idle: idle, Busy: busy, Conns: conns, Exited: exited}
}

// scrape gathers the pod's self-metrics registry and, with body, serves
// GET /metrics from its real handler.
func (h *host) scrape(uid string, body bool) response {
	h.mu.Lock()
	p := h.pods[uid]
	h.mu.Unlock()
	if p == nil {
		return response{Error: "no running pod incarnation " + uid}
	}
	var metrics string
	if body {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		p.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return response{Error: fmt.Sprintf("GET /metrics: status %d", rec.Code)}
		}
		metrics = rec.Body.String()
	}
	families, err := p.registry.Gather()
	if err != nil {
		return response{Error: "gather self-metrics: " + err.Error()}
	}
	sort.Slice(families, func(i, j int) bool { return families[i].GetName() < families[j].GetName() })
	var self bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&self, f); err != nil {
			return response{Error: "encode self-metrics: " + err.Error()}
		}
	}
	return response{Metrics: metrics, Self: self.String()}
}
