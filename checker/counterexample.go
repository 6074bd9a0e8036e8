package checker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Counterexample is a shortest path (fewest cluster ops) to a quiescent
// point where complete or disjoint fails for some trajectory class.
type Counterexample struct {
	sys *System
	// Initial is the replica count the cluster starts settled with.
	Initial int
	// Verdict says which classes are not covered (Gap) or covered twice
	// (Overlap) at the final quiescent point.
	Verdict Verdict
	// Final is the configuration at that point.
	Final Configuration

	steps  []uint8 // the transitions taken, ops and explicit deliveries
	states []state // after the initial setup and after each step
	end    uint64  // the key of the quiescent state the last one drains to
}

// counterexample rebuilds the path to state i from the parent links.
func (e *explorer) counterexample(i int) *Counterexample {
	var rev []uint8
	for e.trans[i] != tInitial {
		rev = append(rev, e.trans[i])
		i = int(e.parent[i])
	}
	slices.Reverse(rev)
	s := e.sys
	initial := int(e.parent[i])
	cx := s.path(initial, rev, e.eager)
	if s.extras {
		// Deliveries of queued watch events can all wait for the final
		// settle: a delivery that empties a pod's fallback sets only
		// takes options away, and leaves the code alone. The path
		// without them ends at the same state once drained.
		var kept []uint8
		for j, t := range rev {
			if t >= tDeliver && t < tCompact && s.isWatching(cx.states[j].c[t-tDeliver]) {
				continue
			}
			kept = append(kept, t)
		}
		if len(kept) < len(rev) {
			if short := s.path(initial, kept, e.eager); short.end == cx.end {
				cx = short
			}
		}
	}
	return cx
}

// path follows the transitions steps from the settled cluster of initial
// replicas; the counterexample ends where its final state drains.
func (s *System) path(initial int, steps []uint8, eager bool) *Counterexample {
	cx := &Counterexample{sys: s, Initial: initial, steps: steps}
	st := s.initial(initial)
	cx.states = append(cx.states, st)
	for _, t := range steps {
		s.apply(&st, t, eager)
		cx.states = append(cx.states, st)
	}
	end, _ := s.drain(st, eager)
	cx.end = s.encode(&end)
	cx.Verdict = s.evaluate(&end)
	cx.Final = s.configuration(&end)
	return cx
}

// Ops returns the number of cluster ops on the path.
func (cx *Counterexample) Ops() int {
	n := 0
	for _, t := range cx.steps {
		if isOp(t) {
			n++
		}
	}
	return n
}

// Deliveries returns the number of explicit deliveries on the path.
func (cx *Counterexample) Deliveries() int { return len(cx.steps) - cx.Ops() }

// Describe tells the path in plain words, one line per step, the
// violation last.
func (cx *Counterexample) Describe() []string {
	s := cx.sys
	st := cx.states[0]
	lines := []string{fmt.Sprintf("start settled with spec.replicas=%d and the original labels: %s", cx.Initial, s.describeState(&st))}
	for i, t := range cx.steps {
		before := cx.states[i]
		lazy := before
		s.apply(&lazy, t, false)
		after := cx.states[i+1]
		line := s.describeStep(&before, t, &lazy)
		if started := s.describeEager(&lazy, &after); started != "" {
			line += "; " + started
		}
		lines = append(lines, line+" => "+s.describeState(&after))
	}
	lines = append(lines, "then every item still queued is delivered (watch events, stops, starts whose timing cannot matter): "+
		cx.describeViolation(nil))
	return lines
}

// Summary is a one-line account of the counterexample.
func (cx *Counterexample) Summary() string {
	var ops []string
	for _, t := range cx.steps {
		if isOp(t) {
			ops = append(ops, cx.sys.opName(t))
		}
	}
	return fmt.Sprintf("from %d settled %s, %s: %s", cx.Initial, plural(cx.Initial, "replica", "replicas"), strings.Join(ops, ", then "), cx.describeViolation(nil))
}

