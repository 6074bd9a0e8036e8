// Package model is the pure core of shardsim: the domain of a
// kube-state-metrics (KSM) pod running in autosharding mode, and the
// reducers that fold what the pod observes into its sharding
// configuration.
//
// It is a transcription, not KSM's code: the conformance module checks
// Keeps against KSM's own pkg/sharding (v2.13.0), and the client-go
// backend runs the same start-up and handlers, transcribed again, on real
// client-go informers. Everything here is traceable to KSM or Kubernetes
// source:
//
//   - Ownership (HashUID, Owner, Keeps): shard i of n keeps object o iff
//     jump.Hash(fnv64a(o.metadata.uid), n) == i, as in KSM's
//     pkg/sharding. n == 0 keeps nothing; so does an ordinal >= n.
//
//   - Selectors (ParseSelector, Selector.Matches, StatefulSetFields): the
//     API server's parsing of labelSelector and fieldSelector with
//     k8s.io/apimachinery, with the StatefulSet registry's field set
//     (metadata.name, metadata.namespace only).
//
//   - Reducers (LabelSelector, FieldSelector): the informer options KSM
//     v2.12.0 and v2.13.0 build from the StatefulSet read at start.
//
//   - Reflector, StepReflector: the data plane, one pod's objects store
//     and the client-go reflector (v0.29/v0.30: LIST with the pager, WATCH,
//     410 Gone and relist) that fills it over KSM's sharded ListWatch
//     (ShardedList: the items the shard owns; until v2.20.0 the continue
//     token is dropped, ListWatchRules.DropsContinue). From client-go
//     v0.35 (KSM v2.19.0) it asks for a watch list first
//     (ListWatchRules.WatchList, ObjectsStreamed), whose bookmark v2.19.0's
//     sharded Watch filters (FiltersBookmarks).
//
//   - Releases (Release, Releases, Changes): every KSM release from v2.10.0
//     to v2.20.0 as a reducer of its own: its StatefulSet strategy and its
//     ListWatchRules, from one table of behaviour changes, each row citing
//     the KSM or client-go source it was read from.
//
//   - Step: KSM's MetricsHandler.Run, fed one event at a time: the
//     start-up GET, the informer's LIST and watch events (with client-go's
//     store semantics), and the pod's deletion. AddFunc and UpdateFunc
//     only, no DeleteFunc; updates with an unchanged resourceVersion are
//     ignored; an unchanged configuration does nothing.
//
//   - Other modes (Flags, Started, NodeRules): a pod started without
//     --pod configures from --shard and --total-shards at once (static
//     sharding); a DaemonSet pod's --node becomes a spec.nodeName field
//     selector on pods, as each release builds it (stripped of dots from
//     v2.11.0 to v2.13.0, #2374; --track-unscheduled-pods from v2.14.0,
//     #2388).
//
//   - Failures and readiness (StartFailed, ContainerRestarted,
//     PodState.Ready): a failed start-up GET makes KSM exit; the kubelet
//     restarts the container; a pod is Ready once its start-up passed.
//
// The package is pure in the way etcd-io/raft's core is: no goroutines,
// clocks, I/O or randomness. Step(reducer, state, event) returns a new
// state, so the simulator, the property tests and any other driver run
// exactly the same code, and any state can be re-derived by folding the
// event log again.
package model
