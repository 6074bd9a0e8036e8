package sim

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
)

// baseTrace is a valid trace that the cases below mutate. After its scale
// step the StatefulSet has 3 replicas; uid-a, uid-b and uid-c are live from
// the start, uid-d from step 3, and uid-a is gone after step 4.
const baseTrace = `{
  "name": "base",
  "description": "a valid trace the bad-input cases mutate",
  "cluster": {
    "namespace": "monitoring",
    "statefulSet": {
      "name": "kube-state-metrics",
      "labels": {"app.kubernetes.io/name": "kube-state-metrics"},
      "replicas": 2
    },
    "objects": {"uids": ["uid-a", "uid-b", "uid-c"]}
  },
  "schedule": "eager",
  "steps": [
    {"op": "relabel", "labels": {"app.kubernetes.io/name": "ksm"}},
    {"op": "scale", "replicas": 3},
    {"op": "restart", "pods": [2]},
    {"op": "create", "uids": ["uid-d"]},
    {"op": "delete", "uids": ["uid-a"]}
  ],
  "expect": {"label-selector": "holds", "field-selector": "holds"}
}
`

const traceFile = "traces/under-test.json"

// obj is a decoded JSON object.
type obj = map[string]any

// raw is a JSON literal kept verbatim when a mutated trace is re-encoded
// (1e10 stays 1e10, 1.5 stays 1.5).
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// decodeBase returns baseTrace as a generic tree.
func decodeBase(t *testing.T) obj {
	t.Helper()
	var m obj
	if err := json.Unmarshal([]byte(baseTrace), &m); err != nil {
		t.Fatalf("base trace: %v", err)
	}
	return m
}

// at walks a dotted path ("cluster.statefulSet") of objects.
func at(m obj, path string) obj {
	for _, k := range strings.Split(path, ".") {
		m = m[k].(obj)
	}
	return m
}

func step(m obj, i int) obj { return m["steps"].([]any)[i].(obj) }

// steps replaces the steps of m.
func steps(m obj, s ...string) {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = raw(x)
	}
	m["steps"] = out
}

// traceCase is one input: either a mutation of baseTrace or a raw document.
type traceCase struct {
	name   string
	mutate func(m obj)
	doc    string // used when mutate is nil
}

func (c traceCase) input(t *testing.T) []byte {
	t.Helper()
	if c.mutate == nil {
		return []byte(c.doc)
	}
	m := decodeBase(t)
	c.mutate(m)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatalf("encode mutated trace: %v", err)
	}
	return b
}

