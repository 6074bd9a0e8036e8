package properties_test

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

var gopterSeed = flag.Int64("gopter.seed", 0, "seed of the gopter properties (0: the fixed default, or with -explore a new one each run; printed on failure)")

// runGopter checks props with a seed from -gopter.seed (by default
// defaultGopterSeed; with -explore the clock) and fails t with gopter's
// report, the seed and the command that replays it.
func runGopter(t *testing.T, minSuccessful, maxSize int, define func(*gopter.Properties)) {
	t.Helper()
	seed := *gopterSeed
	if seed == 0 {
		seed = defaultGopterSeed
		if *explore {
			seed = time.Now().UnixNano()
			t.Logf("-explore: gopter seed %d", seed)
		}
	}
	params := gopter.DefaultTestParametersWithSeed(seed)
	params.MinSuccessfulTests = minSuccessful
	params.MaxSize = maxSize
	props := gopter.NewProperties(params)
	define(props)
	var out bytes.Buffer
	if !props.Run(gopter.NewFormatedReporter(true, 100, &out)) {
		t.Errorf("%s\ngopter seed %d; replay: go test ./properties -run '^%s$' -gopter.seed=%d", out.String(), seed, t.Name(), seed)
		return
	}
	t.Logf("gopter seed %d\n%s", seed, out.String())
}

// ---------------------------------------------------------------------
// Watch semantics: the simulated API server's selector filtering of watch
// streams (sim.APIServer, sim.WatchEvent), checked as a gopter commands
// test against a plain reference model.
// ---------------------------------------------------------------------

var (
	watchKeys   = []string{"app.kubernetes.io/name", "app.kubernetes.io/version", "app.kubernetes.io/part-of"}
	watchValues = []string{"kube-state-metrics", "2.12.0", "2.13.0", "monitoring"}
	labelCodes  = pow(len(watchValues)+1, len(watchKeys)) // every label map over watchKeys x watchValues
)

func pow(b, e int) int {
	n := 1
	for range e {
		n *= b
	}
	return n
}

// labelsOf decodes a label map: digit i (base len(watchValues)+1) of code
// is 0 for "no watchKeys[i]" or 1+j for watchKeys[i]=watchValues[j]. Code 0,
// where gopter's shrinker heads, is the empty map.
func labelsOf(code int) map[string]string {
	l := map[string]string{}
	for _, k := range watchKeys {
		if d := code % (len(watchValues) + 1); d > 0 {
			l[k] = watchValues[d-1]
		}
		code /= len(watchValues) + 1
	}
	return l
}

// A labelReq is one requirement of a label selector, in the plain form of
// the reference model.
type labelReq struct {
	key, op, value string // op: "=", "!=", "exists", "!exists"
}

var labelOps = []string{"=", "!=", "exists", "!exists"}

// A watchSpec is a watcher's selectors.
type watchSpec struct {
	labels             []labelReq
	fieldKey, fieldVal string // "" for no field selector
}

var fieldChoices = [][2]string{
	{"", ""},
	{"metadata.name", properties.StatefulSetName},
	{"metadata.name", "other"},
	{"metadata.namespace", properties.Namespace},
	{"metadata.namespace", "default"},
}

// options renders the selectors as the query parameters of a WATCH.
func (w watchSpec) options() metav1.ListOptions {
	var parts []string
	for _, r := range w.labels {
		switch r.op {
		case "=", "!=":
			parts = append(parts, r.key+r.op+r.value)
		case "exists":
			parts = append(parts, r.key)
		case "!exists":
			parts = append(parts, "!"+r.key)
		}
	}
	o := metav1.ListOptions{LabelSelector: strings.Join(parts, ",")}
	if w.fieldKey != "" {
		o.FieldSelector = w.fieldKey + "=" + w.fieldVal
	}
	return o
}

func (w watchSpec) String() string {
	o := w.options()
	return fmt.Sprintf("{labels %q fields %q}", o.LabelSelector, o.FieldSelector)
}

// matches is the reference semantics of the selectors, written out by
// hand: every requirement holds ("!=" also holds when the key is absent)
// and the field, if any, equals the object's.
func (w watchSpec) matches(o *refObject) bool {
	for _, r := range w.labels {
		v, ok := o.labels[r.key]
		switch r.op {
		case "=":
			if !ok || v != r.value {
				return false
			}
		case "!=":
			if ok && v == r.value {
				return false
			}
		case "exists":
			if !ok {
				return false
			}
		case "!exists":
			if ok {
				return false
			}
		}
	}
	switch w.fieldKey {
	case "metadata.name":
		return w.fieldVal == properties.StatefulSetName
	case "metadata.namespace":
		return w.fieldVal == properties.Namespace
	}
	return true
}

