package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
	"github.com/shardsim/shardsim/sim"
)

// jobIndexEnv is the variable in which a Kubernetes Indexed Job gives each
// pod its completion index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

type campaignFlags struct {
	reducer   string
	backend   backendFlags
	seed      uint64
	traces    int
	index     int
	count     int
	out       string
	force     bool
	progress  bool
	faults    bool
	apiServer bool
	mode      string

	indexSet bool // --index was given
}

func newCampaignCommand() *cobra.Command {
	f := &campaignFlags{}
	cmd := &cobra.Command{
		Use:   "campaign --reducer R [--backend B] --traces N [--index I] [--count C] --out DIR",
		Short: "Run one slice of a seeded random-trace campaign (a Kubernetes Indexed Job's pod), or merge the slices",
		Long: `campaign runs slice I of C of a campaign: the random traces of 'simrun hunt'
(trace k of a seed is the same trace in both), N of them, replayed on a backend,
without stopping at the first violation. Slice I runs the traces k < N with
k % C == I, so the C slices are disjoint and their union is the campaign run by
one process, trace for trace. Every violating trace is shrunk (as hunt shrinks)
and the distinct shrunk counterexamples are kept, each with the number of traces
that shrank to it and the first of them. Two counterexamples are the same when
they differ only in their objects (which objects a shrunk trace keeps depends on
the trace it came from).

The slice writes DIR/slice-IIIII-of-CCCCC.json atomically: the campaign's identity
(reducer, backend, seed, N, the generator flags), the slice's index and count, its
counts, its counterexamples and its wall-clock timings. 'simrun campaign merge'
merges the C files into one report.

--index defaults to $JOB_COMPLETION_INDEX, which Kubernetes sets in every pod of
an Indexed Job (completionMode: Indexed), so one manifest runs every slice (see
deploy/campaign-job.yaml). A re-run of an index (the Job controller retries a
failed index with the same index, backoffLimitPerIndex) replaces that index's
file: the file of the same slice of the same campaign is replaced without
--force; any other existing file only with --force.

--seed, --faults, --api-server and --mode static|daemonset generate the traces
hunt generates with them (a --mode campaign runs on the model backend only).

--backend takes what 'simrun --trace' takes. On the model (the default) the
verdict is the generator's own. On client-go or ksm every trace is replayed on the
backend too: a trace on which the backend and the model disagree is counted as a
disagreement and kept, shrunk while they still disagree; a violation both show is
shrunk on the model and the shrunk trace replayed once on the backend. A trace
that uses what the backend does not model (client-go and a disconnect, say) is
counted as not replayable, without a verdict; a slice none of whose traces the
backend can replay is refused (exit status 2). The ksm
backend needs the Go toolchain to build kube-state-metrics (see 'simrun ksm') and
costs about a second per trace.

Progress goes to stderr on a terminal from two seconds in, or always with
--progress (one line a second: what a pod's log should show).

Exit status:
  0  the slice ran and its file is written, whatever it found (merge gives
     the verdict: a Job must not retry a slice that found a violation)
  2  bad usage (flags, $JOB_COMPLETION_INDEX, --index >= --count, a backend
     that can replay none of the slice's traces), or DIR or the file cannot
     be written
  3  a backend failed`,
		Example: `  # One process: the whole campaign as one slice, then its report
  simrun campaign --reducer label-selector --traces 1000 --out /tmp/campaign
  simrun campaign merge /tmp/campaign

  # Three slices (three machines, three pods, or three processes here)
  for i in 0 1 2; do
    simrun campaign --reducer v2.19.1 --traces 3000 --index $i --count 3 --out /tmp/c3 &
  done; wait
  simrun campaign merge /tmp/c3 --html /tmp/c3/report.html

  # In a pod of an Indexed Job: the index comes from $JOB_COMPLETION_INDEX
  simrun campaign --reducer v2.20.0 --backend ksm --traces 1000000 --count 1000 --out /results --progress`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.indexSet = cmd.Flags().Changed("index")
			return campaign(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.reducer, "reducer", "r", "", "reducer whose properties to check: "+model.KnownReducers())
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the campaign: trace k of a seed is trace k of 'simrun hunt --seed'")
	fl.IntVar(&f.traces, "traces", properties.DefaultTraces, "number of random traces of the whole campaign (all slices)")
	fl.IntVar(&f.index, "index", 0, "the slice to run, 0 <= I < --count (default $"+jobIndexEnv+", or 0 with --count 1)")
	fl.IntVar(&f.count, "count", 1, "number of slices of the campaign (an Indexed Job's completions)")
	fl.StringVar(&f.out, "out", "", "directory to write the slice's result file to (created if missing)")
	fl.BoolVar(&f.force, "force", false, "replace an existing result file that is not of this slice of this campaign (never a directory or a device)")
	fl.BoolVar(&f.progress, "progress", false, "report progress on stderr even when it is not a terminal")
	fl.BoolVar(&f.faults, "faults", false, "also generate the fault ops (compact, disconnect, cacheLag) and the explicit data plane")
	fl.BoolVar(&f.apiServer, "api-server", false, "also draw the API server's configuration (watch cache, WatchList, page size) for a named reducer; always on for a release")
	fl.StringVar(&f.mode, "mode", "", "sharding mode of the generated traces: static or daemonset, as for 'simrun hunt --mode' (default: autosharding; the model backend only)")
	addBackendFlag(cmd, &f.backend)
	_ = cmd.RegisterFlagCompletionFunc("reducer", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return append(model.ReducerNames(), model.ReleaseVersions()...), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	cmd.AddCommand(newCampaignMergeCommand())
	return cmd
}

// sliceFileName is the name of slice index of count's result file.
func sliceFileName(index, count int) string {
	return fmt.Sprintf("slice-%05d-of-%05d.json", index, count)
}

// campaignID is the identity of the campaign f describes.
func (f *campaignFlags) campaignID() properties.CampaignID {
	backend := f.backend.name
	if f.backend.ksmRelease != "" {
		backend += " --ksm-release " + f.backend.ksmRelease
	}
	if f.backend.ksmSource != "" {
		backend += " --ksm-source " + shellWord(f.backend.ksmSource)
	}
	return properties.CampaignID{
		Reducer: f.reducer, Backend: backend, Seed: f.seed, Traces: f.traces, MaxOps: properties.DefaultMaxOps,
		Faults: f.faults, APIServer: f.apiServer || properties.IsRelease(f.reducer) && f.mode == "", Mode: f.mode,
	}
}

// origin is the command line that runs the campaign, without the slice
// (trace k is the same whatever the slicing) and without --out.
func (f *campaignFlags) origin() string {
	s := fmt.Sprintf("simrun campaign --reducer %s", f.reducer)
	if f.backend.name != backends[0].name {
		s += " --backend " + f.backend.name
		if f.backend.ksmRelease != "" {
			s += " --ksm-release " + f.backend.ksmRelease
		}
		if f.backend.ksmSource != "" {
			s += " --ksm-source " + shellWord(f.backend.ksmSource)
		}
	}
	s += fmt.Sprintf(" --seed %d --traces %d", f.seed, f.traces)
	if f.mode != "" {
		s += " --mode " + f.mode
	}
	if f.faults {
		s += " --faults"
	}
	if f.apiServer && !properties.IsRelease(f.reducer) {
		s += " --api-server"
	}
	return s
}

// sliceIndex is --index, or $JOB_COMPLETION_INDEX when --index is absent,
// or 0 for a campaign of one slice.
func (f *campaignFlags) sliceIndex() (int, error) {
	if f.indexSet {
		return f.index, nil
	}
	v, ok := os.LookupEnv(jobIndexEnv)
	if !ok {
		if f.count == 1 {
			return 0, nil
		}
		return 0, usageErr("--index is required with --count %d (or $%s, which an Indexed Job sets)", f.count, jobIndexEnv)
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, usageErr("$%s=%q is not a slice index (a non-negative integer); give --index", jobIndexEnv, v)
	}
	return i, nil
}

func campaign(out, errOut io.Writer, f *campaignFlags) error {
	if f.reducer == "" {
		return usageErr("--reducer is required: %s", model.KnownReducers())
	}
	reducer, ok := model.ReducerByName(f.reducer)
	if !ok {
		return usageErr("unknown reducer %q, want %s", f.reducer, model.KnownReducers())
	}
	if f.traces < 1 {
		return usageErr("--traces must be at least 1, got %d", f.traces)
	}
	if f.count < 1 {
		return usageErr("--count must be at least 1, got %d", f.count)
	}
	switch {
	case f.mode != "" && f.mode != properties.ModeStatic && f.mode != properties.ModeDaemonSet:
		return usageErr("unknown --mode %q, want %s or %s (empty: autosharding)", f.mode, properties.ModeStatic, properties.ModeDaemonSet)
	case f.mode != "" && (f.faults || f.apiServer):
		return usageErr("--faults and --api-server are autosharding's: not with --mode %s", f.mode)
	case f.mode != "" && f.backend.name != backends[0].name:
		return usageErr("--mode %s runs on the model backend only; replay its counterexamples on a backend with simrun --trace", f.mode)
	}
	index, err := f.sliceIndex()
	if err != nil {
		return err
	}
	src := "--index"
	if !f.indexSet {
		src = "$" + jobIndexEnv
	}
	if index < 0 || index >= f.count {
		return usageErr("%s %d: the slice index must be 0 <= index < --count (%d)", src, index, f.count)
	}
	if f.out == "" {
		return usageErr("--out is required: the directory to write the slice's result file to")
	}
	if f.out == atomicfile.Stdout {
		return usageErr("--out names a directory (the file is %s in it); - (standard output) does not apply", sliceFileName(index, f.count))
	}
	if err := atomicfile.CheckDir(f.out); err != nil {
		return usageErr("--out: %v", err)
	}
	id := f.campaignID()
	path := filepath.Join(f.out, sliceFileName(index, f.count))
	rerun, err := checkSlicePath(path, id, index, f.count, f.force)
	if err != nil {
		return err
	}
	newBackend, reducers, err := f.backend.resolve([]model.Reducer{reducer}, true)
	if err != nil {
		return err
	}
	if len(reducers) != 1 {
		return usageErr("--backend %s cannot run %s", f.backend.name, f.reducer)
	}
	opts := properties.CampaignOptions{
		HuntOptions: properties.HuntOptions{Reducer: f.reducer, Seed: f.seed, Traces: f.traces, Mode: f.mode},
		Index:       index, Count: f.count, Run: reducers[0], Origin: f.origin(),
	}
	if f.backend.name != backends[0].name {
		opts.Backend = newBackend
	}
	if f.faults {
		opts.Gen = properties.FaultGenConfig()
	}
	if id.APIServer {
		opts.Gen.APIServer = true
	}
	name := fmt.Sprintf("campaign slice %d of %d", index, f.count)
	terminal := isTerminal(errOut)
	opts.Progress = progressTo[properties.HuntProgress](errOut, name, terminal, f.progress)
	start := time.Now()
	res, err := properties.RunCampaignSlice(opts)
	if terminal && time.Since(start) >= 2*time.Second {
		fmt.Fprint(errOut, "\r\x1b[K")
	}
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	if u := res.FirstUnsupported; u != nil && res.Unsupported == res.Traces {
		return usageErr("--backend %s cannot replay any trace of this slice (e.g. trace %d: %s); nothing written", f.backend.name, u.Trace, u.Reason)
	}
	data, err := properties.MarshalSlice(&properties.SliceFile{Campaign: id, CampaignSlice: *res})
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	werr := os.MkdirAll(f.out, 0o755)
	if werr == nil {
		werr = writeFile(path, data, rerun || f.force)
	}
	var ee *atomicfile.ExistsError
	if errors.As(werr, &ee) {
		// Written since the check: by an earlier run of this index?
		if again, cerr := checkSlicePath(path, id, index, f.count, false); cerr == nil && again {
			rerun, werr = true, writeFile(path, data, true)
		}
	}
	fmt.Fprintf(out, "%s (%s): %s, %s", name, id, count(res.Traces, "trace", "traces"), count(res.Violations, "violation", "violations"))
	if opts.Backend != nil {
		fmt.Fprintf(out, ", %s with the model", count(res.Disagreements, "disagreement", "disagreements"))
	}
	if res.Unsupported > 0 {
		fmt.Fprintf(out, ", %d not replayable on the backend", res.Unsupported)
	}
	fmt.Fprintf(out, ", %s (%s)\n", count(len(res.Counterexamples), "distinct counterexample", "distinct counterexamples"), res.Timing.Elapsed.Round(time.Millisecond))
	if u := res.FirstUnsupported; u != nil {
		fmt.Fprintf(errOut, "simrun: note: %s the %s backend cannot replay, without a verdict (e.g. trace %d: %s)\n", count(res.Unsupported, "trace", "traces"), f.backend.name, u.Trace, u.Reason)
	}
	if werr != nil {
		if errors.As(werr, &ee) {
			return usageErr("--out: %v; it appeared during the run and is not this slice's result; add --force to replace it", werr)
		}
		return usageErr("--out: %v (the slice ran; its result is lost)", werr)
	}
	if rerun {
		fmt.Fprintf(out, "replaced %s (the result of an earlier run of this slice)\n", path)
	} else {
		fmt.Fprintf(out, "wrote %s\n", path)
	}
	return nil
}

// checkSlicePath says, before the run, whether the slice's file can be
// written to path, and whether it replaces the result of an earlier run
// of the same slice of the same campaign (rerun), which needs no --force.
func checkSlicePath(path string, id properties.CampaignID, index, count int, force bool) (rerun bool, err error) {
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return false, nil // created later (CheckDir said it can be): the file cannot exist yet
	}
	if _, serr := os.Lstat(path); serr == nil && !force {
		data, rerr := os.ReadFile(path)
		if rerr == nil {
			if old, perr := properties.ParseSlice(path, data); perr == nil && old.Campaign == id && old.Index == index && old.Count == count {
				if cerr := atomicfile.Check(path, true); cerr != nil {
					return false, usageErr("--out: %v", cerr)
				}
				return true, nil
			}
		}
	}
	if err := atomicfile.Check(path, force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, usageErr("--out: %v: it is not the result of this slice of this campaign (a re-run of the same slice replaces its own file); choose another directory or add --force to replace it", err)
		}
		return false, usageErr("--out: %v", err)
	}
	return false, nil
}

