package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/shardsim/shardsim/internal/textsafe"
	"github.com/shardsim/shardsim/model"
)

// Limits that keep a replay within memory. They are the simulator's, not
// Kubernetes'.
const (
	MaxReplicas = 1024      // pods a trace may scale to
	MaxObjects  = 5_000_000 // live objects a trace may hold
)

// Trace is a scenario: a cluster, a schedule and the steps to replay.
// Its JSON form is documented in the README.
type Trace struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Cluster     Cluster `json:"cluster"`
	Schedule    string  `json:"schedule,omitempty"`
	DataPlane   string  `json:"dataPlane,omitempty"`
	// Judge says where the verdict is judged: JudgeQuiescent (the
	// default) or JudgeEveryPoint.
	Judge string `json:"judge,omitempty"`
	// Properties are the properties the verdict judges: PropComplete
	// and PropDisjoint (all when empty).
	Properties []string          `json:"properties,omitempty"`
	Steps      []Step            `json:"steps"`
	Expect     map[string]string `json:"expect,omitempty"`
}

// Cluster is the state a trace starts from.
type Cluster struct {
	Namespace string `json:"namespace"`
	// StatefulSet is KSM's autosharding StatefulSet; absent when the
	// trace shards statically (Deployments).
	StatefulSet StatefulSet `json:"statefulSet,omitzero"`
	// Deployments are KSM Deployments sharded statically, one per shard
	// (--shard, --total-shards), in place of the StatefulSet.
	Deployments []Deployment `json:"deployments,omitempty"`
	// DaemonSet is KSM's DaemonSet sharding of the pods (Pods) by node
	// (Nodes), alone or beside autosharding.
	DaemonSet *DaemonSet     `json:"daemonSet,omitempty"`
	Nodes     []string       `json:"nodes,omitempty"`
	Pods      *PodObjects    `json:"pods,omitempty"`
	Objects   Objects        `json:"objects,omitzero"`
	APIServer *APIServerSpec `json:"apiServer,omitempty"`
	// PageSize is the client-go pager's page size, the limit of a paged
	// LIST (default model.DefaultPageSize, 500).
	PageSize int `json:"pageSize,omitempty"`
	// Latencies are how long each kind of inbox item takes in simulated
	// time (clock.go has the defaults).
	Latencies *Latencies `json:"latencies,omitempty"`
}

// APIServerSpec is the API server's configuration (cluster.apiServer); each
// field defaults to what a default v1.37 kube-apiserver does.
type APIServerSpec struct {
	// WatchCache (--watch-cache, default true).
	WatchCache *bool `json:"watchCache,omitempty"`
	// WatchList: the WatchList feature gate (default true).
	WatchList *bool `json:"watchList,omitempty"`
}

// Config returns the API server configuration of the trace, defaults
// applied.
func (c Cluster) Config() APIServerConfig {
	cfg := APIServerConfig{WatchCache: true, WatchList: true, PageSize: model.DefaultPageSize}
	if c.APIServer != nil {
		if c.APIServer.WatchCache != nil {
			cfg.WatchCache = *c.APIServer.WatchCache
		}
		if c.APIServer.WatchList != nil {
			cfg.WatchList = *c.APIServer.WatchList
		}
	}
	if c.PageSize != 0 {
		cfg.PageSize = c.PageSize
	}
	return cfg
}

// StatefulSet describes the KSM StatefulSet at the start of a trace.
// Replicas defaults to 1, as the API server's defaulting does.
type StatefulSet struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Replicas *int32            `json:"replicas,omitempty"`
	// PodManagementPolicy is spec.podManagementPolicy: OrderedReady
	// (the default, as the API server defaults it: one pod at a time,
	// each waiting for the ones below it to be Ready) or Parallel.
	PodManagementPolicy appsv1.PodManagementPolicyType `json:"podManagementPolicy,omitempty"`
}

// Objects is a set of sharded objects: explicit UIDs, or Generate UIDs
// derived deterministically from Seed.
type Objects struct {
	UIDs     []string `json:"uids,omitempty"`
	Generate int      `json:"generate,omitempty"`
	Seed     uint64   `json:"seed,omitempty"`
}

// Ops a step can name.
const (
	OpRelabel = "relabel"
	OpScale   = "scale"
	OpRestart = "restart"
	OpCreate  = "create"
	OpDelete  = "delete"
	OpDeliver = "deliver"
	OpSettle  = "settle"
	// OpWait lets simulated time pass with nothing happening but what is
	// due meanwhile.
	OpWait = "wait"

	// Fault ops (DESIGN.md, "Trace ops for faults").
	OpCompact    = "compact"
	OpDisconnect = "disconnect"
	OpCacheLag   = "cacheLag"
)

// Streams a deliver step can take from: a pod's StatefulSet informer
// (its start-up, LIST and watch events, its deletion) or its objects'
// reflector (LIST pages and watch events of the data plane).
const (
	StreamStatefulSet = "statefulset"
	StreamObjects     = "objects"
)

// Schedules.
const (
	Eager    = "eager"
	Explicit = "explicit"
)

