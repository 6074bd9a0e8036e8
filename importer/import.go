package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/shardsim/shardsim/internal/textsafe"
	"github.com/shardsim/shardsim/sim"
)

// Capture is the command whose output Import reads, for messages.
const Capture = "kubectl get statefulset NAME -n NAMESPACE --watch --output-watch-events -o json"

// Options configure Import.
type Options struct {
	// Source names the input in messages and in the trace's description:
	// a file name; "" or "-" is standard input.
	Source string
	// Objects is how many sharded objects the trace generates (at least 1).
	Objects int
	// Seed derives the generated UIDs.
	Seed uint64
	// Name selects the StatefulSet to follow, as NAME or NAMESPACE/NAME;
	// events for other StatefulSets are skipped. Empty: the stream must be
	// about one StatefulSet only, the first event's.
	Name string
	// TraceName is the trace's name; empty: the StatefulSet's name.
	TraceName string
}

// Result is an imported trace.
type Result struct {
	// Trace is the trace, as sim.ParseTrace read it back from JSON.
	Trace *sim.Trace
	// JSON is the trace file: indented JSON ending in a newline.
	JSON []byte
	// Events counts the watch events read; Skipped those for other
	// StatefulSets (Options.Name); Dropped the updates that changed
	// nothing the simulator models (status-only updates and the like).
	Events, Skipped, Dropped int
}