// refObject is the reference model's StatefulSet: what the model
// expects a watcher to hold.
type refObject struct {
	labels   map[string]string
	replicas int32
	rv       int
}

func (o *refObject) String() string {
	if o == nil {
		return "nothing"
	}
	return fmt.Sprintf("rv=%d replicas=%d labels=%v", o.rv, o.replicas, o.labels)
}

type refEvent struct {
	typ watch.EventType
	obj *refObject
}

// watchState is the reference model: the StatefulSet, what each watcher
// should hold, and the events the last command should have sent.
type watchState struct {
	specs    []watchSpec
	obj      *refObject
	holds    []*refObject // per watcher; nil: the object is not in its view
	expected [][]refEvent // per watcher, for the last command
}

func (s *watchState) String() string {
	return fmt.Sprintf("watchers=%v statefulSet={%v}", s.specs, s.obj)
}

// next returns the state after writing obj (nil: no write) and then
// letting watcher relist (-1: none).
func (s *watchState) next(obj *refObject, relist int) *watchState {
	n := &watchState{specs: s.specs, obj: s.obj, holds: slices.Clone(s.holds), expected: make([][]refEvent, len(s.specs))}
	if obj != nil {
		n.obj = obj
		for i, w := range s.specs {
			had, match := s.holds[i] != nil, w.matches(obj)
			switch {
			case !had && match:
				n.expected[i] = []refEvent{{watch.Added, obj}}
				n.holds[i] = obj
			case had && match:
				n.expected[i] = []refEvent{{watch.Modified, obj}}
				n.holds[i] = obj
			case had && !match:
				// The old object's content, stamped with the write's
				// resourceVersion (kubernetes/kubernetes#58547).
				gone := *s.holds[i]
				gone.rv = obj.rv
				n.expected[i] = []refEvent{{watch.Deleted, &gone}}
				n.holds[i] = nil
			}
		}
	}
	if relist >= 0 {
		n.holds[relist] = nil
		if s.specs[relist].matches(n.obj) {
			n.holds[relist] = n.obj
		}
	}
	return n
}

// write returns the object after a write, or nil when the write changes
// nothing (the API server then writes nothing and sends no event).
func (o *refObject) write(labels map[string]string, replicas int32) *refObject {
	if maps.Equal(o.labels, labels) && o.replicas == replicas {
		return nil
	}
	return &refObject{labels: labels, replicas: replicas, rv: o.rv + 1}
}

// watchSUT is the system under test: the simulated API server, and per
// watcher the selector it parsed and the object its event stream has left
// it holding (as an informer's store would).
type watchSUT struct {
	api   *sim.APIServer
	sels  []model.Selector
	holds []*appsv1.StatefulSet
}

// stepResult is what a command observed.
type stepResult struct {
	events [][]model.Watched
	holds  []*appsv1.StatefulSet
}

func (s *watchSUT) write(mutate func(*appsv1.StatefulSet)) stepResult {
	res := stepResult{events: make([][]model.Watched, len(s.sels))}
	old, cur := s.api.Update(mutate)
	if cur != nil {
		for i, sel := range s.sels {
			ev, ok := sim.WatchEvent(sel, old, cur)
			if !ok {
				continue
			}
			res.events[i] = append(res.events[i], ev)
			switch ev.Type {
			case watch.Added:
				s.holds[i] = ev.Object
			case watch.Modified:
				s.holds[i] = ev.Object
			case watch.Deleted:
				s.holds[i] = nil
			}
		}
	}
	res.holds = slices.Clone(s.holds)
	return res
}

func (s *watchSUT) relist(w int) stepResult {
	s.holds[w] = nil
	if items := s.api.List(s.sels[w]); len(items) > 0 {
		s.holds[w] = items[0]
	}
	return stepResult{events: make([][]model.Watched, len(s.sels)), holds: slices.Clone(s.holds)}
}

// sameObject compares a real StatefulSet with the reference's.
func sameObject(ss *appsv1.StatefulSet, o *refObject) bool {
	if ss == nil || o == nil {
		return ss == nil && o == nil
	}
	return ss.ResourceVersion == fmt.Sprint(o.rv) && *ss.Spec.Replicas == o.replicas &&
		maps.Equal(ss.Labels, o.labels) && ss.Name == properties.StatefulSetName && ss.Namespace == properties.Namespace
}

func render(ss *appsv1.StatefulSet) string {
	if ss == nil {
		return "nothing"
	}
	return fmt.Sprintf("rv=%s replicas=%d labels=%v", ss.ResourceVersion, *ss.Spec.Replicas, ss.Labels)
}