// Where a trace's verdict is judged (Trace.Judge).
const (
	// JudgeQuiescent: at the quiescent points only (nothing left to
	// deliver), as reports always judge them.
	JudgeQuiescent = "quiescent"
	// JudgeEveryPoint: at every point, transient ones and the window
	// states between them too (as Options.Strict with Options.Windows):
	// for self-healing bugs, which no quiescent point shows.
	JudgeEveryPoint = "every-point"
)

// The properties a verdict judges (Trace.Properties).
const (
	// PropComplete: every live object is exported by some pod (no gap).
	PropComplete = "complete"
	// PropDisjoint: no object is exported by two pods (no overlap).
	PropDisjoint = "disjoint"
)

// Step is one operation of a trace. Which fields apply depends on Op.
type Step struct {
	Op       string            `json:"op"`
	Labels   map[string]string `json:"labels,omitempty"`   // relabel
	Replicas *int32            `json:"replicas,omitempty"` // scale
	Pods     []int             `json:"pods,omitempty"`     // restart, disconnect
	UIDs     []string          `json:"uids,omitempty"`     // create, delete
	Generate int               `json:"generate,omitempty"` // create
	Seed     uint64            `json:"seed,omitempty"`     // create
	Pod      *int              `json:"pod,omitempty"`      // deliver
	Count    int               `json:"count,omitempty"`    // deliver
	Stream   string            `json:"stream,omitempty"`   // deliver
	Writes   *int              `json:"writes,omitempty"`   // cacheLag
	// Deployments are the Deployments an apply creates or updates.
	Deployments []Deployment `json:"deployments,omitempty"`
	// Name is the Deployment a deleteDeployment deletes.
	Name string `json:"name,omitempty"`
	// Node is the node of a DaemonSet sharding op, or the node lane a
	// deliver takes from ("" the unscheduled pods' Deployment).
	Node *string `json:"node,omitempty"`
	// Duration is how long a wait lets simulated time pass (a Go
	// duration: "10m").
	Duration string `json:"duration,omitempty"`
}

// IsClusterOp reports whether the step changes the cluster (as opposed to
// scheduling deliveries).
func (s Step) IsClusterOp() bool { return s.Op != OpDeliver && s.Op != OpSettle && s.Op != OpWait }

// IsFault reports whether the step is a fault op (compact, disconnect,
// cacheLag).
func (s Step) IsFault() bool {
	return s.Op == OpCompact || s.Op == OpDisconnect || s.Op == OpCacheLag
}

// A TraceError is bad input: it names the file, the step (-1 for the
// cluster or the trace as a whole) and the field.
type TraceError struct {
	File  string
	Step  int // index into steps, or -1
	Field string
	Msg   string
}

func (e *TraceError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(textsafe.Text(e.File))
		b.WriteString(": ")
	}
	where := e.Field
	if e.Step >= 0 {
		where = "steps[" + strconv.Itoa(e.Step) + "]"
		if e.Field != "" {
			where += "." + e.Field
		}
	}
	where = textsafe.Text(where)
	if where != "" {
		b.WriteString(where)
		b.WriteString(": ")
	}
	b.WriteString(textsafe.Text(e.Msg)) // values in it are escaped already: a safety net
	return b.String()
}

// MaxTraceBytes is the largest trace ReadTrace, LoadTrace and ParseTrace
// accept: 64 MiB, about 1.5 million steps. Reading stops there, so an
// endless input (/dev/zero, a pipe that never closes) fails instead of
// filling memory.
const MaxTraceBytes = 64 << 20

// LoadTrace reads and validates a trace file.
func LoadTrace(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &TraceError{File: path, Step: -1, Msg: readErrMsg(err)}
	}
	defer f.Close()
	return ReadTrace(path, f)
}

// ReadTrace reads a trace from r, at most MaxTraceBytes of it, and
// validates it like ParseTrace. name is used in errors only (for standard
// input: "standard input").
func ReadTrace(name string, r io.Reader) (*Trace, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxTraceBytes+1))
	if err != nil {
		return nil, &TraceError{File: name, Step: -1, Msg: readErrMsg(err)}
	}
	return ParseTrace(name, data)
}

func readErrMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is already in File
	}
	return "cannot read the trace: " + err.Error()
}

// tooLargeMsg says that an input passed a size limit.
func tooLargeMsg(what string, limit int) string {
	return fmt.Sprintf("larger than the limit of %d MiB for %s: reading stopped there (is it the right file?)", limit>>20, what)
}