// An Error is bad input: it names the input, the event (counted from 1;
// 0 for the stream as a whole) and the line where the event starts.
type Error struct {
	Source string
	Event  int
	Line   int
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(textsafe.Text(sourceName(e.Source)))
	b.WriteString(": ")
	if e.Event > 0 {
		fmt.Fprintf(&b, "event %d", e.Event)
		if e.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", e.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// describeSource names the input in the trace's description: the file's
// base name (a trace is shared; the local path means nothing elsewhere).
func describeSource(s string) string {
	if s == "" || s == "-" {
		return "standard input"
	}
	return filepath.Base(s)
}

func sourceName(s string) string {
	if s == "" || s == "-" {
		return "standard input"
	}
	return s
}

// event is one decoded watch event.
type event struct {
	index int // from 1
	line  int
	typ   string
	ss    *appsv1.StatefulSet
}

// pos locates an event: its index (from 1) and the line where it starts.
type pos struct{ index, line int }

func (e *event) id() string { return e.ss.Namespace + "/" + e.ss.Name }

// Limits on what Import reads, so that an endless or runaway input
// (/dev/zero, a pipe that never closes) fails instead of filling memory.
// The stream is read as a stream: memory holds one event at a time.
const (
	// MaxEventBytes is the largest watch event: an API object is at most
	// 1.5 MiB in etcd, a little more as indented JSON.
	MaxEventBytes = 4 << 20
	// MaxStreamBytes is the largest watch stream.
	MaxStreamBytes = 1 << 30
)

// The limits in force; tests lower them.
var (
	maxEventBytes  = MaxEventBytes
	maxStreamBytes = int64(MaxStreamBytes)
)

// Import reads a watch stream from r and returns the trace it describes.
// It reads r one event at a time and stops at the first bad one.
func Import(r io.Reader, opts Options) (*Result, error) {
	if opts.Objects < 1 {
		return nil, &Error{Source: opts.Source, Msg: fmt.Sprintf("the number of objects must be at least 1, got %d", opts.Objects)}
	}
	if opts.Objects > sim.MaxObjects {
		return nil, &Error{Source: opts.Source, Msg: fmt.Sprintf("%d objects is more than the simulator's limit of %d", opts.Objects, sim.MaxObjects)}
	}
	st := newStream(opts.Source, r)
	if err := st.checkEncoding(); err != nil {
		return nil, err
	}
	b := &builder{opts: opts, res: &Result{}}
	for {
		ev, err := st.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		b.res.Events++
		if err := b.add(ev); err != nil {
			return nil, err
		}
	}
	if b.res.Events == 0 {
		return nil, &Error{Source: opts.Source, Msg: "no watch events: the input is empty. Capture a stream with:\n  " + Capture + " > watch.json"}
	}
	if b.first == nil {
		return nil, &Error{Source: opts.Source, Msg: fmt.Sprintf("no event for StatefulSet %s among the %d events (they are for %s)",
			textsafe.Bare(opts.Name), b.res.Events, strings.Join(b.others, ", "))}
	}
	return b.finish()
}

// stream splits its input into watch events: JSON values one after
// another, compact or indented, with or without whitespace between them.
// It frames each value itself (brackets, strings and escapes), keeping at
// most MaxEventBytes of it, reads at most MaxStreamBytes in all, and
// counts lines and columns as it goes.
type stream struct {
	source    string
	r         *bufio.Reader
	read      int64 // bytes consumed
	line, col int   // of the next byte, 1-based
	index     int   // events framed so far
	buf       []byte
}

func newStream(source string, r io.Reader) *stream {
	return &stream{source: source, r: bufio.NewReaderSize(r, 64<<10), line: 1, col: 1}
}

// checkEncoding skips a UTF-8 byte-order mark and rejects UTF-16 and
// UTF-32, which kubectl does not write but an editor or a Windows shell
// redirection (PowerShell's >) may.
func (s *stream) checkEncoding() error {
	head, _ := s.r.Peek(4) // fewer at the end of a short input
	bom, enc := textsafe.Encoding(head)
	if enc != "" {
		return &Error{Source: s.source, Msg: textsafe.EncodingMsg(enc)}
	}
	_, _ = s.r.Discard(bom)
	s.read += int64(bom)
	return nil
}

var (
	errEventTooLarge  = errors.New("event too large")
	errStreamTooLarge = errors.New("stream too large")
)

func (s *stream) readByte() (byte, error) {
	if s.read >= maxStreamBytes {
		return 0, errStreamTooLarge
	}
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, err
	}
	s.read++
	if c == '\n' {
		s.line, s.col = s.line+1, 1
	} else {
		s.col++
	}
	return c, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// next returns the next event, io.EOF at the end of the stream, or an
// *Error.
func (s *stream) next() (*event, error) {
	var c byte
	var err error
	for {
		if c, err = s.readByte(); err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			return nil, s.readErr(s.index+1, err)
		}
		if !isSpace(c) {
			break
		}
	}
	s.index++
	line, col := s.line, s.col-1 // of c
	fail := func(msg string) error {
		return &Error{Source: s.source, Event: s.index, Line: line, Msg: msg}
	}
	s.buf = append(s.buf[:0], c)
	err = s.frame(c)
	switch {
	case err == io.EOF:
		return nil, fail(fmt.Sprintf("malformed JSON at line %d, column %d: unexpected end of input (was the capture cut off in the middle of an event?)", s.line, s.col))
	case err != nil:
		return nil, s.readErr(s.index, err)
	}
	if !json.Valid(s.buf) {
		var raw json.RawMessage
		return nil, fail(syntaxMsg(s.buf, line, col, json.Unmarshal(s.buf, &raw)))
	}
	ev, msg := parseEvent(s.buf)
	if msg != "" {
		return nil, fail(msg)
	}
	ev.index, ev.line = s.index, line
	return ev, nil
}

// readErr reports a failure to read event index (a limit, or the
// reader's error).
func (s *stream) readErr(index int, err error) error {
	e := &Error{Source: s.source, Event: index, Line: s.line}
	switch err {
	case errEventTooLarge:
		e.Msg = fmt.Sprintf("the event is larger than the limit of %s for one watch event: reading stopped there (is this a watch stream?)", mib(int64(maxEventBytes)))
	case errStreamTooLarge:
		e.Msg = fmt.Sprintf("the stream is larger than the limit of %s: reading stopped there; import a part of the capture", mib(maxStreamBytes))
	default:
		e.Event, e.Line = 0, 0
		e.Msg = "cannot read the watch stream: " + err.Error()
	}
	return e
}

// mib renders a limit: "4 MiB", or its bytes when not whole MiB.
func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// maxScalar bounds a value that is not an object, an array or a string
// (a number, a literal or garbage such as YAML or a table): no watch
// event, so its first bytes are enough for the message.
const maxScalar = 256

// frame reads the rest of the value that starts with c into s.buf: up to
// the matching bracket of an object or array, the closing quote of a
// string, or the next delimiter of anything else. It does not check the
// syntax inside; json does that on the framed bytes.
func (s *stream) frame(c byte) error {
	add := func() (byte, error) {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if len(s.buf) >= maxEventBytes {
			return 0, errEventTooLarge
		}
		s.buf = append(s.buf, c)
		return c, nil
	}
	switch c {
	case '{', '[':
		depth, inString, escaped := 1, false, false
		for depth > 0 {
			c, err := add()
			if err != nil {
				return err
			}
			switch {
			case escaped:
				escaped = false
			case inString && c == '\\':
				escaped = true
			case c == '"':
				inString = !inString
			case inString:
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
		}
		return nil
	case '"':
		for escaped := false; ; {
			c, err := add()
			if err != nil {
				return err
			}
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				return nil
			}
		}
	case '}', ']', ',', ':':
		return nil // a stray delimiter: json names it
	}
	for len(s.buf) < maxScalar {
		next, err := s.r.Peek(1)
		if err != nil || isSpace(next[0]) || strings.IndexByte("{}[],:\"", next[0]) >= 0 {
			return nil // the end of the stream ends a scalar too
		}
		if _, err := add(); err != nil {
			return err
		}
	}
	return nil
}

// syntaxMsg describes why the framed value data, which starts at line,
// col of the stream, is not well-formed JSON.
func syntaxMsg(data []byte, line, col int, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	// Offset counts the bytes read, the offending one included.
	off := min(max(se.Offset-1, 0), int64(len(data)))
	before := data[:off]
	if nl := bytes.LastIndexByte(before, '\n'); nl >= 0 {
		line += bytes.Count(before, []byte("\n"))
		col = len(before) - nl
	} else {
		col += len(before)
	}
	msg := fmt.Sprintf("malformed JSON at line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	if data[0] != '{' && data[0] != '[' {
		msg += "; expected JSON watch events (" + Capture + "); YAML and table output are not supported"
	}
	return msg
}

// parseEvent decodes one watch event, or says what is wrong with it.
func parseEvent(raw json.RawMessage) (*event, string) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil || probe == nil {
		return nil, "expected a JSON object (a watch event: {\"type\": ..., \"object\": ...}), got " + kindOfJSON(raw)
	}
	if _, ok := probe["type"]; !ok {
		var tm struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(raw, &tm)
		switch tm.Kind {
		case "StatefulSet":
			return nil, "a bare StatefulSet, not a watch event: add --output-watch-events to the kubectl command (" + Capture + ")"
		case "List", "StatefulSetList":
			return nil, "a " + tm.Kind + ", not a watch event: kubectl printed a list; watch one StatefulSet instead (" + Capture + ")"
		}
		return nil, "not a watch event: it has no \"type\" field (expected {\"type\": \"ADDED\", \"object\": {...}} as printed by " + Capture + ")"
	}
	var env struct {
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, "not a watch event: " + textsafe.Bare(strings.TrimPrefix(err.Error(), "json: ")) + ` (a watch event has only "type" and "object")`
	}
	switch env.Type {
	case "ADDED", "MODIFIED", "DELETED":
	case "BOOKMARK":
		return &event{typ: env.Type}, ""
	case "ERROR":
		var st struct {
			Message string `json:"message"`
			Reason  string `json:"reason"`
			Code    int    `json:"code"`
		}
		_ = json.Unmarshal(env.Object, &st)
		return nil, fmt.Sprintf("the watch reported an error: %s (reason %s, code %d); what follows may have missed changes: cut the stream before this event, or capture it again",
			textsafe.Quote(st.Message), textsafe.Bare(orDash(st.Reason)), st.Code)
	default:
		return nil, fmt.Sprintf("unknown watch event type %s, want ADDED, MODIFIED or DELETED", textsafe.Quote(env.Type))
	}
	if len(env.Object) == 0 || string(env.Object) == "null" {
		return nil, "the event has no object"
	}
	ss := &appsv1.StatefulSet{}
	if err := json.Unmarshal(env.Object, ss); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Sprintf("object.%s: expected %s, got %s", textsafe.Bare(te.Field), te.Type, textsafe.Bare(te.Value))
		}
		return nil, "object: " + textsafe.Bare(strings.TrimPrefix(err.Error(), "json: "))
	}
	if ss.Kind != "" && ss.Kind != "StatefulSet" {
		return nil, fmt.Sprintf("the object is a %s, not a StatefulSet: watch the KSM StatefulSet (%s)", textsafe.Bare(ss.Kind), Capture)
	}
	if ss.Name == "" {
		return nil, "object.metadata.name: missing"
	}
	if ss.Namespace == "" {
		return nil, "object.metadata.namespace: missing"
	}
	return &event{typ: env.Type, ss: ss}, ""
}

