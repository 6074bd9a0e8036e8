// Package conformance checks that shardsim's ownership function
// (github.com/shardsim/shardsim/model: Keeps, HashUID, Owner) decides
// exactly what kube-state-metrics' sharding code keeps.
//
// The tests build a plain client-go ListerWatcher over thousands of objects
// with deterministic UIDs, wrap it in KSM's own
// k8s.io/kube-state-metrics/v2/pkg/sharding.NewShardedListWatch for many
// (shard, totalShards) pairs, and compare the objects that survive the List
// and Watch paths with the UIDs for which model.Keeps reports true.
//
// What runs real KSM code here, and only that: pkg/sharding of
// kube-state-metrics v2.13.0, built against client-go v0.37.2 (the
// versions in this module's go.mod). KSM's start-up (detectStatefulSet),
// its StatefulSet informer and its AddFunc/UpdateFunc are not exercised
// by these tests; the model and the client-go backend transcribe them
// (see packages model and clientgo).
//
// This is a separate, nested Go module on purpose: depending on
// kube-state-metrics pulls in its whole dependency tree (client-go,
// Prometheus, viper, cgroups, ...). Keeping that requirement in
// conformance/go.mod keeps it out of the simulator's own go.mod and build;
// a replace directive points the dependency on the simulator at the parent
// directory so the tests always exercise the working copy. Run them with
//
//	cd conformance && go test ./...
package conformance
