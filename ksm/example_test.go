package ksm_test

import (
	"fmt"

	"github.com/shardsim/shardsim/ksm"
)

// Each release is the model's reducer of the same name (its StatefulSet
// strategy, its sharded ListWatch and the client-go it pins); a reducer
// runs as the release it stands for.
func ExampleLookupRelease() {
	for _, v := range []string{"v2.12.0", "v2.13.0", "v2.19.0"} {
		r, err := ksm.LookupRelease(v)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s, client-go %s, served by the module proxy: %v\n", r.Version, r.Model.Selector.Name(), r.Model.ClientGo, r.Served)
	}
	fmt.Println(ksm.DefaultRelease("label-selector"), ksm.DefaultRelease("field-selector"), ksm.DefaultRelease("v2.19.1"))
	// Output:
	// v2.12.0: label-selector, client-go v0.29.3, served by the module proxy: true
	// v2.13.0: field-selector, client-go v0.30.3, served by the module proxy: true
	// v2.19.0: field-selector, client-go v0.35.4, served by the module proxy: false
	// v2.12.0 v2.13.0 v2.19.1
}