func TestParseTraceBadInput(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	long64 := strings.Repeat("a", 64)
	tests := []struct {
		traceCase
		step  int    // TraceError.Step
		field string // TraceError.Field
		msg   string // a fragment of the message
	}{
		// Not a JSON trace at all.
		{traceCase{name: "empty file", doc: ""}, -1, "", "empty file"},
		{traceCase{name: "only whitespace", doc: " \n\t\n"}, -1, "", "empty file"},
		{traceCase{name: "truncated JSON", doc: `{"name": "x", "cluster": {`}, -1, "", "malformed JSON at line 1, column 27: unexpected end of input"},
		{traceCase{name: "missing colon", doc: "{\n  \"name\" \"x\"\n}"}, -1, "", "malformed JSON at line 2, column 10: invalid character"},
		{traceCase{name: "trailing comma", doc: `{"name": "x",}`}, -1, "", "malformed JSON at line 1, column 14"},
		{traceCase{name: "single quotes", doc: `{'name': 'x'}`}, -1, "", "malformed JSON"},
		{traceCase{name: "trailing garbage", doc: baseTrace + "garbage"}, -1, "", "unexpected data after the JSON object at line 23, column 1"},
		{traceCase{name: "trailing brace", doc: `{"name": "x"}}`}, -1, "", "unexpected data after the JSON object at line 1, column 14"},
		{traceCase{name: "second object", doc: baseTrace + "\n  {}"}, -1, "", "unexpected data after the JSON object at line 24, column 3"},
		{traceCase{name: "array document", doc: `[]`}, -1, "", "expected a JSON object (a trace), got an array"},
		{traceCase{name: "null document", doc: `null`}, -1, "", "expected a JSON object (a trace), got null"},
		{traceCase{name: "string document", doc: `"trace"`}, -1, "", "expected a JSON object (a trace), got a string"},

		// Missing required fields.
		{traceCase{name: "empty object", doc: `{}`}, -1, "cluster", "required"},
		{traceCase{name: "only a name", doc: `{"name": "x"}`}, -1, "cluster", "required"},
		{traceCase{name: "no name", mutate: func(m obj) { delete(m, "name") }}, -1, "name", "required"},
		{traceCase{name: "empty cluster", mutate: func(m obj) { m["cluster"] = obj{} }}, -1, "cluster.namespace", "required"},
		{traceCase{name: "no namespace", mutate: func(m obj) { delete(at(m, "cluster"), "namespace") }}, -1, "cluster.namespace", "required"},
		{traceCase{name: "no statefulSet", mutate: func(m obj) { delete(at(m, "cluster"), "statefulSet") }}, -1, "cluster.statefulSet.name", "required"},
		{traceCase{name: "no statefulSet name", mutate: func(m obj) { delete(at(m, "cluster.statefulSet"), "name") }}, -1, "cluster.statefulSet.name", "required"},
		{traceCase{name: "empty step", mutate: func(m obj) { steps(m, `{"op": "scale", "replicas": 1}`, `{}`) }}, 1, "op", "required"},

		// Wrong JSON types.
		{traceCase{name: "name is a number", mutate: func(m obj) { m["name"] = 7 }}, -1, "name", "expected a string, got number"},
		{traceCase{name: "cluster is a string", mutate: func(m obj) { m["cluster"] = "c" }}, -1, "cluster", "expected a JSON object, got string"},
		{traceCase{name: "steps is an object", mutate: func(m obj) { m["steps"] = obj{} }}, -1, "steps", "expected a JSON array, got object"},
		{traceCase{name: "step is a number", mutate: func(m obj) { steps(m, `{"op": "settle"}`, `5`) }}, 1, "", "expected a JSON object, got number"},
		{traceCase{name: "labels is a list", mutate: func(m obj) { at(m, "cluster.statefulSet")["labels"] = []string{"a"} }}, -1, "cluster.statefulSet.labels", "expected a JSON object, got array"},
		{traceCase{name: "label value is a number", mutate: func(m obj) { step(m, 0)["labels"] = obj{"a": 1} }}, 0, "labels", "expected a string, got number"},
		{traceCase{name: "uid is a number", mutate: func(m obj) { at(m, "cluster.objects")["uids"] = []any{1} }}, -1, "cluster.objects.uids", "expected a string, got number"},
		{traceCase{name: "verdict is a bool", mutate: func(m obj) { m["expect"] = obj{"field-selector": true} }}, -1, "expect", "expected a string, got bool"},

		// Unknown, miscased and repeated fields.
		{traceCase{name: "unknown top-level field", mutate: func(m obj) { m["replicas"] = 3 }}, -1, "replicas", "unknown field, want one of cluster, dataPlane, description, expect, judge, name, properties, schedule, steps"},
		{traceCase{name: "miscased top-level field", mutate: func(m obj) { m["Steps"] = m["steps"]; delete(m, "steps") }}, -1, "Steps", `did you mean "steps"?`},
		{traceCase{name: "unknown field in cluster", mutate: func(m obj) { at(m, "cluster")["nameSpace"] = "x" }}, -1, "cluster.nameSpace", `did you mean "namespace"?`},
		{traceCase{name: "unknown field in statefulSet", mutate: func(m obj) { at(m, "cluster.statefulSet")["replica"] = 2 }}, -1, "cluster.statefulSet.replica", "unknown field, want one of labels, name, podManagementPolicy, replicas"},
		{traceCase{name: "unknown field in objects", mutate: func(m obj) { at(m, "cluster.objects")["uid"] = []string{"x"} }}, -1, "cluster.objects.uid", "unknown field"},
		{traceCase{name: "unknown field in step", mutate: func(m obj) { step(m, 1)["replica"] = 4 }}, 1, "replica", "unknown field"},
		{traceCase{name: "miscased field in step", mutate: func(m obj) { s := step(m, 1); s["Replicas"] = s["replicas"]; delete(s, "replicas") }}, 1, "Replicas", `did you mean "replicas"?`},
		{traceCase{name: "repeated field in step", doc: strings.Replace(baseTrace, `"replicas": 3}`, `"replicas": 3, "replicas": 4}`, 1)}, 1, "replicas", "duplicate field"},
		{traceCase{name: "repeated field in cluster", doc: strings.Replace(baseTrace, `"namespace": "monitoring",`, `"namespace": "monitoring", "namespace": "default",`, 1)}, -1, "cluster.namespace", "duplicate field"},
		{traceCase{name: "repeated label key", doc: strings.Replace(baseTrace, `{"app.kubernetes.io/name": "ksm"}`, `{"app.kubernetes.io/name": "ksm", "app.kubernetes.io/name": "x"}`, 1)}, 0, "labels", `duplicate key "app.kubernetes.io/name"`},

		// Ops.
		{traceCase{name: "unknown op", mutate: func(m obj) { step(m, 1)["op"] = "scael" }}, 1, "op", `unknown op "scael"`},
		{traceCase{name: "miscased op", mutate: func(m obj) { step(m, 1)["op"] = "Scale" }}, 1, "op", `unknown op "Scale"`},
		{traceCase{name: "scale with labels", mutate: func(m obj) { step(m, 1)["labels"] = obj{} }}, 1, "labels", `not a field of op "scale"`},
		{traceCase{name: "relabel with replicas", mutate: func(m obj) { step(m, 0)["replicas"] = 2 }}, 0, "replicas", `not a field of op "relabel"`},
		{traceCase{name: "delete with generate", mutate: func(m obj) { step(m, 4)["generate"] = 2 }}, 4, "generate", `not a field of op "delete"`},
		{traceCase{name: "settle with count", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "settle", "count": 1}`) }}, 0, "count", `not a field of op "settle"`},

		// Replicas.
		{traceCase{name: "negative replicas in scale", mutate: func(m obj) { step(m, 1)["replicas"] = -1 }}, 1, "replicas", "must be a non-negative integer, got -1"},
		{traceCase{name: "negative replicas in cluster", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = -3 }}, -1, "cluster.statefulSet.replicas", "must be a non-negative integer, got -3"},
		{traceCase{name: "fractional replicas in scale", mutate: func(m obj) { step(m, 1)["replicas"] = raw("1.5") }}, 1, "replicas", "expected an integer that fits in int32, got number 1.5"},
		{traceCase{name: "fractional replicas in cluster", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = raw("1.5") }}, -1, "cluster.statefulSet.replicas", "expected an integer that fits in int32, got number 1.5"},
		{traceCase{name: "replicas 1e10", mutate: func(m obj) { step(m, 1)["replicas"] = raw("1e10") }}, 1, "replicas", "expected an integer that fits in int32, got number 1e10"},
		{traceCase{name: "replicas 2^31", mutate: func(m obj) { step(m, 1)["replicas"] = raw("2147483648") }}, 1, "replicas", "expected an integer that fits in int32, got number 2147483648"},
		{traceCase{name: "replicas -2^31-1", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = raw("-2147483649") }}, -1, "cluster.statefulSet.replicas", "expected an integer that fits in int32"},
		{traceCase{name: "replicas written as 3.0", mutate: func(m obj) { step(m, 1)["replicas"] = raw("3.0") }}, 1, "replicas", "expected an integer that fits in int32, got number 3.0"},
		{traceCase{name: "replicas as a string", mutate: func(m obj) { step(m, 1)["replicas"] = "3" }}, 1, "replicas", "expected an integer that fits in int32, got string"},
		{traceCase{name: "replicas as a bool", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = true }}, -1, "cluster.statefulSet.replicas", "got bool"},
		{traceCase{name: "replicas over the limit", mutate: func(m obj) { step(m, 1)["replicas"] = MaxReplicas + 1 }}, 1, "replicas", "limit of 1024 pods"},
		{traceCase{name: "scale without replicas", mutate: func(m obj) { delete(step(m, 1), "replicas") }}, 1, "replicas", "required"},
		{traceCase{name: "scale with null replicas", mutate: func(m obj) { step(m, 1)["replicas"] = nil }}, 1, "replicas", "required"},

		// Restart.
		{traceCase{name: "restart ordinal == replicas", mutate: func(m obj) { step(m, 2)["pods"] = []int{3} }}, 2, "pods", "pod 3 does not exist: the StatefulSet has 3 replicas (ordinals 0..2) at this step"},
		{traceCase{name: "restart after scale down", mutate: func(m obj) {
			steps(m, `{"op": "scale", "replicas": 5}`, `{"op": "scale", "replicas": 1}`, `{"op": "restart", "pods": [0, 4]}`)
		}}, 2, "pods", "pod 4 does not exist: the StatefulSet has 1 replica (ordinal 0) at this step"},
		{traceCase{name: "restart after scale to zero", mutate: func(m obj) {
			steps(m, `{"op": "scale", "replicas": 0}`, `{"op": "restart", "pods": [0]}`)
		}}, 1, "pods", "pod 0 does not exist: the StatefulSet has 0 replicas at this step"},
		{traceCase{name: "restart of the initial replica count before the scale", mutate: func(m obj) {
			steps(m, `{"op": "restart", "pods": [2]}`, `{"op": "scale", "replicas": 3}`)
		}}, 0, "pods", "pod 2 does not exist"},
		{traceCase{name: "restart negative ordinal", mutate: func(m obj) { step(m, 2)["pods"] = []int{-1} }}, 2, "pods", "pod -1 does not exist"},
		{traceCase{name: "restart ordinal twice", mutate: func(m obj) { step(m, 2)["pods"] = []int{1, 0, 1} }}, 2, "pods", "pod 1 listed twice"},
		{traceCase{name: "restart nothing", mutate: func(m obj) { step(m, 2)["pods"] = []int{} }}, 2, "pods", "required"},
		{traceCase{name: "restart without pods", mutate: func(m obj) { delete(step(m, 2), "pods") }}, 2, "pods", "required"},
		{traceCase{name: "restart fractional ordinal", mutate: func(m obj) { step(m, 2)["pods"] = raw("[0.5]") }}, 2, "pods", "expected an integer that fits in int, got number 0.5"},

		// Objects.
		{traceCase{name: "duplicate UIDs in cluster", mutate: func(m obj) { at(m, "cluster.objects")["uids"] = []string{"uid-a", "uid-b", "uid-a"} }}, -1, "cluster.objects.uids", `duplicate UID "uid-a"`},
		{traceCase{name: "empty UID in cluster", mutate: func(m obj) { at(m, "cluster.objects")["uids"] = []string{""} }}, -1, "cluster.objects.uids", "empty UID"},
		{traceCase{name: "uids and generate in cluster", mutate: func(m obj) { at(m, "cluster.objects")["generate"] = 10 }}, -1, "cluster.objects.generate", "either uids or generate, not both"},
		{traceCase{name: "negative generate in cluster", mutate: func(m obj) { at(m, "cluster")["objects"] = obj{"generate": -1} }}, -1, "cluster.objects.generate", "non-negative"},
		{traceCase{name: "generate over the limit", mutate: func(m obj) { at(m, "cluster")["objects"] = obj{"generate": MaxObjects + 1} }}, -1, "cluster.objects.generate", "limit of 5000000 live objects"},
		{traceCase{name: "negative seed", mutate: func(m obj) { at(m, "cluster")["objects"] = obj{"generate": 1, "seed": -1} }}, -1, "cluster.objects.seed", "expected an integer that fits in uint64, got number -1"},
		{traceCase{name: "create a live UID", mutate: func(m obj) { step(m, 3)["uids"] = []string{"uid-b"} }}, 3, "uids", `UID "uid-b" is already a live object at this step`},
		{traceCase{name: "create a UID created by an earlier step", mutate: func(m obj) {
			steps(m, `{"op": "create", "uids": ["uid-x"]}`, `{"op": "create", "uids": ["uid-y", "uid-x"]}`)
		}}, 1, "uids", `UID "uid-x" is already a live object at this step`},
		{traceCase{name: "create the same UID twice", mutate: func(m obj) { step(m, 3)["uids"] = []string{"uid-x", "uid-x"} }}, 3, "uids", `duplicate UID "uid-x"`},
		{traceCase{name: "create nothing", mutate: func(m obj) { step(m, 3)["uids"] = []string{} }}, 3, "uids", "required"},
		{traceCase{name: "create with uids and generate", mutate: func(m obj) { step(m, 3)["generate"] = 2 }}, 3, "generate", "either uids or generate, not both"},
		{traceCase{name: "create negative generate", mutate: func(m obj) { steps(m, `{"op": "create", "generate": -5}`) }}, 0, "generate", "non-negative"},
		// len(live)+generate used to overflow, pass the limit and panic in make.
		{traceCase{name: "create generate near MaxInt64", mutate: func(m obj) { steps(m, `{"op": "create", "generate": 9223372036854775807}`) }}, 0, "generate", "limit of 5000000 live objects"},
		{traceCase{name: "create generate over MaxInt64", mutate: func(m obj) { steps(m, `{"op": "create", "generate": 9223372036854775808}`) }}, 0, "generate", "expected an integer that fits in int"},
		{traceCase{name: "delete a UID that never existed", mutate: func(m obj) { step(m, 4)["uids"] = []string{"uid-z"} }}, 4, "uids", `UID "uid-z" is not a live object at this step`},
		{traceCase{name: "delete a UID before it is created", mutate: func(m obj) {
			steps(m, `{"op": "delete", "uids": ["uid-x"]}`, `{"op": "create", "uids": ["uid-x"]}`)
		}}, 0, "uids", `UID "uid-x" is not a live object at this step`},
		{traceCase{name: "delete a UID twice", mutate: func(m obj) {
			steps(m, `{"op": "delete", "uids": ["uid-a"]}`, `{"op": "delete", "uids": ["uid-b", "uid-a"]}`)
		}}, 1, "uids", `UID "uid-a" is not a live object at this step`},
		{traceCase{name: "delete the same UID twice in a step", mutate: func(m obj) { step(m, 4)["uids"] = []string{"uid-a", "uid-a"} }}, 4, "uids", `duplicate UID "uid-a"`},
		{traceCase{name: "delete nothing", mutate: func(m obj) { delete(step(m, 4), "uids") }}, 4, "uids", "required"},

		// Names and labels Kubernetes would reject.
		{traceCase{name: "namespace not a DNS label", mutate: func(m obj) { at(m, "cluster")["namespace"] = "Monitoring" }}, -1, "cluster.namespace", `invalid namespace "Monitoring"`},
		{traceCase{name: "statefulSet name not a DNS label", mutate: func(m obj) { at(m, "cluster.statefulSet")["name"] = "ksm_1" }}, -1, "cluster.statefulSet.name", `invalid StatefulSet name "ksm_1"`},
		{traceCase{name: "label key with space and bang", mutate: func(m obj) { at(m, "cluster.statefulSet")["labels"] = obj{"bad key!": "x"} }}, -1, "cluster.statefulSet.labels", `invalid label key "bad key!"`},
		{traceCase{name: "label key with leading dash", mutate: func(m obj) { step(m, 0)["labels"] = obj{"-leading": "x"} }}, 0, "labels", `invalid label key "-leading"`},
		{traceCase{name: "label key name part of 64 chars", mutate: func(m obj) { step(m, 0)["labels"] = obj{"example.com/" + long64: "x"} }}, 0, "labels", "invalid label key"},
		{traceCase{name: "label key prefix not a DNS subdomain", mutate: func(m obj) { step(m, 0)["labels"] = obj{"Example_com/name": "x"} }}, 0, "labels", "invalid label key"},
		{traceCase{name: "empty label key", mutate: func(m obj) { at(m, "cluster.statefulSet")["labels"] = obj{"": "x"} }}, -1, "cluster.statefulSet.labels", `invalid label key ""`},
		{traceCase{name: "label value with space", mutate: func(m obj) { step(m, 0)["labels"] = obj{"app": "has space"} }}, 0, "labels", `invalid value "has space" for label "app"`},
		{traceCase{name: "label key of 318 chars", mutate: func(m obj) { step(m, 0)["labels"] = obj{strings.Repeat("a", 253) + "/" + strings.Repeat("b", 64): "x"} }}, 0, "labels", "must be no more than 317 characters"},
		{traceCase{name: "label value of 64 chars", mutate: func(m obj) { at(m, "cluster.statefulSet")["labels"] = obj{"app": long64} }}, -1, "cluster.statefulSet.labels", `for label "app"`},
		{traceCase{name: "label value with trailing dash", mutate: func(m obj) { step(m, 0)["labels"] = obj{"app": long63[:10] + "-"} }}, 0, "labels", "invalid value"},
		{traceCase{name: "relabel without labels", mutate: func(m obj) { delete(step(m, 0), "labels") }}, 0, "labels", "required: the complete new label map"},
		{traceCase{name: "relabel with null labels", mutate: func(m obj) { step(m, 0)["labels"] = nil }}, 0, "labels", "required"},

		// Schedules.
		{traceCase{name: "unknown schedule", mutate: func(m obj) { m["schedule"] = "lazy" }}, -1, "schedule", `unknown schedule "lazy"`},
		{traceCase{name: "settle under eager", mutate: func(m obj) { steps(m, `{"op": "scale", "replicas": 3}`, `{"op": "settle"}`) }}, 1, "op", `"settle" is a schedule op: it needs "schedule": "explicit"`},
		{traceCase{name: "deliver under eager", mutate: func(m obj) { steps(m, `{"op": "deliver", "pod": 0, "count": 1}`) }}, 0, "op", `"deliver" is a schedule op`},
		{traceCase{name: "settle under the default schedule", mutate: func(m obj) { delete(m, "schedule"); steps(m, `{"op": "settle"}`) }}, 0, "op", `under "eager"`},
		{traceCase{name: "deliver without pod", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "deliver", "count": 1}`) }}, 0, "pod", "required"},
		{traceCase{name: "deliver without count", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "deliver", "pod": 0}`) }}, 0, "count", "must be at least 1, got 0"},
		{traceCase{name: "deliver count 0", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "deliver", "pod": 1, "count": 0}`) }}, 0, "count", "must be at least 1, got 0"},
		{traceCase{name: "deliver negative count", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "deliver", "pod": 1, "count": -2}`) }}, 0, "count", "must be at least 1, got -2"},
		{traceCase{name: "deliver pod out of range", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "deliver", "pod": 2, "count": 1}`) }}, 0, "pod", "pod 2 has never existed at this step (the StatefulSet has had at most 2 replicas (ordinals 0..1))"},
		{traceCase{name: "deliver negative pod", mutate: func(m obj) { m["schedule"] = Explicit; steps(m, `{"op": "deliver", "pod": -1, "count": 1}`) }}, 0, "pod", "pod -1 has never existed"},
		{traceCase{name: "deliver with replicas", mutate: func(m obj) {
			m["schedule"] = Explicit
			steps(m, `{"op": "deliver", "pod": 0, "count": 1, "replicas": 2}`)
		}}, 0, "replicas", `not a field of op "deliver"`},

		// Expectations.
		{traceCase{name: "unknown reducer in expect", mutate: func(m obj) { m["expect"] = obj{"nope": "holds"} }}, -1, "expect.nope", `unknown reducer "nope", want label-selector, field-selector or a kube-state-metrics release v2.10.0 to v2.20.0`},
		{traceCase{name: "unknown verdict in expect", mutate: func(m obj) { m["expect"] = obj{"label-selector": "fails"} }}, -1, "expect.label-selector", `unknown verdict "fails", want "holds" or "violated"`},
		{traceCase{name: "miscased verdict in expect", mutate: func(m obj) { m["expect"] = obj{"field-selector": "Holds"} }}, -1, "expect.field-selector", `unknown verdict "Holds"`},

		// No objects at all (issue 9): the verdict would hold whatever the
		// pods' configurations.
		{traceCase{name: "objects missing", mutate: func(m obj) { delete(at(m, "cluster"), "objects"); steps(m, `{"op": "scale", "replicas": 3}`) }}, -1, "cluster.objects", `no objects: the trace never has one (none at the start, no create step)`},
		{traceCase{name: "objects with empty uids", mutate: func(m obj) {
			at(m, "cluster")["objects"] = obj{"uids": []string{}}
			steps(m, `{"op": "scale", "replicas": 3}`)
		}}, -1, "cluster.objects", `e.g. "objects": {"generate": 100, "seed": 1}`},
		{traceCase{name: "objects generate 0", mutate: func(m obj) { at(m, "cluster")["objects"] = obj{"generate": 0, "seed": 4}; m["steps"] = []any{} }}, -1, "cluster.objects", "no objects"},
		{traceCase{name: "objects empty", mutate: func(m obj) { at(m, "cluster")["objects"] = obj{}; delete(m, "steps") }}, -1, "cluster.objects", "no objects"},
		{traceCase{name: "bad step before no objects", mutate: func(m obj) { delete(at(m, "cluster"), "objects"); steps(m, `{"op": "scale", "replicas": -1}`) }}, 0, "replicas", "non-negative"},

		// Not UTF-8 (issue 9): name the encoding instead of "invalid character 'ÿ'".
		{traceCase{name: "UTF-16 LE with BOM", doc: "\xff\xfe{\x00}\x00"}, -1, "", "encoded as UTF-16 (little-endian, with a byte-order mark), not UTF-8: save it as UTF-8"},
		{traceCase{name: "UTF-16 BE with BOM", doc: "\xfe\xff\x00{\x00}"}, -1, "", "UTF-16 (big-endian, with a byte-order mark)"},
		{traceCase{name: "UTF-16 LE without BOM", doc: "{\x00\"\x00n\x00"}, -1, "", "encoded as UTF-16 (little-endian), not UTF-8"},
		{traceCase{name: "UTF-16 BE without BOM", doc: "\x00{\x00\"\x00n"}, -1, "", "UTF-16 (big-endian)"},
		{traceCase{name: "UTF-32 LE with BOM", doc: "\xff\xfe\x00\x00{\x00\x00\x00"}, -1, "", "UTF-32 (little-endian, with a byte-order mark)"},
		{traceCase{name: "UTF-8 BOM then garbage", doc: "\xef\xbb\xbfnot json"}, -1, "", "malformed JSON at line 1, column 2: invalid character 'o' in literal null"},
		{traceCase{name: "UTF-8 BOM twice", doc: "\xef\xbb\xbf\xef\xbb\xbf{}"}, -1, "", "malformed JSON at line 1, column 1: invalid character 'ï'"},

		// Values echoed in messages are capped and escaped (issue 9): a
		// 1 MB label value does not give a 1 MB line, and control
		// characters never reach the terminal (the loop below checks both
		// for every case).
		{traceCase{name: "1 MB label value", mutate: func(m obj) { step(m, 0)["labels"] = obj{"app": strings.Repeat("v", 1<<20)} }}, 0, "labels", `invalid value "` + strings.Repeat("v", 80) + `…"(1048576 bytes) for label "app": must be no more than 63 characters`},
		{traceCase{name: "1 MB label key", mutate: func(m obj) { step(m, 0)["labels"] = obj{strings.Repeat("k", 1<<20): "v"} }}, 0, "labels", `(1048576 bytes)`},
		{traceCase{name: "1 MB unknown field", mutate: func(m obj) { m[strings.Repeat("f", 1<<20)] = 1 }}, -1, strings.Repeat("f", 80) + "…(1048576 bytes)", "unknown field"},
		{traceCase{name: "1 MB UID", mutate: func(m obj) { step(m, 4)["uids"] = []string{strings.Repeat("u", 1<<20)} }}, 4, "uids", "is not a live object"},
		{traceCase{name: "1 MB op", mutate: func(m obj) { step(m, 1)["op"] = strings.Repeat("o", 1<<20) }}, 1, "op", "unknown op"},
		{traceCase{name: "1 MB schedule", mutate: func(m obj) { m["schedule"] = strings.Repeat("s", 1<<20) }}, -1, "schedule", "unknown schedule"},
		// Found by FuzzParseTrace: a document that is one long number.
		{traceCase{name: "huge number document", doc: strings.Repeat("6", 5000)}, -1, "", "expected a JSON object (a trace), got number " + strings.Repeat("6", 80) + "…(5000 bytes)"},
		{traceCase{name: "huge number", mutate: func(m obj) { step(m, 1)["replicas"] = raw("1" + strings.Repeat("0", 1<<20)) }}, 1, "replicas", "(1048584 bytes)"},
		{traceCase{name: "ESC in a label value", mutate: func(m obj) { step(m, 0)["labels"] = obj{"app": "\x1b[2J\x1b[Hverdict: holds"} }}, 0, "labels", `invalid value "\x1b[2J\x1b[Hverdict: holds"`},
		{traceCase{name: "ESC and newline in an unknown field", mutate: func(m obj) { m["x\x1b[2J\n\a"] = 1 }}, -1, `"x\x1b[2J\n\a"`, "unknown field"},
		{traceCase{name: "control characters in a UID", mutate: func(m obj) { step(m, 4)["uids"] = []string{"\x00\x07\r\u202e"} }}, 4, "uids", `UID "\x00\a\r\u202e" is not a live object`},
		{traceCase{name: "ESC in an expect key", mutate: func(m obj) { m["expect"] = obj{"\x1b]0;title\a": "holds"} }}, -1, `expect."\x1b]0;title\a"`, `unknown reducer "\x1b]0;title\a"`},
		{traceCase{name: "newline in a duplicate label key", doc: strings.Replace(baseTrace, `{"app.kubernetes.io/name": "ksm"}`, `{"a\nb": "1", "a\nb": "2"}`, 1)}, 0, "labels", `duplicate key "a\nb"`},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			in := tc.input(t)
			tr, err := ParseTrace(traceFile, in)
			if err == nil {
				t.Fatalf("ParseTrace accepted the trace:\n%s\n=> %+v", in, tr)
			}
			if tr != nil {
				t.Errorf("ParseTrace returned a trace with its error")
			}
			te, ok := err.(*TraceError)
			if !ok {
				t.Fatalf("error is a %T, want a *TraceError: %v", err, err)
			}
			if te.File != traceFile || te.Step != tc.step || te.Field != tc.field {
				t.Errorf("got File=%q Step=%d Field=%q, want %q %d %q (error: %v)", te.File, te.Step, te.Field, traceFile, tc.step, tc.field, err)
			}
			msg := err.Error()
			want := []string{traceFile + ": ", tc.msg}
			switch {
			case tc.step >= 0 && tc.field != "":
				want = append(want, "steps["+strconv.Itoa(tc.step)+"]."+tc.field+": ")
			case tc.step >= 0:
				want = append(want, "steps["+strconv.Itoa(tc.step)+"]: ")
			case tc.field != "":
				want = append(want, ": "+tc.field+": ")
			}
			for _, w := range want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "sim.") || strings.Contains(msg, "json.RawMessage") || strings.Contains(msg, "struct {") {
				t.Errorf("error %q names Go types, not JSON", msg)
			}
			if len(msg) > 1000 {
				t.Errorf("error of %d bytes: values echoed in it are not capped: %.300s…", len(msg), msg)
			}
			if i := strings.IndexFunc(msg, isControl); i >= 0 {
				t.Errorf("error has a raw control character %q at byte %d: %q", msg[i], i, msg)
			}
		})
	}
}

