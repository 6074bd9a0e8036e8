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
// live pod's watch events, and start items whose delivery commutes with
// every op (computed from the tables: the field selector's GET and LIST,
// the label selector's LIST when its selector matches every label class).
// Each is justified in the README and by TestReductions, which compares
// the reduced and the unreduced exploration (the concrete system, item by
// item) on small bounds.
//
// # Parallelism
//
// Frontier expansion runs on Options.Workers goroutines over fixed-size
// chunks; the visited set is partitioned so that workers insert without
// locks; new states are kept in generation order. Verdicts, counts, the
// order of states and the counterexample are the same for any number of
// workers.
package checker
