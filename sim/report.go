package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shardsim/shardsim/internal/textsafe"
	"github.com/shardsim/shardsim/model"
)

// Report is the outcome of replaying one trace against some reducers. Its
// JSON form is stable: fields may be added, none renamed or removed.
type Report struct {
	Trace       string    `json:"trace"`
	Description string    `json:"description,omitempty"`
	Schedule    string    `json:"schedule"`
	Objects     int       `json:"objects"`
	Results     []*Result `json:"results"`
}

// Result is the outcome for one reducer.
type Result struct {
	Reducer string `json:"reducer"`
	Models  string `json:"models"`
	// Mode is how the trace's KSM pods shard: ModeStatic, or empty for
	// autosharding.
	Mode  string `json:"mode,omitempty"`
	Holds bool   `json:"holds"`
	// Checkpoints has one entry per quiescent point, the initial one first.
	Checkpoints []Checkpoint `json:"checkpoints"`
	// Transient has one entry per step that ended with items still
	// undelivered (explicit schedule only): violations there are normal
	// and fail the result only under Options.Strict.
	Transient []Checkpoint `json:"transient,omitempty"`
	// Windows has, with Options.Windows, one entry per step during which
	// some delivery changed what a pod serves: the properties measured
	// after each such delivery, between the quiescent points.
	Windows []Window `json:"windows,omitempty"`
	// Properties are the properties the verdict judged, when the trace
	// names them (Trace.Properties; empty: both).
	Properties []string `json:"properties,omitempty"`
	// Judge is the trace's judgement, when it names one (Trace.Judge).
	Judge string `json:"judge,omitempty"`
	// Pending counts the items still undelivered when the trace ended.
	Pending int        `json:"pending,omitempty"`
	Log     []LogEntry `json:"log,omitempty"`
	// Timeline is the impact over simulated time, with
	// Options.Timeline.
	Timeline *Timeline `json:"timeline,omitempty"`
}

// Sharding modes of a trace (KSM README: "Horizontal sharding",
// "Automated sharding"); Result.Mode.
const (
	// ModeStatic: Deployments run with --shard and --total-shards.
	ModeStatic = "static"
	// ModeDaemonSet: pods sharded by node (a DaemonSet run with --node).
	ModeDaemonSet = "daemonset"
	// ModeMixed: pods sharded by node, the other objects by
	// autosharding.
	ModeMixed = "mixed"
)

// Checkpoint is the state of the shards at the end of one step.
type Checkpoint struct {
	Step int    `json:"step"` // index into steps, -1 for the initial point
	Op   string `json:"op"`
	// Start is the simulated time of the step's op, At of this point:
	// the step took At-Start (clock.go).
	Start    Seconds     `json:"start"`
	At       Seconds     `json:"at"`
	Replicas int         `json:"replicas"` // the StatefulSet's spec.replicas; static: the Deployments' replicas summed
	Objects  int         `json:"objects"`  // live objects
	Pending  int         `json:"pending,omitempty"`
	Pods     []PodConfig `json:"pods"`
	Complete bool        `json:"complete"`
	Disjoint bool        `json:"disjoint"`
	Gap      UIDSet      `json:"gap"`
	Overlap  UIDSet      `json:"overlap"`
	// Nodes is DaemonSet sharding's part: the pods and their KSM pods by
	// node (nil without a DaemonSet). Complete and Disjoint are judged
	// on both resources; Gap and Overlap above are the other objects'.
	Nodes *NodeCheckpoint `json:"nodes,omitempty"`
	// Healing says, for a violated point, whether it heals without
	// further ops or faults: Permanent or SelfHealing (empty when the
	// properties hold).
	Healing string `json:"healing,omitempty"`
}

// Healing verdicts of a violation (DESIGN.md, "Properties on what is
// exported"). At a quiescent point nothing is left to deliver and nothing
// in KSM's reflectors is timed (resync period 0; a watch that times out
// is re-opened from its resourceVersion and changes no store), so a
// violation there is permanent: it lasts until an op changes something. At
// a transient point it is self-healing when delivering what is pending,
// and nothing else, ends at a point where the properties hold.
const (
	Permanent   = "permanent"
	SelfHealing = "self-healing"
)

