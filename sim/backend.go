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

// A FlagsBackend is a Backend that also runs pods without autosharding:
// statically sharded pods (--shard, --total-shards) and DaemonSet pods
// (--node). A backend without it replays autosharding traces only.
type FlagsBackend interface {
	// NewPodWithFlags creates one pod incarnation started with flags.
	NewPodWithFlags(name, uid string, flags model.Flags) (PodRunner, error)
}

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

func (modelBackend) FailsStarts() {}

func (b modelBackend) NewPodWithFlags(name, _ string, _ model.Flags) (PodRunner, error) {
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

// APIServerConfig is how the trace's API server is configured
// (cluster.apiServer and cluster.pageSize). Which list/watch paths a
// client-go reflector meets depends on it; see DESIGN.md, "The API
// server's list/watch protocol".
type APIServerConfig struct {
	// WatchCache: the kube-apiserver serves reads with resourceVersion
	// "0", unpaged reads and watches from its watch cache
	// (--watch-cache, default true). Without it every read goes to etcd
	// and a LIST with a limit is paged.
	WatchCache bool
	// WatchList: the WatchList feature gate (default on in v1.37): a
	// watch with sendInitialEvents=true is served, otherwise refused with
	// 422.
	WatchList bool
	// PageSize is the page size of the client-go pager (500): the limit
	// of a paged LIST. The simulator pages with it; a real reflector asks
	// it itself.
	PageSize int
}

// A FaultBackend is a Backend whose API server takes the trace's fault
// ops and configuration. A backend that is not one replays only traces
// with the default configuration and no fault ops; the simulator refuses
// the others up front (ErrUnsupported).
type FaultBackend interface {
	// ConfigureAPIServer is called once, before the first Write.
	ConfigureAPIServer(c APIServerConfig) error
	// Compact compacts the API server's history at resourceVersion rv
	// (the current one): a watch from an older resourceVersion gets one
	// ERROR event (410 Gone, "too old resource version") and ends; a LIST
	// continuing or reading exactly at an older one fails with 410
	// Expired.
	Compact(rv string) error
	// CacheLag makes reads with resourceVersion "0" see the state as it
	// was writes ago from now on: at resourceVersion current-writes (each
	// write advances the resourceVersion by one), at least 1. 0 ends the
	// lag. Watches are not delayed.
	CacheLag(writes int) error
}

// A Disconnecter is a PodRunner whose watch connections the backend can
// cut (the disconnect op): every open watch of the pod ends, and its
// reflectors resume as client-go does.
type Disconnecter interface {
	Disconnect() error
}

// A Rewatcher is a Disconnecter whose StatefulSet informer re-opens its
// watch after a disconnect only when told: the simulator calls Rewatch
// when it delivers the pod's "watch closed" item, the moment its model
// re-watches. A compaction between the disconnect and that delivery
// therefore reaches both alike: the re-watch succeeds or gets 410 Gone on
// both.
type Rewatcher interface {
	Rewatch() error
}

// The model backend's pods read nothing from an API of their own: the
// simulator's API server is theirs, so its faults need nothing more here.
func (modelBackend) ConfigureAPIServer(APIServerConfig) error { return nil }
func (modelBackend) Compact(string) error                     { return nil }
func (modelBackend) CacheLag(int) error                       { return nil }

// An ObjectsRunner is a PodRunner that runs the pod's data plane on real
// code: a client-go reflector filling a store over KSM's sharded
// ListWatch. The simulator keeps folding the same items into the model's
// reflector, hands each one to the runner with the answer its own API
// server gave, and fails the replay if the real reflector then asks for
// another request or holds other objects than the model's.
type ObjectsRunner interface {
	// ConfigureSharding is KSM's: the pod's store is rebuilt, empty, for
	// (shard, total), and its new reflector starts listing with the
	// pager's pageSize. It returns once the reflector has sent its first
	// LIST.
	ConfigureSharding(shard int32, total int, pageSize int) error
	// DeliverObjects hands the reflector one item: the answer to its LIST
	// (model.ObjectsListed: the server's page, before KSM's sharded List
	// filters it), one write on its watch (model.ObjectsWatched,
	// unfiltered), or the end of its watch (model.WatchEnded). It returns
	// once the reflector has handled it, with the request the reflector
	// has in flight afterwards and the UIDs its store holds, sorted.
	DeliverObjects(ev model.Event) (next model.Request, store []string, err error)
}

// A PodWriter is a Backend that runs DaemonSet sharding: its own API
// server serves the pods to its KSM pods (created with FlagsBackend,
// --resources=pods --node=...; each an ObjectsRunner of the pods). The
// simulator tells it every write of the pods, with the resourceVersion of
// the write, before anything reads it.
type PodWriter interface {
	// WritePods mirrors one write: uids[i] created or bound to nodes[i]
	// ("" for none), or, with deleted, the uids deleted.
	WritePods(uids, nodes []string, deleted bool, resourceVersion string) error
}

// A StartFailer is a Backend whose autosharding pods can fail their
// start-up GET (model.StartFailed: KSM exits) and have their container
// restarted (model.ContainerRestarted): it runs the failStart, crashLoop
// and recover ops. The model backend does.
type StartFailer interface {
	// FailsStarts marks the backend.
	FailsStarts()
}

// A TraceChecker is a Backend that models only some of the faults: Check
// returns why it cannot replay t ("" if it can). The simulator asks before
// the replay, as it does of a Backend that is no FaultBackend at all.
type TraceChecker interface {
	Check(t *Trace) string
}

// SelfMetricsReader is a pod runner that reads what its KSM pod exports
// as kube_state_metrics_shard_ordinal and kube_state_metrics_total_shards
// (the ksm backend: real KSM's self-metrics). Every scrape of a timeline
// checks the model's self-metrics against it.
type SelfMetricsReader interface {
	SelfMetrics() (shard int32, total int, err error)
}
