package checker

import (
	"fmt"
	"io"
	"strconv"
	"strings"
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
		{"depth", depth},
		{"wall time", roundDuration(r.Elapsed).String()},
		{"states/s", rate(r.StatesPerSecond())},
		{"memory", fmt.Sprintf("%.1f MB (visited set and state arrays)", float64(r.Memory)/(1<<20))},
		{"workers", strconv.Itoa(r.Workers)},
	}
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