// ParseTrace decodes and validates a trace. name is used in errors only.
// Unknown fields (field names are case-sensitive), repeated fields, unknown
// ops and values Kubernetes or the simulator would reject are errors, each a
// *TraceError naming the step and the field; ParseTrace never panics.
func ParseTrace(name string, data []byte) (*Trace, error) {
	var raw struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Cluster     json.RawMessage   `json:"cluster"`
		Schedule    string            `json:"schedule"`
		DataPlane   string            `json:"dataPlane"`
		Judge       string            `json:"judge"`
		Properties  []string          `json:"properties"`
		Steps       []json.RawMessage `json:"steps"`
		Expect      map[string]string `json:"expect"`
	}
	if len(data) > MaxTraceBytes {
		return nil, &TraceError{File: name, Step: -1, Msg: tooLargeMsg("a trace", MaxTraceBytes)}
	}
	switch bom, enc := textsafe.Encoding(data); {
	case enc != "":
		return nil, &TraceError{File: name, Step: -1, Msg: textsafe.EncodingMsg(enc)}
	case bom > 0:
		data = data[bom:] // a UTF-8 byte-order mark (Windows editors write one): skip it
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &TraceError{File: name, Step: -1, Msg: "empty file, expected a JSON trace object"}
	}
	if err := decodeStrict(data, new(json.RawMessage)); err != nil {
		return nil, &TraceError{File: name, Step: -1, Msg: syntaxMsg(data, err)}
	}
	if err := checkKeys(data); err != nil {
		err.File = name
		return nil, err
	}
	if err := decodeStrict(data, &raw); err != nil {
		return nil, &TraceError{File: name, Step: -1, Field: jsonField("", err), Msg: jsonMsg(err)}
	}
	t := &Trace{Name: raw.Name, Description: raw.Description, Schedule: raw.Schedule, DataPlane: raw.DataPlane, Judge: raw.Judge, Properties: raw.Properties, Expect: raw.Expect}
	if raw.Cluster == nil {
		return nil, &TraceError{File: name, Step: -1, Field: "cluster", Msg: "required"}
	}
	if err := decodeStrict(raw.Cluster, &t.Cluster); err != nil {
		return nil, &TraceError{File: name, Step: -1, Field: jsonField("cluster", err), Msg: jsonMsg(err)}
	}
	for i, rs := range raw.Steps {
		var s Step
		if err := decodeStrict(rs, &s); err != nil {
			return nil, &TraceError{File: name, Step: i, Field: jsonField("", err), Msg: jsonMsg(err)}
		}
		t.Steps = append(t.Steps, s)
	}
	if err := t.Validate(); err != nil {
		var te *TraceError
		if errors.As(err, &te) {
			te.File = name
		}
		return nil, err
	}
	return t, nil
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := data[min(end, int64(len(data))):]
		skipped := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
		return &trailingDataError{offset: end + int64(skipped)}
	}
	return nil
}

// trailingDataError reports data after the first JSON value, which starts
// at byte offset.
type trailingDataError struct{ offset int64 }

func (e *trailingDataError) Error() string {
	return fmt.Sprintf("unexpected data after the JSON value at byte %d", e.offset)
}

var unknownFieldPrefix = "json: unknown field "

func jsonField(prefix string, err error) string {
	join := func(f string) string {
		if prefix == "" {
			return f
		}
		if f == "" {
			return prefix
		}
		return prefix + "." + f
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return join(te.Field)
	}
	if s := err.Error(); strings.HasPrefix(s, unknownFieldPrefix) {
		f, _ := strconv.Unquote(strings.TrimPrefix(s, unknownFieldPrefix))
		return join(textsafe.Bare(f))
	}
	return prefix
}

func jsonMsg(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		switch te.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return fmt.Sprintf("expected an integer that fits in %s, got %s", te.Type, textsafe.Bare(te.Value))
		}
		return fmt.Sprintf("expected %s, got %s", jsonKind(te.Type), textsafe.Bare(te.Value))
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), unknownFieldPrefix):
		return "unknown field"
	case err == io.EOF:
		return "empty input, expected a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names the JSON value a Go type decodes from, for messages