type mergeFlags struct {
	format    string
	html      string
	export    string
	force     bool
	noTimings bool
	partial   bool
}

func newCampaignMergeCommand() *cobra.Command {
	f := &mergeFlags{}
	cmd := &cobra.Command{
		Use:   "merge DIR|FILE... [--format text|json] [--html FILE] [--export DIR] [--force] [--no-timings] [--partial]",
		Short: "Merge the slice files of a campaign into one report",
		Long: `merge reads the slice files (slice-*.json) in each DIR, and each FILE named, and
merges them into one report: the campaign, the traces run, the violations, the
distinct minimal counterexamples (deduplicated by their shrunk form, each with
the number of traces that shrank to it and the first of them, and the trace
itself in the JSON report), and the wall-clock timing of every slice.

The set must be one campaign: merge refuses files of different campaigns or slice
counts (naming a file of each), two files that hold the same slice (naming both),
and missing slices (naming their indices). With --partial it merges what is there
and lists what is missing: how far a running campaign has come.

The report does not depend on how the campaign was sliced: merging C slices gives
the report of one process, except for the slice timings, which are wall-clock.
--no-timings leaves them out (and the slice count with them): the deterministic
report, byte for byte the same whatever the slicing.

--html FILE also writes a self-contained HTML summary, and --export DIR every
distinct counterexample as a trace file (DIR/<name>.json, for 'simrun --trace'),
both checked before the merge (see README "Output files": an existing file only
with --force; an exported file that already holds exactly that trace is left as
it is).

Exit status:
  0  every slice is there and no trace violates the properties (nor, on another
     backend, disagrees with the model)
  1  a violation (or disagreement) was found
  2  bad usage, an unreadable or invalid slice file, a set that is not one
     campaign, missing or duplicated slices (with --partial: missing slices and
     no violation so far), or an output file that cannot be written`,
		Example: `  simrun campaign merge /tmp/campaign
  simrun campaign merge /tmp/c3 --format json --no-timings
  simrun campaign merge results-a/ results-b/ --html report.html

  # How far is the Job? What is missing?
  simrun campaign merge /results --partial`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("give the directories (or files) holding the slice files, e.g. simrun campaign merge /tmp/campaign")
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return mergeCampaign(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "o", "text", "report format: text or json")
	fl.StringVar(&f.html, "html", "", "also write a self-contained HTML summary to FILE (an existing FILE only with --force)")
	fl.StringVar(&f.export, "export", "", "also write every distinct counterexample as a trace file to DIR (created if missing)")
	fl.BoolVar(&f.force, "force", false, "with --html and --export, replace existing files (never a directory or a device)")
	fl.BoolVar(&f.noTimings, "no-timings", false, "leave out the slices' wall-clock timings (and the slice count): the report is then the same whatever the slicing")
	fl.BoolVar(&f.partial, "partial", false, "merge the slices that are there and list the missing ones, instead of refusing")
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagFilename("html", "html", "htm")
	_ = cmd.MarkFlagDirname("export")
	return cmd
}

// readSlices reads the slice files args name: each directory's
// slice-*.json, and each file itself.
func readSlices(args []string) ([]properties.LoadedSlice, error) {
	var paths []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		if !fi.IsDir() {
			paths = append(paths, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(a, "slice-*.json"))
		if err != nil {
			return nil, usageErr("%s: %v", a, err)
		}
		if len(found) == 0 {
			return nil, usageErr("%s: no slice files (slice-*.json) in it", a)
		}
		paths = append(paths, found...) // sorted by Glob
	}
	out := make([]properties.LoadedSlice, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		s, err := properties.ParseSlice(p, data)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		out = append(out, properties.LoadedSlice{Path: p, SliceFile: s})
	}
	return out, nil
}

func mergeCampaign(out, errOut io.Writer, args []string, f *mergeFlags) error {
	if f.format != "text" && f.format != "json" {
		return usageErr("--format must be text or json, got %q", f.format)
	}
	if f.html == atomicfile.Stdout {
		return usageErr("--html -: the report already goes to standard output; give a file")
	}
	if f.html != "" {
		if err := atomicfile.Check(f.html, f.force); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return usageErr("--html: %v; choose another file or add --force to replace it", err)
			}
			return usageErr("--html: %v", err)
		}
	}
	if f.export == atomicfile.Stdout {
		return usageErr("--export names a directory (a file per counterexample); - (standard output) does not apply")
	}
	if f.export != "" {
		if err := atomicfile.CheckDir(f.export); err != nil {
			return usageErr("--export: %v", err)
		}
	}
	loaded, err := readSlices(args)
	if err != nil {
		return err
	}
	rep, err := properties.MergeCampaign(loaded, f.partial)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if f.export != "" {
		if err := checkExports(f.export, rep, f.force); err != nil {
			return err
		}
	}
	if f.noTimings {
		rep.Slices = nil
	}
	if len(rep.Missing) > 0 {
		fmt.Fprintf(errOut, "simrun: campaign merge: %d of %d slices missing: %s\n", len(rep.Missing), rep.Count, properties.FormatIndices(rep.Missing))
	}
	if f.format == "json" {
		err = writeCampaignJSON(out, rep)
	} else {
		err = writeCampaignText(out, rep, !f.noTimings)
	}
	if err != nil {
		return err
	}
	if f.html != "" {
		page, err := renderCampaignHTML(rep)
		if err != nil {
			return &exitError{code: exitInternal, err: err}
		}
		if err := writeHTML(f.html, page, f.force); err != nil {
			return usageErr("%v (the report above is complete)", err)
		}
	}
	if f.export != "" {
		if err := exportCounterexamples(errOut, f.export, rep, f.force); err != nil {
			return err
		}
	}
	switch {
	case len(rep.Counterexamples) > 0:
		return &exitError{code: exitViolated, err: errors.New("violations found")}
	case len(rep.Missing) > 0:
		return usageErr("no violation in the %d slices merged, but %d missing: the campaign is not complete", rep.Count-len(rep.Missing), len(rep.Missing))
	}
	return nil
}