// postCondition compares what every watcher got and holds with the
// reference: each watcher holds exactly the object if it matches, and
// got the right event (ADDED, MODIFIED, DELETED with the old object).
func postCondition(st commands.State, r commands.Result) *gopter.PropResult {
	s, res := st.(*watchState), r.(stepResult)
	var bad []string
	for i, w := range s.specs {
		want, got := s.expected[i], res.events[i]
		ok := len(want) == len(got)
		for j := 0; ok && j < len(want); j++ {
			ok = want[j].typ == got[j].Type && sameObject(got[j].Object, want[j].obj)
		}
		if !ok {
			var g []string
			for _, e := range got {
				g = append(g, fmt.Sprintf("%s %s", e.Type, render(e.Object)))
			}
			var x []string
			for _, e := range want {
				x = append(x, fmt.Sprintf("%s %s", e.typ, e.obj))
			}
			bad = append(bad, fmt.Sprintf("watcher %d %v got events [%s], want [%s]", i, w, strings.Join(g, "; "), strings.Join(x, "; ")))
		}
		if !sameObject(res.holds[i], s.holds[i]) {
			bad = append(bad, fmt.Sprintf("watcher %d %v holds %s, want %s", i, w, render(res.holds[i]), s.holds[i]))
		}
	}
	if len(bad) > 0 {
		return &gopter.PropResult{Status: gopter.PropFalse, Labels: bad}
	}
	return &gopter.PropResult{Status: gopter.PropTrue}
}

// The commands. Each carries a small integer that gopter shrinks.

type relabelCmd int // a label code, see labelsOf
type scaleCmd int32
type relistCmd int // a watcher index

func (c relabelCmd) Run(sut commands.SystemUnderTest) commands.Result {
	return sut.(*watchSUT).write(func(ss *appsv1.StatefulSet) { ss.Labels = labelsOf(int(c)) })
}
func (c relabelCmd) NextState(st commands.State) commands.State {
	s := st.(*watchState)
	return s.next(s.obj.write(labelsOf(int(c)), s.obj.replicas), -1)
}
func (relabelCmd) PreCondition(commands.State) bool { return true }
func (relabelCmd) PostCondition(st commands.State, r commands.Result) *gopter.PropResult {
	return postCondition(st, r)
}
func (c relabelCmd) String() string {
	l := labelsOf(int(c))
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return "relabel{" + strings.Join(parts, ",") + "}"
}

func (c scaleCmd) Run(sut commands.SystemUnderTest) commands.Result {
	return sut.(*watchSUT).write(func(ss *appsv1.StatefulSet) { r := int32(c); ss.Spec.Replicas = &r })
}
func (c scaleCmd) NextState(st commands.State) commands.State {
	s := st.(*watchState)
	return s.next(s.obj.write(s.obj.labels, int32(c)), -1)
}
func (scaleCmd) PreCondition(commands.State) bool { return true }
func (scaleCmd) PostCondition(st commands.State, r commands.Result) *gopter.PropResult {
	return postCondition(st, r)
}
func (c scaleCmd) String() string { return fmt.Sprintf("scale(%d)", int32(c)) }

func (c relistCmd) Run(sut commands.SystemUnderTest) commands.Result {
	return sut.(*watchSUT).relist(int(c))
}
func (c relistCmd) NextState(st commands.State) commands.State {
	return st.(*watchState).next(nil, int(c))
}
func (c relistCmd) PreCondition(st commands.State) bool { return int(c) < len(st.(*watchState).specs) }
func (relistCmd) PostCondition(st commands.State, r commands.Result) *gopter.PropResult {
	return postCondition(st, r)
}
func (c relistCmd) String() string { return fmt.Sprintf("relist(watcher %d)", int(c)) }

// intCommand is a generator of commands built from an int in [lo, hi],
// shrunk like the int.
func intCommand(lo, hi int, mk func(int) commands.Command) gopter.Gen {
	return gen.IntRange(lo, hi).Map(mk).WithShrinker(func(v any) gopter.Shrink {
		var n int
		switch c := v.(type) {
		case relabelCmd:
			n = int(c)
		case scaleCmd:
			n = int(c)
		case relistCmd:
			n = int(c)
		}
		return gen.IntShrinker(n).Filter(func(v any) bool { return v.(int) >= lo && v.(int) <= hi }).Map(mk)
	})
}

var genLabelReq = gopter.CombineGens(gen.IntRange(0, len(watchKeys)-1), gen.IntRange(0, len(labelOps)-1), gen.IntRange(0, len(watchValues)-1)).
	Map(func(v []any) labelReq {
		return labelReq{key: watchKeys[v[0].(int)], op: labelOps[v[1].(int)], value: watchValues[v[2].(int)]}
	})

