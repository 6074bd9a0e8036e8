package checker

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// A ReleaseResult is the check of a release (doc.go, "Releases and the
// data plane"): the abstract exploration of the StatefulSet level with the
// release's strategy, and the data-plane exploration with the release.
type ReleaseResult struct {
	Release     model.Release
	StatefulSet *Result
	DataPlane   *DataPlaneResult
}

// Holds reports whether both explorations hold (safety and liveness).
func (r *ReleaseResult) Holds() bool {
	return r.StatefulSet.Holds && r.StatefulSet.Liveness && r.DataPlane.Holds
}

// AlsoExpect adds {r: violated} to the exported trace's expect, renders
// the file again and checks that the simulator replays it violated with r
// too: a StatefulSet-level counterexample of a release's strategy, replayed
// with the release. An error means they disagree.
func (x *Export) AlsoExpect(r model.Reducer) error {
	if x.Trace.Expect == nil {
		x.Trace.Expect = map[string]string{}
	}
	x.Trace.Expect[r.Name()] = sim.Violated
	data, err := formatTrace(x.Trace)
	if err != nil {
		return err
	}
	parsed, err := sim.ParseTrace(x.Trace.Name+".json", data)
	if err != nil {
		return fmt.Errorf("checker: the exported trace does not parse: %w", err)
	}
	rep, err := sim.Replay(parsed, []model.Reducer{r}, sim.Options{})
	if err != nil {
		return fmt.Errorf("checker: the exported trace does not replay with %s: %w", r.Name(), err)
	}
	if rep.Results[0].Holds {
		return fmt.Errorf("checker: the exported trace holds with %s", r.Name())
	}
	x.JSON = data
	return nil
}

