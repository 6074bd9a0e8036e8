package importer_test

import (
	"fmt"
	"strings"

	"github.com/shardsim/shardsim/importer"
)

// Import a watch of the KSM StatefulSet: its creation, a status-only
// update (dropped), a relabel and a scale.
func ExampleImport() {
	stream := `
{"type": "ADDED", "object": {"apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "ksm", "namespace": "monitoring", "uid": "u-1", "resourceVersion": "10",
               "labels": {"app.kubernetes.io/version": "2.12.0"}},
  "spec": {"replicas": 2}}}
{"type": "MODIFIED", "object": {"apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "ksm", "namespace": "monitoring", "uid": "u-1", "resourceVersion": "11",
               "labels": {"app.kubernetes.io/version": "2.12.0"}},
  "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 2}}}
{"type": "MODIFIED", "object": {"apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "ksm", "namespace": "monitoring", "uid": "u-1", "resourceVersion": "12",
               "labels": {"app.kubernetes.io/version": "2.13.0"}},
  "spec": {"replicas": 2}}}
{"type": "MODIFIED", "object": {"apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "ksm", "namespace": "monitoring", "uid": "u-1", "resourceVersion": "13",
               "labels": {"app.kubernetes.io/version": "2.13.0"}},
  "spec": {"replicas": 3}}}
`
	res, err := importer.Import(strings.NewReader(stream), importer.Options{Source: "watch.json", Objects: 100, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d events, %d dropped\n", res.Events, res.Dropped)
	for i, s := range res.Trace.Steps {
		switch s.Op {
		case "relabel":
			fmt.Println(i, s.Op, s.Labels)
		case "scale":
			fmt.Println(i, s.Op, *s.Replicas)
		}
	}
	// Output:
	// 4 events, 1 dropped
	// 0 relabel map[app.kubernetes.io/version:2.13.0]
	// 1 scale 3
}