func (s *System) opName(t uint8) string {
	switch {
	case t < tScale:
		return "relabel to " + LabelClass(t-tRelabel).String()
	case t < tRestart:
		return fmt.Sprintf("scale to %d", t-tScale)
	case t < tDeliver:
		return fmt.Sprintf("restart pod %d", t-tRestart)
	case t < tCompact:
		return fmt.Sprintf("deliver to pod %d", t-tDeliver)
	case t == tCompact:
		return "compact"
	case t < tDisconnect:
		return fmt.Sprintf("cacheLag %d", t-tCacheLag)
	}
	o, f := disconnectOf(t)
	if f < 0 {
		return fmt.Sprintf("disconnect pod %d", o)
	}
	return fmt.Sprintf("disconnect pod %d (410 Gone: relist)", o)
}

// disconnectOf splits a disconnect transition into the ordinal and the
// configuration index the pod relists from (-1: none).
func disconnectOf(t uint8) (o, f int) {
	return int(t-tDisconnect) / disconnectStride, int(t-tDisconnect)%disconnectStride - 1
}

// describeViolation says what fails at the final point; uids, when given,
// names a UID per class.
func (cx *Counterexample) describeViolation(uids map[int]string) string {
	cl := cx.sys.classes
	var parts []string
	example := func(cs []int) string {
		c := cs[0]
		out := "e.g. objects with " + cl.Describe(c)
		if u, ok := uids[c]; ok {
			out += " such as UID " + u
		}
		return out
	}
	pods := make([]string, len(cx.Final.Pods))
	for i, p := range cx.Final.Pods {
		pods[i] = fmt.Sprintf("%d:%d/%d", p.Pod, p.Shard, p.Total)
	}
	if ov := cx.Verdict.OverlapClasses(); len(ov) > 0 {
		parts = append(parts, fmt.Sprintf("NOT DISJOINT: the objects of %d of %d trajectory %s are exported twice (%s)", len(ov), cl.Len(), plural(cl.Len(), "class", "classes"), example(ov)))
	}
	if gap := cx.Verdict.GapClasses(); len(gap) > 0 {
		parts = append(parts, fmt.Sprintf("NOT COMPLETE: the objects of %d of %d trajectory %s are exported by no pod (%s)", len(gap), cl.Len(), plural(cl.Len(), "class", "classes"), example(gap)))
	}
	return fmt.Sprintf("at the quiescent point spec.replicas=%d and the pods serve %s: %s",
		cx.Final.Replicas, orNone(strings.Join(pods, " ")), strings.Join(parts, "; "))
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// describeStep tells what transition t does to before (giving after, the
// state before eager deliveries).
func (s *System) describeStep(before *state, t uint8, after *state) string {
	l, n := before.l, int(before.r)
	switch {
	case t < tScale:
		l2 := LabelClass(t - tRelabel)
		out := fmt.Sprintf("relabel the StatefulSet from %s to %s", l, l2.Describe())
		if d := s.describeEvents(before, l, n, l2, n, after); d != "" {
			out += ": " + d
		}
		return out
	case t < tRestart:
		n2 := int(t - tScale)
		out := fmt.Sprintf("scale %d -> %d", n, n2)
		var notes []string
		if d := s.describeEvents(before, l, n, l, n2, after); d != "" {
			notes = append(notes, d)
		}
		var created, stopped []string
		for o := range s.m {
			switch {
			case after.c[o] == codeStarting && before.c[o] == codeAbsent:
				created = append(created, fmt.Sprint(o))
			case after.c[o] == codeAbsent && before.c[o] != codeAbsent:
				stopped = append(stopped, fmt.Sprint(o))
			}
		}
		if len(created) > 0 {
			notes = append(notes, fmt.Sprintf("pod %s created, its start queued (GET, then LIST)", strings.Join(created, ", ")))
		}
		if len(stopped) > 0 {
			notes = append(notes, fmt.Sprintf("pod %s deleted", strings.Join(stopped, ", ")))
		}
		if len(notes) > 0 {
			out += ": " + strings.Join(notes, "; ")
		}
		return out
	case t < tDeliver:
		return fmt.Sprintf("restart pod %d: the old pod stops, the new one queues its start (GET, then LIST)", t-tRestart)
	case t == tCompact:
		out := "compact the API server's history at the current resourceVersion"
		var hit []string
		for o := range s.m {
			if s.fallbacks(after, o) != s.fallbacks(before, o) {
				hit = append(hit, fmt.Sprint(o))
			}
		}
		if len(hit) > 0 {
			out += fmt.Sprintf(": a re-watch of pod %s from before it now gets 410 Gone", strings.Join(hit, ", "))
		}
		return out
	case t >= tCacheLag && t < tDisconnect:
		if t == tCacheLag {
			return "the watch cache catches up: LISTs with resourceVersion 0 see the current StatefulSet"
		}
		return fmt.Sprintf("the watch cache lags %d write: LISTs with resourceVersion 0 see the StatefulSet as it was before the latest write", t-tCacheLag)
	case t >= tDisconnect:
		o, f := disconnectOf(t)
		if f < 0 {
			return fmt.Sprintf("disconnect pod %d: its informer re-watches from its last resourceVersion and ends up where it would have", o)
		}
		return fmt.Sprintf("disconnect pod %d after it delivered its queued watch events up to configuration %s: the re-watch from that resourceVersion, now compacted, gets ERROR 410 Gone and a relist is queued (the events after it are lost)",
			o, s.cfgOf(o, f))
	}
	o := int(t - tDeliver)
	c, next := before.c[o], after.c[o]
	switch {
	case c == codeStarting:
		sel := s.sel(next)
		return fmt.Sprintf("pod %d delivers its start-up GET: it reads the StatefulSet with %s labels, so its informer %s",
			o, l, describeOpts(s.opts[sel].LabelSelector, s.opts[sel].FieldSelector))
	case s.isRelist(c):
		if s.sels[s.sel(c)].Matches(statefulSet(l, n, "")) {
			return fmt.Sprintf("pod %d relists (client-go Replace): the StatefulSet passes its selector and configures %s", o, s.config(o, next))
		}
		return fmt.Sprintf("pod %d relists (client-go Replace): the StatefulSet (labels: %s) does not pass its selector; it leaves the informer cache, there is no DeleteFunc, and the pod stays %s", o, l, s.config(o, next))
	case s.isWatching(c):
		return fmt.Sprintf("pod %d delivers its queued watch events: it serves %s", o, s.config(o, next))
	}
	if s.lagged && before.lag > 0 && before.prev > 0 && !s.universal[s.sel(c)] {
		pl, pn := LabelClass(int(before.prev-1)/(s.m+1)), int(before.prev-1)%(s.m+1)
		out := fmt.Sprintf("pod %d delivers its informer's LIST, which the lagging watch cache answers with the StatefulSet before the latest write (labels: %s, %d replicas)", o, pl, pn)
		if s.isRelist(next) {
			return out + fmt.Sprintf(", configuration %s; the watch from there gets ERROR 410 Gone (compacted) and a relist is queued", s.config(o, next))
		}
		return out + "; its watch replays the latest write"
	}
	cfg := s.config(o, next)
	if s.cached(next) {
		return fmt.Sprintf("pod %d delivers its informer's LIST: the StatefulSet passes its selector, AddFunc configures %s", o, cfg)
	}
	return fmt.Sprintf("pod %d delivers its informer's LIST: the StatefulSet (labels: %s) does not pass its selector, the LIST is empty, no Add ever comes and the pod stays %s", o, l, cfg)
}

func describeOpts(label, field string) string {
	switch {
	case label != "":
		return "selects labelSelector=" + label
	case field != "":
		return "selects fieldSelector=" + field
	}
	return "selects everything"
}

// describeEvents tells what the watching pods make of the write.
func (s *System) describeEvents(before *state, l1 LabelClass, n1 int, l2 LabelClass, n2 int, after *state) string {
	groups := map[string][]string{}
	var order []string
	for o := range s.m {
		c := before.c[o]
		if !s.isWatching(c) || after.c[o] == codeAbsent {
			continue
		}
		e := s.ev[s.evIndex(s.sel(c), s.writeIndex(l1, n1, l2, n2))]
		ev, ok := s.concreteEvent(e, l2, "")
		next := after.c[o]
		var what string
		switch {
		case ok && s.hasExt(c):
			what = string(ev.Type) + " queued (delivered later: a disconnect may drop it)"
		case !ok:
			what = "no watch event (the selector filters the StatefulSet out)"
		case ev.Type == watch.Deleted:
			what = "DELETED (the label selector no longer matches; there is no DeleteFunc, the configuration stays)"
		case s.config(o, next) != s.config(o, c):
			what = string(ev.Type) + ", reconfigured"
		default:
			what = string(ev.Type) + ", configuration unchanged"
		}
		if _, seen := groups[what]; !seen {
			order = append(order, what)
		}
		groups[what] = append(groups[what], fmt.Sprintf("%d (%s)", o, s.config(o, next)))
	}
	parts := make([]string, len(order))
	for i, what := range order {
		parts[i] = plural(len(groups[what]), "pod ", "pods ") + strings.Join(groups[what], ", ") + ": " + what
	}
	return strings.Join(parts, "; ")
}

// describeEager tells which queued starts the checker delivered at once.
func (s *System) describeEager(lazy, after *state) string {
	var parts []string
	for o := range s.m {
		if lazy.c[o] != after.c[o] {
			parts = append(parts, fmt.Sprintf("pod %d starts at once (when its start is delivered cannot change any quiescent point) and serves %s", o, s.config(o, after.c[o])))
		}
	}
	return strings.Join(parts, "; ")
}

// Export is a counterexample as an ordinary trace file.
type Export struct {
	// Trace is the replayable trace: schedule explicit, the ops and the
	// deliveries of the path, then a settle; one object per violating
	// class, with a UID found by search.
	Trace *sim.Trace
	// JSON is the trace file's content.
	JSON []byte
	// UIDs maps each violating class to the UID chosen for it.
	UIDs map[int]string
	// Replay is the simulator's result for the trace (reducer of the
	// counterexample), which Export checks is violated.
	Replay *sim.Result
}

// Export turns the counterexample into a trace file named name, replays it
// with the simulator and checks that the replay is violated at the same
// configuration. An error means the checker and the simulator disagree.
func (cx *Counterexample) Export(name string) (*Export, error) {
	x := &Export{UIDs: map[int]string{}}
	classes := append(cx.Verdict.OverlapClasses(), cx.Verdict.GapClasses()...)
	slices.Sort(classes)
	classes = slices.Compact(classes)
	var uids []string
	for _, c := range classes {
		u, err := cx.sys.classes.FindUID(c, 1)
		if err != nil {
			return nil, err
		}
		x.UIDs[c] = u
		uids = append(uids, u)
	}
	desc := "Found by simrun check (" + cx.sys.reducer.Name() + "): " + cx.describeViolationShort()
	t, err := cx.trace(name, desc, uids)
	if err != nil {
		return nil, err
	}
	data, err := formatTrace(t)
	if err != nil {
		return nil, err
	}
	res, err := cx.replay(name+".json", data)
	if err != nil {
		return nil, err
	}
	if res.Holds {
		return nil, fmt.Errorf("checker: the simulator says the exported trace holds")
	}
	x.Trace, x.JSON, x.Replay = t, data, res
	return x, nil
}

// trace builds the path as an explicit trace: the ops, each abstract
// delivery as a deliver of as many items as the simulator's inbox holds up
// to and including that start item (items of stopped incarnations and
// watch events included), then a settle. It follows the path on the
// concrete cluster and checks that it ends at the same configuration.
func (cx *Counterexample) trace(name, description string, uids []string) (*sim.Trace, error) {
	r := cx.sys.reducer
	initial := int32(cx.Initial)
	t := &sim.Trace{
		Name:        name,
		Description: description,
		Cluster: sim.Cluster{
			Namespace:   Namespace,
			StatefulSet: sim.StatefulSet{Name: StatefulSetName, Labels: Original.Labels(), Replicas: &initial, PodManagementPolicy: appsv1.ParallelPodManagement},
			Objects:     sim.Objects{UIDs: uids},
		},
		Schedule: sim.Explicit,
	}
	if !cx.Verdict.Holds() {
		t.Expect = map[string]string{r.Name(): sim.Violated}
	}
	c := newCluster(r, Original, cx.Initial)
	for i, tr := range cx.steps {
		switch {
		case tr < tScale:
			l := LabelClass(tr - tRelabel)
			c.relabel(l)
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpRelabel, Labels: l.Labels()})
		case tr < tRestart:
			n := int32(tr - tScale)
			c.scale(int(n))
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpScale, Replicas: &n})
		case tr < tDeliver:
			o := int(tr - tRestart)
			c.restart(o)
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpRestart, Pods: []int{o}})
		case tr == tCompact:
			c.compact()
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpCompact})
		case tr >= tCacheLag && tr < tDisconnect:
			n := int(tr - tCacheLag)
			c.cacheLag(n)
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpCacheLag, Writes: &n})
		case tr >= tDisconnect:
			o, f := disconnectOf(tr)
			if f >= 0 {
				// Deliver the pod's events up to a compacted position
				// with configuration f, so that the re-watch gets 410.
				count, err := cx.prefixTo(c, o, f)
				if err != nil {
					return nil, fmt.Errorf("checker: step %d: %w", i, err)
				}
				if count > 0 {
					t.Steps = append(t.Steps, sim.Step{Op: sim.OpDeliver, Pod: &o, Count: count})
				}
			}
			c.disconnect(o)
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpDisconnect, Pods: []int{o}})
			if f >= 0 {
				target := c.newest(o)
				if len(c.inbox[o]) != 1 || c.inbox[o][0].kind != citemWatchEnd || c.inbox[o][0].pod != target {
					return nil, fmt.Errorf("checker: step %d: pod %d's watch did not end alone in its inbox", i, o)
				}
				c.deliver(o)
				if !slices.ContainsFunc(c.inbox[o], func(it citem) bool { return it.pod == target && it.kind == citemExpired }) {
					return nil, fmt.Errorf("checker: step %d: pod %d's re-watch did not get 410 Gone", i, o)
				}
				t.Steps = append(t.Steps, sim.Step{Op: sim.OpDeliver, Pod: &o, Count: 1})
			}
		default:
			o := int(tr - tDeliver)
			count, err := cx.deliverAbstract(c, o, cx.states[i].c[o])
			if err != nil {
				return nil, fmt.Errorf("checker: step %d: %w", i, err)
			}
			t.Steps = append(t.Steps, sim.Step{Op: sim.OpDeliver, Pod: &o, Count: count})
		}
	}
	t.Steps = append(t.Steps, sim.Step{Op: sim.OpSettle})
	c.drain()
	if got, want := c.configuration().String(), cx.Final.String(); got != want {
		return nil, fmt.Errorf("checker: the concrete cluster ends at %s, the abstract path at %s", got, want)
	}
	return t, nil
}

