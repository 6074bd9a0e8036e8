package importer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shardsim/shardsim/importer"
	"github.com/shardsim/shardsim/internal/golden"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

const (
	sampleStream = "testdata/sample-watch.json"
	sampleGolden = "testdata/sample.trace.json"
)

func sampleOptions() importer.Options {
	return importer.Options{Source: "sample-watch.json", Objects: 1000, Seed: 1}
}

func importFile(t *testing.T, path string, opts importer.Options) *importer.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := importer.Import(f, opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// TestSampleGolden imports the sample stream (a kube-state-metrics
// StatefulSet relabelled from version 2.12.0 to 2.13.0 and then scaled
// 2 -> 3, with status-only updates in between) and compares the trace with
// testdata/sample.trace.json.
func TestSampleGolden(t *testing.T) {
	res := importFile(t, sampleStream, sampleOptions())
	golden.Check(t, sampleGolden, res.JSON, "go test ./importer -run TestSampleGolden")
	if res.Events != 7 || res.Dropped != 4 || res.Skipped != 0 {
		t.Errorf("events %d, dropped %d, skipped %d; want 7, 4, 0", res.Events, res.Dropped, res.Skipped)
	}
	var ops []string
	for _, s := range res.Trace.Steps {
		ops = append(ops, s.Op)
	}
	if want := []string{"relabel", "scale"}; !slices.Equal(ops, want) {
		t.Errorf("steps %v, want %v", ops, want)
	}
	if res.Trace.Schedule != sim.Eager || res.Trace.Expect != nil {
		t.Errorf("schedule %q, expect %v; want eager and no expect", res.Trace.Schedule, res.Trace.Expect)
	}
	if !strings.Contains(res.Trace.Description, "sample-watch.json") {
		t.Errorf("description does not say where the trace came from: %q", res.Trace.Description)
	}
}

// TestSampleReplays replays the golden trace as simrun --trace would: the
// relabel bug shows (label-selector violated after the scale), the field
// selector holds.
func TestSampleReplays(t *testing.T) {
	tr, err := sim.LoadTrace(sampleGolden)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rep.Results {
		got[r.Reducer] = r.Holds
	}
	if got["label-selector"] {
		t.Error("label-selector holds on the imported sample, want violated (the relabel bug)")
	}
	if !got["field-selector"] {
		t.Error("field-selector is violated on the imported sample, want holds")
	}
	for _, r := range rep.Results {
		if r.Reducer != "label-selector" {
			continue
		}
		last := r.Checkpoints[len(r.Checkpoints)-1]
		if last.Op != "scale" || last.Overlap.Count == 0 {
			t.Errorf("label-selector: last checkpoint %s with overlap %d, want the scale with an overlap", last.Op, last.Overlap.Count)
		}
	}
}

// TestCompactStream: kubectl prints each event on one line (cli-runtime's
// JSONPrinter marshals a WatchEvent compactly); that stream, and one with
// no separator at all, import to the same trace as the pretty-printed
// sample.
func TestCompactStream(t *testing.T) {
	pretty, err := os.ReadFile(sampleStream)
	if err != nil {
		t.Fatal(err)
	}
	var lines, joined bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(pretty))
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			t.Fatal(err)
		}
		lines.Write(c.Bytes())
		lines.WriteByte('\n')
		joined.Write(c.Bytes())
	}
	want := importFile(t, sampleStream, sampleOptions())
	for name, stream := range map[string][]byte{"one per line": lines.Bytes(), "concatenated": joined.Bytes()} {
		got, err := importer.Import(bytes.NewReader(stream), sampleOptions())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.JSON, want.JSON) {
			t.Errorf("%s: trace differs from the pretty-printed stream's:\n%s", name, got.JSON)
		}
	}
}

// --- synthetic streams ---

func baseSS() *appsv1.StatefulSet {
	two := int32(2)
	return &appsv1.StatefulSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "kube-state-metrics", Namespace: "monitoring", UID: "uid-1", ResourceVersion: "100",
			Labels: map[string]string{"app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/version": "2.12.0"},
		},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &two,
			Template: corePodTemplate("v2.12.0"),
		},
		Status: appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2},
	}
}

// stream builds a watch stream: each change is applied to a copy of the
// previous object, which gets the next resourceVersion.
type stream struct {
	cur *appsv1.StatefulSet
	rv  int
	buf bytes.Buffer
}

func newStream() *stream { return &stream{cur: baseSS(), rv: 100} }

