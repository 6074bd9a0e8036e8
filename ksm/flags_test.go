package ksm

import (
	"errors"
	"testing"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// TestRefusedFlags: the pods the ksm backend does not run (--node or
// --track-unscheduled-pods on another resource than pods, pods sharded by
// UID, other resources than configmaps and pods, autosharding with other
// flags) are refused when created, with errors.ErrUnsupported (and
// sim.ErrUnsupported, which simrun reports as a usage error), before
// anything starts: no host, no API server.
func TestRefusedFlags(t *testing.T) {
	for _, f := range []model.Flags{
		{Node: "node-1", TotalShards: 1, Resource: "configmaps"},
		{TrackUnscheduledPods: true, TotalShards: 1, Resource: "configmaps"},
		{Node: "node-1", Shard: 1, TotalShards: 2, Resource: "pods"},
		{Shard: 1, TotalShards: 2, Resource: "pods"},
		{Autosharding: true, TotalShards: 1, Resource: "pods"},
		{Shard: 1, TotalShards: 2},
		{Autosharding: true, Shard: 1, TotalShards: 2, Resource: "configmaps"},
	} {
		b := &Backend{api: defaultAPIServer}
		_, err := b.NewPodWithFlags("ksm-0", "pod-1", f)
		if !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, sim.ErrUnsupported) {
			t.Errorf("%+v: got %v, want errors.ErrUnsupported and sim.ErrUnsupported", f, err)
		}
		if b.srv != nil || b.host != nil {
			t.Errorf("%+v: refused, but the backend started its API server or host", f)
			b.Close()
		}
	}
}
