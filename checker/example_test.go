package checker_test

import (
	"fmt"

	"github.com/shardsim/shardsim/checker"
	"github.com/shardsim/shardsim/model"
)

// The field selector (KSM >= v2.13.0) holds for every UID, every sequence
// of up to three ops and every delivery order, with up to three replicas.
func ExampleCheck() {
	res, err := checker.Check(checker.Options{Reducer: model.FieldSelector{}, MaxReplicas: 3, Depth: 3})
	if err != nil {
		panic(err)
	}
	fmt.Println("holds:", res.Holds)
	fmt.Println("trajectory classes:", res.Classes)
	fmt.Println("distinct states:", res.Distinct)
	// Output:
	// holds: true
	// trajectory classes: 4
	// distinct states: 16
}

// The label selector (KSM <= v2.12.0) fails after two ops; the
// counterexample becomes an ordinary trace that the simulator replays to
// violated.
func ExampleCounterexample_Export() {
	res, err := checker.Check(checker.Options{Reducer: model.LabelSelector{}, MaxReplicas: 3, Depth: 3})
	if err != nil {
		panic(err)
	}
	cx := res.Counterexample
	fmt.Println(cx.Summary())
	x, err := cx.Export("counterexample")
	if err != nil {
		panic(err)
	}
	for _, s := range x.Trace.Steps {
		fmt.Println(s.Op)
	}
	fmt.Println("simulator holds:", x.Replay.Holds)
	// Output:
	// from 2 settled replicas, relabel to changed value, then scale to 1: at the quiescent point spec.replicas=1 and the pods serve 0:0/2: NOT COMPLETE: the objects of 2 of 4 trajectory classes are exported by no pod (e.g. objects with owner 0,1,1 for 1..3 shards)
	// relabel
	// scale
	// settle
	// simulator holds: false
}

// With the fault ops among the ops the field selector still holds, and
// they add no distinct state: a relist, a replay of missed writes and a
// LIST from a lagging cache all end at the current StatefulSet. Both
// verdicts are reported; they are always the same.
func ExampleCheck_faults() {
	faults, err := checker.ParseFaults([]string{"compact", "disconnect"})
	if err != nil {
		panic(err)
	}
	res, err := checker.Check(checker.Options{Reducer: model.FieldSelector{}, MaxReplicas: 3, Depth: 3, Faults: faults})
	if err != nil {
		panic(err)
	}
	fmt.Println("faults:", res.Faults)
	fmt.Println("safety:", res.Holds)
	fmt.Println("liveness:", res.Liveness)
	fmt.Println("distinct states:", res.Distinct)
	// Output:
	// faults: compact,disconnect
	// safety: true
	// liveness: true
	// distinct states: 16
}