var genWatchSpec = gopter.CombineGens(gen.SliceOfN(2, genLabelReq), gen.IntRange(0, 2), gen.IntRange(0, len(fieldChoices)-1)).
	Map(func(v []any) watchSpec {
		reqs := v[0].([]labelReq)[:v[1].(int)]
		f := fieldChoices[v[2].(int)]
		return watchSpec{labels: reqs, fieldKey: f[0], fieldVal: f[1]}
	})

// kubeStateMetricsWatchers are the two watches KSM itself opens on its
// StatefulSet, always among the watchers: v2.12.0's label selector built
// from the original labels and v2.13.0's field selector.
func kubeStateMetricsWatchers() []watchSpec {
	return []watchSpec{
		{labels: []labelReq{{"app.kubernetes.io/name", "=", "kube-state-metrics"}, {"app.kubernetes.io/version", "=", "2.12.0"}}},
		{fieldKey: "metadata.name", fieldVal: properties.StatefulSetName},
	}
}

var watchCommands = &commands.ProtoCommands{
	NewSystemUnderTestFunc: func(st commands.State) commands.SystemUnderTest {
		s := st.(*watchState)
		r := s.obj.replicas
		sut := &watchSUT{api: sim.NewAPIServer(properties.Namespace, sim.StatefulSet{
			Name: properties.StatefulSetName, Labels: maps.Clone(s.obj.labels), Replicas: &r,
		})}
		for _, w := range s.specs {
			sel, err := model.ParseSelector(w.options())
			if err != nil {
				panic(fmt.Sprintf("watcher %v: %v", w, err))
			}
			sut.sels = append(sut.sels, sel)
			sut.holds = append(sut.holds, nil)
		}
		for i := range s.specs {
			sut.relist(i)
		}
		return sut
	},
	InitialStateGen: gopter.CombineGens(gen.SliceOfN(3, genWatchSpec), gen.IntRange(0, 3), gen.IntRange(0, labelCodes-1), gen.IntRange(0, 5)).
		Map(func(v []any) *watchState {
			specs := append(kubeStateMetricsWatchers(), v[0].([]watchSpec)[:v[1].(int)]...)
			obj := &refObject{labels: labelsOf(v[2].(int)), replicas: int32(v[3].(int)), rv: 1}
			s := &watchState{specs: specs, obj: obj, holds: make([]*refObject, len(specs))}
			for i, w := range specs {
				if w.matches(obj) {
					s.holds[i] = obj
				}
			}
			return s
		}),
	GenCommandFunc: func(st commands.State) gopter.Gen {
		n := len(st.(*watchState).specs)
		return gen.Weighted([]gen.WeightedGen{
			{Weight: 4, Gen: intCommand(0, labelCodes-1, func(c int) commands.Command { return relabelCmd(c) })},
			{Weight: 3, Gen: intCommand(0, 8, func(c int) commands.Command { return scaleCmd(c) })},
			{Weight: 1, Gen: intCommand(0, n-1, func(c int) commands.Command { return relistCmd(c) })},
		})
	},
}

// TestWatchSemanticsMatchReferenceModel checks the simulated API server's
// watch streams, for several watchers with different label and field
// selectors over random sequences of relabels, scales and relists, against
// the reference model: after every step each watcher holds exactly the
// StatefulSet if it matches its selectors, and got ADDED when it starts
// matching, MODIFIED while it matches, DELETED carrying the old object
// when it stops, nothing otherwise, and nothing for a write that changes
// nothing.
func TestWatchSemanticsMatchReferenceModel(t *testing.T) {
	runGopter(t, 500, 40, func(p *gopter.Properties) {
		p.Property("watch streams follow the selector semantics", commands.Prop(watchCommands))
	})
}

// ---------------------------------------------------------------------
// Ownership: jump hash over FNV-1a of the UID (model.Owner, model.Keeps).
// ---------------------------------------------------------------------

// genUID draws object UIDs: random UUIDs like the API server's, and short
// identifiers, which gopter shrinks well.
var genUID = gen.OneGenOf(
	gen.Identifier(),
	gopter.CombineGens(gen.UInt64(), gen.UInt64()).Map(func(v []any) string {
		a, b := v[0].(uint64), v[1].(uint64)
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0x3fff|0x8000, b&0xffffffffffff)
	}),
)

// coverage counts the pods that keep uid when pods 0..m-1 run, those in
// stale (bit j for pod j) with total n and the others with total m.
func coverage(uid string, n, m int, stale uint64) int {
	count := 0
	for j := range m {
		total := m
		if stale>>j&1 == 1 {
			total = n
		}
		if model.Keeps(uid, int32(j), total) {
			count++
		}
	}
	return count
}

