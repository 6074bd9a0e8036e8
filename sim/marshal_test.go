package sim

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestTraceRoundTrip checks that a trace written with encoding/json reads
// back as the same trace, a relabel to {} included.
func TestTraceRoundTrip(t *testing.T) {
	three := int32(3)
	pod := 0
	in := &Trace{
		Name:     "round-trip",
		Schedule: Explicit,
		Cluster: Cluster{Namespace: "monitoring", StatefulSet: StatefulSet{Name: "ksm", Labels: map[string]string{"a": "b"}, Replicas: &three},
			Objects: Objects{UIDs: []string{"u1", "u2"}}},
		Steps: []Step{
			{Op: OpRelabel, Labels: map[string]string{}},
			{Op: OpScale, Replicas: &three},
			{Op: OpDeliver, Pod: &pod, Count: 1},
			{Op: OpSettle},
			{Op: OpDelete, UIDs: []string{"u1"}},
		},
		Expect: map[string]string{"field-selector": Holds},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseTrace("round-trip.json", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the trace:\n in %+v\nout %+v\n%s", in, out, data)
	}
}
