package model_test

import (
	"fmt"

	"github.com/shardsim/shardsim/model"
)

// A sharded pod's reflector lists with the client-go pager's limit; the
// API server's first page carries a continue token, which KSM's sharded
// List drops (until v2.20.0), so the store ends with the first page only.
func ExampleStepReflector() {
	r := model.NewReflector(0, 2, model.KSMListWatch, 3)
	fmt.Println(r.Request)
	page := model.Page{UIDs: []string{"a", "b", "c"}, ResourceVersion: "5", Continue: "5/c"}
	r, note := model.StepReflector(r, model.ObjectsListed{Page: page})
	fmt.Println(note)
	fmt.Println(r.Request, r.Truncated)
	r, note = model.StepReflector(r, model.WatchEnded{Expired: true})
	fmt.Println(note)
	// Output:
	// LIST resourceVersion="0" limit=3
	// listed 3, kept 2 at resourceVersion 5; store replaced; the sharded List dropped the continue token: later pages never read
	// WATCH from resourceVersion 5 true
	// watch ended with 410 Gone: relist, LIST resourceVersion="5" limit=0
}