// TestOwnershipProperties checks the facts about jump hash the design
// relies on.
func TestOwnershipProperties(t *testing.T) {
	runGopter(t, 2000, 100, func(p *gopter.Properties) {
		p.Property("monotonicity: from n to n+1 buckets a key stays or moves to bucket n", prop.ForAll(
			func(key uint64, n int) bool {
				before, after := model.Owner(key, n), model.Owner(key, n+1)
				return after == before || after == int32(n)
			},
			gen.UInt64(), gen.IntRange(1, 1<<12)))
		p.Property("every object has exactly one owner among shards 0..n-1 (none for n = 0)", prop.ForAll(
			func(uid string, n int) string {
				var owners []int
				for i := range n + 3 { // shards at and above n keep nothing
					if model.Keeps(uid, int32(i), n) {
						owners = append(owners, i)
					}
				}
				want := 1
				if n == 0 {
					want = 0
				}
				if len(owners) != want || (want == 1 && owners[0] >= n) {
					return fmt.Sprintf("owners %v of %d shards", owners, n)
				}
				return ""
			},
			genUID, gen.IntRange(0, 64)))
		// The design's corollary: after a scale from n to m, pods that
		// still hold the old total n (any subset of the pods that existed
		// before) cause overlaps but no gaps when n < m, gaps but no
		// overlaps when n > m.
		p.Property("a stale smaller total overlaps but never gaps; a stale larger total gaps but never overlaps", prop.ForAll(
			func(uid string, n, m int, stale uint64) string {
				stale &= 1<<min(n, m) - 1 // only pods that existed at n can be stale
				c := coverage(uid, n, m, stale)
				switch {
				case n < m && c < 1:
					return fmt.Sprintf("gap: scale %d -> %d, stale pods %b, covered %d times", n, m, stale, c)
				case n > m && c > 1:
					return fmt.Sprintf("overlap: scale %d -> %d, stale pods %b, covered %d times", n, m, stale, c)
				case n == m && c != 1:
					return fmt.Sprintf("no scale (%d), covered %d times", n, c)
				}
				return ""
			},
			genUID, gen.IntRange(1, 32), gen.IntRange(1, 32), gen.UInt64()))
	})
}

// TestCoverageAgreesWithOwnership checks the simulator's coverage check,
// with its fast path, against counting the owners of each object one by
// one, for random objects and random pod configurations.
func TestCoverageAgreesWithOwnership(t *testing.T) {
	runGopter(t, 1000, 24, func(p *gopter.Properties) {
		p.Property("sim.ObjectSet.Evaluate agrees with model.Keeps object by object", prop.ForAll(
			func(uids []string, totals []int, desired int) string {
				uids = slices.Compact(slices.Sorted(slices.Values(uids)))
				var configs []model.Config
				for j, total := range totals {
					configs = append(configs, model.Config{Shard: int32(j % 6), Total: total})
				}
				cov := sim.NewObjectSet(uids).Evaluate(configs, desired)
				var gap, overlap []int
				for i, u := range uids {
					c := 0
					for _, cfg := range configs {
						if model.Keeps(u, cfg.Shard, cfg.Total) {
							c++
						}
					}
					switch {
					case c == 0 && desired > 0:
						gap = append(gap, i)
					case c > 1:
						overlap = append(overlap, i)
					}
				}
				if !slices.Equal(cov.Gap, gap) || !slices.Equal(cov.Overlap, overlap) ||
					cov.Complete != (len(gap) == 0) || cov.Disjoint != (len(overlap) == 0) {
					return fmt.Sprintf("Evaluate(%v, %d) = gap %v overlap %v, counting gives gap %v overlap %v", configs, desired, cov.Gap, cov.Overlap, gap, overlap)
				}
				return ""
			},
			gen.SliceOf(genUID), gen.SliceOf(gen.IntRange(0, 6)), gen.IntRange(0, 3)))
	})
}

// ---------------------------------------------------------------------
// The data plane: model.Reflector (client-go's reflector over KSM's
// sharded ListWatch) through faults, against a naive reference of what
// each shard's store must hold once everything is delivered.
// ---------------------------------------------------------------------

// naiveServer is a second copy of the API server's list/watch rules for
// the objects (sim/dataplane.go's serveObjects and follow, DESIGN.md "The
// API server's list/watch protocol"), written independently as a test
// oracle: it keeps a full snapshot of the live objects per
// resourceVersion instead of rebuilding old states from a write log, and
// answers requests by looking them up. It is the environment the
// reflectors under test run in.
type naiveServer struct {
	watchCache bool
	watchList  bool // the WatchList feature gate: watch lists are served
	pageSize   int
	rv         uint64
	snapshots  map[uint64][]string // resourceVersion -> live UIDs, sorted
	writes     []naiveWrite
	compacted  uint64 // watches and exact reads from older resourceVersions get 410 Gone
	lag        int    // reads with resourceVersion "0" see the state lag writes ago
}