// WriteText writes the report of a release check: the StatefulSet level
// (Result.WriteText) and the data plane (DataPlaneResult.WriteText), each
// with its counterexample's export and path, then the verdict.
func (r *ReleaseResult) WriteText(w io.Writer, sx *Export, spath string, dx *DataPlaneExport, dpath string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "check %s (%s)\n", r.Release.Name(), r.Release.Models())
	b.WriteString("two explorations, each exhaustive within its bounds (checker/doc.go, \"Releases and the data plane\")\n\n")
	fmt.Fprintf(&b, "1. StatefulSet level: the release's strategy, %s; every pod judged by its configuration\n", r.Release.Selector.Name())
	if err := r.StatefulSet.WriteText(&b, sx, spath); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\n2. data plane: the release's sharded ListWatch and reflector; every pod judged by what its stores hold\n")
	if err := r.DataPlane.WriteText(&b, dx, dpath); err != nil {
		return err
	}
	b.WriteString("\n")
	var failed []string
	if !r.StatefulSet.Holds || !r.StatefulSet.Liveness {
		failed = append(failed, "at the StatefulSet level")
	}
	if !r.DataPlane.Holds {
		failed = append(failed, "in the data plane")
	}
	if len(failed) == 0 {
		fmt.Fprintf(&b, "verdict %s: holds within both bounds\n", r.Release.Name())
	} else {
		fmt.Fprintf(&b, "verdict %s: VIOLATED %s\n", r.Release.Name(), strings.Join(failed, " and "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReleaseJSON is the machine-readable report of a release check.
type ReleaseJSON struct {
	Reducer string `json:"reducer"`
	Models  string `json:"models"`
	// Holds is both explorations together.
	Holds bool `json:"holds"`
	// StatefulSet is the abstract exploration with the release's strategy
	// (its reducer is the strategy's name).
	StatefulSet JSON          `json:"statefulSet"`
	DataPlane   DataPlaneJSON `json:"dataPlane"`
}

// JSON returns the machine-readable report of r.
func (r *ReleaseResult) JSON(sx *Export, spath string, dx *DataPlaneExport, dpath string) ReleaseJSON {
	return ReleaseJSON{
		Reducer: r.Release.Name(), Models: r.Release.Models(), Holds: r.Holds(),
		StatefulSet: r.StatefulSet.JSON(sx, spath),
		DataPlane:   r.DataPlane.JSON(dx, dpath),
	}
}

// WriteJSON writes the machine-readable report of r, indented, with a
// final newline.
func (r *ReleaseResult) WriteJSON(w io.Writer, sx *Export, spath string, dx *DataPlaneExport, dpath string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r.JSON(sx, spath, dx, dpath))
}

// WriteText writes the human-readable report of a data-plane exploration:
// the bounds, the verdict (with the counterexample, when there is one)
// and the figures. x is the counterexample's export, when there is one;
// path, when not empty, is where its trace was written.
func (r *DataPlaneResult) WriteText(w io.Writer, x *DataPlaneExport, path string) error {
	var b strings.Builder
	m := r.MaxReplicas
	fmt.Fprintf(&b, "data plane %s (%s)\n", r.Reducer.Name(), r.Reducer.Models())
	bounds := fmt.Sprintf("%d API servers (watch cache on/off x WatchList on/off); start settled with 1..%d replicas; up to %d ops: %s; "+
		"eager schedule and data plane: every op ends at a quiescent point; every path is replayed by the simulator, which judges what each pod's stores hold",
		len(Servers), m, r.Depth, r.describeAlphabet())
	for i, l := range wrap(bounds, 88) {
		if i == 0 {
			fmt.Fprintf(&b, "  bounds   %s\n", l)
		} else {
			fmt.Fprintf(&b, "           %s\n", l)
		}
	}
	fmt.Fprintf(&b, "  objects  %d objects in pages of %d (a LIST paged from etcd takes %d pages) and those the ops\n",
		DataPlaneObjects, DataPlanePageSize, (DataPlaneObjects+DataPlanePageSize-1)/DataPlanePageSize)
	b.WriteString("           create: these UIDs, not every UID\n\n")
	if cx := r.Counterexample; cx != nil {
		fmt.Fprintf(&b, "verdict: VIOLATED: shortest counterexample: %d %s\n", cx.Ops(), plural(cx.Ops(), "op", "ops"))
		for i, l := range cx.Describe() {
			fmt.Fprintf(&b, "  %d. %s\n", i, l)
		}
		if x != nil {
			where := "not written (use --out DIR)"
			if path != "" {
				where = path
			}
			last := x.Replay.Checkpoints[len(x.Replay.Checkpoints)-1]
			fmt.Fprintf(&b, "  trace: %s\n", where)
			at := fmt.Sprintf("step %d", last.Step)
			if last.Step < 0 {
				at = "the initial point"
			}
			fmt.Fprintf(&b, "  replayed with the simulator: violated at %s: %d of %d objects exported by no pod, %d exported twice\n",
				at, last.Gap.Count, last.Objects, last.Overlap.Count)
		}
	} else {
		b.WriteString("verdict: holds: complete and disjoint at every quiescent point of every path within the bounds\n")
	}
	b.WriteString("\n")
	depth := fmt.Sprintf("%d of %d", r.Reached, r.Depth)
	if r.Counterexample != nil && r.Reached < r.Depth {
		depth += " (stopped at the first layer with a violation)"
	}
	layers := make([]string, len(r.Layers))
	for i, n := range r.Layers {
		layers[i] = group(uint64(n))
	}
	rows := [][2]string{
		{"paths replayed", group(r.Replays) + " (by number of ops: " + strings.Join(layers, ", ") + ")"},
		{"quiescent points", group(r.Checkpoints) + " checked"},
		{"depth", depth},
		{"wall time", roundDuration(r.Elapsed).String()},
		{"replays/s", rate(r.ReplaysPerSecond())},
		{"workers", strconv.Itoa(r.Workers)},
	}
	if r.Counterexample != nil {
		rows = append(rows[:1], append([][2]string{{"violating paths", group(uint64(r.Violating)) + " with " + strconv.Itoa(r.Reached) + " " + plural(r.Reached, "op", "ops")}}, rows[1:]...)...)
	}
	for _, row := range rows {
		fmt.Fprintf(&b, "  %-17s %s\n", row[0], row[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describeAlphabet names the ops of the bounds in words.
func (r *DataPlaneResult) describeAlphabet() string {
	parts := []string{fmt.Sprintf("scale to 0..%d", r.MaxReplicas), "restart one pod", "create one object", "delete the first object"}
	parts = append(parts, faultOps(r.Faults)...)
	if r.Faults.Has(CacheLag) {
		parts[len(parts)-1] += " (watch cache on)"
	}
	return strings.Join(parts, ", ")
}

// DataPlaneJSON is the machine-readable report of a data-plane
// exploration.
type DataPlaneJSON struct {
	Reducer     string   `json:"reducer"`
	Models      string   `json:"models"`
	MaxReplicas int      `json:"maxReplicas"`
	Depth       int      `json:"depth"`
	Faults      []string `json:"faults"`
	Servers     []Server `json:"servers"`
	Objects     int      `json:"objects"`
	PageSize    int      `json:"pageSize"`
	Holds       bool     `json:"holds"`
	// Layers counts the paths replayed by number of ops.
	Layers         []int                        `json:"layers"`
	Replays        uint64                       `json:"replays"`
	Checkpoints    uint64                       `json:"checkpoints"`
	Violating      int                          `json:"violating"`
	Reached        int                          `json:"reached"`
	WallSeconds    float64                      `json:"wallSeconds"`
	Workers        int                          `json:"workers"`
	Counterexample *JSONDataPlaneCounterexample `json:"counterexample,omitempty"`
}

// JSONDataPlaneCounterexample is the data plane's shortest counterexample.
type JSONDataPlaneCounterexample struct {
	Ops     int      `json:"ops"`
	Server  Server   `json:"apiServer"`
	Initial int      `json:"initialReplicas"`
	Steps   []string `json:"steps"`
	// Checkpoint is the violated quiescent point (the last).
	Checkpoint sim.Checkpoint `json:"checkpoint"`
	// Trace is where --out wrote the trace ("" when not written).
	Trace string `json:"trace"`
	// Replay is the simulator's last checkpoint of the parsed trace.
	Replay *JSONReplay `json:"replay,omitempty"`
}

// JSON returns the machine-readable report of r; x and path as for
// WriteText.
func (r *DataPlaneResult) JSON(x *DataPlaneExport, path string) DataPlaneJSON {
	j := DataPlaneJSON{
		Reducer: r.Reducer.Name(), Models: r.Reducer.Models(), MaxReplicas: r.MaxReplicas, Depth: r.Depth,
		Faults: r.Faults.Names(), Servers: Servers, Objects: DataPlaneObjects, PageSize: DataPlanePageSize,
		Holds: r.Holds, Layers: r.Layers, Replays: r.Replays, Checkpoints: r.Checkpoints, Violating: r.Violating,
		Reached: r.Reached, WallSeconds: r.Elapsed.Seconds(), Workers: r.Workers,
	}
	cx := r.Counterexample
	if cx == nil {
		return j
	}
	jc := &JSONDataPlaneCounterexample{
		Ops: cx.Ops(), Server: cx.Server, Initial: cx.Initial, Steps: cx.Describe(),
		Checkpoint: cx.Result.Checkpoints[len(cx.Result.Checkpoints)-1], Trace: path,
	}
	if x != nil {
		last := x.Replay.Checkpoints[len(x.Replay.Checkpoints)-1]
		jc.Replay = &JSONReplay{Step: last.Step, Objects: last.Objects, Gap: last.Gap.Count, Overlap: last.Overlap.Count}
	}
	j.Counterexample = jc
	return j
}

// wrap splits s into lines of at most width bytes, between words.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