// deliverAbstract delivers, on the concrete cluster, pod o's items up to
// and including what the abstract delivery from code before delivers: its
// GET or its LIST (a start item), its relist (the ERROR 410 item and the
// relist it queues), or every watch event queued for it. Items ahead of
// them (of stopped incarnations, events the abstraction delivered at
// once) go too. It returns the number of items delivered.
func (cx *Counterexample) deliverAbstract(c *cluster, o int, before podCode) (int, error) {
	s := cx.sys
	target := c.newest(o)
	var last func(citem) bool // the item that ends the delivery
	switch {
	case before == codeStarting:
		last = func(it citem) bool { return it.kind == citemGet }
	case s.isDetected(before):
		last = func(it citem) bool { return it.kind == citemList && !it.relist }
	case s.isRelist(before):
		last = func(it citem) bool { return it.kind == citemList && it.relist }
	default:
		n := 0
		for j, it := range c.inbox[o] {
			if it.pod == target && it.kind == citemEvent {
				n = j + 1
			}
		}
		if n == 0 {
			return 0, fmt.Errorf("pod %d has no queued watch event to deliver", o)
		}
		for range n {
			c.deliver(o)
		}
		return n, nil
	}
	count := 0
	for {
		if len(c.inbox[o]) == 0 || target < 0 {
			return 0, fmt.Errorf("pod %d's inbox ran empty before the item to deliver (%s)", o, s.describeCode(o, before))
		}
		head := c.inbox[o][0]
		c.deliver(o)
		count++
		if head.pod == target && last(head) {
			return count, nil
		}
	}
}