// (a trace author knows JSON, not the simulator's Go types).
func jsonKind(t reflect.Type) string {
	if t == reflect.TypeFor[json.RawMessage]() {
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// syntaxMsg describes why data is not one well-formed JSON value, with the
// line and column of the problem.
func syntaxMsg(data []byte, err error) string {
	var se *json.SyntaxError
	var te *trailingDataError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		return fmt.Sprintf("malformed JSON at %s: %s", position(data, se.Offset-1), strings.TrimPrefix(se.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("malformed JSON at %s: unexpected end of input", position(data, int64(len(data))))
	case errors.As(err, &te):
		return fmt.Sprintf("unexpected data after the JSON object at %s: a trace file holds exactly one JSON object", position(data, te.offset))
	}
	return jsonMsg(err)
}

// position renders the place of the byte at index i of data (len(data):
// just past the end) as "line L, column C", both 1-based, columns counting
// bytes.
func position(data []byte, i int64) string {
	i = min(max(i, 0), int64(len(data)))
	before := data[:i]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// A keySchema describes the object keys a trace may use, for checkKeys.
// encoding/json matches keys case-insensitively and lets a repeated key
// win silently; Kubernetes' strict decoding rejects both, and so do we.
type keySchema struct {
	fields map[string]*keySchema // an object with these fields
	anyKey bool                  // an object with free keys (a map), values not checked
	elem   *keySchema            // an array of these
	steps  bool                  // the array is steps: its elements are steps[i]
}

var (
	labelsSchema     = &keySchema{anyKey: true}
	objectsSchema    = &keySchema{fields: map[string]*keySchema{"uids": nil, "generate": nil, "seed": nil}}
	deploymentSchema = &keySchema{elem: &keySchema{fields: map[string]*keySchema{
		"name": nil, "shard": nil, "totalShards": nil, "replicas": nil,
		"strategy": {fields: map[string]*keySchema{
			"type":          nil,
			"rollingUpdate": {fields: map[string]*keySchema{"maxSurge": nil, "maxUnavailable": nil}},
		}},
	}}}
	stepSchema = &keySchema{fields: map[string]*keySchema{
		"op": nil, "labels": labelsSchema, "replicas": nil, "pods": nil,
		"uids": nil, "generate": nil, "seed": nil, "pod": nil, "count": nil,
		"stream": nil, "writes": nil, "deployments": deploymentSchema, "name": nil, "node": nil,
		"duration": nil,
	}}
	traceSchema = &keySchema{fields: map[string]*keySchema{
		"name": nil, "description": nil, "schedule": nil, "dataPlane": nil, "judge": nil, "properties": nil,
		"cluster": {fields: map[string]*keySchema{
			"namespace": nil,
			"statefulSet": {fields: map[string]*keySchema{
				"name": nil, "labels": labelsSchema, "replicas": nil, "podManagementPolicy": nil,
			}},
			"deployments": deploymentSchema,
			"daemonSet":   {fields: map[string]*keySchema{"name": nil, "unscheduled": nil}},
			"nodes":       nil,
			"pods":        {fields: map[string]*keySchema{"generate": nil, "seed": nil, "unscheduled": nil}},
			"objects":     objectsSchema,
			"apiServer":   {fields: map[string]*keySchema{"watchCache": nil, "watchList": nil}},
			"pageSize":    nil,
			"latencies": {fields: map[string]*keySchema{
				"watch": nil, "listPage": nil, "podStart": nil, "podStop": nil, "jitter": nil, "seed": nil,
			}},
		}},
		"steps":  {elem: stepSchema, steps: true},
		"expect": {anyKey: true},
	}}
)

// checkKeys walks data, which must be well-formed JSON, and reports the
// first unknown, miscased or repeated key, or a trace that is not a JSON
// object. Values of the wrong type are left to the typed decoding.
func checkKeys(data []byte) *TraceError {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return &TraceError{Step: -1, Msg: jsonMsg(err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &TraceError{Step: -1, Msg: fmt.Sprintf("expected a JSON object (a trace), got %s", tokenKind(tok))}
	}
	return walkObject(dec, traceSchema, -1, "")
}

// walkObject checks the keys of the object whose '{' was just read.
// step and field locate it: field is relative to steps[step] when step >= 0.
func walkObject(dec *json.Decoder, s *keySchema, step int, field string) *TraceError {
	join := func(k string) string {
		k = textsafe.Bare(k)
		if field == "" {
			return k
		}
		return field + "." + k
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &TraceError{Step: step, Field: field, Msg: jsonMsg(err)}
		}
		key, _ := tok.(string)
		var child *keySchema
		if s.anyKey {
			if seen[key] {
				return &TraceError{Step: step, Field: field, Msg: "duplicate key " + textsafe.Quote(key)}
			}
		} else {
			c, known := s.fields[key]
			if !known {
				return &TraceError{Step: step, Field: join(key), Msg: unknownFieldMsg(s, key)}
			}
			if seen[key] {
				return &TraceError{Step: step, Field: join(key), Msg: "duplicate field"}
			}
			child = c
		}
		seen[key] = true
		if err := walkValue(dec, child, step, join(key)); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return &TraceError{Step: step, Field: field, Msg: jsonMsg(err)}
	}
	return nil
}

// walkValue checks the next value against s (nil: any value).
func walkValue(dec *json.Decoder, s *keySchema, step int, field string) *TraceError {
	tok, err := dec.Token()
	if err != nil {
		return &TraceError{Step: step, Field: field, Msg: jsonMsg(err)}
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	switch {
	case d == '{' && s != nil && (s.fields != nil || s.anyKey):
		return walkObject(dec, s, step, field)
	case d == '[' && s != nil && s.elem != nil:
		for i := 0; dec.More(); i++ {
			es, ef := step, field+"["+strconv.Itoa(i)+"]"
			if s.steps {
				es, ef = i, "" // fields inside a step are named relative to it
			}
			if err := walkValue(dec, s.elem, es, ef); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		if err != nil {
			return &TraceError{Step: step, Field: field, Msg: jsonMsg(err)}
		}
		return nil
	}
	// A value whose content is not checked (or of the wrong type, which the
	// typed decoding reports): skip it.
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return &TraceError{Step: step, Field: field, Msg: jsonMsg(err)}
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func unknownFieldMsg(s *keySchema, key string) string {
	known := sortedKeys(s.fields)
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf("unknown field (field names are case-sensitive: did you mean %q?)", k)
		}
	}
	return fmt.Sprintf("unknown field, want one of %s", strings.Join(known, ", "))
}

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "number " + textsafe.Bare(v.String())
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// Validate checks the trace as a whole, following the cluster state the
// steps lead to (which pods exist, which UIDs are live).
func (t *Trace) Validate() error {
	bad := func(step int, field, format string, args ...any) error {
		return &TraceError{Step: step, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if t.Name == "" {
		return bad(-1, "name", "required")
	}
	switch t.Schedule {
	case "":
		t.Schedule = Eager
	case Eager, Explicit:
	default:
		return bad(-1, "schedule", "unknown schedule %s, want %q or %q", textsafe.Quote(t.Schedule), Eager, Explicit)
	}
	switch t.Judge {
	case "", JudgeQuiescent, JudgeEveryPoint:
	default:
		return bad(-1, "judge", "unknown judgement %s, want %q (the default: quiescent points only) or %q (transient points and windows too, for self-healing bugs)", textsafe.Quote(t.Judge), JudgeQuiescent, JudgeEveryPoint)
	}
	if t.Properties != nil && len(t.Properties) == 0 {
		return bad(-1, "properties", "empty: name %q, %q or both, or leave the field out (both)", PropComplete, PropDisjoint)
	}
	for i, p := range t.Properties {
		if p != PropComplete && p != PropDisjoint {
			return bad(-1, fmt.Sprintf("properties[%d]", i), "unknown property %s, want %q or %q", textsafe.Quote(p), PropComplete, PropDisjoint)
		}
		if slices.Index(t.Properties, p) < i {
			return bad(-1, fmt.Sprintf("properties[%d]", i), "%q is named twice", p)
		}
	}
	switch t.DataPlane {
	case "", Eager: // "": eager
	case Explicit:
		if t.Schedule != Explicit {
			return bad(-1, "dataPlane", "%q needs \"schedule\": \"explicit\" (under %q every op is followed by a full drain)", Explicit, t.Schedule)
		}
	default:
		return bad(-1, "dataPlane", "unknown data-plane schedule %s, want %q (pages and object events are delivered at the end of every step) or %q (deliver them with \"stream\": \"objects\")", textsafe.Quote(t.DataPlane), Eager, Explicit)
	}
	c := &t.Cluster
	if c.PageSize < 0 {
		return bad(-1, "cluster.pageSize", "must be a positive integer (the pager's limit), got %d", c.PageSize)
	}
	if c.PageSize > MaxObjects {
		return bad(-1, "cluster.pageSize", "%d is more than the simulator's limit of %d objects", c.PageSize, MaxObjects)
	}
	if _, err := c.Latencies.resolve("cluster.latencies"); err != nil {
		return err
	}
	if c.Namespace == "" {
		return bad(-1, "cluster.namespace", "required")
	}
	if errs := validation.IsDNS1123Label(c.Namespace); len(errs) > 0 {
		return bad(-1, "cluster.namespace", "invalid namespace %s: %s", textsafe.Quote(c.Namespace), strings.Join(errs, "; "))
	}
	static := c.Deployments != nil
	var lanes *laneTracker
	replicas := 0
	nodes, err := validateDaemonSet(c)
	if err != nil {
		return bad(-1, err.field, "%s", err.msg)
	}
	pods := 0 // live pods
	if c.Pods != nil {
		pods = c.Pods.Generate
	}
	switch {
	case nodes != nil && c.StatefulSet.Name == "" && !static:
		// DaemonSet sharding alone.
	case static && !reflect.ValueOf(c.StatefulSet).IsZero():
		return bad(-1, "cluster.deployments", "give either statefulSet (autosharding) or deployments (static sharding), not both: they would shard the same objects twice")
	case static:
		lanes = &laneTracker{}
		if err := lanes.apply(c.Deployments, "cluster.deployments"); err != nil {
			return bad(-1, err.field, "%s", err.msg)
		}
	default:
		if c.StatefulSet.Name == "" {
			return bad(-1, "cluster.statefulSet.name", "required (or give deployments, for static sharding)")
		}
		if errs := validation.IsDNS1123Label(c.StatefulSet.Name); len(errs) > 0 {
			return bad(-1, "cluster.statefulSet.name", "invalid StatefulSet name %s: %s", textsafe.Quote(c.StatefulSet.Name), strings.Join(errs, "; "))
		}
		if err := validateLabels(c.StatefulSet.Labels); err != nil {
			return bad(-1, "cluster.statefulSet.labels", "%v", err)
		}
		switch c.StatefulSet.PodManagementPolicy {
		case "", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
		default:
			return bad(-1, "cluster.statefulSet.podManagementPolicy", "unknown policy %s, want %q (the default: one pod at a time, each once the ones below it are Ready) or %q (all at once)",
				textsafe.Quote(string(c.StatefulSet.PodManagementPolicy)), appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)
		}
		if c.StatefulSet.Replicas == nil {
			one := int32(1)
			c.StatefulSet.Replicas = &one
		}
		replicas = int(*c.StatefulSet.Replicas)
		if err := validateReplicas(replicas); err != nil {
			return bad(-1, "cluster.statefulSet.replicas", "%v", err)
		}
	}
	live := map[string]bool{}
	if err := addObjects(live, c.Objects.UIDs, c.Objects.Generate, c.Objects.Seed, 0); err != nil {
		return bad(-1, "cluster.objects"+err.field, "%s", err.msg)
	}
	for name, want := range t.Expect {
		if _, ok := model.ReducerByName(name); !ok {
			return bad(-1, "expect."+textsafe.Bare(name), "unknown reducer %s, want %s", textsafe.Quote(name), model.KnownReducers())
		}
		if want != Holds && want != Violated {
			return bad(-1, "expect."+textsafe.Bare(name), "unknown verdict %s, want %q or %q", textsafe.Quote(want), Holds, Violated)
		}
	}
	slots := replicas // pod slots that may have inbox items
	if static {
		slots = lanes.lanes
	}
	objects := len(live) > 0 // the trace has objects at some point
	for i := range t.Steps {
		s := &t.Steps[i]
		unused := s.unusedFields()
		if len(unused) > 0 {
			return bad(i, unused[0], "not a field of op %q", s.Op)
		}
		if static && (s.Op == OpRelabel || s.Op == OpScale) {
			return bad(i, "op", "%q changes the autosharding StatefulSet, and this trace shards statically (cluster.deployments): use apply", s.Op)
		}
		if !static && (s.Op == OpApply || s.Op == OpDeleteDeployment) {
			return bad(i, "op", "%q changes static sharding's Deployments, and this trace autoshards (cluster.statefulSet): use scale or relabel", s.Op)
		}
		if isNodeOp(s.Op) {
			if err := validateNodeOp(s, nodes, &pods); err != nil {
				return bad(i, err.field, "%s", err.msg)
			}
			continue
		}
		switch s.Op {
		case OpApply:
			if len(s.Deployments) == 0 {
				return bad(i, "deployments", "required: the Deployments to create or update")
			}
			if err := lanes.apply(s.Deployments, "deployments"); err != nil {
				return bad(i, err.field, "%s", err.msg)
			}
			slots = lanes.lanes
		case OpDeleteDeployment:
			if s.Name == "" {
				return bad(i, "name", "required: the Deployment to delete")
			}
			if !lanes.delete(s.Name) {
				return bad(i, "name", "no Deployment %s at this step (there are: %s)", textsafe.Quote(s.Name), strings.Join(lanes.names(), ", "))
			}
		case OpRelabel:
			if s.Labels == nil {
				return bad(i, "labels", "required: the complete new label map ({} removes every label)")
			}
			if err := validateLabels(s.Labels); err != nil {
				return bad(i, "labels", "%v", err)
			}
		case OpScale:
			if s.Replicas == nil {
				return bad(i, "replicas", "required")
			}
			if err := validateReplicas(int(*s.Replicas)); err != nil {
				return bad(i, "replicas", "%v", err)
			}
			replicas = int(*s.Replicas)
			slots = max(slots, replicas)
		case OpFailStart, OpCrashLoop, OpRecover:
			if c.StatefulSet.Name == "" {
				return bad(i, "op", "%q makes a StatefulSet pod's start-up GET fail, and this trace has no StatefulSet (cluster.statefulSet)", s.Op)
			}
			if len(s.Pods) == 0 {
				return bad(i, "pods", "required: the ordinals of the pods")
			}
			seen := map[int]bool{}
			for _, p := range s.Pods {
				if p < 0 || p >= MaxReplicas {
					return bad(i, "pods", "ordinal %d is out of range [0, %d)", p, MaxReplicas)
				}
				if seen[p] {
					return bad(i, "pods", "pod %d listed twice", p)
				}
				seen[p] = true
			}
			if s.Op == OpFailStart && s.Count < 1 {
				return bad(i, "count", "must be at least 1: how many start-ups fail (crashLoop fails them all until recover), got %d", s.Count)
			}
		case OpRestart, OpDisconnect:
			if len(s.Pods) == 0 {
				return bad(i, "pods", "required: the ordinals of the pods to %s", s.Op)
			}
			seen := map[int]bool{}
			for _, p := range s.Pods {
				if static {
					if !lanes.live(p) {
						return bad(i, "pods", "lane %d has no pod at this step: the Deployments' lanes are %s", p, lanes.describe())
					}
				} else if p < 0 || p >= replicas {
					return bad(i, "pods", "pod %d does not exist: the StatefulSet has %s at this step", p, ordinals(replicas, "replicas"))
				}
				if seen[p] {
					return bad(i, "pods", "pod %d listed twice", p)
				}
				seen[p] = true
			}
		case OpCreate:
			if len(s.UIDs) == 0 && s.Generate == 0 {
				return bad(i, "uids", "required: uids or generate")
			}
			if err := addObjects(live, s.UIDs, s.Generate, s.Seed, i+1); err != nil {
				return bad(i, strings.TrimPrefix(err.field, "."), "%s", err.msg)
			}
			objects = true
		case OpDelete:
			if len(s.UIDs) == 0 {
				return bad(i, "uids", "required: the UIDs to delete")
			}
			seen := map[string]bool{}
			for _, u := range s.UIDs {
				if seen[u] {
					return bad(i, "uids", "duplicate UID %s", textsafe.Quote(u))
				}
				seen[u] = true
				if !live[u] {
					return bad(i, "uids", "UID %s is not a live object at this step", textsafe.Quote(u))
				}
				delete(live, u)
			}
		case OpCompact:
		case OpCacheLag:
			if s.Writes == nil {
				return bad(i, "writes", "required: how many writes behind reads with resourceVersion \"0\" are (0 ends the lag)")
			}
			if *s.Writes < 0 {
				return bad(i, "writes", "must be a non-negative integer, got %d", *s.Writes)
			}
			if c.APIServer != nil && c.APIServer.WatchCache != nil && !*c.APIServer.WatchCache {
				return bad(i, "op", "cacheLag needs the watch cache: cluster.apiServer.watchCache is false, so reads with resourceVersion \"0\" go to etcd and never lag")
			}
		case OpDeliver, OpSettle:
			if t.Schedule != Explicit {
				return bad(i, "op", "%q is a schedule op: it needs \"schedule\": \"explicit\" (under %q every op is followed by a full drain)", s.Op, t.Schedule)
			}
			if s.Op == OpDeliver {
				if s.Pod != nil && s.Node != nil {
					return bad(i, "node", "give pod (a StatefulSet ordinal or a Deployment lane) or node (a DaemonSet node), not both")
				}
				if s.Node != nil {
					if nodes == nil {
						return bad(i, "node", "this trace has no DaemonSet (cluster.daemonSet)")
					}
					if *s.Node == "" && c.DaemonSet.Unscheduled == "" || *s.Node != "" && !nodes[*s.Node] {
						return bad(i, "node", "no KSM pod runs for node %s at this step (the nodes are: %s)", textsafe.Quote(*s.Node), strings.Join(sortedKeys(nodes), ", "))
					}
					if s.Count < 1 {
						return bad(i, "count", "must be at least 1, got %d", s.Count)
					}
					if s.Stream != "" {
						return bad(i, "stream", "a node lane is one stream (its KSM pod's start, pages, watch events and deletion): leave stream out")
					}
					break
				}
				if s.Pod == nil {
					return bad(i, "pod", "required: the ordinal whose inbox to deliver from (or node, for a DaemonSet node's KSM pod)")
				}
				if *s.Pod < 0 || *s.Pod >= slots {
					if static {
						return bad(i, "pod", "lane %d has never existed at this step: the Deployments' lanes are %s", *s.Pod, lanes.describe())
					}
					return bad(i, "pod", "pod %d has never existed at this step (the StatefulSet has had at most %s)", *s.Pod, ordinals(slots, "replicas"))
				}
				if s.Count < 1 {
					return bad(i, "count", "must be at least 1, got %d", s.Count)
				}
				switch s.Stream {
				case "", StreamStatefulSet:
				case StreamObjects:
					if t.DataPlane != Explicit {
						return bad(i, "stream", "the objects stream is delivered at the end of every step: set \"dataPlane\": \"explicit\" to deliver it by hand")
					}
				default:
					return bad(i, "stream", "unknown stream %s, want %q (the default) or %q", textsafe.Quote(s.Stream), StreamStatefulSet, StreamObjects)
				}
			}
		case OpWait:
			if s.Duration == "" {
				return bad(i, "duration", "required: how long simulated time passes (a Go duration such as \"10m\")")
			}
			if _, err := ParseDuration(s.Duration); err != nil {
				return bad(i, "duration", "%v", err)
			}
		case "":
			return bad(i, "op", "required")
		default:
			return bad(i, "op", "unknown op %s, want one of relabel, scale, restart, create, delete, apply, deleteDeployment, addNode, removeNode, taint, untaint, evict, createPods, bind, failStart, crashLoop, recover, compact, disconnect, cacheLag, wait, deliver, settle", textsafe.Quote(s.Op))
		}
	}
	if !objects && nodes == nil {
		return bad(-1, "cluster.objects", noObjectsMsg)
	}
	return nil
}

// noObjectsMsg explains why a trace without objects is rejected: the
// properties are about exported objects, and with none they hold whatever
// the pods do (pods on 0/2, 1/2 and 2/3 would "hold").
const noObjectsMsg = "no objects: the trace never has one (none at the start, no create step), " +
	"so no pod would export anything and every verdict would be \"holds\" whatever the pods' shard configurations; " +
	`give some, e.g. "objects": {"generate": 100, "seed": 1}`

// unusedFields lists the fields set on a step that its op does not take.
func (s *Step) unusedFields() []string {
	set := map[string]bool{
		"labels": s.Labels != nil, "replicas": s.Replicas != nil, "pods": s.Pods != nil,
		"uids": s.UIDs != nil, "generate": s.Generate != 0, "seed": s.Seed != 0,
		"pod": s.Pod != nil, "count": s.Count != 0, "stream": s.Stream != "", "writes": s.Writes != nil,
		"deployments": s.Deployments != nil, "name": s.Name != "", "node": s.Node != nil,
		"duration": s.Duration != "",
	}
	allowed := map[string][]string{
		OpRelabel: {"labels"}, OpScale: {"replicas"}, OpRestart: {"pods"},
		OpCreate: {"uids", "generate", "seed"}, OpDelete: {"uids"},
		OpDeliver: {"pod", "count", "stream", "node"}, OpSettle: {}, OpWait: {"duration"},
		OpCompact: {}, OpDisconnect: {"pods"}, OpCacheLag: {"writes"},
		OpApply: {"deployments"}, OpDeleteDeployment: {"name"},
		OpFailStart: {"pods", "count"}, OpCrashLoop: {"pods"}, OpRecover: {"pods"},
		OpAddNode: {"node"}, OpRemoveNode: {"node"}, OpTaint: {"node"}, OpUntaint: {"node"}, OpEvict: {"node"},
		OpCreatePods: {"node", "generate", "seed"}, OpBind: {"node", "count"},
	}
	ok, known := allowed[s.Op]
	if !known {
		return nil
	}
	var out []string
	for _, f := range sortedKeys(set) {
		if set[f] && !slices.Contains(ok, f) {
			out = append(out, f)
		}
	}
	return out
}

// ordinals renders n pods and their ordinals: "2 replicas (ordinals 0..1)".
func ordinals(n int, what string) string {
	switch n {
	case 0:
		return "0 " + what
	case 1:
		return fmt.Sprintf("1 %s (ordinal 0)", strings.TrimSuffix(what, "s"))
	}
	return fmt.Sprintf("%d %s (ordinals 0..%d)", n, what, n-1)
}

func validateReplicas(n int) error {
	if n < 0 {
		return fmt.Errorf("must be a non-negative integer, got %d", n)
	}
	if n > MaxReplicas {
		return fmt.Errorf("%d is more than the simulator's limit of %d pods", n, MaxReplicas)
	}
	return nil
}

// maxLabelKey is the longest qualified name: a DNS subdomain prefix (253),
// '/', a name (63).
const maxLabelKey = validation.DNS1123SubdomainMaxLength + 1 + 63

func validateLabels(l map[string]string) error {
	for _, k := range sortedKeys(l) {
		// Length first: the validators' regular expressions over a
		// megabyte-long key or value take a while to say the same.
		if len(k) > maxLabelKey {
			return fmt.Errorf("invalid label key %s: must be no more than %d characters (an optional DNS subdomain prefix of up to 253 and '/', then a name of up to 63)", textsafe.Quote(k), maxLabelKey)
		}
		if len(l[k]) > validation.LabelValueMaxLength {
			return fmt.Errorf("invalid value %s for label %s: must be no more than %d characters", textsafe.Quote(l[k]), textsafe.Quote(k), validation.LabelValueMaxLength)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("invalid label key %s: %s", textsafe.Quote(k), strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(l[k]); len(errs) > 0 {
			return fmt.Errorf("invalid value %s for label %s: %s", textsafe.Quote(l[k]), textsafe.Quote(k), strings.Join(errs, "; "))
		}
	}
	return nil
}

type fieldErr struct{ field, msg string }

// addObjects adds explicit and generated UIDs to live, rejecting
// duplicates. salt separates the generated UIDs of different steps when
// they use the same seed.
func addObjects(live map[string]bool, uids []string, generate int, seed uint64, salt int) *fieldErr {
	if len(uids) > 0 && generate != 0 {
		return &fieldErr{".generate", "give either uids or generate, not both"}
	}
	if generate < 0 {
		return &fieldErr{".generate", fmt.Sprintf("must be a non-negative integer, got %d", generate)}
	}
	if generate > MaxObjects-len(live)-len(uids) { // not len+generate: it could overflow
		field := ".generate"
		if generate == 0 {
			field = ".uids"
		}
		return &fieldErr{field, fmt.Sprintf("more than the simulator's limit of %d live objects", MaxObjects)}
	}
	seen := make(map[string]bool, len(uids))
	for _, u := range uids {
		switch {
		case u == "":
			return &fieldErr{".uids", "empty UID"}
		case seen[u]:
			return &fieldErr{".uids", "duplicate UID " + textsafe.Quote(u)}
		case live[u]:
			return &fieldErr{".uids", fmt.Sprintf("UID %s is already a live object at this step", textsafe.Quote(u))}
		}
		seen[u] = true
		live[u] = true
	}
	for _, u := range GenerateUIDs(generate, seed, salt) {
		if live[u] {
			return &fieldErr{".seed", fmt.Sprintf("generated UID %q collides with a live object; choose another seed", u)}
		}
		live[u] = true
	}
	return nil
}

// GenerateUIDs returns n distinct random (version 4) UUIDs, a pure
// function of seed and salt.
func GenerateUIDs(n int, seed uint64, salt int) []string {
	if n <= 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, math.MaxUint32^uint64(salt)))
	out := make([]string, 0, n)
	var b [16]byte
	const hex = "0123456789abcdef"
	for range n {
		lo, hi := r.Uint64(), r.Uint64()
		for i := range 8 {
			b[i] = byte(lo >> (8 * i))
			b[8+i] = byte(hi >> (8 * i))
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		var s [36]byte
		j := 0
		for i, c := range b {
			if i == 4 || i == 6 || i == 8 || i == 10 {
				s[j] = '-'
				j++
			}
			s[j], s[j+1] = hex[c>>4], hex[c&0xf]
			j += 2
		}
		out = append(out, string(s[:]))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MarshalJSON writes a step as the trace format has it. A relabel always
// carries its labels, even when empty ({} removes every label), which the
// omitempty of the other ops would drop.
func (s Step) MarshalJSON() ([]byte, error) {
	type plain Step
	if s.Op != OpRelabel {
		return json.Marshal(plain(s))
	}
	labels := s.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return json.Marshal(struct {
		plain
		Labels map[string]string `json:"labels"`
	}{plain(s), labels})
}

// TraceFiles lists the trace files of a traces folder, sorted: dir/*.json,
// then the exported counterexamples in dir/regressions/*.json. The test
// suites replay exactly these, so a new file needs no code change.
func TraceFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.json", "regressions/*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no trace files under %s", dir)
	}
	return files, nil
}
