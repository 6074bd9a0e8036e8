// Package properties is the property-based front door of shardsim: random
// trace generators, a search that finds and shrinks counterexamples
// ("hunt"), and their export as ordinary trace files that reproduce a bug
// forever. `go test ./properties` runs the property tests.
//
// # Generators
//
// A Builder grows a random, valid trace one op at a time over a small
// cluster — namespace "monitoring", StatefulSet "kube-state-metrics" with
// two labels, 1 to 5 replicas, 200 objects — and replays it as it grows
// against every reducer, so that it always knows which ops are valid and
// whether the properties still hold. Ops: relabel to one of LabelChoices
// (a changed value, a removed key, a superset of the original labels, the
// original labels again), scale to 0..8, restart a subset of the pods,
// create and delete objects, and under the explicit schedule random
// deliveries and settles. With GenConfig.Faults (FaultGenConfig) it also
// draws the fault ops — compact the API server's history, disconnect a
// subset of the pods, cacheLag 0..3 writes — and, with GenConfig.DataPlane,
// the explicit data plane, where deliveries also take list pages and
// object events from each pod's objects stream, so ops land in the middle
// of a relist. Faults are off by default, so the fixed-seed tests and the
// shipped counterexamples stay as they were. The API server keeps its
// default configuration (watch cache and WatchList on, pages of 500)
// unless GenConfig.APIServer draws it per trace: the watch cache and the
// WatchList gate on or off, and a page size the objects fill (so that
// lists are paged). That is what a release's data plane depends on. Every
// choice goes through a Source, so the same generators serve rapid (which
// records and shrinks the choices) and Hunt (a seeded PRNG).
//
// # Hunt, Shrink and Export
//
// Hunt generates traces from a seed until one violates a reducer's
// properties at a quiescent point; Shrink reduces it to a fixpoint
// (objects the violation does not touch, chunks of steps, replica counts,
// restart and disconnect sets, label maps, delivery counts, cache lags,
// the explicit data plane, and where the API server is not the default,
// its settings back to the defaults, the page size and the objects),
// replaying every candidate in full; Prepare names it, describes what
// goes wrong and fills "expect" for every reducer by replay; Export writes it atomically and never over an
// existing file unless asked to. `simrun hunt` is the command-line face of
// these (`simrun hunt --faults` hunts with FaultGenConfig); the files
// under traces/regressions were written by it.
//
// The reducer may be a release ("v2.19.1", model.ReducerByName): the
// builder and the shrinker then replay it beside the named reducers,
// Hunt draws the API server's configuration (GenConfig.APIServer), and
// "expect" names the release and the first later release that holds on
// the counterexample, its fix. So `simrun hunt --reducer v2.19.1` finds
// KSM #3065 (a paged LIST whose continue token the sharded List drops)
// and `--reducer v2.19.0` #2973 (the watch list's bookmark filtered to one
// shard), each in at most 3 ops, while v2.20.0 has no counterexample.
//
// # Why two property-testing libraries
//
// They do different jobs, each the one its design is good at.
//
// rapid (pgregory.net/rapid) drives the state machine. Its shrinker works
// on the recorded stream of choices, not on values, so it shrinks a
// sequence of dependent ops — where which op is valid depends on every op
// before it (which pods exist, which objects are live, whose inbox holds an
// item) — without a hand-written shrinker per op, and a shrunk sequence
// stays valid because it is regenerated through the same Builder. That is
// what the end-to-end claims need: the field-selector reducer holds at
// every quiescent point over 1,000 random traces (eager and explicit
// schedules), and for the label-selector reducer rapid finds the relabel
// bug by itself and shrinks it to its essence, two cluster ops: a relabel
// that changes or removes an original label, then a scale or a restart.
// The test captures rapid's failure through rapid's TB interface to assert
// exactly that. With the fault ops, under both schedules: the
// field-selector reducer still holds at every quiescent point, and there
// every pod of either reducer exports exactly what its configuration keeps;
// "eventually complete and disjoint once ops stop" — any generated prefix
// followed by a settle ends where the field-selector reducer holds; and
// the simulator's marks on violations are checked against replays of
// their own: a violated quiescent point is permanent, a violated transient
// point marked self-healing heals under a settle, one marked permanent
// heals neither under a settle nor under a drain in another order. A
// separate generator, GenConfig.NoWatchCache, gives the API server no
// watch cache and small pages: there rapid must see KSM's paged-list bug
// (#3065) break the field-selector reducer, with gaps only — a pod never
// exports more than its configuration keeps. It runs under the eager schedule: under the explicit one,
// the race of a relabel with a pod's start (GET before it, LIST after)
// can leave a generic shrinker at a local minimum of three ops — scale to
// 0, scale back, relabel between the new pod's GET and LIST — that no
// deletion or lowering of choices folds into the equivalent restart.
//
// gopter (github.com/leanovate/gopter) checks models and laws. Its
// commands package is built for model-based testing: a system under test,
// a reference model, commands with pre- and postconditions and explicit
// value shrinkers. It checks the simulated API server's watch streams —
// several watchers with different label and field selectors over random
// relabels, scales and relists — against a plain, hand-written reference
// of selector semantics: after every step each watcher holds exactly the
// objects that match, having seen ADDED, MODIFIED, or DELETED carrying the
// old object. Its generators and shrinkers for plain values (keys, UIDs,
// bucket counts, bit masks) check the ownership laws: jump hash
// monotonicity (n to n+1 buckets only moves keys to bucket n), exactly one
// owner among shards 0..n-1 for every n, the design's corollary (a stale
// smaller total overlaps but never gaps, a stale larger one gaps but never
// overlaps), and the simulator's coverage check against counting owners
// one by one. With the fault ops it checks model.Reflector, the client-go
// reflector over KSM's sharded ListWatch: every shard of a total reflects
// over a naive, independently written API server (snapshots per
// resourceVersion, paged or whole lists, 410 Gone after compaction,
// disconnects, cache lag) through random creates, deletes, faults and
// partial deliveries; between deliveries each store is what its shard
// keeps of the objects at its resourceVersion, and once everything is
// delivered, what it keeps of the live objects (a subset only where KSM's
// sharded List dropped a continue token, #3065).
//
// The other sharding modes (issue 13) have builders of their own
// (gen_modes.go), which replay one reducer: StaticBuilder (Deployments
// ksm-shard-0..n-1 on --shard i --total-shards n, each with a drawn
// strategy: reshards to any n, restarts, ConfigMap churn, deliveries per
// lane; with ModeConfig.Misconfigure also single applies with any flags
// or two replicas, and deletes) and DaemonSetBuilder (nodes, some with
// dots in their names, taints, pod creations and bindings, with the
// unscheduled pods served by nothing, --track-unscheduled-pods or an
// all-pods Deployment). rapid checks their verdicts at every quiescent
// point against oracles computed in the test from the trace alone: for
// static sharding, that every live ConfigMap is kept by exactly one of the
// Deployments' pods (model.Keeps), which valid reshards always satisfy;
// for DaemonSet sharding, per node and for the unscheduled pods, how many
// KSM pods serve them given the release's rules read from its version
// (v2.11.0 to v2.13.0 strip dots from --node, #2374; v2.14.0 adds
// --track-unscheduled-pods, #2388). From v2.14.0 with tracking, a point
// holds iff every node with pods is untainted.
// HuntOptions.Mode (`simrun hunt --mode static|daemonset`) hunts with
// these builders (misconfigured applies; tracked unscheduled pods), and
// ShrinkMode, a shrinker of their own, reduces what they find (steps,
// settles, deliveries, Deployments, nodes, pods, ConfigMaps).
//
// With GenConfig.Failures (gen_failures.go) the builder also draws the
// StatefulSet's podManagementPolicy (OrderedReady or Parallel) and the
// pod failure ops failStart (count 1..3), crashLoop and recover; rapid
// checks, against an oracle read from the trace's ops and the event log
// (failures_test.go), that under OrderedReady no pod above a crash-looping
// ordinal is created (the simulator's restart op, which re-creates the
// pods it names itself, excepted), that a failStart of count c makes
// exactly c failed start-up GETs of its ordinal and then a successful
// one, that without failure ops OrderedReady and Parallel reach the same
// eager quiescent points, and that a quiescent point holds iff every live
// object's shard among spec.replicas has a started pod (so a crash-looping
// ordinal violates field-selector iff some live object is its shard's).
// DaemonSetBuilder draws evict (ModeConfig.Evict for Op), and mixed traces
// interleave the two builders' ops: their verdict at every quiescent
// point is the conjunction of the ConfigMaps' and the pods' parts
// replayed alone (mixed_test.go, eager schedule).
//
// The tests start from fixed seeds, so every run checks the same traces;
// `go test ./properties -explore` draws new seeds from the clock and logs
// them. Every failure message carries the seed and the command that
// replays it: -rapid.seed (or RAPID_SEED) for rapid, -gopter.seed for
// gopter, `simrun hunt --seed` and `simrun --trace` for hunts.
// `go test ./properties -export DIR` writes the counterexample the
// label-selector test found to DIR.
package properties
