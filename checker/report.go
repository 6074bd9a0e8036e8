package checker

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WriteText writes the human-readable report of r: the bounds, the
// verdict (with the counterexample in plain words when there is one) and
// the figures. x is the counterexample's export, when there is one;
// path, when not empty, is where its trace was written.
func (r *Result) WriteText(w io.Writer, x *Export, path string) error {
	var b strings.Builder
	m := r.MaxReplicas
	fmt.Fprintf(&b, "check %s (%s)\n", r.Reducer.Name(), r.Reducer.Models())
	fmt.Fprintf(&b, "  bounds   start settled with 1..%d replicas; up to %d cluster ops: relabel (original, superset,\n", m, r.Depth)
	fmt.Fprintf(&b, "           changed value, removed key), scale to 0..%d, restart one pod; every order of the\n", m)
	b.WriteString("           pods' deliveries between them (a pod's start is a GET, then a LIST)\n")
	if r.Faults != 0 {
		fmt.Fprintf(&b, "  faults   %s; each is one op, and the StatefulSet\n", r.describeFaults())
		b.WriteString("           informers' watch ends, 410 Gone and relists are delivered in every order\n")
	}
	fmt.Fprintf(&b, "  objects  every possible UID: %d jump-hash trajectory %s over 1..%d shards\n", r.Classes, plural(r.Classes, "class", "classes"), m)
	b.WriteString("\n")
	if cx := r.Counterexample; cx != nil {
		fmt.Fprintf(&b, "verdict: VIOLATED: shortest counterexample: %d cluster %s, %d explicit %s\n",
			cx.Ops(), plural(cx.Ops(), "op", "ops"), cx.Deliveries(), plural(cx.Deliveries(), "delivery", "deliveries"))
		lines := cx.Describe()
		if x != nil {
			lines[len(lines)-1] = "then every item still queued is delivered (watch events, stops, starts whose timing cannot matter): " + cx.describeViolation(x.UIDs)
		}
		for i, l := range lines {
			fmt.Fprintf(&b, "  %d. %s\n", i, l)
		}
		if x != nil {
			last := x.Replay.Checkpoints[len(x.Replay.Checkpoints)-1]
			where := "not written (use --out DIR)"
			if path != "" {
				where = path
			}
			fmt.Fprintf(&b, "  trace: %s\n", where)
			fmt.Fprintf(&b, "  replayed with the simulator: violated at step %d: %d of %d objects exported by no pod, %d exported twice\n",
				last.Step, last.Gap.Count, last.Objects, last.Overlap.Count)
		}
	} else if r.Holds {
		b.WriteString("verdict: holds for all UIDs: complete and disjoint at every quiescent point of every path within the bounds\n")
	}
	fmt.Fprintf(&b, "  safety    %s\n", r.safetyLine())
	fmt.Fprintf(&b, "  liveness  %s\n", r.livenessLine())
	b.WriteString("\n")
	depth := fmt.Sprintf("%d of %d", r.Reached, r.Depth)
	switch {
	case r.Counterexample != nil && r.Reached < r.Depth:
		depth += " (stopped at the first layer with a violation)"
	case r.Saturated:
		depth += fmt.Sprintf(" (nothing new is reachable after %d %s: the verdict holds for any number of ops)",
			r.SaturatedAt, plural(r.SaturatedAt, "op", "ops"))
	}
	rows := [][2]string{
		{"states explored", group(r.Explored)},
		{"distinct states", group(r.Distinct)},
		{"quiescent states", group(r.Quiescent) + " checked"},
	}
	if r.Faults != 0 {
		rows = append(rows, [2]string{"drained states", group(r.Drained) + " followed to a quiescent point"})
	}
	rows = append(rows, [][2]string{
		{"depth", depth},
		{"wall time", roundDuration(r.Elapsed).String()},
		{"states/s", rate(r.StatesPerSecond())},
		{"memory", fmt.Sprintf("%.1f MB (visited set and state arrays)", float64(r.Memory)/(1<<20))},
		{"workers", strconv.Itoa(r.Workers)},
	}...)
	for _, row := range rows {
		fmt.Fprintf(&b, "  %-17s %s\n", row[0], row[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String renders a progress snapshot on one line.
func (p Progress) String() string {
	r := 0.0
	if p.Elapsed > 0 {
		r = float64(p.Explored) / p.Elapsed.Seconds()
	}
	return fmt.Sprintf("depth %d: %s states explored, %s distinct, frontier %s, %s states/s, %s",
		p.Depth, group(p.Explored), group(p.Distinct), group(uint64(max(p.Frontier, 0))), rate(r), roundDuration(p.Elapsed))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// group renders n with thousands separators.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func rate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.1fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.0fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// describeFaults names the fault ops of the bounds in words.
func (r *Result) describeFaults() string { return strings.Join(faultOps(r.Faults), ", ") }

// faultOps names each fault op of f in words, in the order of the flag.
func faultOps(f Faults) []string {
	var parts []string
	if f.Has(Compact) {
		parts = append(parts, "compact")
	}
	if f.Has(Disconnect) {
		parts = append(parts, "disconnect one pod")
	}
	if f.Has(CacheLag) {
		parts = append(parts, fmt.Sprintf("cacheLag to 0..%d writes", MaxCacheLag))
	}
	return parts
}

// safetyLine is the safety verdict: the properties at quiescent points.
func (r *Result) safetyLine() string {
	if r.Holds {
		return fmt.Sprintf("holds: complete and disjoint at all %s quiescent states", group(r.Quiescent))
	}
	return "VIOLATED: at the counterexample's quiescent point"
}

// livenessLine is the liveness verdict: eventually complete and disjoint
// once ops stop.
func (r *Result) livenessLine() string {
	switch {
	case r.Liveness && r.Faults == 0:
		return "holds: once ops stop, every state drains to a quiescent point where complete and disjoint hold (without faults every queued item is a GET or a LIST, so each drain ends at a checked quiescent point)"
	case r.Liveness && r.Drained == 0:
		return "holds: once ops stop, every state drains to a quiescent point where complete and disjoint hold (every distinct state is quiescent: the reductions deliver everything at once)"
	case r.Liveness:
		return fmt.Sprintf("holds: once ops stop, every state drains to a quiescent point where complete and disjoint hold (%s non-quiescent states drained)", group(r.Drained))
	case !r.Holds:
		return "VIOLATED: once ops stop at the counterexample's quiescent point, nothing is left to deliver and nothing is timed: it stays violated"
	}
	return "VIOLATED although safety holds: some drain ends at a violated quiescent point that was not checked, or never ends: a bug in the checker"
}

// JSON is the machine-readable report of a check (simrun check --format
// json).
type JSON struct {
	Reducer     string   `json:"reducer"`
	Models      string   `json:"models"`
	MaxReplicas int      `json:"maxReplicas"`
	Depth       int      `json:"depth"`
	Faults      []string `json:"faults"`
	Classes     int      `json:"classes"`
	// Holds is safety and liveness together.
	Holds    bool         `json:"holds"`
	Safety   JSONSafety   `json:"safety"`
	Liveness JSONLiveness `json:"liveness"`
	Explored uint64       `json:"explored"`
	Distinct uint64       `json:"distinct"`
	// Reached is the deepest layer explored; Saturated says that a layer
	// before depth added nothing (SaturatedAt ops).
	Reached        int                 `json:"reached"`
	Saturated      bool                `json:"saturated"`
	SaturatedAt    int                 `json:"saturatedAt,omitempty"`
	WallSeconds    float64             `json:"wallSeconds"`
	MemoryBytes    uint64              `json:"memoryBytes"`
	Workers        int                 `json:"workers"`
	Counterexample *JSONCounterexample `json:"counterexample,omitempty"`
}

// JSONSafety is the safety verdict: complete and disjoint at every
// quiescent point.
type JSONSafety struct {
	Holds     bool   `json:"holds"`
	Quiescent uint64 `json:"quiescent"`
	Violating uint64 `json:"violating"`
}

// JSONLiveness is the liveness verdict: eventually complete and disjoint
// once ops stop; Drained counts the non-quiescent states whose drain was
// followed (0 without faults).
type JSONLiveness struct {
	Holds   bool   `json:"holds"`
	Drained uint64 `json:"drained"`
}

// JSONCounterexample is the shortest counterexample.
type JSONCounterexample struct {
	Ops        int      `json:"ops"`
	Deliveries int      `json:"deliveries"`
	Initial    int      `json:"initialReplicas"`
	Steps      []string `json:"steps"`
	// Replicas and Pods are the quiescent point that fails: spec.replicas
	// and every serving pod's configuration.
	Replicas       int            `json:"replicas"`
	Pods           []JSONPod      `json:"pods"`
	GapClasses     []int          `json:"gapClasses"`
	OverlapClasses []int          `json:"overlapClasses"`
	UIDs           map[int]string `json:"uids,omitempty"`
	// Trace is where --out wrote the trace ("" when not written).
	Trace string `json:"trace"`
	// Replay is the simulator's last checkpoint of the trace.
	Replay *JSONReplay `json:"replay,omitempty"`
}

// JSONPod is a serving pod: its ordinal and configuration shard/total.
type JSONPod struct {
	Pod   int   `json:"pod"`
	Shard int32 `json:"shard"`
	Total int   `json:"total"`
}

// JSONReplay is what the simulator says of the exported trace.
type JSONReplay struct {
	Step    int `json:"step"`
	Objects int `json:"objects"`
	Gap     int `json:"gap"`
	Overlap int `json:"overlap"`
}

// JSON returns the machine-readable report of r; x and path as for
// WriteText.
func (r *Result) JSON(x *Export, path string) JSON {
	j := JSON{
		Reducer: r.Reducer.Name(), Models: r.Reducer.Models(), MaxReplicas: r.MaxReplicas, Depth: r.Depth,
		Faults: r.Faults.Names(), Classes: r.Classes,
		Holds:    r.Holds && r.Liveness,
		Safety:   JSONSafety{Holds: r.Holds, Quiescent: r.Quiescent, Violating: r.Violating},
		Liveness: JSONLiveness{Holds: r.Liveness, Drained: r.Drained},
		Explored: r.Explored, Distinct: r.Distinct,
		Reached: r.Reached, Saturated: r.Saturated, SaturatedAt: r.SaturatedAt,
		WallSeconds: r.Elapsed.Seconds(), MemoryBytes: r.Memory, Workers: r.Workers,
	}
	cx := r.Counterexample
	if cx == nil {
		return j
	}
	jc := &JSONCounterexample{
		Ops: cx.Ops(), Deliveries: cx.Deliveries(), Initial: cx.Initial, Steps: cx.Describe(),
		Replicas: cx.Final.Replicas, GapClasses: append([]int{}, cx.Verdict.GapClasses()...), OverlapClasses: append([]int{}, cx.Verdict.OverlapClasses()...),
		Trace: path,
	}
	jc.Pods = []JSONPod{}
	for _, p := range cx.Final.Pods {
		jc.Pods = append(jc.Pods, JSONPod{p.Pod, p.Shard, p.Total})
	}
	if x != nil {
		jc.UIDs = x.UIDs
		jc.Steps[len(jc.Steps)-1] = "then every item still queued is delivered (watch events, stops, starts whose timing cannot matter): " + cx.describeViolation(x.UIDs)
		last := x.Replay.Checkpoints[len(x.Replay.Checkpoints)-1]
		jc.Replay = &JSONReplay{Step: last.Step, Objects: last.Objects, Gap: last.Gap.Count, Overlap: last.Overlap.Count}
	}
	j.Counterexample = jc
	return j
}

// WriteJSON writes the machine-readable report of r, indented, with a
// final newline.
func (r *Result) WriteJSON(w io.Writer, x *Export, path string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r.JSON(x, path))
}

// reportProgress calls report with the time elapsed since start once a
// second, from two seconds in, on a goroutine of its own, until the
// function it returns is called; that function returns once report has
// returned for the last time.
func reportProgress(start time.Time, report func(elapsed time.Duration)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if el := time.Since(start); el >= 2*time.Second {
					report(el)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