func (s *stream) add(typ string, change func(*appsv1.StatefulSet)) *stream {
	next := s.cur.DeepCopy()
	if change != nil {
		change(next)
	}
	if s.buf.Len() > 0 {
		s.rv++
		next.ResourceVersion = itoa(s.rv)
	}
	s.cur = next
	data, err := json.MarshalIndent(map[string]any{"type": typ, "object": next}, "", "  ")
	if err != nil {
		panic(err)
	}
	s.buf.Write(data)
	s.buf.WriteByte('\n')
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

// again writes the current object once more, same resourceVersion.
func (s *stream) again(typ string) *stream {
	data, err := json.MarshalIndent(map[string]any{"type": typ, "object": s.cur}, "", "  ")
	if err != nil {
		panic(err)
	}
	s.buf.Write(data)
	s.buf.WriteByte('\n')
	return s
}

// corePodTemplate is a KSM pod template running the given image tag.
func corePodTemplate(tag string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}},
		Spec: corev1.PodSpec{
			ServiceAccountName: "kube-state-metrics",
			Containers: []corev1.Container{{
				Name:  "kube-state-metrics",
				Image: "registry.k8s.io/kube-state-metrics/kube-state-metrics:" + tag,
				Args:  []string{"--pod=$(POD_NAME)", "--pod-namespace=$(POD_NAMESPACE)"},
			}},
		},
	}
}

func replicas(n int32) func(*appsv1.StatefulSet) {
	return func(ss *appsv1.StatefulSet) { ss.Spec.Replicas = &n }
}

func label(k, v string) func(*appsv1.StatefulSet) {
	return func(ss *appsv1.StatefulSet) {
		if v == "" {
			delete(ss.Labels, k)
			return
		}
		ss.Labels[k] = v
	}
}

func status(ready int32) func(*appsv1.StatefulSet) {
	return func(ss *appsv1.StatefulSet) { ss.Status.ReadyReplicas = ready }
}

func both(fs ...func(*appsv1.StatefulSet)) func(*appsv1.StatefulSet) {
	return func(ss *appsv1.StatefulSet) {
		for _, f := range fs {
			f(ss)
		}
	}
}

func opts() importer.Options {
	return importer.Options{Source: "w.json", Objects: 100, Seed: 7}
}

func stepsOf(t *testing.T, res *importer.Result) []string {
	t.Helper()
	var out []string
	for _, s := range res.Trace.Steps {
		switch s.Op {
		case sim.OpScale:
			out = append(out, "scale "+itoa(int(*s.Replicas)))
		case sim.OpRestart:
			var p []string
			for _, o := range s.Pods {
				p = append(p, itoa(o))
			}
			out = append(out, "restart "+strings.Join(p, ","))
		default:
			out = append(out, s.Op)
		}
	}
	return out
}