type naiveWrite struct {
	rv               uint64
	created, deleted []string
}

// page answers a LIST request.
func (s *naiveServer) page(req model.Request) model.Page {
	at, after, limit := s.rv, "", req.Limit
	switch {
	case req.Continue != "":
		rv, key, _ := strings.Cut(req.Continue, "/")
		fmt.Sscan(rv, &at)
		after = key
		if at < s.compacted {
			return model.Page{Expired: true}
		}
	case req.ResourceVersion == "0" && s.watchCache:
		// The watch cache answers whole, as of lag writes ago.
		at, limit = max(s.rv-uint64(min(s.lag, int(s.rv)-1)), 1), 0
	case req.ResourceVersion != "" && req.ResourceVersion != "0":
		if limit > 0 { // an exact read at N, paged
			fmt.Sscan(req.ResourceVersion, &at)
			if at < s.compacted {
				return model.Page{Expired: true}
			}
		} // without a limit: whole, at the current state
	}
	var rest []string
	for _, u := range s.snapshots[at] {
		if u > after {
			rest = append(rest, u)
		}
	}
	p := model.Page{UIDs: rest, ResourceVersion: fmt.Sprint(at)}
	if limit > 0 && len(rest) > limit {
		p.UIDs = rest[:limit]
		p.Continue = fmt.Sprintf("%d/%s", at, rest[limit-1])
	}
	return p
}

// write records one write of the objects.
func (s *naiveServer) write(created, deleted []string) naiveWrite {
	live := map[string]bool{}
	for _, u := range s.snapshots[s.rv] {
		live[u] = true
	}
	for _, u := range created {
		live[u] = true
	}
	for _, u := range deleted {
		delete(live, u)
	}
	s.rv++
	s.snapshots[s.rv] = slices.Sorted(maps.Keys(live))
	w := naiveWrite{rv: s.rv, created: created, deleted: deleted}
	s.writes = append(s.writes, w)
	return w
}

// naiveItem is one thing a reflector will read: the answer to its LIST
// request (computed when delivered), a watch event, or the end of its
// watch.
type naiveItem struct {
	list  bool
	event *model.ObjectsWatched
	end   *model.WatchEnded
}

// naivePod is one shard's reflector and the connection to it.
type naivePod struct {
	r       model.Reflector
	open    bool // its watch is open: writes reach it
	pending []naiveItem
}

type naiveCluster struct {
	srv  *naiveServer
	pods []*naivePod
	log  []string
	// bad is the first broken invariant seen after a delivery.
	bad string
}

func events(w naiveWrite) []naiveItem {
	var out []naiveItem
	rv := fmt.Sprint(w.rv)
	if len(w.created) > 0 {
		out = append(out, naiveItem{event: &model.ObjectsWatched{Type: watch.Added, UIDs: w.created, ResourceVersion: rv}})
	}
	if len(w.deleted) > 0 {
		out = append(out, naiveItem{event: &model.ObjectsWatched{Type: watch.Deleted, UIDs: w.deleted, ResourceVersion: rv}})
	}
	return out
}

// follow queues what pod p's reflector asks for next: its LIST page, or
// the opening of its watch (an ERROR 410 from a compacted
// resourceVersion, otherwise the writes after it).
func (c *naiveCluster) follow(p *naivePod) {
	switch {
	case !p.r.Watching:
		p.pending = append(p.pending, naiveItem{list: true})
	case !p.open:
		var from uint64
		fmt.Sscan(p.r.Request.ResourceVersion, &from)
		if from < c.srv.compacted {
			p.pending = append(p.pending, naiveItem{end: &model.WatchEnded{Expired: true}})
			return
		}
		p.open = true
		for _, w := range c.srv.writes {
			if w.rv > from {
				p.pending = append(p.pending, events(w)...)
			}
		}
	}
}