func TestParseTraceValid(t *testing.T) {
	tests := []struct {
		traceCase
		check func(t *testing.T, tr *Trace)
	}{
		{traceCase{name: "base", doc: baseTrace}, func(t *testing.T, tr *Trace) {
			if len(tr.Steps) != 5 || *tr.Cluster.StatefulSet.Replicas != 2 {
				t.Errorf("got %d steps and %d replicas", len(tr.Steps), *tr.Cluster.StatefulSet.Replicas)
			}
		}},
		{traceCase{name: "replicas omitted defaults to 1", mutate: func(m obj) {
			delete(at(m, "cluster.statefulSet"), "replicas")
			steps(m, `{"op": "restart", "pods": [0]}`)
		}}, func(t *testing.T, tr *Trace) {
			if r := tr.Cluster.StatefulSet.Replicas; r == nil || *r != 1 {
				t.Errorf("replicas = %v, want 1", r)
			}
		}},
		{traceCase{name: "replicas null defaults to 1", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = nil; m["steps"] = []any{} }}, func(t *testing.T, tr *Trace) {
			if r := tr.Cluster.StatefulSet.Replicas; r == nil || *r != 1 {
				t.Errorf("replicas = %v, want 1", r)
			}
		}},
		{traceCase{name: "replicas 0", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = 0; m["steps"] = []any{} }}, nil},
		{traceCase{name: "replicas at the limit", mutate: func(m obj) { at(m, "cluster.statefulSet")["replicas"] = MaxReplicas; m["steps"] = []any{} }}, nil},
		{traceCase{name: "empty labels", mutate: func(m obj) { at(m, "cluster.statefulSet")["labels"] = obj{} }}, nil},
		{traceCase{name: "no labels", mutate: func(m obj) { delete(at(m, "cluster.statefulSet"), "labels") }}, nil},
		{traceCase{name: "relabel to {} removes every label", mutate: func(m obj) { step(m, 0)["labels"] = obj{} }}, func(t *testing.T, tr *Trace) {
			if l := tr.Steps[0].Labels; l == nil || len(l) != 0 {
				t.Errorf("labels = %#v, want an empty, non-nil map", l)
			}
		}},
		{traceCase{name: "label edge cases Kubernetes accepts", mutate: func(m obj) {
			step(m, 0)["labels"] = obj{
				"example.com/" + strings.Repeat("a", 63): strings.Repeat("b", 63),
				"a":                                      "",
				"A_b.c-D":                                "x_Y.z-1",
			}
		}}, nil},
		{traceCase{name: "no schedule defaults to eager", mutate: func(m obj) { delete(m, "schedule") }}, func(t *testing.T, tr *Trace) {
			if tr.Schedule != Eager {
				t.Errorf("schedule = %q, want %q", tr.Schedule, Eager)
			}
		}},
		{traceCase{name: "explicit schedule with deliver and settle", mutate: func(m obj) {
			// The cluster starts settled: inboxes fill only from here.
			m["schedule"] = Explicit
			steps(m,
				`{"op": "restart", "pods": [0]}`,          // pod 0: stop the old, GET and LIST the new
				`{"op": "deliver", "pod": 0, "count": 2}`, // the old one stops, the new one GETs
				`{"op": "relabel", "labels": {"app": "x"}}`,
				`{"op": "deliver", "pod": 0, "count": 1}`, // LIST
				`{"op": "scale", "replicas": 3}`,
				`{"op": "deliver", "pod": 2, "count": 2}`, // the new pod 2 starts
				`{"op": "settle"}`,
				`{"op": "scale", "replicas": 1}`,
				`{"op": "settle"}`,
			)
		}}, func(t *testing.T, tr *Trace) {
			if tr.Schedule != Explicit || len(tr.Steps) != 9 || *tr.Steps[5].Pod != 2 || tr.Steps[5].Count != 2 {
				t.Errorf("got %+v", tr)
			}
		}},
		{traceCase{name: "deliver to a pod removed by a scale down", mutate: func(m obj) {
			m["schedule"] = Explicit
			steps(m, `{"op": "scale", "replicas": 1}`, `{"op": "deliver", "pod": 1, "count": 1}`, `{"op": "settle"}`)
		}}, nil},
		{traceCase{name: "no steps", mutate: func(m obj) { delete(m, "steps") }}, nil},
		{traceCase{name: "no expect", mutate: func(m obj) { delete(m, "expect") }}, nil},
		{traceCase{name: "objects only from a create step", mutate: func(m obj) {
			delete(at(m, "cluster"), "objects")
			steps(m, `{"op": "scale", "replicas": 3}`, `{"op": "create", "generate": 10}`)
		}}, nil},
		{traceCase{name: "every object deleted", mutate: func(m obj) {
			steps(m, `{"op": "delete", "uids": ["uid-a", "uid-b", "uid-c"]}`, `{"op": "scale", "replicas": 3}`)
		}}, nil},
		{traceCase{name: "UTF-8 byte-order mark", doc: "\xef\xbb\xbf" + baseTrace}, func(t *testing.T, tr *Trace) {
			if tr.Name != "base" || len(tr.Steps) != 5 {
				t.Errorf("got %+v", tr)
			}
		}},
		{traceCase{name: "generated objects", mutate: func(m obj) {
			at(m, "cluster")["objects"] = obj{"generate": 100, "seed": 7}
			steps(m, `{"op": "create", "generate": 10, "seed": 7}`, `{"op": "create", "uids": ["uid-x"]}`)
		}}, nil},
		{traceCase{name: "delete a generated UID", mutate: func(m obj) {
			at(m, "cluster")["objects"] = obj{"generate": 2, "seed": 3}
			steps(m, `{"op": "delete", "uids": ["`+GenerateUIDs(2, 3, 0)[1]+`"]}`)
		}}, nil},
		{traceCase{name: "recreate a deleted UID", mutate: func(m obj) {
			steps(m, `{"op": "delete", "uids": ["uid-a"]}`, `{"op": "create", "uids": ["uid-a"]}`)
		}}, nil},
		{traceCase{name: "scale to zero and back, then restart", mutate: func(m obj) {
			steps(m, `{"op": "scale", "replicas": 0}`, `{"op": "scale", "replicas": 2}`, `{"op": "restart", "pods": [1, 0]}`)
		}}, nil},
		{traceCase{name: "trailing newline and whitespace", doc: baseTrace + "\n\n  \t\n"}, nil},
		{traceCase{name: "violated expectations", mutate: func(m obj) { m["expect"] = obj{"label-selector": "violated"} }}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.input(t)
			tr, err := ParseTrace(traceFile, in)
			if err != nil {
				t.Fatalf("ParseTrace: %v\n%s", err, in)
			}
			if tc.check != nil {
				tc.check(t, tr)
			}
			// A valid trace replays without error.
			for _, r := range model.Reducers() {
				if _, err := Run(tr, r, Options{}); err != nil {
					t.Errorf("Run(%s): %v", r.Name(), err)
				}
			}
		})
	}
}

