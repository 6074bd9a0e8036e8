package properties

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Hunt defaults.
const (
	DefaultTraces = 1000 // traces a hunt generates before it gives up
	DefaultMaxOps = 24   // ops per generated trace: 1..DefaultMaxOps
)

// HuntOptions say what to hunt for and where to look.
type HuntOptions struct {
	// Reducer is the name of the reducer whose properties to falsify: a
	// named reducer or a release (model.ReducerByName).
	Reducer string
	// Seed makes the search deterministic: trace i of a seed is always the
	// same trace.
	Seed uint64
	// Traces is the number of traces to try (DefaultTraces if 0).
	Traces int
	// MaxOps bounds the ops of one trace (DefaultMaxOps if 0).
	MaxOps int
	// Gen tunes the generated clusters. Hunt adds Reducer to
	// Gen.Reducers and, for a release, turns Gen.APIServer on.
	Gen GenConfig
	// Mode is the sharding mode of the generated traces: "" for
	// autosharding, ModeStatic or ModeDaemonSet (hunt_modes.go; Gen does
	// not apply).
	Mode string
	// Progress, when set, is called from the search about every
	// ProgressInterval (1s if 0), starting two intervals into it, and once
	// more when the search ends if it was called at all.
	Progress         func(HuntProgress)
	ProgressInterval time.Duration
}

// HuntProgress is a snapshot of a running hunt.
type HuntProgress struct {
	Tried   int           // traces generated and checked so far
	Traces  int           // traces the hunt will try at most
	Elapsed time.Duration // since the hunt started
}

// String renders p for a progress line, e.g. "12000 of 100000 traces (12%),
// 3.1s, 3871 traces/s".
func (p HuntProgress) String() string {
	pct := 0
	if p.Traces > 0 {
		pct = int(int64(p.Tried) * 100 / int64(p.Traces))
	}
	rate := 0.0
	if p.Elapsed > 0 {
		rate = float64(p.Tried) / p.Elapsed.Seconds()
	}
	return fmt.Sprintf("%d of %d traces (%d%%), %s, %.0f traces/s", p.Tried, p.Traces, pct, p.Elapsed.Round(100*time.Millisecond), rate)
}

func (o HuntOptions) withDefaults() HuntOptions {
	if o.Traces == 0 {
		o.Traces = DefaultTraces
	}
	if o.MaxOps == 0 {
		o.MaxOps = DefaultMaxOps
	}
	return o
}

// A Counterexample is a trace that violates a reducer's properties at a
// quiescent point, shrunk and ready to export.
type Counterexample struct {
	// Reducer is the name of the reducer whose properties it violates.
	Reducer string
	// Origin is the command line that found it.
	Origin string
	// Options are the options of the hunt that found it (zero when it
	// was found some other way, e.g. by rapid).
	Options HuntOptions
	// Index is the 0-based number of the generated trace that failed.
	Index int
	// Found is that trace, cut after the op that broke the property.
	Found *sim.Trace
	// Trace is the shrunk counterexample, ready to export: explicit
	// schedule, concrete UIDs (only the affected objects), a name, a
	// description of what goes wrong and Expect filled by replay.
	Trace *sim.Trace
	// Report is the replay of Trace against every reducer.
	Report *sim.Report
	// Kind classifies the violation, e.g. "scale-up-overlap" or
	// "scale-down-gap" (see Classify).
	Kind string
	// FindTime is the time spent generating traces up to this one;
	// ShrinkTime the time spent shrinking it.
	FindTime, ShrinkTime time.Duration
}

// Hunt generates up to opts.Traces random traces (each from
// NewRandSource(opts.Seed, i), checking the properties after every op),
// and shrinks the first one that violates opts.Reducer's properties at a
// quiescent point. It returns nil and no error when every trace holds.
func Hunt(opts HuntOptions) (*Counterexample, error) {
	opts = opts.withDefaults()
	if _, ok := model.ReducerByName(opts.Reducer); !ok {
		return nil, fmt.Errorf("unknown reducer %q, want %s", opts.Reducer, model.KnownReducers())
	}
	if opts.Traces < 0 || opts.MaxOps < 0 {
		return nil, fmt.Errorf("traces and ops must not be negative, got %d and %d", opts.Traces, opts.MaxOps)
	}
	if err := opts.checkMode(); err != nil {
		return nil, err
	}
	start := time.Now()
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = time.Second
	}
	next := start.Add(2 * interval)
	reported := false
	report := func(tried int) {
		if opts.Progress != nil {
			opts.Progress(HuntProgress{Tried: tried, Traces: opts.Traces, Elapsed: time.Since(start)})
			reported = true
		}
	}
	for i := range opts.Traces {
		if opts.Progress != nil && i > 0 {
			if now := time.Now(); !now.Before(next) {
				report(i)
				next = now.Add(interval)
			}
		}
		var found *sim.Trace
		if opts.Mode != "" {
			found = generateMode(NewRandSource(opts.Seed, uint64(i)), opts)
		} else {
			found = generate(NewRandSource(opts.Seed, uint64(i)), opts)
		}
		if found == nil {
			continue
		}
		if reported {
			report(i + 1)
		}
		findTime := time.Since(start)
		if opts.Mode != "" {
			ce, err := prepareMode(found, opts, i)
			if err != nil {
				return nil, err
			}
			ce.FindTime = findTime
			return ce, nil
		}
		ce, err := Prepare(found, opts.Reducer, huntOrigin(opts), fmt.Sprintf("seed-%d", opts.Seed))
		if err != nil {
			return nil, err
		}
		ce.Options, ce.Index, ce.FindTime = opts, i, findTime
		ce.Trace.Description = ce.describe()
		ce.Report.Description = ce.Trace.Description
		return ce, nil
	}
	if reported {
		report(opts.Traces)
	}
	return nil, nil
}

