package clientgo

import (
	"fmt"

	"github.com/shardsim/shardsim/sim"
)

var (
	_ sim.FaultBackend = (*Backend)(nil)
	_ sim.TraceChecker = (*Backend)(nil)
)

// Check implements sim.TraceChecker. The objects' list/watch protocol is
// answered entirely by the simulator (each pod's real reflector gets the
// simulator's pages and events), so any API server configuration, compact
// and an explicit data plane replay. The StatefulSet side does not: the
// held StatefulSet API in front of the fake clientset never ends an
// informer's watch and has no lagged watch cache, so disconnect (the
// informer's re-watch, or its relist after 410 Gone) and cacheLag (its
// LIST at an older resourceVersion) are refused. A trace without a
// StatefulSet (static sharding) has no informer for them to reach: its
// pods' only watches are their objects reflectors', whose lagged reads
// the simulator answers, so it replays with cacheLag. Not yet with
// disconnect: the simulator's API server holds such a trace's initial
// objects at resourceVersion 0, and a real reflector's watch from "0"
// does not advance its resourceVersion on ADDED events (client-go's
// propagateRVFromStart), the model's does, so their re-watches would
// part.
//
// Check also records the trace's namespace: a statically sharded trace
// writes no StatefulSet to learn it from, and its pods' Pod objects
// (NewPodWithFlags) live there.
func (b *Backend) Check(t *sim.Trace) string {
	if b.namespace == "" {
		b.namespace = t.Cluster.Namespace
	}
	static := t.Cluster.StatefulSet.Name == ""
	for i, st := range t.Steps {
		switch {
		case static:
		case st.Op == sim.OpDisconnect:
			return fmt.Sprintf("the %s op (steps[%d]): its objects reflectors run on real client-go, but its held StatefulSet API never ends the informer's watch, so the informer's re-watch (and relist after 410 Gone) is not run", st.Op, i)
		case st.Op == sim.OpCacheLag:
			return fmt.Sprintf("the %s op (steps[%d]): its objects reflectors run on real client-go, but its StatefulSet informer's LIST is served by the fake clientset, which has no watch cache to lag", st.Op, i)
		}
	}
	return ""
}

// ConfigureAPIServer implements sim.FaultBackend: the configuration is
// recorded. The simulator answers every objects request by it.
func (b *Backend) ConfigureAPIServer(c sim.APIServerConfig) error {
	b.apiConfig = c
	return nil
}

// Compact implements sim.FaultBackend: nothing to do here, the simulator
// answers every objects request (a 410 included) and the StatefulSet
// informer's watch, which never ends here, is not affected.
func (b *Backend) Compact(string) error { return nil }

// CacheLag implements sim.FaultBackend. Check refuses the traces with a
// StatefulSet that use it; without one (static sharding) the lag reaches
// only the objects' reads, which the simulator answers.
func (b *Backend) CacheLag(writes int) error {
	if writes != 0 && b.statefulSet != "" {
		return fmt.Errorf("cacheLag %d: the client-go backend's StatefulSet API has no watch cache to lag", writes)
	}
	return nil
}