// checkExports refuses, before anything is written, an --export that
// would replace a file without --force (one that already holds exactly the
// counterexample is fine).
func checkExports(dir string, rep *properties.CampaignReport, force bool) error {
	if _, err := os.Stat(dir); err != nil {
		return nil // created later (CheckDir said it can be)
	}
	for _, c := range rep.Counterexamples {
		path := filepath.Join(dir, c.Trace.Name+".json")
		if same, _ := sameTrace(path, c.Trace); same {
			continue
		}
		if err := atomicfile.Check(path, force); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return usageErr("--export: %v and holds something else; choose another directory or add --force to replace it", err)
			}
			return usageErr("--export: %v", err)
		}
	}
	return nil
}

// sameTrace reports whether path holds exactly t as a trace file.
func sameTrace(path string, t *sim.Trace) (bool, error) {
	data, err := properties.Marshal(t)
	if err != nil {
		return false, err
	}
	old, err := os.ReadFile(path)
	return err == nil && bytes.Equal(old, data), nil
}

// exportCounterexamples writes each counterexample of rep to dir as a
// trace file (properties.Export: checked to replay as it expects), and
// says so on errOut.
func exportCounterexamples(errOut io.Writer, dir string, rep *properties.CampaignReport, force bool) error {
	for _, c := range rep.Counterexamples {
		if same, _ := sameTrace(filepath.Join(dir, c.Trace.Name+".json"), c.Trace); same {
			fmt.Fprintf(errOut, "simrun: %s already holds this counterexample; left as it is\n", filepath.Join(dir, c.Trace.Name+".json"))
			continue
		}
		path, err := properties.Export(dir, c.Trace, force)
		if err != nil {
			return usageErr("--export: %v (the report above is complete)", err)
		}
		fmt.Fprintf(errOut, "simrun: wrote %s\n", path)
	}
	return nil
}