// prefixTo returns how many of pod o's queued items to deliver so that its
// informer is at a compacted resourceVersion with configuration index f: a
// re-watch from there gets 410 Gone. It finds them on a copy of c.
func (cx *Counterexample) prefixTo(c *cluster, o, f int) (int, error) {
	s := cx.sys
	d := c.clone()
	target := d.newest(o)
	if target < 0 {
		return 0, fmt.Errorf("pod %d does not exist", o)
	}
	for count := 0; ; count++ {
		p := d.pods[target]
		if code, err := s.abstractPod(o, p.state); err == nil && s.isWatching(code) && s.cfgIndex(code) == f && p.watching && p.ssRV < d.compacted {
			return count, nil
		}
		if len(d.inbox[o]) == 0 {
			return 0, fmt.Errorf("pod %d never reaches a compacted resourceVersion with configuration %s", o, s.cfgOf(o, f))
		}
		d.deliver(o)
	}
}

// replay parses data as a trace file and replays it with the simulator. It
// checks that the last checkpoint is the end of the trace, at the
// configuration and with the verdict of the abstract path.
func (cx *Counterexample) replay(name string, data []byte) (*sim.Result, error) {
	parsed, err := sim.ParseTrace(name, data)
	if err != nil {
		return nil, fmt.Errorf("checker: the exported trace does not parse: %w", err)
	}
	rep, err := sim.Replay(parsed, []model.Reducer{cx.sys.reducer}, sim.Options{})
	if err != nil {
		return nil, fmt.Errorf("checker: the exported trace does not replay: %w", err)
	}
	res := rep.Results[0]
	last := res.Checkpoints[len(res.Checkpoints)-1]
	got := Configuration{Labels: cx.Final.Labels, Replicas: last.Replicas, Pods: last.Pods}
	if last.Step != len(parsed.Steps)-1 || got.String() != cx.Final.String() {
		return nil, fmt.Errorf("checker: the simulator ends the trace at %s (step %d), the checker at %s", got, last.Step, cx.Final)
	}
	if parsed.Cluster.Objects.UIDs != nil && last.Holds() != cx.Verdict.Holds() {
		return nil, fmt.Errorf("checker: at %s the simulator says holds=%v, the checker %v", got, last.Holds(), cx.Verdict.Holds())
	}
	return res, nil
}

