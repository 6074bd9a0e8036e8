package properties_test

import (
	"fmt"

	"github.com/shardsim/shardsim/properties"
)

// Hunt searches random traces for a violation of a reducer's properties
// and shrinks the first one it finds; the counterexample is an ordinary
// trace, ready for properties.Export (or `simrun hunt`) to write.
func ExampleHunt() {
	ce, err := properties.Hunt(properties.HuntOptions{Reducer: "label-selector", Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	t := ce.Trace
	fmt.Printf("%s: %d replica, schedule %s\n", t.Name, *t.Cluster.StatefulSet.Replicas, t.Schedule)
	for i, s := range t.Steps {
		fmt.Printf("step %d: %s\n", i, properties.FormatStep(s))
	}
	fmt.Println("label-selector:", t.Expect["label-selector"])
	fmt.Println("field-selector:", t.Expect["field-selector"])

	none, _ := properties.Hunt(properties.HuntOptions{Reducer: "field-selector", Seed: 1, Traces: 100})
	fmt.Println("field-selector counterexample:", none != nil)
	// Output:
	// label-selector-scale-up-overlap-seed-1: 1 replica, schedule explicit
	// step 0: relabel {app.kubernetes.io/name=kube-state-metrics,app.kubernetes.io/version=2.13.0}
	// step 1: scale to 2
	// step 2: settle
	// label-selector: violated
	// field-selector: holds
	// field-selector counterexample: false
}