// TestMapping: which changes become which steps.
func TestMapping(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stream  *stream
		steps   []string
		dropped int
	}{
		{
			name:    "status-only updates are dropped",
			stream:  newStream().add("ADDED", nil).add("MODIFIED", status(1)).add("MODIFIED", status(2)),
			steps:   nil,
			dropped: 2,
		},
		{
			name:   "relabel then scale",
			stream: newStream().add("ADDED", nil).add("MODIFIED", label("app.kubernetes.io/version", "2.13.0")).add("MODIFIED", replicas(3)),
			steps:  []string{"relabel", "scale 3"},
		},
		{
			name:   "one event changing labels and replicas gives relabel, then scale",
			stream: newStream().add("ADDED", nil).add("MODIFIED", both(replicas(4), label("team", "obs"))),
			steps:  []string{"relabel", "scale 4"},
		},
		{
			name:    "a repeated resourceVersion is dropped",
			stream:  newStream().add("ADDED", nil).add("MODIFIED", replicas(3)).again("MODIFIED"),
			steps:   []string{"scale 3"},
			dropped: 1,
		},
		{
			name:   "a MODIFIED first event sets the cluster too",
			stream: newStream().add("MODIFIED", nil).add("MODIFIED", replicas(1)),
			steps:  []string{"scale 1"},
		},
		{
			name: "a pod template change restarts the pods a rolling update replaces",
			stream: newStream().add("ADDED", nil).add("MODIFIED", func(ss *appsv1.StatefulSet) {
				ss.Spec.Template = corePodTemplate("v2.13.0")
			}),
			steps: []string{"restart 1,0"},
		},
		{
			name: "a rolling update partition spares the pods below it",
			stream: newStream().add("ADDED", func(ss *appsv1.StatefulSet) {
				p := int32(1)
				ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &p}}
				ss.Spec.Replicas = ptr(int32(3))
			}).add("MODIFIED", func(ss *appsv1.StatefulSet) { ss.Spec.Template = corePodTemplate("v2.13.0") }),
			steps: []string{"restart 2,1"},
		},
		{
			name: "OnDelete restarts nothing",
			stream: newStream().add("ADDED", func(ss *appsv1.StatefulSet) {
				ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
			}).add("MODIFIED", func(ss *appsv1.StatefulSet) { ss.Spec.Template = corePodTemplate("v2.13.0") }),
			steps: nil,
		},
		{
			name: "a helm-style upgrade: labels, template and replicas at once",
			stream: newStream().add("ADDED", nil).add("MODIFIED", both(label("app.kubernetes.io/version", "2.13.0"), replicas(3),
				func(ss *appsv1.StatefulSet) { ss.Spec.Template = corePodTemplate("v2.13.0") })),
			steps: []string{"relabel", "scale 3", "restart 2,1,0"},
		},
		{
			name:   "removing every label relabels to {}",
			stream: newStream().add("ADDED", nil).add("MODIFIED", func(ss *appsv1.StatefulSet) { ss.Labels = nil }).add("MODIFIED", replicas(3)),
			steps:  []string{"relabel", "scale 3"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importer.Import(bytes.NewReader(tc.stream.buf.Bytes()), opts())
			if err != nil {
				t.Fatal(err)
			}
			if got := stepsOf(t, res); !slices.Equal(got, tc.steps) {
				t.Errorf("steps %v, want %v", got, tc.steps)
			}
			if res.Dropped != tc.dropped {
				t.Errorf("dropped %d, want %d", res.Dropped, tc.dropped)
			}
			// Every imported trace replays.
			if _, err := sim.Replay(res.Trace, model.Reducers(), sim.Options{}); err != nil {
				t.Errorf("replay: %v", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestRemoveAllLabelsJSON: a relabel to no labels is written as
// "labels": {} (the trace format requires the field), and the label
// reducer, whose selector was built from the old labels, loses the
// StatefulSet.
func TestRemoveAllLabelsJSON(t *testing.T) {
	s := newStream().add("ADDED", nil).add("MODIFIED", func(ss *appsv1.StatefulSet) { ss.Labels = nil }).add("MODIFIED", replicas(3))
	res, err := importer.Import(bytes.NewReader(s.buf.Bytes()), opts())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(res.JSON, []byte(`"labels": {}`)) {
		t.Errorf("the relabel to no labels is not written as {}:\n%s", res.JSON)
	}
	rep, err := sim.Replay(res.Trace, model.Reducers(), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Results[0].Reducer != "label-selector" || rep.Results[0].Holds {
		t.Errorf("label-selector should be violated after removing its labels and scaling")
	}
}

// TestNameFilter: with Name, events for other StatefulSets are skipped.
func TestNameFilter(t *testing.T) {
	other := func(ss *appsv1.StatefulSet) { ss.Name = "other"; ss.UID = "uid-2" }
	back := func(ss *appsv1.StatefulSet) { ss.Name = "kube-state-metrics"; ss.UID = "uid-1" }
	s := newStream().add("ADDED", other).add("ADDED", back).add("MODIFIED", both(other, replicas(5))).add("MODIFIED", both(back, replicas(3)))
	for _, name := range []string{"kube-state-metrics", "monitoring/kube-state-metrics"} {
		o := opts()
		o.Name = name
		res, err := importer.Import(bytes.NewReader(s.buf.Bytes()), o)
		if err != nil {
			t.Fatalf("--name %s: %v", name, err)
		}
		if got := stepsOf(t, res); !slices.Equal(got, []string{"scale 3"}) {
			t.Errorf("--name %s: steps %v, want [scale 3]", name, got)
		}
		if res.Skipped != 2 {
			t.Errorf("--name %s: skipped %d, want 2", name, res.Skipped)
		}
		if res.Trace.Cluster.StatefulSet.Name != "kube-state-metrics" {
			t.Errorf("--name %s: cluster StatefulSet %q", name, res.Trace.Cluster.StatefulSet.Name)
		}
	}
}

// TestErrors: bad input is an *Error naming the source, the event and its
// line, with a message that says what to do.
func TestErrors(t *testing.T) {
	valid := newStream().add("ADDED", nil).buf.String()
	for _, tc := range []struct {
		name   string
		input  string
		opts   func(*importer.Options)
		event  int
		line   int
		substr []string
	}{
		{name: "empty", input: "  \n", substr: []string{"w.json: no watch events", "--output-watch-events"}},
		{name: "objects", input: valid, opts: func(o *importer.Options) { o.Objects = 0 }, substr: []string{"at least 1"}},
		{
			name:   "deleted",
			input:  newStream().add("ADDED", nil).add("MODIFIED", status(1)).add("DELETED", nil).add("ADDED", nil).buf.String(),
			event:  3,
			substr: []string{"deleted at event 3", "KSM pods are gone too", "cut the stream before the deletion", "keep events 1 to 2"},
		},
		{
			name:   "deleted first",
			input:  newStream().add("DELETED", nil).buf.String(),
			event:  1,
			line:   1,
			substr: []string{"first event", "deletion"},
		},
		{
			name:   "another StatefulSet",
			input:  newStream().add("ADDED", nil).add("MODIFIED", func(ss *appsv1.StatefulSet) { ss.Name = "other" }).buf.String(),
			event:  2,
			substr: []string{"monitoring/other", "event 1 was for monitoring/kube-state-metrics", "--name kube-state-metrics"},
		},
		{
			name:   "no event for --name",
			input:  valid,
			opts:   func(o *importer.Options) { o.Name = "nope" },
			substr: []string{"no event for StatefulSet nope", "monitoring/kube-state-metrics"},
		},
		{
			name:   "recreated",
			input:  newStream().add("ADDED", nil).add("ADDED", func(ss *appsv1.StatefulSet) { ss.UID = "uid-9" }).buf.String(),
			event:  2,
			substr: []string{"new uid", "deleted and created again"},
		},
		{
			name:   "truncated",
			input:  valid + valid + valid[:len(valid)/2],
			event:  3,
			substr: []string{"malformed JSON", "unexpected end of input", "cut off"},
		},
		{
			name:   "syntax",
			input:  valid + "{\"type\": \"MODIFIED\", \"object\": {,}}\n",
			event:  2,
			substr: []string{"malformed JSON at line", "invalid character ','"},
		},
		{
			name:   "yaml",
			input:  "type: ADDED\nobject:\n  kind: StatefulSet\n",
			event:  1,
			line:   1,
			substr: []string{"malformed JSON", "YAML and table output are not supported"},
		},
		{
			name:   "bare StatefulSet",
			input:  mustJSON(baseSS()),
			event:  1,
			substr: []string{"bare StatefulSet", "add --output-watch-events"},
		},
		{
			name:   "list",
			input:  `{"apiVersion": "v1", "kind": "List", "items": []}`,
			event:  1,
			substr: []string{"a List, not a watch event"},
		},
		{
			name:   "array",
			input:  `[{"type": "ADDED"}]`,
			event:  1,
			substr: []string{"expected a JSON object", "got an array"},
		},
		{
			name:   "unknown type",
			input:  valid + `{"type": "CHANGED", "object": {}}`,
			event:  2,
			substr: []string{`unknown watch event type "CHANGED"`},
		},
		{
			name:   "extra envelope field",
			input:  `{"type": "ADDED", "object": {}, "extra": 1}`,
			event:  1,
			substr: []string{"not a watch event", `unknown field "extra"`},
		},
		{
			name:   "watch error",
			input:  valid + `{"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "too old resource version: 1 (60731)", "reason": "Expired", "code": 410}}`,
			event:  2,
			substr: []string{"the watch reported an error", "too old resource version", "Expired", "410", "cut the stream"},
		},
		{
			name:   "not a StatefulSet",
			input:  `{"type": "ADDED", "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "y"}}}`,
			event:  1,
			substr: []string{"is a Deployment, not a StatefulSet"},
		},
		{
			name:   "wrong type",
			input:  `{"type": "ADDED", "object": {"kind": "StatefulSet", "metadata": {"name": "x", "namespace": "y"}, "spec": {"replicas": "3"}}}`,
			event:  1,
			substr: []string{"object.spec.replicas", "expected int32", "string"},
		},
		{
			name:   "no namespace",
			input:  `{"type": "ADDED", "object": {"kind": "StatefulSet", "metadata": {"name": "x"}}}`,
			event:  1,
			substr: []string{"object.metadata.namespace: missing"},
		},
		{
			name:   "too many replicas",
			input:  newStream().add("ADDED", nil).add("MODIFIED", replicas(5000)).buf.String(),
			event:  2,
			substr: []string{"cannot be simulated", "scale step replicas", "limit of 1024"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts()
			if tc.opts != nil {
				tc.opts(&o)
			}
			_, err := importer.Import(strings.NewReader(tc.input), o)
			if err == nil {
				t.Fatal("Import succeeded, want an error")
			}
			var ie *importer.Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v, want *importer.Error", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "w.json: ") {
				t.Errorf("error does not name the file: %s", msg)
			}
			if ie.Event != tc.event {
				t.Errorf("event %d, want %d: %s", ie.Event, tc.event, msg)
			}
			if tc.line != 0 && ie.Line != tc.line {
				t.Errorf("line %d, want %d: %s", ie.Line, tc.line, msg)
			}
			if tc.event > 0 && !strings.Contains(msg, "event "+itoa(tc.event)+" (line ") {
				t.Errorf("message does not name event %d and its line: %s", tc.event, msg)
			}
			for _, s := range tc.substr {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
		})
	}
}

// TestErrorLine: the line of an event is where it starts in the file.
func TestErrorLine(t *testing.T) {
	data, err := os.ReadFile(sampleStream)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the sample after its 4th event and append a deletion.
	dec := json.NewDecoder(bytes.NewReader(data))
	for range 4 {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
	}
	head := data[:dec.InputOffset()]
	input := string(head) + "\n" + newStream().add("DELETED", func(ss *appsv1.StatefulSet) {
		ss.UID = "c6b3f0d2-7a51-4e8e-9a3c-2f1d8b6e4a90"
		ss.Labels["app.kubernetes.io/version"] = "2.13.0"
		ss.Labels["app.kubernetes.io/component"] = "exporter"
	}).buf.String()
	_, err = importer.Import(strings.NewReader(input), sampleOptions())
	var ie *importer.Error
	if !errors.As(err, &ie) {
		t.Fatalf("want *importer.Error, got %v", err)
	}
	wantLine := bytes.Count(head, []byte("\n")) + 2
	if ie.Event != 5 || ie.Line != wantLine {
		t.Errorf("event %d line %d, want event 5 line %d: %v", ie.Event, ie.Line, wantLine, err)
	}
}

// TestStandardInput: "-" and "" name standard input.
func TestStandardInput(t *testing.T) {
	for _, src := range []string{"", "-"} {
		res, err := importer.Import(bytes.NewReader(newStream().add("ADDED", nil).buf.Bytes()),
			importer.Options{Source: src, Objects: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Trace.Description, "from standard input") {
			t.Errorf("source %q: description %q", src, res.Trace.Description)
		}
		_, err = importer.Import(strings.NewReader("nope"), importer.Options{Source: src, Objects: 10})
		if err == nil || !strings.HasPrefix(err.Error(), "standard input: event 1") {
			t.Errorf("source %q: error %v", src, err)
		}
	}
}

// TestTraceName: the trace is named after the StatefulSet unless told.
func TestTraceName(t *testing.T) {
	in := newStream().add("ADDED", nil).buf.Bytes()
	res, err := importer.Import(bytes.NewReader(in), opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Trace.Name != "kube-state-metrics" {
		t.Errorf("name %q", res.Trace.Name)
	}
	o := opts()
	o.TraceName = "prod-incident"
	if res, err = importer.Import(bytes.NewReader(in), o); err != nil || res.Trace.Name != "prod-incident" {
		t.Errorf("name %v %v", res, err)
	}
}

func mustJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestPodManagementPolicy: a captured Parallel StatefulSet gives a trace
// with "podManagementPolicy": "Parallel"; OrderedReady, the default of
// both, is left out.
func TestPodManagementPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy appsv1.PodManagementPolicyType
		want   appsv1.PodManagementPolicyType
	}{{appsv1.ParallelPodManagement, appsv1.ParallelPodManagement}, {appsv1.OrderedReadyPodManagement, ""}, {"", ""}} {
		s := newStream().add("ADDED", func(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = tc.policy }).add("MODIFIED", replicas(3))
		res, err := importer.Import(bytes.NewReader(s.buf.Bytes()), opts())
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Trace.Cluster.StatefulSet.PodManagementPolicy; got != tc.want {
			t.Errorf("captured %q: trace policy %q, want %q", tc.policy, got, tc.want)
		}
	}
}
