package sim

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
)

// A Backend runs the KSM pods of one replay. The simulator owns the
// cluster (the API server's state, the StatefulSet controller, the
// inboxes and the schedule); a backend only decides how a pod handles the
// items delivered to it. The default backend folds them with model.Step;
// others (real client-go informers) must reach the same states.
type Backend interface {
	// Name identifies the backend in flags and reports.
	Name() string
	// Write mirrors a write of the StatefulSet (its creation included) into
	// whatever API the backend's pods read from.
	Write(ss *appsv1.StatefulSet) error
	// NewPod creates one pod incarnation, named "<statefulset>-<ordinal>".
	// uid is unique within the replay.
	NewPod(name, uid string) (PodRunner, error)
	// Close releases everything the backend holds.
	Close()
}

// A PodRunner is one KSM pod incarnation as a backend runs it.
type PodRunner interface {
	// Deliver hands the pod one inbox item and returns once the pod has
	// completely handled it: its state afterwards and a one-line account
	// for the event log. Got and Listed carry what the simulator's API
	// server answers; a backend with its own API may read it there
	// instead, and must then answer the same.
	Deliver(ev model.Event) (model.PodState, string, error)
}

// NewBackend makes the backend for one replay with reducer r. The zero
// Options use ModelBackend.
type NewBackend func(r model.Reducer) (Backend, error)

// ModelBackend returns the pure backend: every pod is a model.PodState
// folded with model.Step.
func ModelBackend(r model.Reducer) (Backend, error) { return modelBackend{r}, nil }

type modelBackend struct{ r model.Reducer }

func (modelBackend) Name() string                    { return "model" }
func (modelBackend) Write(*appsv1.StatefulSet) error { return nil }
func (modelBackend) Close()                          {}
func (b modelBackend) NewPod(name, _ string) (PodRunner, error) {
	return &modelPod{r: b.r, state: model.NewPod(name)}, nil
}

type modelPod struct {
	r     model.Reducer
	state model.PodState
}

func (p *modelPod) Deliver(ev model.Event) (model.PodState, string, error) {
	var note string
	p.state, note = model.Step(p.r, p.state, ev)
	return p.state, note, nil
}

// An ObjectWriter is a Backend whose pods read the trace's objects from the
// backend's own API server (the ksm backend serves them as ConfigMaps). The
// simulator tells it every create and delete, with the resourceVersion of
// the write, before the properties are next evaluated.
type ObjectWriter interface {
	WriteObjects(created, deleted []string, resourceVersion string) error
}

// An Exporter is a PodRunner that knows which objects its pod exports
// (what its /metrics shows). When every pod of a replay is one, the
// properties judge the exported objects instead of the objects each pod's
// configuration keeps.
type Exporter interface {
	// Exported returns the UIDs of the objects the pod exports now.
	Exported() ([]string, error)
}