// IsRelease reports whether reducer names a release the model knows
// ("v2.19.1"), whose hunts draw the API server's configuration
// (GenConfig.APIServer).
func IsRelease(reducer string) bool {
	_, ok := model.ReleaseByVersion(reducer)
	return ok
}

// genConfig is the generator configuration of a hunt: opts.Gen, replaying
// opts.Reducer too, with the API server drawn for a release.
func (o HuntOptions) genConfig() GenConfig {
	g := o.Gen
	g.Reducers = append(slices.Clone(g.Reducers), o.Reducer)
	if IsRelease(o.Reducer) {
		g.APIServer = true
	}
	return g
}

// huntOrigin is the command line that finds the counterexample of the
// hunt opts describes, without --out and --traces (trace i of a seed is
// the same whatever the number of traces): what its description names.
func huntOrigin(opts HuntOptions) string {
	return fmt.Sprintf("simrun hunt --reducer %s --seed %d", opts.Reducer, opts.Seed) + huntFlags(opts)
}

// huntFlags renders the generator flags of opts: --faults, and
// --api-server where it is not implied by a release.
func huntFlags(opts HuntOptions) string {
	s := ""
	if opts.Mode != "" {
		s += " --mode " + opts.Mode
	}
	if opts.Gen.Faults {
		s += " --faults"
	}
	if opts.Gen.APIServer && !IsRelease(opts.Reducer) {
		s += " --api-server"
	}
	return s
}

// generate draws one trace of 1..opts.MaxOps ops and returns it, cut after
// the op that broke opts.Reducer's properties, or nil if they held.
func generate(src Source, opts HuntOptions) *sim.Trace {
	b := NewBuilder(src, opts.genConfig())
	defer b.Close()
	n := 1 + src.Draw("ops", opts.MaxOps)
	for range n {
		b.Op(src)
		if !b.Holds(opts.Reducer) {
			return CloneTrace(b.Trace())
		}
	}
	return nil
}

// Prepare shrinks found, a trace that violates the properties of reducer,
// and readies it for export: it names it "<reducer>-<kind>-<suffix>",
// fills Expect by replaying it against every reducer of model.Reducers,
// reducer itself and, for a release, the first later release that holds
// on it (the fix, as the traces under traces/bugs name it), and describes
// what goes wrong. origin, the command line that found the trace, goes
// into the description.
func Prepare(found *sim.Trace, reducer, origin, suffix string) (*Counterexample, error) {
	if !Fails(toExplicit(found), reducer) {
		return nil, fmt.Errorf("properties: the trace to prepare does not violate %s", reducer)
	}
	start := time.Now()
	c := &Counterexample{Reducer: reducer, Origin: origin, Found: CloneTrace(found)}
	c.Trace = Shrink(found, reducer)
	t := c.Trace
	rs := replayed(reducer)
	if fix := fixedIn(t, reducer); fix != nil {
		rs = append(rs, fix)
	}
	rep, err := sim.Replay(CloneTrace(t), rs, sim.Options{})
	if err != nil {
		return nil, fmt.Errorf("properties: the shrunk counterexample does not replay: %w", err)
	}
	c.Report = rep
	t.Expect = map[string]string{}
	for _, res := range rep.Results {
		t.Expect[res.Reducer] = sim.Holds
		if !res.Holds {
			t.Expect[res.Reducer] = sim.Violated
		}
	}
	c.Kind = Classify(t, c.result())
	t.Name = c.Reducer + "-" + c.Kind
	if suffix != "" {
		t.Name += "-" + suffix
	}
	t.Description = c.describe()
	rep.Trace, rep.Description = t.Name, t.Description
	c.ShrinkTime = time.Since(start)
	return c, nil
}

