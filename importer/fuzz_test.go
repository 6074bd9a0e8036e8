package importer_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/importer"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// FuzzImport checks that no watch stream makes Import panic or hang, that
// every rejection is an *importer.Error naming the input with a short
// message free of raw control characters, and that every accepted stream
// gives a trace that sim.ParseTrace reads back as returned and that
// replays against every reducer.
func FuzzImport(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
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
	compact := `{"type":"ADDED","object":{"kind":"StatefulSet","metadata":{"name":"ksm","namespace":"m","uid":"u","resourceVersion":"1","labels":{"a":"b"}},"spec":{"replicas":2}}}` + "\n"
	for _, seed := range []string{
		``,
		compact,
		compact + strings.Replace(strings.Replace(compact, `"replicas":2`, `"replicas":3`, 1), `"1"`, `"2"`, 1),
		compact + strings.Replace(strings.Replace(compact, `{"a":"b"}`, `{}`, 1), `"1"`, `"2"`, 1),
		compact + strings.Replace(strings.Replace(compact, `"spec":{`, `"spec":{"template":{"metadata":{"labels":{"x":"y"}}},`, 1), `"1"`, `"2"`, 1),
		compact + `{"type":"DELETED","object":{"kind":"StatefulSet","metadata":{"name":"ksm","namespace":"m"}}}`,
		compact + `{"type":"BOOKMARK","object":{"kind":"StatefulSet","metadata":{"resourceVersion":"9"}}}`,
		compact + `{"type":"ERROR","object":{"kind":"Status","message":"too old","reason":"Expired","code":410}}`,
		"\xef\xbb\xbf" + compact,
		"\xff\xfe{\x00",
		`[{"type": "ADDED"}]`,
		`{"type": "ADDED", "object": {"kind": "StatefulSet", "metadata": {"name": "x"}}}`,
		`{"type": "ADDED", "object": null}`,
		"type: ADDED\nobject: {}\n",
		`"a string" 12 true null`,
		`{"a": "\"}\\"} {`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := importer.Import(bytes.NewReader(data), importer.Options{Source: "fuzz.json", Objects: 10, Seed: 1})
		if err != nil {
			if res != nil {
				t.Errorf("Import returned a result and an error: %v", err)
			}
			var ie *importer.Error
			if !errors.As(err, &ie) {
				t.Fatalf("error is a %T, not an *importer.Error: %v", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz.json: ") || ie.Msg == "" {
				t.Fatalf("error does not name the input or says nothing: %q", msg)
			}
			if len(msg) > 4096 {
				t.Fatalf("error of %d bytes: %.200s", len(msg), msg)
			}
			// The one message with a line break of its own: the capture
			// command on a line of its own.
			for _, r := range strings.ReplaceAll(msg, ":\n  kubectl", ": kubectl") {
				if r < 0x20 || r == 0x7f {
					t.Fatalf("raw control character %q in %q", r, msg)
				}
			}
			return
		}
		if res == nil || res.Trace == nil {
			t.Fatal("Import returned neither a trace nor an error")
		}
		back, err := sim.ParseTrace("imported.json", res.JSON)
		if err != nil {
			t.Fatalf("the imported trace does not parse: %v\n%s", err, res.JSON)
		}
		if len(back.Steps) != len(res.Trace.Steps) || back.Name != res.Trace.Name {
			t.Fatalf("the trace read back differs: %+v vs %+v", back, res.Trace)
		}
		for _, s := range back.Steps {
			if s.Replicas != nil && *s.Replicas > 32 {
				return // valid, but slow to replay
			}
		}
		if *back.Cluster.StatefulSet.Replicas > 32 || len(back.Steps) > 200 {
			return
		}
		for _, r := range model.Reducers() {
			if _, err := sim.Run(back, r, sim.Options{}); err != nil {
				t.Fatalf("Run(%s): %v", r.Name(), err)
			}
		}
	})
}