// Window is the transient window of one step: the intermediate states
// after each delivery that changed what a pod serves.
type Window struct {
	Step       int    `json:"step"`
	Op         string `json:"op"`
	States     int    `json:"states"`   // intermediate states measured
	Violated   int    `json:"violated"` // of which violate a property
	MaxGap     int    `json:"maxGap"`
	MaxOverlap int    `json:"maxOverlap"`
	// Healing: whether the violated states heal by the end of the
	// step's drain (SelfHealing) or not (Permanent); empty when none is
	// violated.
	Healing string `json:"healing,omitempty"`
}

// Holds reports whether both properties hold at the checkpoint.
func (c Checkpoint) Holds() bool { return c.Complete && c.Disjoint }

// PodConfig is one serving pod's configuration and how many objects it
// exports (what its store holds: /metrics).
type PodConfig struct {
	Pod int `json:"pod"` // ordinal, or lane
	// Name names the lane of a pod that is not a StatefulSet's: its
	// Deployment (and "#slot" beyond the first replica).
	Name     string `json:"name,omitempty"`
	Shard    int32  `json:"shard"`
	Total    int    `json:"total"`
	Exported int    `json:"exported"`
}

// String renders the pod as reports show it: "ordinal:shard/total=exported",
// the lane's name in place of the ordinal when it has one.
func (p PodConfig) String() string {
	who := strconv.Itoa(p.Pod)
	if p.Name != "" {
		who = p.Name
	}
	return fmt.Sprintf("%s:%d/%d=%d", who, p.Shard, p.Total, p.Exported)
}

// UIDSet is a set of objects: the exact count and the sorted UIDs (which
// a report may cap).
type UIDSet struct {
	Count int      `json:"count"`
	UIDs  []string `json:"uids"`
}

// LogKind classifies an event-log entry.
type LogKind string

// Kinds of log entries. Cluster entries have Pod -1.
const (
	LogWrite          LogKind = "write"           // cluster: the StatefulSet was written
	LogNoWrite        LogKind = "no-write"        // cluster: an update that changed nothing
	LogObjects        LogKind = "objects"         // cluster: objects created or deleted
	LogCreated        LogKind = "created"         // a pod was created, its start queued
	LogDeletionQueued LogKind = "deletion-queued" // a pod's deletion was queued
	LogGet            LogKind = "get"             // a pod did its start-up GET
	LogStarted        LogKind = "started"         // a pod without autosharding started: sharding from its flags
	LogRestarted      LogKind = "restarted"       // the kubelet restarted a crashed container
	LogList           LogKind = "list"            // a pod's informer listed and started watching
	LogListFailed     LogKind = "list-failed"     // the LIST was refused
	LogWatchAdded     LogKind = "watch-added"     // a pod received a watch event ...
	LogWatchModified  LogKind = "watch-modified"
	LogWatchDeleted   LogKind = "watch-deleted"
	LogStopped        LogKind = "stopped"   // a pod was deleted
	LogWatchEnd       LogKind = "watch-end" // a pod's informer watch ended (disconnect, 410 Gone)
	LogFault          LogKind = "fault"     // cluster: a fault op (compact, cacheLag, disconnect)

	LogObjectsList     LogKind = "objects-list"      // a pod's objects reflector got a LIST page
	LogObjectsWatch    LogKind = "objects-watch"     // ... a watch event
	LogObjectsWatchEnd LogKind = "objects-watch-end" // ... the end of its watch
)

// LogEntry is one line of the event log: something the cluster did
// (Pod -1) or an item one pod processed, with what the pod made of it.
type LogEntry struct {
	Step    int          `json:"step"`
	At      Seconds      `json:"at"` // simulated time
	Kind    LogKind      `json:"kind"`
	Pod     int          `json:"pod"`
	PodUID  string       `json:"podUID,omitempty"`
	Event   string       `json:"event"`
	Outcome string       `json:"outcome,omitempty"`
	Config  model.Config `json:"config"`
	Changed bool         `json:"changed,omitempty"`
	event   model.Event  // what was folded into the pod's state
}

// Replay runs t against each reducer and returns the report.
func Replay(t *Trace, reducers []model.Reducer, opts Options) (*Report, error) {
	rep := &Report{Trace: t.Name, Description: t.Description, Schedule: t.Schedule}
	for _, r := range reducers {
		res, err := Run(t, r, opts)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, res)
	}
	if len(rep.Results) > 0 && len(rep.Results[0].Checkpoints) > 0 {
		rep.Objects = rep.Results[0].Checkpoints[0].Objects
	}
	return rep, nil
}

