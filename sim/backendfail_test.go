package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
)

// failingBackend is the model backend that fails the failAt-th call to
// the backend (Write, NewPod or a pod's Deliver, counted together from 1)
// and counts every call made after that failure.
type failingBackend struct {
	inner  Backend
	failAt int
	calls  int
	after  []string // calls made after the failure
	failed string   // which call failed
}

var errInjected = errors.New("injected failure")

func (b *failingBackend) call(what string) error {
	b.calls++
	switch {
	case b.calls == b.failAt:
		b.failed = what
		return errInjected
	case b.failAt > 0 && b.calls > b.failAt:
		b.after = append(b.after, what)
	}
	return nil
}

func (b *failingBackend) Name() string { return "failing" }
func (b *failingBackend) Close()       {}
func (b *failingBackend) Write(ss *appsv1.StatefulSet) error {
	if err := b.call("Write"); err != nil {
		return err
	}
	return b.inner.Write(ss)
}
func (b *failingBackend) NewPod(name, uid string) (PodRunner, error) {
	if err := b.call("NewPod " + name); err != nil {
		return nil, err
	}
	r, err := b.inner.NewPod(name, uid)
	return &failingPod{b: b, inner: r}, err
}

type failingPod struct {
	b     *failingBackend
	inner PodRunner
}

func (p *failingPod) Deliver(ev model.Event) (model.PodState, string, error) {
	if err := p.b.call(fmt.Sprintf("Deliver %T", ev)); err != nil {
		return model.PodState{}, "", err
	}
	return p.inner.Deliver(ev)
}

// TestBackendFailureStopsTheReplay fails the backend at every call of a
// replay in turn (under both schedules) and checks that the replay stops
// there: no call reaches the backend after the failure, Run returns the
// backend's error (not a *TraceError, not a result), and no panic.
func TestBackendFailureStopsTheReplay(t *testing.T) {
	traces := map[string]string{"eager": churnTrace, "explicit": churnTrace}
	traces["eager"] = strings.Replace(strings.NewReplacer(
		`{"op": "settle"},`, "", `{"op": "settle"}`, `{"op": "scale", "replicas": 4}`,
		`{"op": "deliver", "pod": 0, "count": 1},`, "", `{"op": "deliver", "pod": 1, "count": 2},`, "",
	).Replace(churnTrace), `"explicit"`, `"eager"`, 1)
	for sched, doc := range traces {
		tr := mustParse(t, doc)
		for _, r := range model.Reducers() {
			// Count the calls of a replay that does not fail.
			counter := &failingBackend{}
			if _, err := Run(tr, r, Options{Backend: func(r model.Reducer) (Backend, error) {
				counter.inner, _ = ModelBackend(r)
				return counter, nil
			}}); err != nil {
				t.Fatalf("%s/%s: replay without failure: %v", sched, r.Name(), err)
			}
			if counter.calls < 20 {
				t.Fatalf("%s/%s: only %d backend calls", sched, r.Name(), counter.calls)
			}
			for at := 1; at <= counter.calls; at++ {
				fb := &failingBackend{failAt: at}
				res, err := Run(tr, r, Options{Backend: func(r model.Reducer) (Backend, error) {
					fb.inner, _ = ModelBackend(r)
					return fb, nil
				}})
				name := fmt.Sprintf("%s/%s: failure at call %d (%s)", sched, r.Name(), at, fb.failed)
				if !errors.Is(err, errInjected) {
					t.Fatalf("%s: Run returned %v, want the injected failure", name, err)
				}
				var te *TraceError
				if errors.As(err, &te) {
					t.Fatalf("%s: a backend failure reported as bad input: %v", name, err)
				}
				if res != nil {
					t.Errorf("%s: Run returned a result with the error", name)
				}
				if len(fb.after) > 0 {
					t.Errorf("%s: %d calls after the failure, first %s", name, len(fb.after), fb.after[0])
				}
			}
		}
	}
}

// TestBackendConstructorFailure: a backend that cannot be made fails the
// replay with its error, without a call to a nil backend.
func TestBackendConstructorFailure(t *testing.T) {
	tr := mustParse(t, churnTrace)
	_, err := Run(tr, model.LabelSelector{}, Options{Backend: func(model.Reducer) (Backend, error) {
		return nil, errInjected
	}})
	if !errors.Is(err, errInjected) {
		t.Fatalf("Run = %v, want the injected failure", err)
	}
	s := New(tr, model.LabelSelector{}, Options{Backend: func(model.Reducer) (Backend, error) { return nil, errInjected }})
	defer s.Close()
	for i := range tr.Steps {
		if err := s.Apply(i); !errors.Is(err, errInjected) {
			t.Fatalf("Apply(%d) = %v, want the injected failure", i, err)
		}
	}
	if got := s.Finish(); len(got.Checkpoints) != 0 {
		t.Errorf("a failed backend produced %d checkpoints", len(got.Checkpoints))
	}
}

// TestAPIServerNilReplicas: a nil spec.replicas (a StatefulSet the trace
// did not default, or a write that clears it) reads as 1, as the API
// server defaults it, instead of a nil dereference.
func TestAPIServerNilReplicas(t *testing.T) {
	a := NewAPIServer("ns", StatefulSet{Name: "ksm"})
	if r := a.StatefulSet.Spec.Replicas; r == nil || *r != 1 {
		t.Fatalf("spec.replicas = %v, want 1", r)
	}
	old, cur := a.Update(func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = nil })
	if old != nil || cur != nil {
		t.Fatalf("clearing spec.replicas (default 1) wrote a new version: %v", cur)
	}
	_, cur = a.Update(func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = nil; ss.Labels = map[string]string{"a": "b"} })
	if cur == nil || cur.Spec.Replicas == nil || *cur.Spec.Replicas != 1 {
		t.Fatalf("after a write clearing spec.replicas: %v, want replicas 1", cur)
	}
	one := int32(1)
	withOne := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: &one}}
	if !equalStatefulSet(&appsv1.StatefulSet{}, withOne) || !equalStatefulSet(withOne, &appsv1.StatefulSet{}) {
		t.Errorf("equalStatefulSet: a nil spec.replicas differs from 1")
	}
}
