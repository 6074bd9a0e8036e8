package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
)

// Work caps for replaying fuzzed traces, so that fuzzing stays fast.
const (
	fuzzMaxReplicas = 20
	fuzzMaxObjects  = 2000
)

// FuzzParseTrace checks that no input makes ParseTrace panic, that every
// rejection is a *TraceError, and that every accepted trace replays
// against every reducer without panicking.
func FuzzParseTrace(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "traces", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		baseTrace,
		``,
		`{}`,
		`null`,
		`[]`,
		`{"name": "x", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm"}}}`,
		`{"name": "explicit", "schedule": "explicit",
		  "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "labels": {"a": "b"}, "replicas": 2},
		              "objects": {"generate": 50, "seed": 9}},
		  "steps": [{"op": "deliver", "pod": 0, "count": 1}, {"op": "relabel", "labels": {}},
		            {"op": "deliver", "pod": 0, "count": 1}, {"op": "scale", "replicas": 3},
		            {"op": "restart", "pods": [1]}, {"op": "deliver", "pod": 1, "count": 3},
		            {"op": "create", "generate": 5, "seed": 9}, {"op": "settle"},
		            {"op": "scale", "replicas": 0}, {"op": "deliver", "pod": 2, "count": 1}, {"op": "settle"}],
		  "expect": {"label-selector": "violated", "field-selector": "holds"}}`,
		`{"name": "churn", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "replicas": 3},
		  "objects": {"uids": ["a", "b", "c"]}},
		  "steps": [{"op": "delete", "uids": ["a"]}, {"op": "create", "uids": ["a", "d"]}, {"op": "scale", "replicas": 1}]}`,
		`{"name": "x", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "replicas": 1e10}}}`,
		`{"name": "x", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm"}}, "steps": [{"op": "create", "generate": 9223372036854775807}]}`,
		// Issue 9: byte-order marks and UTF-16, no objects, control
		// characters and long values.
		"\xef\xbb\xbf" + baseTrace,
		"\xff\xfe{\x00}\x00",
		"{\x00\"\x00",
		`{"name": "x", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm"}, "objects": {"uids": []}}, "steps": [{"op": "create", "uids": ["a"]}]}`,
		`{"name": "\u001b[2J", "description": "a\nb\u0007", "cluster": {"namespace": "ns", "statefulSet": {"name": "ksm", "labels": {"a\u0000": "b"}}, "objects": {"generate": 1}}}`,
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		if generatesTooMany(data) {
			return
		}
		tr, err := ParseTrace("fuzz.json", data)
		if err != nil {
			if tr != nil {
				t.Errorf("ParseTrace returned a trace and an error: %v", err)
			}
			var te *TraceError
			if !errors.As(err, &te) {
				t.Fatalf("error is a %T, not a *TraceError: %v", err, err)
			}
			if te.File != "fuzz.json" || te.Msg == "" {
				t.Fatalf("TraceError does not name the file or has no message: %#v", te)
			}
			// Values echoed in the message are capped and escaped.
			msg := err.Error()
			if len(msg) > 2000 {
				t.Fatalf("error of %d bytes: %.300s", len(msg), msg)
			}
			if i := strings.IndexFunc(msg, isControl); i >= 0 {
				t.Fatalf("raw control character %q in the error %q", msg[i], msg)
			}
			return
		}
		if tr == nil {
			t.Fatal("ParseTrace returned neither a trace nor an error")
		}
		if !withinFuzzCaps(tr) {
			return
		}
		rep, err := Replay(tr, model.Reducers(), Options{})
		if err != nil {
			// Replay fails only on input ParseTrace cannot rule out (a
			// deliver from an empty inbox), and then with a *TraceError.
			var te *TraceError
			if !errors.As(err, &te) {
				t.Fatalf("Replay failed with a %T, not a *TraceError: %v", err, err)
			}
			return
		}
		// The text report prints nothing from the trace raw: its only
		// control characters are its own line ends.
		var out strings.Builder
		if err := rep.WriteText(&out, true); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if i := strings.IndexFunc(line, isControl); i >= 0 {
				t.Fatalf("raw control character %q in the report line %q", line[i], line)
			}
		}
	})
}

// generatesTooMany reports whether data asks for more than fuzzMaxObjects
// generated UIDs in total, counting only the counts ParseTrace accepts
// (1..MaxObjects). ParseTrace materializes generated UIDs to validate
// creates and deletes, which takes about a second per million: such inputs
// are valid but only slow, and skipping them keeps the fuzzer fast. Larger
// or malformed counts are rejected cheaply, so they are still fuzzed.
func generatesTooMany(data []byte) bool {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return false
	}
	total := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if n, ok := x.(json.Number); ok && strings.EqualFold(k, "generate") {
					if f, err := n.Float64(); err == nil && f >= 1 && f <= MaxObjects {
						total += int(f)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return total > fuzzMaxObjects
}

// withinFuzzCaps reports whether replaying tr is cheap enough for fuzzing:
// at most fuzzMaxReplicas pods and fuzzMaxObjects objects at any step.
func withinFuzzCaps(tr *Trace) bool {
	if int(*tr.Cluster.StatefulSet.Replicas) > fuzzMaxReplicas {
		return false
	}
	objects := len(tr.Cluster.Objects.UIDs) + tr.Cluster.Objects.Generate
	if objects > fuzzMaxObjects {
		return false
	}
	for _, s := range tr.Steps {
		if s.Replicas != nil && int(*s.Replicas) > fuzzMaxReplicas {
			return false
		}
		// Deletions are ignored: the sum of creations bounds the live
		// objects from above.
		if s.Op == OpCreate {
			objects += len(s.UIDs) + s.Generate
			if objects > fuzzMaxObjects {
				return false
			}
		}
	}
	return true
}