// Holds reports whether every result holds.
func (r *Report) Holds() bool {
	for _, res := range r.Results {
		if !res.Holds {
			return false
		}
	}
	return true
}

// Cap limits every UID list to at most n entries (n < 0: no limit). The
// counts stay exact.
func (r *Report) Cap(n int) {
	if n < 0 {
		return
	}
	for _, res := range r.Results {
		for _, cs := range [][]Checkpoint{res.Checkpoints, res.Transient} {
			for i := range cs {
				cs[i].Gap.UIDs = cs[i].Gap.UIDs[:min(n, len(cs[i].Gap.UIDs))]
				cs[i].Overlap.UIDs = cs[i].Overlap.UIDs[:min(n, len(cs[i].Overlap.UIDs))]
				if nc := cs[i].Nodes; nc != nil {
					nc.Gap.UIDs = nc.Gap.UIDs[:min(n, len(nc.Gap.UIDs))]
					nc.Overlap.UIDs = nc.Overlap.UIDs[:min(n, len(nc.Overlap.UIDs))]
				}
			}
		}
	}
}

// WriteJSON writes the report as indented JSON. Logs are included only
// when withLog is set.
func (r *Report) WriteJSON(w io.Writer, withLog bool) error {
	out := *r
	if !withLog {
		out.Results = make([]*Result, len(r.Results))
		for i, res := range r.Results {
			c := *res
			c.Log = nil
			out.Results[i] = &c
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteText writes the human-readable report: per reducer, a table with a
// row per checkpoint and a verdict in words. Text that comes from the
// trace (its name and description) or a backend is printed as it is when
// printable, and quoted with escapes (textsafe.Text) when it holds control
// characters, so that a trace cannot move the cursor, clear the screen or
// print lines of its own.
func (r *Report) WriteText(w io.Writer, withLog bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s", textsafe.Text(r.Trace))
	if r.Description != "" {
		fmt.Fprintf(&b, ": %s", textsafe.Text(r.Description))
	}
	switch what := fmt.Sprintf("%d objects", r.Objects); {
	case len(r.Results) == 0 || len(r.Results[0].Checkpoints) == 0 || r.Results[0].Checkpoints[0].Nodes == nil:
		fmt.Fprintf(&b, "\nschedule %s, %s\n", textsafe.Text(r.Schedule), what)
	default:
		n := r.Results[0].Checkpoints[0].Nodes
		pods := fmt.Sprintf("%d pods on %d nodes", n.Pods, len(n.Nodes))
		if r.Results[0].Mode == ModeMixed {
			pods = what + ", " + pods
		}
		fmt.Fprintf(&b, "\nschedule %s, %s\n", textsafe.Text(r.Schedule), pods)
	}
	for _, res := range r.Results {
		fmt.Fprintf(&b, "\n%s (%s)\n", textsafe.Text(res.Reducer), textsafe.Text(res.Models))
		table := func(header string, row func(io.Writer, Checkpoint, string)) {
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, header)
			// Checkpoints and transient entries, merged in step order.
			cs, ts := res.Checkpoints, res.Transient
			for len(cs) > 0 || len(ts) > 0 {
				if len(ts) == 0 || (len(cs) > 0 && cs[0].Step <= ts[0].Step) {
					row(tw, cs[0], "")
					cs = cs[1:]
					continue
				}
				row(tw, ts[0], fmt.Sprintf(" (transient, %d pending)", ts[0].Pending))
				ts = ts[1:]
			}
			tw.Flush()
		}
		const cols = "\tCOMPLETE\tDISJOINT\tGAP\tOVERLAP\tHEALING"
		switch res.Mode {
		case ModeStatic:
			table("  STEP\tOP\tREPLICAS\tPODS (deployment:shard/total=exported)"+cols, writeRow)
		case ModeDaemonSet:
			table("  STEP\tOP\tNODES\tKSM PODS (node=exported)\tPODS (unscheduled)"+cols, writeNodeRow)
		case ModeMixed:
			b.WriteString("  configmaps, by autosharding:\n")
			table("  STEP\tOP\tREPLICAS\tPODS (ordinal:shard/total=exported)"+cols, writeRow)
			b.WriteString("  pods, by DaemonSet sharding:\n")
			table("  STEP\tOP\tNODES\tKSM PODS (node=exported)\tPODS (unscheduled)"+cols, writeNodeRow)
		default:
			table("  STEP\tOP\tREPLICAS\tPODS (ordinal:shard/total=exported)"+cols, writeRow)
		}
		for _, w := range res.Windows {
			if w.Violated == 0 {
				continue
			}
			step := "setup"
			if w.Step >= 0 {
				step = fmt.Sprintf("step %d (%s)", w.Step, textsafe.Text(w.Op))
			}
			fmt.Fprintf(&b, "  transient window during %s: %d of %d intermediate states violated, worst gap %d, worst overlap %d (%s)\n",
				step, w.Violated, w.States, w.MaxGap, w.MaxOverlap, w.Healing)
		}
		fmt.Fprintf(&b, "  verdict: %s\n", textsafe.Text(Verdict(res)))
		if res.Timeline != nil {
			res.Timeline.writeText(&b)
		}
		if withLog {
			b.WriteString("  event log:\n")
			for _, e := range res.Log {
				b.WriteString("    " + textsafe.Text(e.String()) + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeRow(w io.Writer, c Checkpoint, note string) {
	step := "init"
	if c.Step >= 0 {
		step = fmt.Sprint(c.Step)
	}
	pods := make([]string, len(c.Pods))
	for i, p := range c.Pods {
		pods[i] = p.String()
	}
	complete, disjoint := c.Complete, c.Disjoint
	if c.Nodes != nil { // the other objects' only
		complete, disjoint = c.Gap.Count == 0, c.Overlap.Count == 0
	}
	fmt.Fprintf(w, "  %s\t%s%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\n", step, textsafe.Text(c.Op), note, c.Replicas,
		strings.Join(pods, " "), yesNo(complete), yesNo(disjoint), c.Gap.Count, c.Overlap.Count, healingOf(c, complete && disjoint))
}

// healingOf is the HEALING column of a row whose properties hold or not.
func healingOf(c Checkpoint, holds bool) string {
	if holds || c.Healing == "" {
		return "-"
	}
	return c.Healing
}

// writeNodeRow writes DaemonSet sharding's row of a point.
func writeNodeRow(w io.Writer, c Checkpoint, note string) {
	step := "init"
	if c.Step >= 0 {
		step = fmt.Sprint(c.Step)
	}
	n := c.Nodes
	ksm := make([]string, len(n.Instances))
	for i, in := range n.Instances {
		ksm[i] = in.String()
	}
	if len(ksm) == 0 {
		ksm = []string{"none"}
	}
	fmt.Fprintf(w, "  %s\t%s%s\t%d\t%s\t%d (%d)\t%s\t%s\t%d\t%d\t%s\n", step, textsafe.Text(c.Op), note, len(n.Nodes),
		textsafe.Text(strings.Join(ksm, " ")), n.Pods, n.Pending, yesNo(n.Complete), yesNo(n.Disjoint), n.Gap.Count, n.Overlap.Count,
		healingOf(c, n.Complete && n.Disjoint))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// Verdict says in plain words whether a result holds and, if not, what
// went wrong first.
func Verdict(res *Result) string {
	for _, c := range res.Checkpoints {
		if res.judge(c.Complete, c.Disjoint) {
			continue
		}
		if n := c.Nodes; n != nil && !res.judge(n.Complete, n.Disjoint) {
			return fmt.Sprintf("VIOLATED (%s): %s %s", c.Healing, pointName(c), nodeViolation(n))
		}
		var what []string
		if c.Overlap.Count > 0 {
			what = append(what, fmt.Sprintf("%d of %d objects are exported twice", c.Overlap.Count, c.Objects))
		}
		if c.Gap.Count > 0 {
			what = append(what, fmt.Sprintf("%d of %d objects are exported by no pod", c.Gap.Count, c.Objects))
		}
		if isStatic(c) {
			if configsAgree(c) {
				return fmt.Sprintf("VIOLATED (%s): %s the static shards partition the objects, yet what the pods export does not: %s",
					c.Healing, pointName(c), strings.Join(what, ", "))
			}
			return fmt.Sprintf("VIOLATED (%s): %s the static shards do not partition the objects (%s): %s",
				c.Healing, pointName(c), staticShards(c), strings.Join(what, ", "))
		}
		if configsAgree(c) {
			// Only a backend that judges exports gets here: the
			// configurations partition the objects, what the pods
			// export does not (a store that never synced, say).
			return fmt.Sprintf("VIOLATED (%s): %s every pod's configuration agrees with spec.replicas=%d, yet what they export does not: %s",
				c.Healing, pointName(c), c.Replicas, strings.Join(what, ", "))
		}
		return fmt.Sprintf("VIOLATED (%s): %s the pods disagree with spec.replicas=%d (%s): %s",
			c.Healing, pointName(c), c.Replicas, disagreement(c), strings.Join(what, ", "))
	}
	if len(res.Checkpoints) == 0 {
		return "no quiescent point reached: nothing checked"
	}
	// Transient violations of the judged properties (all when the trace
	// names none).
	judged := func(c Checkpoint) bool {
		return !c.Holds() && (len(res.Properties) == 0 || !res.judge(c.Complete, c.Disjoint))
	}
	n := 0
	for _, c := range res.Transient {
		if judged(c) {
			n++
		}
	}
	for _, w := range res.Windows {
		if w.Violated > 0 && (len(res.Properties) == 0 || !res.judge(w.MaxGap == 0, w.MaxOverlap == 0)) {
			n++
		}
	}
	points := fmt.Sprintf("all %d quiescent points", len(res.Checkpoints))
	if len(res.Checkpoints) == 1 {
		points = "the only quiescent point"
	}
	claim := "every object is exported exactly once"
	switch {
	case slices.Equal(res.Properties, []string{PropDisjoint}):
		claim = "no object is exported twice"
	case slices.Equal(res.Properties, []string{PropComplete}):
		claim = "every object is exported"
	}
	v := "holds: " + claim + " at " + points
	if res.Judge == JudgeEveryPoint {
		v = "holds: " + claim + " at every point (" + points + " and every point between them)"
	}
	if !res.Holds {
		// Only strict checking fails a result whose checkpoints hold.
		v = "VIOLATED (strict): " + claim + " at " + points + ", but not between them"
	}
	permanent := 0
	for _, c := range res.Transient {
		if c.Healing == Permanent && judged(c) {
			permanent++
		}
	}
	switch {
	case n == 1:
		v += " (transient violations during 1 step"
	case n > 1:
		v += fmt.Sprintf(" (transient violations during %d steps", n)
	}
	switch {
	case n > 0 && permanent == 0:
		v += ", all self-healing)"
	case n > 0:
		v += fmt.Sprintf(", %d of them permanent)", permanent)
	}
	if res.Pending > 0 {
		v += fmt.Sprintf("; the trace ends with %d undelivered items", res.Pending)
	}
	return v
}

// pointName names a point in a verdict: "at the start", "after step 2
// (scale)".
func pointName(c Checkpoint) string {
	if c.Step < 0 {
		return "at the start"
	}
	return fmt.Sprintf("after step %d (%s)", c.Step, c.Op)
}

// nodeViolation says what DaemonSet sharding gets wrong at a point, and
// why, from what the point shows.
func nodeViolation(n *NodeCheckpoint) string {
	var what, why []string
	if n.Overlap.Count > 0 {
		what = append(what, fmt.Sprintf("%d of %d pods are exported twice", n.Overlap.Count, n.Pods))
	}
	if n.Gap.Count > 0 {
		what = append(what, fmt.Sprintf("%d of %d pods are exported by no KSM pod", n.Gap.Count, n.Pods))
	}
	serves := map[string]bool{}
	for _, in := range n.Instances {
		switch {
		case in.Failed != "":
			why = append(why, fmt.Sprintf("KSM pod %s exited (%s)", in.Pod, in.Failed))
		case !in.Started:
			why = append(why, fmt.Sprintf("KSM pod %s has not started", in.Pod))
		case in.Selector == "":
			why = append(why, fmt.Sprintf("KSM pod %s has no field selector: it exports every pod", in.Pod))
		case in.Node != "" && in.Selector != "spec.nodeName="+in.Node:
			why = append(why, fmt.Sprintf("KSM pod %s on node %s selects %s", in.Pod, in.Node, in.Selector))
		}
		if in.Failed == "" {
			serves[in.Node] = true
		}
	}
	for _, nd := range n.Nodes {
		if !serves[nd.Node] && nd.Pods > 0 {
			reason := "no KSM pod runs there"
			if nd.Tainted {
				reason = "tainted: no KSM pod runs there"
			}
			why = append(why, fmt.Sprintf("node %s (%d pods): %s", nd.Node, nd.Pods, reason))
		}
	}
	if n.Pending > 0 && !serves[""] {
		why = append(why, fmt.Sprintf("%d pods are bound to no node and no KSM pod tracks them", n.Pending))
	}
	out := strings.Join(what, ", ")
	if len(why) > 0 {
		out += ": " + strings.Join(why, "; ")
	}
	return out
}

// isStatic reports whether the checkpoint's pods are statically sharded
// Deployments' (their lanes are named).
func isStatic(c Checkpoint) bool {
	return len(c.Pods) > 0 && c.Pods[0].Name != ""
}

// staticShards renders the static pods' flags: "ksm-shard-0 0/2, ...".
func staticShards(c Checkpoint) string {
	parts := make([]string, len(c.Pods))
	for i, p := range c.Pods {
		parts[i] = fmt.Sprintf("%s runs %d/%d", p.Name, p.Shard, p.Total)
	}
	return strings.Join(parts, ", ")
}

// configsAgree reports whether the serving pods are exactly shards
// 0..replicas-1 of spec.replicas, once each; for static pods, whether
// they are exactly shards 0..n-1 of one total n, once each.
func configsAgree(c Checkpoint) bool {
	if isStatic(c) {
		n := c.Pods[0].Total
		seen := make([]bool, n)
		for _, p := range c.Pods {
			if p.Total != n || p.Shard < 0 || int(p.Shard) >= n || seen[p.Shard] {
				return false
			}
			seen[p.Shard] = true
		}
		return len(c.Pods) == n
	}
	if len(c.Pods) != c.Replicas {
		return false
	}
	seen := make([]bool, c.Replicas)
	for _, p := range c.Pods {
		if p.Total != c.Replicas || p.Shard != int32(p.Pod) || p.Pod < 0 || p.Pod >= c.Replicas || seen[p.Pod] {
			return false
		}
		seen[p.Pod] = true
	}
	return true
}

func disagreement(c Checkpoint) string {
	var stale []string
	for _, p := range c.Pods {
		if p.Total != c.Replicas || p.Shard != int32(p.Pod) {
			stale = append(stale, fmt.Sprintf("pod %d holds %d/%d", p.Pod, p.Shard, p.Total))
		}
	}
	serving := map[int]bool{}
	for _, p := range c.Pods {
		serving[p.Pod] = true
	}
	var missing []string
	for o := range c.Replicas {
		if !serving[o] {
			missing = append(missing, strconv.Itoa(o))
		}
	}
	switch {
	case len(missing) == 1:
		stale = append(stale, "no pod "+missing[0]+" serves")
	case len(missing) > 1:
		stale = append(stale, "no pods "+strings.Join(missing, ", ")+" serve")
	}
	if len(stale) == 0 {
		return "no pod is stale"
	}
	return strings.Join(stale, ", ")
}

// String renders a log entry on one line.
func (e LogEntry) String() string {
	step := "init"
	if e.Step >= 0 {
		step = fmt.Sprintf("step %d", e.Step)
	}
	who := "cluster"
	switch {
	case e.Pod >= 0 && e.PodUID == "":
		who = fmt.Sprintf("pod %d", e.Pod)
	case e.Pod >= 0:
		who = fmt.Sprintf("pod %d (%s)", e.Pod, e.PodUID)
	case e.PodUID != "":
		who = "KSM pod " + e.PodUID // of DaemonSet sharding, by name
	}
	s := fmt.Sprintf("[%s %s] %s: %s", step, FormatDuration(time.Duration(e.At)), who, e.Event)
	if e.Outcome != "" {
		s += " => " + e.Outcome
	}
	return s
}

// judge reports whether a point with these properties holds, judging
// only res.Properties when they are named.
func (res *Result) judge(complete, disjoint bool) bool {
	if len(res.Properties) == 0 {
		return complete && disjoint
	}
	return (complete || !slices.Contains(res.Properties, PropComplete)) && (disjoint || !slices.Contains(res.Properties, PropDisjoint))
}