func (cx *Counterexample) describeViolationShort() string {
	var ops []string
	for _, t := range cx.steps {
		if isOp(t) {
			ops = append(ops, cx.sys.opName(t))
		}
	}
	var what []string
	if !cx.Verdict.Overlap.empty() {
		what = append(what, "objects exported twice")
	}
	if !cx.Verdict.Gap.empty() {
		what = append(what, "objects exported by no pod")
	}
	between := ""
	if cx.Deliveries() > 0 {
		between = ", with the deliveries in between as listed,"
	}
	return fmt.Sprintf("from %d settled %s, %s%s ends with %s",
		cx.Initial, plural(cx.Initial, "replica", "replicas"), strings.Join(ops, ", then "), between, strings.Join(what, " and "))
}

// formatTrace renders a trace as a file in the style of traces/: two-space
// indentation, one step per line.
func formatTrace(t *sim.Trace) ([]byte, error) {
	var b bytes.Buffer
	str := func(v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			panic(err) // strings, maps of strings and plain structs always marshal
		}
		return string(data)
	}
	cluster, err := json.MarshalIndent(t.Cluster, "  ", "  ")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "{\n  \"name\": %s,\n  \"description\": %s,\n  \"cluster\": %s,\n  \"schedule\": %s,\n  \"steps\": [\n",
		str(t.Name), str(t.Description), cluster, str(t.Schedule))
	for i, st := range t.Steps {
		sep := ","
		if i == len(t.Steps)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %s%s\n", str(st), sep)
	}
	fmt.Fprintf(&b, "  ],\n  \"expect\": %s\n}\n", str(t.Expect))
	return b.Bytes(), nil
}