func TestLoadTrace(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.json")
	_, err := LoadTrace(missing)
	var te *TraceError
	if !errors.As(err, &te) || te.File != missing {
		t.Fatalf("LoadTrace(missing) = %v, want a *TraceError for %s", err, missing)
	}
	if msg := err.Error(); strings.Count(msg, missing) != 1 || !strings.Contains(msg, "no such file") {
		t.Errorf("error %q should name the file once and say it does not exist", msg)
	}

	bad := filepath.Join(dir, "bad.json")
	doc := strings.Replace(baseTrace, `"replicas": 3`, `"replicas": -1`, 1)
	if err := os.WriteFile(bad, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadTrace(bad)
	if want := bad + ": steps[1].replicas: must be a non-negative integer, got -1"; err == nil || err.Error() != want {
		t.Errorf("LoadTrace(bad) = %v, want %s", err, want)
	}

	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(baseTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrace(good); err != nil {
		t.Errorf("LoadTrace(good): %v", err)
	}
}

// endless reads like /dev/zero: zero bytes, forever, counting them.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += int64(len(p))
	return len(p), nil
}

// TestReadTraceLimit: an endless input (/dev/zero, a pipe that never
// closes) stops at MaxTraceBytes with an error naming the input and the
// limit, instead of filling memory; so does a trace just over the limit.
func TestReadTraceLimit(t *testing.T) {
	in := &endless{}
	_, err := ReadTrace("standard input", in)
	var te *TraceError
	if !errors.As(err, &te) || te.File != "standard input" {
		t.Fatalf("ReadTrace(endless) = %v, want a *TraceError naming standard input", err)
	}
	if want := "standard input: larger than the limit of 64 MiB for a trace"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start with %q", err, want)
	}
	if in.n > MaxTraceBytes+1<<20 {
		t.Errorf("read %d bytes of an endless input, want at most about %d", in.n, MaxTraceBytes)
	}

	// Exactly at the limit is allowed (it fails for being whitespace only).
	_, err = ReadTrace("at-limit.json", strings.NewReader(strings.Repeat(" ", MaxTraceBytes)))
	if err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Errorf("a trace of exactly MaxTraceBytes: %v, want the empty-file error", err)
	}
	if _, err := ParseTrace("big.json", make([]byte, MaxTraceBytes+1)); err == nil || !strings.Contains(err.Error(), "big.json: larger than the limit of 64 MiB") {
		t.Errorf("ParseTrace over the limit: %v", err)
	}

	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err := LoadTrace("/dev/zero")
		if err == nil || !strings.HasPrefix(err.Error(), "/dev/zero: larger than the limit of 64 MiB") {
			t.Errorf("LoadTrace(/dev/zero) = %v", err)
		}
	}
	dir := t.TempDir()
	if _, err := LoadTrace(dir); err == nil || !strings.HasPrefix(err.Error(), dir+": cannot read the trace: ") {
		t.Errorf("LoadTrace(a directory) = %v", err)
	}
}

func TestTraceErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  TraceError
		want string
	}{
		{TraceError{File: "f.json", Step: -1, Msg: "empty"}, "f.json: empty"},
		{TraceError{File: "f.json", Step: -1, Field: "cluster.namespace", Msg: "required"}, "f.json: cluster.namespace: required"},
		{TraceError{File: "f.json", Step: 2, Msg: "bad"}, "f.json: steps[2]: bad"},
		{TraceError{File: "f.json", Step: 0, Field: "op", Msg: "required"}, "f.json: steps[0].op: required"},
		{TraceError{Step: 3, Field: "pods", Msg: "x"}, "steps[3].pods: x"},
		// A safety net: whatever reaches a TraceError is escaped.
		{TraceError{File: "a\x1bb.json", Step: -1, Field: "x\ny", Msg: "m\a"}, `"a\x1bb.json": "x\ny": "m\a"`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// isControl reports the runes a terminal acts on instead of showing:
// C0 and C1 controls (ESC, BEL, NUL, CR, LF...) and DEL, and the bidi
// overrides that reorder what follows.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