func (c *naiveCluster) deliver(i int) {
	p := c.pods[i]
	it := p.pending[0]
	p.pending = p.pending[1:]
	var ev model.Event
	var what string
	switch {
	case it.list && p.r.Request.SendInitialEvents:
		// A watch list: refused without the gate; otherwise an ADDED
		// per live object and the bookmark, at the current state.
		st := model.ObjectsStreamed{Refused: !c.srv.watchList}
		if c.srv.watchList {
			st.Page = model.Page{UIDs: c.srv.snapshots[c.srv.rv], ResourceVersion: fmt.Sprint(c.srv.rv)}
		}
		ev, what = st, fmt.Sprintf("%s -> refused %v, %d initial events", p.r.Request, st.Refused, len(st.Page.UIDs))
	case it.list:
		page := c.srv.page(p.r.Request)
		ev, what = model.ObjectsListed{Page: page}, fmt.Sprintf("%s -> %d items, continue %q, expired %v", p.r.Request, len(page.UIDs), page.Continue, page.Expired)
	case it.event != nil:
		ev, what = *it.event, fmt.Sprintf("%s %v at %s", it.event.Type, it.event.UIDs, it.event.ResourceVersion)
	default:
		ev, what = *it.end, fmt.Sprintf("watch end (410 %v)", it.end.Expired)
	}
	var outcome string
	p.r, outcome = model.StepReflector(p.r, ev)
	c.log = append(c.log, fmt.Sprintf("shard %d: %s: %s", i, what, outcome))
	if why := c.invariant(i); why != "" && c.bad == "" {
		c.bad = fmt.Sprintf("after delivery %d: shard %d: %s", len(c.log), i, why)
	}
	c.follow(p)
}

// invariant checks shard i's store between any two deliveries: empty
// before its first list completes; afterwards what the shard keeps of the
// objects as they were at its last synced resourceVersion (a subset, if
// its list stopped at a dropped continue token) — never a duplicate, a
// stale object or a mix of two states.
func (c *naiveCluster) invariant(i int) string {
	r := c.pods[i].r
	if !r.Synced {
		if len(r.Store) > 0 {
			return fmt.Sprintf("holds %v before any list completed", r.Store)
		}
		return ""
	}
	var rv uint64
	fmt.Sscan(r.LastSyncResourceVersion, &rv)
	at, ok := c.srv.snapshots[rv]
	if !ok {
		return fmt.Sprintf("synced at resourceVersion %q, which the server never had", r.LastSyncResourceVersion)
	}
	var want []string
	for _, u := range at {
		if model.Keeps(u, int32(i), len(c.pods)) {
			want = append(want, u)
		}
	}
	if r.Truncated {
		if !isSubset(r.Store, want) || hasDuplicates(r.Store) {
			return fmt.Sprintf("(truncated list) holds %v, not within what it keeps at resourceVersion %d: %v", r.Store, rv, want)
		}
		return ""
	}
	if !slices.Equal(r.Store, want) {
		return fmt.Sprintf("holds %v, yet keeps %v at its resourceVersion %d", r.Store, want, rv)
	}
	return ""
}

// hasDuplicates reports whether the sorted s repeats an element.
func hasDuplicates(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}

// apply runs one op, decoded from code: its kind is code%6, its argument
// code/6. Code 0, where gopter's shrinker heads, is the most harmless op
// (deliver one item to shard 0). An op that cannot run now is skipped.
func (c *naiveCluster) apply(code int, next *int) {
	kind, a := code%6, code/6
	n := len(c.pods)
	switch kind {
	case 0: // deliver 1..3 items to one shard
		i := a % n
		for range 1 + a/n%3 {
			if len(c.pods[i].pending) > 0 {
				c.deliver(i)
			}
		}
	case 1, 2: // create 1..3 objects; delete one live object
		var created, deleted []string
		if kind == 1 {
			for range 1 + a%3 {
				*next++
				created = append(created, fmt.Sprintf("obj-%03d", *next))
			}
		} else {
			live := c.srv.snapshots[c.srv.rv]
			if len(live) == 0 {
				return
			}
			deleted = []string{live[a%len(live)]}
		}
		w := c.srv.write(created, deleted)
		c.log = append(c.log, fmt.Sprintf("write at %d: created %v deleted %v", w.rv, created, deleted))
		for _, p := range c.pods {
			if p.open {
				p.pending = append(p.pending, events(w)...)
			}
		}
	case 3:
		c.srv.compacted = c.srv.rv
		c.log = append(c.log, fmt.Sprintf("compact at %d", c.srv.rv))
	case 4: // disconnect a non-empty subset of the shards
		mask := 1 + a%(1<<n-1)
		for i, p := range c.pods {
			if mask>>i&1 == 0 || !p.open {
				continue
			}
			p.open = false
			p.pending = slices.DeleteFunc(p.pending, func(it naiveItem) bool { return it.event != nil })
			p.pending = append(p.pending, naiveItem{end: &model.WatchEnded{}})
			c.log = append(c.log, fmt.Sprintf("disconnect shard %d", i))
		}
	case 5: // cacheLag 0..3 (the watch cache only)
		if c.srv.watchCache {
			c.srv.lag = a % 4
			c.log = append(c.log, fmt.Sprintf("cache lag %d", c.srv.lag))
		}
	}
}