// campaignJSON is the JSON report of a merge.
type campaignJSON struct {
	*properties.CampaignReport
	// SliceCount is left out with the timings (--no-timings): the rest
	// does not depend on the slicing.
	SliceCount *int `json:"sliceCount,omitempty"`
}

func writeCampaignJSON(w io.Writer, rep *properties.CampaignReport) error {
	v := campaignJSON{CampaignReport: rep}
	if rep.Slices != nil {
		v.SliceCount = &rep.Count
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// shortKey is the first 12 hex digits of a counterexample key.
func shortKey(k string) string {
	if len(k) > 12 {
		return k[:12]
	}
	return k
}

// verdictsOf renders a counterexample's verdicts: the trace's expect
// (the model's, every reducer it names) and the backend's.
func verdictsOf(c properties.CampaignCounterexample, backend string) string {
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(c.Trace.Expect)) {
		parts = append(parts, r+" "+c.Trace.Expect[r])
	}
	if c.Kind == properties.DisagreementKind {
		parts = append(parts, "the model: "+verdict(c.ModelHolds))
	}
	if c.BackendHolds != nil {
		parts = append(parts, "the "+backend+" backend: "+verdict(*c.BackendHolds))
	}
	return strings.Join(parts, "; ")
}

func verdict(holds bool) string {
	if holds {
		return sim.Holds
	}
	return sim.Violated
}

// formatStep renders a step of a counterexample of campaign id.
func formatStep(id properties.CampaignID, s sim.Step) string {
	if id.Mode != "" {
		return properties.FormatModeStep(s)
	}
	return properties.FormatStep(s)
}

func writeCampaignText(w io.Writer, rep *properties.CampaignReport, timings bool) error {
	var b strings.Builder
	id := rep.Campaign
	fmt.Fprintf(&b, "campaign: %s\n", id)
	if len(rep.Missing) > 0 {
		fmt.Fprintf(&b, "PARTIAL: %d of %d slices merged; missing: %s\n", rep.Count-len(rep.Missing), rep.Count, properties.FormatIndices(rep.Missing))
	}
	fmt.Fprintf(&b, "traces run: %d\n", rep.Run)
	fmt.Fprintf(&b, "violations: %d traces violate %s\n", rep.Violations, id.Reducer)
	if id.Backend != backends[0].name {
		fmt.Fprintf(&b, "disagreements with the model: %d traces\n", rep.Disagreements)
	}
	if u := rep.FirstUnsupported; u != nil {
		fmt.Fprintf(&b, "not replayable on the backend: %d traces, no verdict (e.g. trace %d: %s)\n", rep.Unsupported, u.Trace, u.Reason)
	}
	fmt.Fprintf(&b, "distinct minimal counterexamples: %d\n", len(rep.Counterexamples))
	for i, c := range rep.Counterexamples {
		t := c.Trace
		fmt.Fprintf(&b, "\n%d. %s (%s)\n", i+1, t.Name, c.Kind)
		fmt.Fprintf(&b, "   %s to it, the first is trace %d\n", count(c.Traces, "trace shrinks", "traces shrink"), c.First)
		replicas := int32(1)
		if r := t.Cluster.StatefulSet.Replicas; r != nil {
			replicas = *r
		}
		if id.Mode != "" {
			fmt.Fprintf(&b, "   %s sharding, %s schedule", id.Mode, t.Schedule)
		} else {
			fmt.Fprintf(&b, "   %s, %s schedule", count(int(replicas), "replica", "replicas"), t.Schedule)
		}
		if t.DataPlane == sim.Explicit {
			b.WriteString(", data plane explicit")
		}
		if a := t.Cluster.APIServer; a != nil {
			if a.WatchCache != nil && !*a.WatchCache {
				b.WriteString(", no watch cache")
			}
			if a.WatchList != nil && !*a.WatchList {
				b.WriteString(", WatchList off")
			}
		}
		if t.Cluster.PageSize != 0 {
			fmt.Fprintf(&b, ", page size %d", t.Cluster.PageSize)
		}
		b.WriteString("\n")
		for j, s := range t.Steps {
			fmt.Fprintf(&b, "   step %d: %s\n", j, formatStep(id, s))
		}
		fmt.Fprintf(&b, "   %s\n", verdictsOf(c, id.Backend))
	}
	if timings && len(rep.Slices) > 0 {
		fmt.Fprintf(&b, "\nslices (%d; wall-clock, not deterministic):\n", rep.Count)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  SLICE\tTRACES\tVIOLATIONS\tELAPSED\tSHRINKING\tTRACES/S\tFILE")
		for _, s := range rep.Slices {
			rate := 0.0
			if s.Timing.Elapsed > 0 {
				rate = float64(s.Traces) / s.Timing.Elapsed.Seconds()
			}
			fmt.Fprintf(tw, "  %d\t%d\t%d\t%s\t%s\t%.0f\t%s\n", s.Index, s.Traces, s.Violations,
				s.Timing.Elapsed.Round(time.Millisecond), s.Timing.Shrink.Round(time.Millisecond), rate, s.Path)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var campaignPage = template.Must(template.New("campaign").Funcs(template.FuncMap{
	"step":    formatStep,
	"short":   shortKey,
	"ms":      func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"inc":     func(i int) int { return i + 1 },
	"indices": properties.FormatIndices,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>simrun campaign: {{.Rep.Campaign}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.n { text-align: right; }
.bad { color: #b00; font-weight: bold; }
.good { color: #070; font-weight: bold; }
code, pre { font-family: ui-monospace, monospace; }
pre { margin: 0; }
</style>
</head>
<body>
<h1>Campaign: {{.Rep.Campaign.Reducer}}</h1>
<p>{{.Rep.Campaign}}</p>
{{if .Rep.Missing}}<p class="bad">Partial: {{len .Rep.Missing}} of {{.Rep.Count}} slices missing: {{indices .Rep.Missing}}</p>{{end}}
<table>
<tr><th>traces run</th><td class="n">{{.Rep.Run}}</td></tr>
<tr><th>violations</th><td class="n {{if .Rep.Violations}}bad{{else}}good{{end}}">{{.Rep.Violations}}</td></tr>
{{if .Differential}}<tr><th>disagreements with the model</th><td class="n {{if .Rep.Disagreements}}bad{{else}}good{{end}}">{{.Rep.Disagreements}}</td></tr>{{end}}
{{with .Rep.FirstUnsupported}}<tr><th>not replayable on the backend (no verdict)</th><td class="n">{{$.Rep.Unsupported}}</td></tr>{{end}}
<tr><th>distinct minimal counterexamples</th><td class="n">{{len .Rep.Counterexamples}}</td></tr>
</table>
{{if .Rep.Counterexamples}}
<h2>Counterexamples</h2>
<table>
<tr><th>#</th><th>name</th><th>kind</th><th>traces</th><th>first trace</th><th>steps</th><th>key</th></tr>
{{range $i, $c := .Rep.Counterexamples}}<tr><td class="n">{{inc $i}}</td><td><code>{{$c.Trace.Name}}</code></td><td>{{$c.Kind}}</td><td class="n">{{$c.Traces}}</td><td class="n">{{$c.First}}</td>
<td><pre>{{range $j, $s := $c.Trace.Steps}}{{$j}}: {{step $.Rep.Campaign $s}}
{{end}}</pre></td><td><code>{{short $c.Key}}</code></td></tr>
{{end}}</table>
{{end}}
{{if .Rep.Slices}}
<h2>Slices ({{.Rep.Count}}; wall-clock)</h2>
<table>
<tr><th>slice</th><th>traces</th><th>violations</th><th>elapsed</th><th>shrinking</th><th>file</th></tr>
{{range .Rep.Slices}}<tr><td class="n">{{.Index}}</td><td class="n">{{.Traces}}</td><td class="n">{{.Violations}}</td><td class="n">{{ms .Timing.Elapsed}}</td><td class="n">{{ms .Timing.Shrink}}</td><td><code>{{.Path}}</code></td></tr>
{{end}}</table>
{{end}}
<p>The full counterexamples are in <code>simrun campaign merge --format json</code>; each <code>trace</code> there is a trace file for <code>simrun --trace</code>.</p>
</body>
</html>
`))

func renderCampaignHTML(rep *properties.CampaignReport) ([]byte, error) {
	var b bytes.Buffer
	err := campaignPage.Execute(&b, struct {
		Rep          *properties.CampaignReport
		Differential bool
	}{rep, rep.Campaign.Backend != backends[0].name})
	if err != nil {
		return nil, fmt.Errorf("render the HTML summary: %w", err)
	}
	return b.Bytes(), nil
}