// fixedIn returns the first release after reducer, a release, that holds
// on t, or nil (reducer is not a release, or no later release holds).
func fixedIn(t *sim.Trace, reducer string) model.Reducer {
	if !IsRelease(reducer) {
		return nil
	}
	later := false
	for _, r := range model.Releases() {
		if r.Version == reducer {
			later = true
			continue
		}
		if !later {
			continue
		}
		res, err := sim.Run(CloneTrace(t), r, sim.Options{})
		if err == nil && res.Pending == 0 && res.Holds {
			return r
		}
	}
	return nil
}

// result is the replay of the shrunk trace against the reducer.
func (c *Counterexample) result() *sim.Result {
	for _, res := range c.Report.Results {
		if res.Reducer == c.Reducer {
			return res
		}
	}
	return nil
}

// HuntCommand is the simrun command line that runs the hunt opts
// describes, writing to dir. `simrun hunt --faults` hunts with
// FaultGenConfig.
func HuntCommand(opts HuntOptions, dir string) string {
	opts = opts.withDefaults()
	cmd := fmt.Sprintf("simrun hunt --reducer %s --seed %d --out %s", opts.Reducer, opts.Seed, shellQuote(dir))
	if opts.Traces != DefaultTraces {
		cmd += fmt.Sprintf(" --traces %d", opts.Traces)
	}
	return cmd + huntFlags(opts)
}

// ReplayCommand is the simrun command line that replays a trace file.
func ReplayCommand(path string) string { return "simrun --trace " + shellQuote(path) }

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == ',' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ClusterOps returns the steps of the counterexample that change the
// cluster (everything but deliver and settle).
func (c *Counterexample) ClusterOps() []sim.Step { return ClusterOps(c.Trace) }

// ClusterOps returns the steps of t that change the cluster.
func ClusterOps(t *sim.Trace) []sim.Step {
	var out []sim.Step
	for _, s := range t.Steps {
		if s.IsClusterOp() {
			out = append(out, s)
		}
	}
	return out
}

// Summary renders the counterexample for a terminal: one line per step,
// then the verdict of every reducer.
func (c *Counterexample) Summary() string {
	if c.Options.Mode != "" {
		return c.modeSummary()
	}
	var b strings.Builder
	t := c.Trace
	fmt.Fprintf(&b, "%s: %s, %s, schedule %s", t.Name, plural(int(*t.Cluster.StatefulSet.Replicas), "replica"),
		plural(initialObjects(t), "object"), t.Schedule)
	if t.DataPlane == sim.Explicit {
		b.WriteString(", data plane explicit")
	}
	if api := apiServerStory(t); api != "" {
		b.WriteString("; " + api)
	}
	b.WriteString("\n")
	for i, s := range t.Steps {
		fmt.Fprintf(&b, "  step %d: %s\n", i, FormatStep(s))
	}
	for _, res := range c.Report.Results {
		fmt.Fprintf(&b, "  %s: %s\n", res.Reducer, sim.Verdict(res))
	}
	return b.String()
}

// FormatStep renders one step on one line.
func FormatStep(s sim.Step) string {
	switch s.Op {
	case sim.OpRelabel:
		return "relabel " + formatLabels(s.Labels)
	case sim.OpScale:
		return fmt.Sprintf("scale to %d", *s.Replicas)
	case sim.OpRestart:
		return fmt.Sprintf("restart pods %v", s.Pods)
	case sim.OpCreate:
		return fmt.Sprintf("create %d objects", len(s.UIDs)+s.Generate)
	case sim.OpDelete:
		return fmt.Sprintf("delete %d objects", len(s.UIDs))
	case sim.OpDeliver:
		if s.Stream == sim.StreamObjects {
			return fmt.Sprintf("deliver %d item(s) of pod %d's objects stream (list pages, object events)", s.Count, *s.Pod)
		}
		return fmt.Sprintf("deliver %d item(s) to pod %d", s.Count, *s.Pod)
	case sim.OpCompact:
		return "compact the API server's history (watches and reads from older resourceVersions get 410 Gone)"
	case sim.OpDisconnect:
		return fmt.Sprintf("disconnect pods %v (their watches end; each resumes from its last resourceVersion)", s.Pods)
	case sim.OpCacheLag:
		if s.Writes == nil || *s.Writes == 0 {
			return "the watch cache catches up (reads with resourceVersion 0 see the current state)"
		}
		return fmt.Sprintf("the watch cache lags %s (reads with resourceVersion 0 see the state %s ago)", plural(*s.Writes, "write"), plural(*s.Writes, "write"))
	}
	return s.Op
}

func formatLabels(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return "{" + strings.Join(parts, ",") + "}"
}