// TestReflectorMatchesNaiveReference drives the reflectors of every shard
// of a total (1..4) through random object creates and deletes,
// compactions, disconnects, cache lag and partial deliveries, over an API
// server with or without the watch cache and WatchList and pages of 1..6
// objects, under the sharded ListWatch and reflector of any release (the
// continue-token bug until v2.20.0, #3065; watch lists from v2.19.0, whose
// bookmark v2.19.0 filters, #2973); then delivers everything and checks
// each store against the naive reference: the live objects its shard
// keeps (model.Keeps). Exactly, unless the store's list stopped at a page
// whose continue token the sharded List dropped (Truncated): then a
// subset, and only where the sharded List can drop one; or, where the
// bookmark never reaches the shard, nothing, never synced.
func TestReflectorMatchesNaiveReference(t *testing.T) {
	runGopter(t, 1000, 40, func(p *gopter.Properties) {
		p.Property("after any ops and a full drain each shard's store holds the live objects it keeps", prop.ForAll(
			func(total, pageSize, initial int, watchCache, watchList bool, release int, ops []int) string {
				srv := &naiveServer{watchCache: watchCache, watchList: watchList, pageSize: pageSize, rv: 1, snapshots: map[uint64][]string{}}
				next := 0
				var uids []string
				for range initial {
					next++
					uids = append(uids, fmt.Sprintf("obj-%03d", next))
				}
				srv.snapshots[1] = uids
				rel := model.Releases()[release]
				rules := rel.Rules
				c := &naiveCluster{srv: srv}
				for i := range total {
					pod := &naivePod{r: model.NewReflector(int32(i), total, rules, pageSize)}
					c.pods = append(c.pods, pod)
					c.follow(pod)
				}
				for _, code := range ops {
					c.apply(code, &next)
				}
				if c.bad != "" {
					return c.bad + "\nlog:\n" + strings.Join(c.log, "\n")
				}
				for steps := 0; ; steps++ {
					if steps > 10000 {
						return "no quiescence after 10000 deliveries:\n" + strings.Join(c.log, "\n")
					}
					busy := false
					for i, pod := range c.pods {
						if len(pod.pending) > 0 {
							c.deliver(i)
							busy = true
						}
					}
					if !busy {
						break
					}
				}
				if c.bad != "" {
					return c.bad + "\nlog:\n" + strings.Join(c.log, "\n")
				}
				live := srv.snapshots[srv.rv]
				var bad []string
				for i, pod := range c.pods {
					var want []string
					for _, u := range live {
						if model.Keeps(u, int32(i), total) {
							want = append(want, u)
						}
					}
					r := pod.r
					// #2973: with the watch list, a bookmark filtered by
					// its empty UID never reaches this shard.
					noBookmark := rules.WatchList && watchList && rules.FiltersBookmarks && total > 1 && !model.Keeps("", int32(i), total)
					switch {
					case noBookmark:
						if r.Synced || len(r.Store) > 0 || !r.WaitingForBookmark {
							bad = append(bad, fmt.Sprintf("shard %d of %d on %s: synced %v, holds %d, waiting %v; want it never synced (the bookmark is filtered)", i, total, rel.Version, r.Synced, len(r.Store), r.WaitingForBookmark))
						}
					case !r.Synced || !r.Watching || !pod.open:
						bad = append(bad, fmt.Sprintf("shard %d of %d: not synced and watching after the drain (synced %v, watching %v, watch open %v)", i, total, r.Synced, r.Watching, pod.open))
					case r.Truncated && (!rules.DropsContinue || total == 1):
						bad = append(bad, fmt.Sprintf("shard %d of %d: truncated, yet its ListWatch keeps continue tokens", i, total))
					case r.Truncated && !isSubset(r.Store, want):
						bad = append(bad, fmt.Sprintf("shard %d of %d (truncated list): store %v is not within %v", i, total, r.Store, want))
					case !r.Truncated && !slices.Equal(r.Store, want):
						bad = append(bad, fmt.Sprintf("shard %d of %d: store %v, want %v", i, total, r.Store, want))
					}
				}
				if len(bad) > 0 {
					return strings.Join(bad, "\n") + "\nlog:\n" + strings.Join(c.log, "\n")
				}
				return ""
			},
			gen.IntRange(1, 4), gen.IntRange(1, 6), gen.IntRange(0, 12), gen.Bool(), gen.Bool(), gen.IntRange(0, len(model.Releases())-1),
			gen.SliceOf(gen.IntRange(0, 6*64-1))))
	})
}

// isSubset reports whether every element of a (sorted) is in b (sorted).
func isSubset(a, b []string) bool {
	for _, u := range a {
		if _, ok := slices.BinarySearch(b, u); !ok {
			return false
		}
	}
	return true
}
