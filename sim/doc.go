// Package sim is the deterministic simulator around the pure model: a
// virtual API server, the StatefulSet controller, one FIFO inbox per pod,
// the schedules that drain them, and the property checks at every
// quiescent point.
//
// # The loop
//
// A Trace is replayed step by step. Cluster ops (relabel, scale, restart,
// create, delete) change the API server's state; every write to the
// StatefulSet bumps the resourceVersion and queues, for every open watch,
// the event the API server's cacher would send through that watch's
// selectors (see WatchEvent). The StatefulSet controller queues a pod's
// start (GET, then LIST: two items) when an ordinal is missing and its
// stop when an ordinal is above spec.replicas or restarted. Items are only
// consumed by delivering them, one at a time, to the pod whose inbox
// holds them; delivering is the only way a pod's state changes, always
// through model.Step. A LIST opens the pod's watch at the current
// resourceVersion; a stop closes it, and events still queued for it are
// never read.
//
// # The data plane
//
// Besides its inbox (the StatefulSet stream), every pod has an objects
// stream: the LIST pages and watch events of the reflector that fills its
// store (model.Reflector, over KSM's sharded ListWatch). A changed
// configuration rebuilds the store empty (KSM's ConfigureSharding) and
// queues its first LIST; each page is one item, answered when delivered by
// the API server's rules in dataplane.go (resourceVersion "0" from the
// watch cache, paged reads, exact reads, continue tokens, 410 Gone after a
// compaction, a lagging cache); a completed list opens a watch from its
// resourceVersion, which replays the writes after it and then follows new
// ones. A store filled by a whole list stays symbolic
// (model.Reflector.Whole: what its shard keeps at a resourceVersion,
// advanced by each watched write); storeOf lists it only when a check
// needs the UIDs. The fault ops (compact, disconnect, cacheLag) act on this protocol,
// for the StatefulSet informer as for the objects. Under "dataPlane":
// "eager" (the default) the objects streams are drained at the end of
// every step; under "explicit" a deliver with "stream": "objects" takes
// them one at a time.
//
// Under the eager schedule every step is followed by a drain, so every
// step ends at a quiescent point. Under the explicit schedule the trace itself says what
// to deliver (deliver, settle), so ops can land between a pod's GET and
// its LIST, or between two pods learning of the same scale.
//
// # Simulated time
//
// Every item is due a latency after the moment it could start (clock.go:
// watch events, LIST pages, pod starts and stops, each jittered by a PRNG
// seeded from the trace; the kubelet's restart back-off), behind the item
// ahead of it in its queue: a lane is one connection. A drain is a
// discrete-event loop that delivers the earliest due item among the
// queues' heads, the first queued among equals; an explicit deliver moves
// the clock to its item's due time. Time 0 is the initial checkpoint; the
// wait op lets time pass. Nothing reads a real clock.
//
// With Options.Timeline a replay also records the coverage after every
// change (TimePoint), Prometheus's scrapes of the KSM pods every scrape
// interval (what each pod's /metrics and self-metrics show, Scrape), and
// computes the missing and duplicated series-seconds per step and in total
// and the worst windows, with the final state held for a while after the
// last step (Timeline). Package monitor evaluates alerting rules on the
// scrapes.
//
// # Properties
//
// At the end of every step the objects are checked against what the
// serving pods export, their stores: complete (every live object exported
// by some pod, unless spec.replicas is 0) and disjoint (no object exported
// twice). A pod whose store is synced is judged by its configuration
// (ObjectSet.Evaluate: no per-object work when all agree), the others by
// their stores (ObjectSet.EvaluateStores). A quiescent point gives a
// Checkpoint; a non-quiescent one a transient entry, which fails the
// result only in strict mode. Run marks every violation permanent (at a
// quiescent point: nothing is left to deliver, and nothing in a KSM
// reflector is timed) or self-healing (at a transient point, when
// replaying up to it and settling reaches a point that holds). A trace
// may judge every point ("judge": "every-point": strict, with windows)
// and name the properties its verdict judges ("properties"), for bugs
// that heal by themselves (traces/bugs).
//
// # Releases
//
// A replay runs one reducer: a StatefulSet strategy or a KSM release
// (model.Release), whose ListWatchRules drive the data plane. A reflector
// that asks for a watch list gets 422 without the API server's WatchList
// gate, and otherwise every current object and the bookmark at the current
// resourceVersion, as one item of its objects stream; the StatefulSet
// informer of such a release reads the current StatefulSet.
// ExpectedReducers gives the reducers a trace's expect names.
//
// # Other sharding modes
//
// A trace may shard without the StatefulSet. Static sharding
// (deployment.go; Cluster.Deployments, the apply and deleteDeployment ops)
// runs one Deployment per shard whose pods start with --shard and
// --total-shards (model.Started): their lanes are the Deployments' replica
// slots, and apply rolls them out as the Deployment controller orders a
// RollingUpdate (surge first, or not) or a Recreate (a new pod's start
// waits for every old pod to stop). DaemonSet sharding (nodes.go;
// Cluster.DaemonSet, Nodes, Pods and the node ops) shards Pods by node: a
// KSM pod per node lists and watches them through spec.nodeName=<node>,
// each with its own lane, the API server filtering lists and watches by
// that selector (a binding is DELETED for spec.nodeName= and ADDED for the
// node); the pods' coverage is kept as stores change, so a checkpoint
// costs O(nodes + KSM pods + violations). Beside a StatefulSet it makes a
// mixed trace, judged on both resources (Checkpoint.Nodes).
//
// # Pod management and failures
//
// The StatefulSet controller (reconcile) follows spec.podManagementPolicy:
// OrderedReady, the default, creates one pod at a time once the ones below
// it are Ready (model.PodState.Ready) and deletes the condemned one at a
// time, highest first; Parallel does it all at once. The failure ops
// (failures.go: failStart, crashLoop, recover) make start-up GETs fail: KSM
// exits (model.StartFailed) and the kubelet restarts the container
// (model.ContainerRestarted), or it crash-loops until recover.
//
// # Determinism
//
// The simulator has no goroutines, clocks or unseeded randomness and never
// iterates a map where order shows: the same trace gives byte-identical
// reports whatever GOMAXPROCS is. The event log (Result.Log) records every
// event each pod folded, in order.
package sim