func kindOfJSON(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// builder folds the events into a trace.
type builder struct {
	opts   Options
	res    *Result
	first  *event
	prev   *appsv1.StatefulSet
	steps  []outStep
	from   []pos    // the event each step comes from
	notes  []string // one per step, for the description
	others []string // other StatefulSets seen (for messages)
}

func (b *builder) fail(ev *event, format string, args ...any) error {
	for i, a := range args {
		// Names and UIDs (types.UID, a string type) come from the stream.
		if v := reflect.ValueOf(a); v.Kind() == reflect.String {
			args[i] = textsafe.Bare(v.String())
		}
	}
	return &Error{Source: b.opts.Source, Event: ev.index, Line: ev.line, Msg: fmt.Sprintf(format, args...)}
}

// follows reports whether ev is about the StatefulSet Options.Name selects.
func (b *builder) follows(ev *event) bool {
	want := b.opts.Name
	if want == "" {
		return true
	}
	if ns, name, ok := strings.Cut(want, "/"); ok {
		return ev.ss.Namespace == ns && ev.ss.Name == name
	}
	return ev.ss.Name == want
}

func (b *builder) add(ev *event) error {
	if ev.typ == "BOOKMARK" {
		b.res.Dropped++
		return nil
	}
	if !b.follows(ev) {
		b.res.Skipped++
		if id := textsafe.Bare(ev.id()); !slices.Contains(b.others, id) && len(b.others) < maxNotes {
			b.others = append(b.others, id)
		}
		return nil
	}
	if b.first == nil {
		if ev.typ == "DELETED" {
			return b.fail(ev, "the first event for StatefulSet %s is its deletion: there is no cluster to start from; capture the stream while the StatefulSet exists", ev.id())
		}
		b.first, b.prev = ev, ev.ss
		return nil
	}
	if ev.id() != b.first.id() {
		return b.fail(ev, "this event is for StatefulSet %s, but event %d was for %s: a trace follows one StatefulSet; choose it with --name %s (or --name %s)",
			ev.id(), b.first.index, b.first.id(), b.first.ss.Name, ev.ss.Name)
	}
	if ev.typ == "DELETED" {
		return b.fail(ev, "the StatefulSet %s was deleted at event %d; its KSM pods are gone too, so nothing after it can be replayed: cut the stream before the deletion (keep events 1 to %d) and import again",
			ev.id(), ev.index, ev.index-1)
	}
	if ev.ss.UID != "" && b.first.ss.UID != "" && ev.ss.UID != b.first.ss.UID {
		return b.fail(ev, "StatefulSet %s has a new uid (%s, was %s): it was deleted and created again, and its KSM pods with it; cut the stream before event %d",
			ev.id(), ev.ss.UID, b.first.ss.UID, ev.index)
	}
	prev, cur := b.prev, ev.ss
	if cur.ResourceVersion != "" && cur.ResourceVersion == prev.ResourceVersion {
		b.res.Dropped++ // the same object again
		return nil
	}
	changed := false
	if !maps.Equal(prev.Labels, cur.Labels) {
		labels := map[string]string{}
		maps.Copy(labels, cur.Labels)
		b.step(ev, outStep{Op: sim.OpRelabel, Labels: &labels}, "relabel ("+labelDiff(prev.Labels, cur.Labels)+")")
		changed = true
	}
	if replicas(prev) != replicas(cur) {
		r := replicas(cur)
		b.step(ev, outStep{Op: sim.OpScale, Replicas: &r}, fmt.Sprintf("scale %d -> %d", replicas(prev), r))
		changed = true
	}
	if !equality.Semantic.DeepEqual(prev.Spec.Template, cur.Spec.Template) {
		changed = true
		if pods, why := rollout(cur); len(pods) > 0 {
			b.step(ev, outStep{Op: sim.OpRestart, Pods: pods}, "restart "+why)
		} else {
			b.notes = append(b.notes, fmt.Sprintf("pod template changed at event %d, no pod restarted (%s)", ev.index, why))
		}
	}
	if !changed {
		b.res.Dropped++
	}
	b.prev = cur
	return nil
}

func (b *builder) step(ev *event, s outStep, note string) {
	b.steps = append(b.steps, s)
	b.from = append(b.from, pos{ev.index, ev.line})
	b.notes = append(b.notes, fmt.Sprintf("%s at event %d", note, ev.index))
}

// replicas is spec.replicas; nil means 1, as the API server defaults it.
func replicas(ss *appsv1.StatefulSet) int32 {
	if ss.Spec.Replicas == nil {
		return 1
	}
	return *ss.Spec.Replicas
}

// rollout lists the ordinals a template change makes the StatefulSet
// controller replace, highest first, and says why.
func rollout(ss *appsv1.StatefulSet) ([]int, string) {
	n := int(replicas(ss))
	if ss.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return nil, "updateStrategy OnDelete: pods change only when deleted"
	}
	partition := 0
	if ru := ss.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}
	var pods []int
	for o := n - 1; o >= max(partition, 0); o-- {
		pods = append(pods, o)
	}
	switch {
	case len(pods) == 0 && n == 0:
		return nil, "no replicas"
	case len(pods) == 0:
		return nil, fmt.Sprintf("rolling update partition %d leaves every pod alone", partition)
	case partition > 0:
		return pods, fmt.Sprintf("pods %s (pod template changed: rolling update above partition %d)", joinInts(pods), partition)
	}
	return pods, fmt.Sprintf("pods %s (pod template changed: rolling update)", joinInts(pods))
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// labelDiff describes a label change: "version: 2.12.0 -> 2.13.0, +team=x, -tier".
func labelDiff(old, cur map[string]string) string {
	keys := slices.Sorted(maps.Keys(old))
	for k := range cur {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		ov, inOld := old[k]
		nv, inNew := cur[k]
		switch {
		case inOld && inNew && ov != nv:
			parts = append(parts, fmt.Sprintf("%s: %s -> %s", k, ov, nv))
		case inOld && !inNew:
			parts = append(parts, "-"+k)
		case !inOld && inNew:
			parts = append(parts, fmt.Sprintf("+%s=%s", k, nv))
		}
	}
	return strings.Join(parts, ", ")
}

