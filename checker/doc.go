// Package checker is shardsim's exhaustive model checker. Within stated
// bounds it visits every reachable state of the sharded system, every
// sequence of cluster ops and every order in which the pods receive their
// inbox items, and either shows that complete and disjoint hold at every
// quiescent point for every possible UID, or returns the shortest
// counterexample, which it turns into an ordinary replayable trace.
//
// # Bounds
//
// Check starts from a settled cluster of every replica count 1..M (labels
// original, every pod started and configured, as sim.New leaves it) and
// explores, breadth first, every sequence of up to K cluster ops: relabel
// to one of four label classes (the original labels, a superset, a changed
// value, a removed key: see LabelClass), scale to 0..M, restart one pod.
// Between ops any pod may receive its next inbox item; a pod's start is
// two items, GET then LIST, so ops land between them. Deliveries cost
// nothing: the depth of a path is its number of ops, and the
// counterexample has the fewest ops.
//
// # All UIDs at once
//
// Jump hash is monotone, so over totals 1..M an object's owners follow one
// of 2^(M-1) trajectories (Classes). Whether a pod keeps an object depends
// only on the trajectory, so the properties are checked per class, as two
// words of bit operations per pod (and not at all when the serving pods
// agree on one total). Every class has some UID (found by search), so the
// verdict covers every UID, and a counterexample gets a UID of each
// violating class.
//
// # Abstraction and fidelity
//
// A state is a 64-bit key: the label class, spec.replicas and, per pod
// ordinal, a small code (phase, selector class, whether the StatefulSet is
// in the informer cache, configuration). The transitions are tables filled
// at start by running model.Step, sim.WatchEvent, sim.APIServer and
// model.ParseSelector on concrete objects; the tests compare the tables
// with those functions over all abstract inputs and several
// concretizations of each, replay the path to every reachable quiescent
// state with the simulator, and check that random traces reach nothing the
// checker does not.
//
// # Reductions
//
// Three families of deliveries are made as soon as they are queued,
// because no interleaving of them can change a configuration at a
// quiescent point: the items of a pod incarnation whose stop is queued, a
// live pod's watch events (with faults, unless it is a pod with fallback
// sets, see Faults), and start items whose delivery commutes with every
// op (computed from the tables: the field selector's GET and LIST, the
// label selector's LIST when its selector matches every label class).
// Each is justified in the README and by TestReductions, which compares
// the reduced and the unreduced exploration (the concrete system, item by
// item) on small bounds.
//
// # Faults
//
// Options.Faults adds fault ops to relabel, scale and restart, each one
// op on a path, replayed by the simulator as traces write them: compact
// ({"op": "compact"}: the API server compacts its history at the current
// resourceVersion), disconnect one pod ({"op": "disconnect", "pods":
// [o]}, o below spec.replicas) and cacheLag ({"op": "cacheLag",
// "writes": N}, N = 0 or 1: LISTs with resourceVersion "0" see the state
// N writes ago). What they do is sim/dataplane.go and sim/sim.go's; the
// concrete cluster (concrete.go) copies the few rules sim.APIServer keeps
// unexported and is checked against the simulator by the tests.
//
// The data plane needs no state. The checker's objects are fixed (the
// initial ones; no create or delete op), so no object write is ever
// recorded and the simulator's objectsAt gives the same set at every
// revision. Its traces use the default API server, with the watch cache,
// and the default "dataPlane": "eager", so the simulator delivers every
// objects stream at the end of every step. A reflector's first LIST asks
// resourceVersion "0", which the cache answers whole (it drops the
// limit: no continue token, so the sharded List's dropped token cuts
// nothing and the store is not Truncated), at the cache's revision,
// lagging or not: the same objects. A closed watch re-watches from the
// last resourceVersion and replays nothing (no object writes); from a
// compacted one it gets 410 Gone, and client-go relists from its last
// resourceVersion unpaged (PaginatedResult is never set, "0" lists not
// being paged), which the server answers whole at the current revision,
// never with 410, and the watch from there is not compacted. So every
// path of a reflector ends, within the step, Synced, not Truncated, with
// an open watch and an empty stream, holding exactly the objects its
// configuration keeps: at a quiescent point the simulator judges every
// pod by its configuration (sim.synced), as the checker does. Faults
// only add transient states to the data plane.
//
// The StatefulSet informer is where faults matter. A disconnect of pod o
// closes its informer's watch: the events queued on it are dropped and a
// "watch closed" item is queued. Delivering it re-watches from the pod's
// last resourceVersion, replaying the writes after it, or, when that
// resourceVersion is older than the compaction, queues an ERROR 410 item,
// whose delivery queues a relist: model.Listed of the current StatefulSet
// delivered to a Watching pod (client-go's Replace). A first LIST from a
// lagging cache reads the StatefulSet one write ago and its watch
// replays the latest write, or gets 410 when that was compacted.
//
// Whether this can change what a pod ends up serving depends on its
// selector. A selector that matches every label class (the field
// selector; the label selector built from the labels with a key removed)
// sees every write as MODIFIED: the replay of missed writes, a relist and
// a lagging LIST followed by its replay all end at the current
// StatefulSet, as an up-to-date watch does. For such a pod the checker
// delivers everything at once, and a disconnect, a compaction or a lag
// changes nothing it keeps: with the field selector faults add no state
// at all (the same distinct states as without faults; only the explored
// transitions grow).
//
// A label selector that does not match every class can see DELETED, and
// a relist that finds no StatefulSet keeps the configuration the pod had
// where its watch stopped, skipping the writes in between: a new
// behaviour. The state keeps, for such a pod (podExt), the watch events it
// has been sent and not delivered, as what the checker needs of them:
//
//   - Its queue holds exactly the events of the writes after its
//     resourceVersion (the watch replays them, writes append them), so
//     delivering a prefix of it puts the informer at a position: a
//     resourceVersion with a configuration. Whether a re-watch from a
//     position gets 410 depends only on whether a compaction came after
//     a later write: a compaction compacts every position but the latest
//     write's.
//   - Delivering some of the events only removes positions a disconnect
//     could stop at, and changes nothing else: every path from there is a
//     path from before the deliveries. So the checker delivers all of a
//     pod's queued events at once (its code is the pod with all of them
//     delivered) or none, and keeps the configurations of the other
//     positions as two sets: compacted (a) and not yet (b).
//   - A disconnect whose re-watch succeeds leaves the pod where
//     deliveries alone take it (or, with the watch-closed item delivered
//     later, where the same disconnect moved to just before that delivery
//     takes it: closed, the pod receives nothing and does not change;
//     moved, it receives events it does not deliver). Neither adds a
//     quiescent configuration or shortens a path to one, so the checker
//     takes a disconnect only where its re-watch gets 410 Gone: one
//     transition per configuration of a compacted position, leaving the
//     pod in a relist code with that configuration.
//   - The ERROR 410 item and the relist it queues are one delivery:
//     between them the pod is not watching, and the relist reads the
//     StatefulSet when it is delivered.
//   - Only the configuration of a position matters, not the informer
//     cache: the table of relists is built from model.Step, and checks
//     that a cached StatefulSet or none gives the same relist.
//
// With cacheLag the state also keeps the lag, the StatefulSet one write
// ago and whether a compaction came since the latest write. A state that
// carries any of this is a mixed-radix number (layout) rather than
// fixed-width fields, which bounds M: with the label selector, compact
// and disconnect fit M <= 4, all three M <= 3, cacheLag alone M <= 7;
// with the field selector any M. NewFaultSystem says when they do not.
//
// TestFaultsAgainstUnreduced justifies all of it on the concrete system:
// for every subset of the fault ops at M=1 K=3, M=2 K=3 and M=3 K=2, and
// for all three also at M=3 K=3, M=2 K=4 and M=1 K=5, the unreduced
// exploration (every inbox item of the simulator, one at a time, the
// fault ops as the simulator runs them) and the checker reach the same
// quiescent configurations, each after the same fewest ops, with the
// same verdict and shortest counterexample. TestEveryFaultPathReplays
// replays the path to every quiescent state with the simulator;
// TestRandomFaultTracesReachable checks that random fault traces, deeper
// than that (up to 6 ops), reach nothing the checker does not;
// TestFaultOnlyCounterexamples exports violations only faults reach.
//
// # Releases and the data plane
//
// The argument above ("The data plane needs no state") holds for the
// default API server and the data plane of label-selector and
// field-selector (model.KSMListWatch). It does not hold for every
// kube-state-metrics release: until v2.20.0 the sharded List drops the
// continue token, which cuts a LIST paged from etcd (#3065); from v2.19.0
// the reflector asks for a watch list, and v2.19.0's sharded Watch
// filters its bookmark, so that on a default API server only one shard
// syncs (#2973). So simrun check --reducer vX.Y.Z runs two explorations.
//
// The StatefulSet level is Check with the release's strategy
// (model.Release.Selector) as the reducer: the same state space, every
// pod judged by its configuration, everything above exhaustive as
// stated. A counterexample's trace expects the strategy and the release
// violated, and is replayed with both (Export.AlsoExpect).
//
// The data plane is CheckDataPlane with the release as the reducer: a
// bounded breadth-first enumeration of op sequences, each replayed from
// scratch by the simulator (sim.Run), which judges what every pod's
// stores hold at every quiescent point. What is exhaustive:
//
//   - every API server configuration (Servers): watch cache on/off x
//     WatchList on/off, the default first; with the watch cache a LIST
//     from resourceVersion "0" is answered whole, without it paged from
//     etcd, and without WatchList a watch list is refused (sim.PlanList,
//     sim/dataplane.go);
//   - a settled start with every replica count 1..M;
//   - every sequence of up to K ops from the alphabet, in this order:
//     scale to 0..M (but not to spec.replicas, a write that changes
//     nothing), restart pod o (o below spec.replicas), create one object,
//     delete the first live object in list order, and with the faults of
//     Options.Faults compact, disconnect pod o, cacheLag 1 (0 once
//     lagging; with the watch cache only).
//
// What is fixed: DataPlaneObjects (10) objects, with UIDs drawn from a
// fixed seed, in pages of DataPlanePageSize (4), so that a LIST paged
// from etcd takes three pages and follows two continue tokens; a create
// takes the next UID of a fixed pool; the StatefulSet's labels (relabel is
// not an op: its effect on configurations is the StatefulSet level's,
// and to the data plane it is one more StatefulSet write, as a scale
// is); the eager schedule and "dataPlane": "eager", so that every op ends
// at a quiescent point and no op lands inside a LIST. These objects are
// checked, not every UID: a property of the data plane that depends on
// the UIDs beyond which page they fall on is not covered.
//
// Why this alphabet: scale and restart are the ops that make a pod
// rebuild its stores (ConfigureSharding) and its reflector list again;
// create and delete change what is listed and where the page boundaries
// fall (deleting the first object moves one across every boundary) and
// are the writes a watch replays; compact and disconnect make a
// reflector's watch end, re-watch or relist after 410 Gone, the paths
// where client-go pages or not; cacheLag makes a LIST from "0" stale.
//
// A path of d ops is replayed only when every shorter path holds, and
// the layers are explored in order, so the first violating path of the
// first violating layer (in the order server, initial replicas, ops) is
// a shortest counterexample: fewest ops. It is an ordinary eager trace
// (Export: the API server, the page size, the objects, the ops, expect
// {release: violated}), parsed back and replayed by the simulator. There
// is no deduplication: states of the simulator are not compared, each
// path is replayed in full. At M=3, K=3 that is 4,552 replays without
// faults and 15,154 with all three, a few seconds; MaxDataPlaneReplays
// bounds it. Replays run on Options.Workers goroutines; the layers,
// counts and the counterexample do not depend on their number.
//
// Within these bounds v2.10.0 to v2.19.1 each violate (#3065 without the
// watch cache; #2973 first for v2.19.0, on the default API server) and
// v2.20.0 holds.
//
// # Safety and liveness
//
// The checker reports two verdicts. Safety: complete and disjoint hold
// at every quiescent point of every path. Liveness: from every state,
// once ops stop, the system eventually reaches a quiescent point where
// they hold, and stays there. Nothing in KSM's informers and reflectors
// is timed (resync period 0; a watch that times out is re-opened from
// its resourceVersion and changes no store), so once ops stop only
// deliveries happen. Every delivery lowers a pod's rank (a queued GET,
// a LIST, a relist, queued watch events, nothing), so every drain ends,
// at a quiescent state reached by deliveries alone: a reachable
// quiescent state, in the same layer, which safety checks. A quiescent
// state has nothing to deliver and nothing timed to change it: it drains
// to itself. So liveness holds if and only if every reachable quiescent
// state holds: the two verdicts are the same. With faults the checker
// still follows the drain of every non-quiescent state, in the
// simulator's order (one delivery per pod in ordinal order, round after
// round), and evaluates where it ends; without them every queued item is
// a GET or a LIST, and liveness is safety by construction. A difference
// between the two verdicts would be a bug in the checker: simrun check
// exits 3 on one.
//
// # Static sharding
//
// CheckStatic (`simrun check --mode static`) checks static sharding: KSM
// Deployments run with --shard and --total-shards (cluster.deployments),
// rolled out by the simulator's Deployment controller. It does not use
// the abstraction above: like the data plane, every path is a trace
// (explicit schedule) replayed by the simulator, breadth first by number
// of ops. Its bounds:
//
//   - the start: Deployments ksm-shard-0..n-1 on shards 0..n-1 of n, one
//     replica each, settled, for every n in 1..min(D, T)
//     (StaticOptions.MaxDeployments D <= 4, MaxTotal T <= 4), and every
//     strategy of StaticStrategies (RollingUpdate with maxSurge 1,
//     Recreate, RollingUpdate with maxSurge 0), the same for every
//     Deployment of a run (mixed strategies are not explored);
//   - up to K ops (Depth): reshard to shards 0..n-1 of n (n in
//     1..min(D, T)), one apply that also scales every other Deployment to
//     0 replicas; restart a Deployment's pod; with Misconfigure also apply
//     one Deployment ksm-shard-i (i < D) with any --shard 0..T and
//     --total-shards 1..T, one replica, and delete a Deployment. Replicas
//     above 1, maxSurge or maxUnavailable above 1, ConfigMap churn and the
//     fault ops are not explored;
//   - between ops, every order of the lanes' deliveries (a rollout's new
//     pod's start, the old pod's deletion), one item at a time; a state is
//     the ops and how many items each lane delivered after each, since
//     deliveries to different lanes commute (a lane's pod reads only its
//     own items and the objects, which only ops change; a Recreate pod's
//     start waits for the old pods' deletions, which a delivery the
//     simulator refuses marks invalid). TestStaticReduction compares this
//     with the exploration that keeps every order apart;
//   - the objects: one ConfigMap per jump-hash trajectory class over
//     totals 1..T (Classes), fixed, so the verdict covers every UID;
//   - at most MaxStaticStates states (TooManyReplaysError beyond).
//
// The verdict is safety only: complete and disjoint at every quiescent
// point, as the simulator judges it (with no pod wanted at all,
// completeness is not required, as for a StatefulSet scaled to 0). The
// counterexample has the fewest ops, then the fewest deliveries, and is
// exported as an explicit trace the simulator must replay violated.
//
// # DaemonSet sharding
//
// CheckDaemonSet (`simrun check --mode daemonset`) explores DaemonSet
// sharding the same way (every path a trace replayed by the simulator,
// explicit schedule, model backend), for one reducer (a release: its
// --node and --track-unscheduled-pods rules) and one setting of
// cluster.daemonSet.unscheduled. Its bounds:
//
//   - the start: 1..N nodes (DaemonSetOptions.MaxNodes N <= 3), named
//     node-i or, with Dotted, ip-10-0-0-i.ec2.internal, one pod bound to
//     each, and 0 or 1 unscheduled pod, settled;
//   - up to K ops: add a node (a new name), remove a node (its KSM pod
//     and its pods go), create one pod on a node or unscheduled, bind one
//     unscheduled pod to a node, and with Taints taint or untaint a node;
//   - between ops, every order of the KSM pods' deliveries (their start,
//     list pages, watch events and deletion), counted per node as for
//     static sharding (a KSM pod reads its own queue and the pods, which
//     only ops change; TestDaemonSetReduction compares with the unreduced
//     exploration). A removed node's KSM pod cannot be named by a deliver
//     step any more: its deletion is delivered by a settle, which delivers
//     everything queued in the simulator's order and is explored after
//     any number of single deliveries;
//   - at most MaxStaticStates states.
//
// With tracked unscheduled pods and no taint, v2.14.0 and later hold for
// every path; the shortest counterexamples are a taint (one op),
// v2.13.0's unknown --track-unscheduled-pods and v2.11.0 to v2.13.0's
// stripped dotted node names (at the start). The WatchList rules, the API
// server's configuration, page sizes, mixed traces (a StatefulSet beside
// the DaemonSet) and more than one pod per op are not explored.
//
// # Parallelism
//
// Frontier expansion runs on Options.Workers goroutines over fixed-size
// chunks; the visited set is partitioned so that workers insert without
// locks; new states are kept in generation order. Verdicts, counts, the
// order of states and the counterexample are the same for any number of
// workers.
package checker
