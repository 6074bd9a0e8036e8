package htmlreport_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/shardsim/shardsim/htmlreport"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Render the report of a replay as one self-contained HTML page.
func ExampleWrite() {
	t, err := sim.LoadTrace("../traces/relabel.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := sim.Replay(t, model.Reducers(), sim.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var page bytes.Buffer
	if err := htmlreport.Write(&page, rep); err != nil {
		fmt.Println(err)
		return
	}
	html := page.String()
	fmt.Println(strings.HasPrefix(html, "<!DOCTYPE html>"), strings.Count(html, "<svg") >= 2, strings.Contains(html, "<script src"))
	// Output:
	// true true false
}