// Output types: the trace format, in its documented field order. Labels
// is a pointer so that an empty label map is written as {} (a relabel
// that removes every label), not left out.
type outTrace struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Cluster     outCluster `json:"cluster"`
	Schedule    string     `json:"schedule"`
	Steps       []outStep  `json:"steps"`
}

type outCluster struct {
	Namespace   string         `json:"namespace"`
	StatefulSet outStatefulSet `json:"statefulSet"`
	Objects     outObjects     `json:"objects"`
}

type outStatefulSet struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels"`
	Replicas int32             `json:"replicas"`
	// PodManagementPolicy is the captured spec.podManagementPolicy when
	// it is Parallel (OrderedReady is the traces' default too).
	PodManagementPolicy string `json:"podManagementPolicy,omitempty"`
}

type outObjects struct {
	Generate int    `json:"generate"`
	Seed     uint64 `json:"seed"`
}

type outStep struct {
	Op       string             `json:"op"`
	Labels   *map[string]string `json:"labels,omitempty"`
	Replicas *int32             `json:"replicas,omitempty"`
	Pods     []int              `json:"pods,omitempty"`
}

// maxNotes caps the per-step notes in the description.
const maxNotes = 20

func (b *builder) finish() (*Result, error) {
	ss := b.first.ss
	name := b.opts.TraceName
	if name == "" {
		name = ss.Name
	}
	labels := map[string]string{}
	maps.Copy(labels, ss.Labels)
	var d strings.Builder
	fmt.Fprintf(&d, "Imported by simrun import from %s (kubectl get statefulset %s -n %s --watch --output-watch-events -o json): %d watch events, %d steps",
		describeSource(b.opts.Source), ss.Name, ss.Namespace, b.res.Events, len(b.steps))
	if b.res.Dropped > 0 {
		fmt.Fprintf(&d, ", %d status-only updates dropped", b.res.Dropped)
	}
	if b.res.Skipped > 0 {
		fmt.Fprintf(&d, ", %d events for other StatefulSets skipped", b.res.Skipped)
	}
	fmt.Fprintf(&d, ". The stream has no objects: %d UIDs are generated (seed %d).", b.opts.Objects, b.opts.Seed)
	if len(b.notes) > 0 {
		notes := b.notes
		if len(notes) > maxNotes {
			notes = append(slices.Clone(notes[:maxNotes]), fmt.Sprintf("and %d more", len(b.notes)-maxNotes))
		}
		d.WriteString(" Changes: " + strings.Join(notes, "; ") + ".")
	}
	out := outTrace{
		Name:        name,
		Description: d.String(),
		Cluster: outCluster{
			Namespace:   ss.Namespace,
			StatefulSet: outStatefulSet{Name: ss.Name, Labels: labels, Replicas: replicas(ss), PodManagementPolicy: parallel(ss)},
			Objects:     outObjects{Generate: b.opts.Objects, Seed: b.opts.Seed},
		},
		Schedule: sim.Eager,
		Steps:    b.steps,
	}
	if out.Steps == nil {
		out.Steps = []outStep{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, &Error{Source: b.opts.Source, Msg: "encode the trace: " + err.Error()}
	}
	t, err := sim.ParseTrace(sourceName(b.opts.Source), buf.Bytes())
	if err != nil {
		var te *sim.TraceError
		if errors.As(err, &te) {
			where := te.Field
			ev := pos{b.first.index, b.first.line}
			if te.Step >= 0 && te.Step < len(b.from) {
				ev = b.from[te.Step]
				where = fmt.Sprintf("%s step", b.steps[te.Step].Op)
				if te.Field != "" {
					where += " " + te.Field
				}
			}
			return nil, &Error{Source: b.opts.Source, Event: ev.index, Line: ev.line,
				Msg: fmt.Sprintf("cannot be simulated: %s: %s", where, te.Msg)}
		}
		return nil, &Error{Source: b.opts.Source, Msg: "the imported trace is not valid: " + err.Error()}
	}
	b.res.Trace = t
	b.res.JSON = buf.Bytes()
	return b.res, nil
}

// parallel returns "Parallel" for a StatefulSet with that pod management
// policy, and "" for OrderedReady (the default of the API server and of
// traces).
func parallel(ss *appsv1.StatefulSet) string {
	if ss.Spec.PodManagementPolicy == appsv1.ParallelPodManagement {
		return string(appsv1.ParallelPodManagement)
	}
	return ""
}
