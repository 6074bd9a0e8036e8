package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/checker"
	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/model"
)

type checkFlags struct {
	reducer     string
	maxReplicas int
	depth       int
	faults      []string
	format      string
	out         string
	force       bool
	workers     int
	progress    bool

	// Static sharding (--mode static).
	mode           string
	maxDeployments int
	maxTotal       int
	misconfigure   bool
	depthSet       bool // --depth given (static's default is 2)

	// DaemonSet sharding (--mode daemonset).
	maxNodes    int
	unscheduled string
	taints      bool
	dotted      bool
}

// newCheckCommand returns `simrun check`, the exhaustive model checker.
func newCheckCommand() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check --reducer R [--max-replicas M] [--depth K] [--faults F,...] [--out DIR] | check --mode static [--max-deployments D] [--max-total T] [--depth K] [--misconfigure] | check --mode daemonset [--reducer R] [--max-nodes N] [--unscheduled U] [--taints] [--dotted]",
		Short: "Explore every op sequence and delivery order within bounds, for every UID",
		Long: fmt.Sprintf(`check explores, breadth first, every sequence of up to K cluster ops (relabel to the
original labels, a superset, a changed value or a removed key; scale to 0..M; restart one
pod) from a settled cluster of every replica count 1..M, and every order in which the pods
receive their inbox items between the ops (a pod's start is two items, GET then LIST, so ops
can land between them). At every quiescent point it checks complete and disjoint for every
jump-hash trajectory class, which covers every possible UID.

--faults adds fault ops (a comma-separated subset of compact, disconnect, cacheLag), each one
more op a path can take, as the simulator replays them: compact (the API server compacts its
history), disconnect one pod (its watches end; its StatefulSet informer re-watches from its
last resourceVersion, or gets 410 Gone and relists when that was compacted), cacheLag 0 or 1
(LISTs with resourceVersion 0 see the StatefulSet one write ago). The watch ends, 410s and
relists are delivered in every order like the other items.

It reports two verdicts: safety (complete and disjoint at every quiescent point) and liveness
(from every state, once ops stop, the pods' queued items drain to a quiescent point where they
hold; with nothing timed in KSM's informers the two are the same, and a difference is a bug).
It prints "holds for all UIDs", or the shortest counterexample (fewest cluster ops) in plain
words. The counterexample is turned into an ordinary explicit trace, with a UID of each
violating class, and replayed with the simulator, which must say violated; --out writes it.
--format json gives the same as JSON.

A kube-state-metrics release (--reducer v2.19.1) is checked twice. First at the StatefulSet
level, as above, with the release's StatefulSet strategy (label-selector up to v2.12.0,
field-selector from v2.13.0): every pod judged by its configuration. Then its data plane, which
differs between releases (the sharded List dropping the continue token until v2.20.0, WatchList
from v2.19.0, bookmarks filtered in v2.19.0): on each of the 4 API server configurations (watch
cache on/off x WatchList on/off), with %d objects in pages of %d, from a settled cluster of every
replica count 1..M, every sequence of up to K ops (scale to 0..M, restart one pod, create one
object, delete the first object, and the --faults ops: compact, disconnect one pod, cacheLag 0
or 1 with the watch cache) is replayed by the simulator (eager schedule), which judges what each
pod's stores hold at every quiescent point. The first violating path of the fewest ops is
turned into an eager trace. A violation of either exits 1; --out writes each counterexample,
DIR/check-<release>-m<M>-k<K>[-<fault>...]-statefulset.json and ...-dataplane.json.

--mode static checks static sharding instead (KSM Deployments run with --shard and
--total-shards): from a settled cluster of Deployments ksm-shard-0..n-1 on shards 0..n-1 of n
(every n in 1..min(D, T), one replica each, every strategy for all of them: RollingUpdate with
maxSurge 1, Recreate, RollingUpdate with maxSurge 0), every sequence of up to K ops (default 2):
reshard to shards 0..n-1 of n (n in 1..min(D, T); the other Deployments scaled to 0 in the
same apply), restart a Deployment's pod, and with --misconfigure apply one Deployment with any
--shard 0..T and --total-shards 1..T and delete a Deployment; between the ops every order of the
lanes' deliveries (explicit schedule; deliveries to different lanes commute, so a state counts
them per lane). Every path is replayed by the simulator (--reducer, default field-selector,
runs the pods' data plane), over one ConfigMap per jump-hash trajectory class of totals 1..T, so
the verdict covers every UID. D and T are at most %d; beyond %d states it stops (exit 2). The
counterexample (fewest ops, then fewest deliveries) is an explicit trace,
DIR/check-static-<reducer>-d<D>-t<T>-k<K>[-misconfigure].json with --out.

--mode daemonset checks DaemonSet sharding (a KSM pod per node run with --node): from 1..N nodes
(--max-nodes, at most %d; --dotted names them ip-10-0-0-i.ec2.internal), one pod bound to each
and 0 or 1 unscheduled pod, every sequence of up to K ops (default 2): add a node, remove one,
create one pod on a node or unscheduled, bind one unscheduled pod, and with --taints taint or
untaint a node; every order of the KSM pods' deliveries between them (a removed node's by a
settle). --reducer (default v2.14.0) gives the release's --node and --track-unscheduled-pods
rules; --unscheduled says what serves the unscheduled pods: track (default), all or none.
Written with --out as DIR/check-daemonset-<reducer>-n<N>-k<K>[-<unscheduled>][-taints][-dotted].json.

--out DIR is checked before the search: DIR must be a directory that takes a new
file (or be creatable), and DIR/check-<reducer>-m<M>-k<K>.json (with faults
check-<reducer>-m<M>-k<K>-<fault>-....json) must not exist unless --force (which never replaces a directory or a device; a symbolic link
counts as an existing file, and --force replaces the regular file it leads to).

Exit status:
  0  the properties hold at every quiescent point of every path within the bounds
  1  a counterexample was found (and written, with --out)
  2  bad usage (an unknown fault, say), bounds too large to explore, or an --out
     file that cannot be written: refused before the search, or, if writing
     still fails after it, reported after the full report
  3  internal error (the simulator does not confirm the counterexample, or the
     safety and liveness verdicts differ, or a data-plane path does not replay)`, checker.DataPlaneObjects, checker.DataPlanePageSize, checker.MaxStaticDeployments, checker.MaxStaticStates, checker.MaxDaemonSetNodes),
		Example: `  # KSM >= v2.13.0: holds for all UIDs (exit 0)
  simrun check --reducer field-selector --max-replicas 3 --depth 3

  # KSM <= v2.12.0: a shortest counterexample, written as a replayable trace (exit 1)
  simrun check --reducer label-selector --max-replicas 3 --depth 3 --out /tmp/cx
  simrun --trace /tmp/cx/check-label-selector-m3-k3.json --reducer label-selector

  # A release: its StatefulSet strategy and its data plane (#3065 in v2.19.1; exit 1)
  simrun check --reducer v2.19.1 --out /tmp/cx

  # With compactions and dropped watches among the ops, as JSON
  simrun check --reducer field-selector --max-replicas 4 --depth 4 --faults compact,disconnect --format json

  # Static sharding: reshards hold in every delivery order (exit 0); a misconfigured apply does not (exit 1)
  simrun check --mode static --max-deployments 3 --max-total 3 --depth 2
  simrun check --mode static --misconfigure --out /tmp/cx

  # DaemonSet sharding: tracked unscheduled pods hold from v2.14.0 (exit 0); v2.13.0 strips dotted node names (exit 1)
  simrun check --mode daemonset --reducer v2.14.0 --dotted
  simrun check --mode daemonset --reducer v2.13.0 --unscheduled none --dotted`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.depthSet = cmd.Flags().Changed("depth")
			if f.mode == checkModeStatic {
				return runCheckStatic(cmd, f)
			}
			if f.mode == checkModeDaemonSet {
				return runCheckDaemonSet(cmd, f)
			}
			if f.mode != "" && f.mode != checkModeAutosharding {
				return usageErr("--mode must be %s (the default), %s or %s, got %q", checkModeAutosharding, checkModeStatic, checkModeDaemonSet, f.mode)
			}
			for _, n := range []string{"max-deployments", "max-total", "misconfigure", "max-nodes", "unscheduled", "taints", "dotted"} {
				if cmd.Flags().Changed(n) {
					return usageErr("--%s is a flag of --mode static", n)
				}
			}
			return runCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.reducer, "reducer", "r", "", "reducer to check: "+model.KnownReducers()+" (required)")
	fl.IntVarP(&f.maxReplicas, "max-replicas", "m", 3, fmt.Sprintf("largest replica count (1..%d)", checker.MaxReplicas))
	fl.IntVarP(&f.depth, "depth", "k", 3, "largest number of cluster ops on a path (a fault op counts as one)")
	fl.StringSliceVar(&f.faults, "faults", nil, "fault ops to explore too: a comma-separated subset of "+strings.Join(checker.FaultNames(), ",")+" (default none)")
	fl.StringVarP(&f.format, "format", "o", "text", "report format: text or json")
	fl.StringVar(&f.out, "out", "", "directory to write the counterexample trace to (created if missing); an existing file is kept unless --force")
	fl.BoolVar(&f.force, "force", false, "with --out, replace an existing counterexample file")
	fl.IntVar(&f.workers, "workers", 0, fmt.Sprintf("goroutines expanding the frontier (0: GOMAXPROCS; at most %d); the result does not depend on it", checker.MaxWorkers))
	fl.BoolVar(&f.progress, "progress", false, "report progress on stderr even when it is not a terminal")
	fl.StringVar(&f.mode, "mode", checkModeAutosharding, "sharding mode to check: "+checkModeAutosharding+" (the StatefulSet), "+checkModeStatic+" (Deployments with --shard and --total-shards) or "+checkModeDaemonSet+" (a KSM pod per node)")
	fl.IntVar(&f.maxNodes, "max-nodes", 2, fmt.Sprintf("--mode daemonset: largest number of initial nodes (1..%d)", checker.MaxDaemonSetNodes))
	fl.StringVar(&f.unscheduled, "unscheduled", "track", "--mode daemonset: what serves the unscheduled pods: track (--track-unscheduled-pods), all (a KSM pod without --node) or none")
	fl.BoolVar(&f.taints, "taints", false, "--mode daemonset: also taint and untaint nodes (a tainted node's pods are exported by no KSM pod)")
	fl.BoolVar(&f.dotted, "dotted", false, "--mode daemonset: name the nodes like cloud nodes, with dots (ip-10-0-0-1.ec2.internal)")
	fl.IntVar(&f.maxDeployments, "max-deployments", 3, fmt.Sprintf("--mode static: largest number of Deployments (1..%d)", checker.MaxStaticDeployments))
	fl.IntVar(&f.maxTotal, "max-total", 3, fmt.Sprintf("--mode static: largest --total-shards (1..%d)", checker.MaxStaticTotal))
	fl.BoolVar(&f.misconfigure, "misconfigure", false, "--mode static: also apply one Deployment with any --shard and --total-shards, and delete a Deployment")
	_ = cmd.RegisterFlagCompletionFunc("reducer", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return append(model.ReducerNames(), model.ReleaseVersions()...), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("faults", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return checker.FaultNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("mode", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{checkModeAutosharding, checkModeStatic, checkModeDaemonSet}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// maxCheckDepth bounds --depth: far beyond what can finish, and the
// reachable states of every reducer saturate long before.
const maxCheckDepth = 1000

func runCheck(out, errOut io.Writer, f *checkFlags) error {
	if f.reducer == "" {
		return usageErr("--reducer is required: one of %s", model.KnownReducers())
	}
	r, ok := model.ReducerByName(f.reducer)
	if !ok {
		return usageErr("unknown reducer %q, want one of %s", f.reducer, model.KnownReducers())
	}
	if f.maxReplicas < 1 || f.maxReplicas > checker.MaxReplicas {
		return usageErr("--max-replicas must be between 1 and %d, got %d", checker.MaxReplicas, f.maxReplicas)
	}
	if f.depth < 0 || f.depth > maxCheckDepth {
		return usageErr("--depth must be between 0 and %d, got %d", maxCheckDepth, f.depth)
	}
	if f.workers < 0 || f.workers > checker.MaxWorkers {
		return usageErr("--workers must be between 0 (GOMAXPROCS) and %d, got %d", checker.MaxWorkers, f.workers)
	}
	faults, err := checker.ParseFaults(f.faults)
	if err != nil {
		return usageErr("--faults: %v", err)
	}
	if f.format != "text" && f.format != "json" {
		return usageErr("--format must be text or json, got %q", f.format)
	}
	name := fmt.Sprintf("check-%s-m%d-k%d", r.Name(), f.maxReplicas, f.depth)
	for _, n := range faults.Names() {
		name += "-" + n
	}
	if rel, ok := r.(model.Release); ok {
		return runCheckRelease(out, errOut, f, rel, faults, name)
	}
	path, err := counterexamplePath(f, name)
	if err != nil {
		return err
	}
	opt := checker.Options{Reducer: r, MaxReplicas: f.maxReplicas, Depth: f.depth, Faults: faults, Workers: f.workers}
	terminal := isTerminal(errOut)
	opt.Progress = progressTo[checker.Progress](errOut, "check", terminal, f.progress)
	res, err := checker.Check(opt)
	if terminal && res != nil && res.Elapsed.Seconds() >= 2 {
		fmt.Fprint(errOut, "\r\x1b[K") // clear the progress line
	}
	if err != nil {
		var tm *checker.TooManyStatesError
		if errors.As(err, &tm) {
			return usageErr("check %s --max-replicas %d --depth %d: %v: lower --max-replicas or --depth", r.Name(), f.maxReplicas, f.depth, err)
		}
		return usageErr("%v", err)
	}
	var x *checker.Export
	var writeErr error
	if cx := res.Counterexample; cx != nil {
		if x, err = cx.Export(name); err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
		}
		path, writeErr = writeCounterexample(f, path, x.JSON)
	}
	if f.format == "json" {
		err = res.WriteJSON(out, x, path)
	} else {
		err = res.WriteText(out, x, path)
	}
	if err != nil {
		return err
	}
	if writeErr != nil {
		again := fmt.Sprintf("simrun check --reducer %s --max-replicas %d --depth %d", r.Name(), f.maxReplicas, f.depth)
		if faults != 0 {
			again += " --faults " + faults.String()
		}
		return usageErr("--out: %v (the counterexample is in the report above; write it with: %s --out DIR)", writeErr, again)
	}
	if res.Holds != res.Liveness {
		return &exitError{code: exitInternal, err: fmt.Errorf("internal error: the safety verdict (holds %v) and the liveness verdict (holds %v) differ", res.Holds, res.Liveness)}
	}
	if !res.Holds {
		return &exitError{code: exitViolated, err: errors.New("a property is violated")}
	}
	return nil
}

// checkOutFile refuses, before the work, an output directory dir and the
// file path in it that could not be written: dir not a directory (or not
// creatable), or not taking a new file; path existing without force, or
// not a regular file.
func checkOutFile(dir, path string, force bool) error {
	if err := atomicfile.CheckDir(dir); err != nil {
		return usageErr("--out: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil // created later; the file cannot exist yet
	}
	if err := atomicfile.Check(path, force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErr("--out: %v; choose another directory or add --force to replace it", err)
		}
		return usageErr("--out: %v", err)
	}
	return nil
}

// progressTo returns the progress callback of a long search named cmd: one
// line rewritten in place on a terminal, a line per report when forced
// (--progress) elsewhere, nil (silent) otherwise.
func progressTo[P fmt.Stringer](w io.Writer, cmd string, terminal, forced bool) func(P) {
	switch {
	case terminal:
		return func(p P) { fmt.Fprintf(w, "\r%s: %s\x1b[K", cmd, p) }
	case forced:
		return func(p P) { fmt.Fprintf(w, "%s: %s\n", cmd, p) }
	}
	return nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// runCheckRelease is check for a release (doc.go of package checker,
// "Releases and the data plane"): the abstract exploration with the
// release's StatefulSet strategy, then the data-plane exploration with the
// release, each counterexample exported, replayed and written with --out.
func runCheckRelease(out, errOut io.Writer, f *checkFlags, rel model.Release, faults checker.Faults, name string) error {
	if f.out == atomicfile.Stdout {
		return usageErr("--out names a directory (the files are %s-statefulset.json and %s-dataplane.json in it); - (standard output) does not apply: give a directory, e.g. --out /tmp/cx", name, name)
	}
	var spath, dpath string
	if f.out != "" {
		spath = filepath.Join(f.out, name+"-statefulset.json")
		dpath = filepath.Join(f.out, name+"-dataplane.json")
		for _, p := range []string{spath, dpath} {
			if err := checkOutFile(f.out, p, f.force); err != nil {
				return err
			}
		}
	}
	terminal := isTerminal(errOut)
	clear := func(elapsed time.Duration) {
		if terminal && elapsed.Seconds() >= 2 {
			fmt.Fprint(errOut, "\r\x1b[K") // clear the progress line
		}
	}
	opt := checker.Options{Reducer: rel.Selector, MaxReplicas: f.maxReplicas, Depth: f.depth, Faults: faults, Workers: f.workers}
	opt.Progress = progressTo[checker.Progress](errOut, "check "+rel.Name()+", StatefulSet level", terminal, f.progress)
	sres, err := checker.Check(opt)
	if sres != nil {
		clear(sres.Elapsed)
	}
	if err != nil {
		var tm *checker.TooManyStatesError
		if errors.As(err, &tm) {
			return usageErr("check %s --max-replicas %d --depth %d: %v: lower --max-replicas or --depth", rel.Name(), f.maxReplicas, f.depth, err)
		}
		return usageErr("%v", err)
	}
	dopt := checker.DataPlaneOptions{Reducer: rel, MaxReplicas: f.maxReplicas, Depth: f.depth, Faults: faults, Workers: f.workers}
	dopt.Progress = progressTo[checker.DataPlaneProgress](errOut, "check "+rel.Name(), terminal, f.progress)
	dres, err := checker.CheckDataPlane(dopt)
	if dres != nil {
		clear(dres.Elapsed)
	}
	if err != nil {
		var tm *checker.TooManyReplaysError
		if errors.As(err, &tm) {
			return usageErr("check %s --max-replicas %d --depth %d: %v: lower --max-replicas or --depth", rel.Name(), f.maxReplicas, f.depth, err)
		}
		return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
	}
	res := &checker.ReleaseResult{Release: rel, StatefulSet: sres, DataPlane: dres}

	var sx *checker.Export
	var dx *checker.DataPlaneExport
	var files []struct {
		path *string
		data []byte
	}
	if cx := sres.Counterexample; cx != nil {
		if sx, err = cx.Export(name + "-statefulset"); err == nil {
			err = sx.AlsoExpect(rel)
		}
		if err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
		}
		files = append(files, struct {
			path *string
			data []byte
		}{&spath, sx.JSON})
	}
	if cx := dres.Counterexample; cx != nil {
		if dx, err = cx.Export(name + "-dataplane"); err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
		}
		files = append(files, struct {
			path *string
			data []byte
		}{&dpath, dx.JSON})
	}
	var writeErr error
	for _, file := range files {
		var err error
		*file.path, err = writeCounterexample(f, *file.path, file.data)
		writeErr = errors.Join(writeErr, err)
	}
	if f.format == "json" {
		err = res.WriteJSON(out, sx, spath, dx, dpath)
	} else {
		err = res.WriteText(out, sx, spath, dx, dpath)
	}
	if err != nil {
		return err
	}
	if writeErr != nil {
		again := fmt.Sprintf("simrun check --reducer %s --max-replicas %d --depth %d", rel.Name(), f.maxReplicas, f.depth)
		if faults != 0 {
			again += " --faults " + faults.String()
		}
		return usageErr("--out: %v (the counterexamples are in the report above; write them with: %s --out DIR)", writeErr, again)
	}
	if sres.Holds != sres.Liveness {
		return &exitError{code: exitInternal, err: fmt.Errorf("internal error: the safety verdict (holds %v) and the liveness verdict (holds %v) differ", sres.Holds, sres.Liveness)}
	}
	if !res.Holds() {
		return &exitError{code: exitViolated, err: errors.New("a property is violated")}
	}
	return nil
}

// The modes of `simrun check --mode`.
const (
	checkModeAutosharding = "autosharding"
	checkModeStatic       = "static"
	checkModeDaemonSet    = "daemonset"
)

// runCheckStatic is `simrun check --mode static` (checker.CheckStatic).
func runCheckStatic(cmd *cobra.Command, f *checkFlags) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for _, n := range []string{"max-replicas", "faults", "max-nodes", "unscheduled", "taints", "dotted"} {
		if cmd.Flags().Changed(n) {
			return usageErr("--%s does not apply to --mode static (use --max-deployments, --max-total, --misconfigure)", n)
		}
	}
	if f.format != "text" {
		return usageErr("--mode static writes text only (--format text), got %q", f.format)
	}
	r, err := modeReducer(f, model.FieldSelector{})
	if err != nil {
		return err
	}
	depth := f.depth
	if !f.depthSet {
		depth = 2
	}
	if f.maxDeployments < 1 || f.maxDeployments > checker.MaxStaticDeployments {
		return usageErr("--max-deployments must be between 1 and %d, got %d", checker.MaxStaticDeployments, f.maxDeployments)
	}
	if f.maxTotal < 1 || f.maxTotal > checker.MaxStaticTotal {
		return usageErr("--max-total must be between 1 and %d, got %d", checker.MaxStaticTotal, f.maxTotal)
	}
	if depth < 0 || depth > maxCheckDepth {
		return usageErr("--depth must be between 0 and %d, got %d", maxCheckDepth, depth)
	}
	if f.workers < 0 || f.workers > checker.MaxWorkers {
		return usageErr("--workers must be between 0 (GOMAXPROCS) and %d, got %d", checker.MaxWorkers, f.workers)
	}
	name := fmt.Sprintf("check-static-%s-d%d-t%d-k%d", r.Name(), f.maxDeployments, f.maxTotal, depth)
	if f.misconfigure {
		name += "-misconfigure"
	}
	path, err := counterexamplePath(f, name)
	if err != nil {
		return err
	}
	opt := checker.StaticOptions{Reducer: r, MaxDeployments: f.maxDeployments, MaxTotal: f.maxTotal, Depth: depth, Misconfigure: f.misconfigure, Workers: f.workers}
	terminal := isTerminal(errOut)
	opt.Progress = progressTo[checker.StaticProgress](errOut, "check --mode static", terminal, f.progress)
	res, err := checker.CheckStatic(opt)
	if terminal && res != nil && res.Elapsed.Seconds() >= 2 {
		fmt.Fprint(errOut, "\r\x1b[K")
	}
	if err != nil {
		var tm *checker.TooManyReplaysError
		if errors.As(err, &tm) {
			return usageErr("check --mode static: %v: lower --max-deployments, --max-total or --depth", err)
		}
		return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
	}
	var x *checker.DataPlaneExport
	var writeErr error
	if cx := res.Counterexample; cx != nil {
		if x, err = cx.Export(name); err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
		}
		path, writeErr = writeCounterexample(f, path, x.JSON)
	}
	if err := res.WriteText(out, x, path); err != nil {
		return err
	}
	if writeErr != nil {
		return usageErr("--out: %v (the counterexample is in the report above)", writeErr)
	}
	if !res.Holds {
		return &exitError{code: exitViolated, err: errors.New("a property is violated")}
	}
	return nil
}

// modeReducer is the reducer of --mode static or daemonset: --reducer,
// or def.
func modeReducer(f *checkFlags, def model.Reducer) (model.Reducer, error) {
	if f.reducer == "" {
		return def, nil
	}
	r, ok := model.ReducerByName(f.reducer)
	if !ok {
		return nil, usageErr("unknown reducer %q, want one of %s", f.reducer, model.KnownReducers())
	}
	return r, nil
}

// counterexamplePath is where --out puts the counterexample named name
// ("" without --out), checked before the exploration.
func counterexamplePath(f *checkFlags, name string) (string, error) {
	if f.out == atomicfile.Stdout {
		return "", usageErr("--out names a directory (the file is %s.json in it); - (standard output) does not apply: give a directory, e.g. --out /tmp/cx", name)
	}
	if f.out == "" {
		return "", nil
	}
	path := filepath.Join(f.out, name+".json")
	return path, checkOutFile(f.out, path, f.force)
}

// writeCounterexample writes a counterexample's data to path under --out,
// if given (every mode of check uses it); it
// returns the path as the report names it ("NOT written" when the write
// failed) and the write's error.
func writeCounterexample(f *checkFlags, path string, data []byte) (string, error) {
	if f.out == "" {
		return path, nil
	}
	err := os.MkdirAll(f.out, 0o755)
	if err == nil {
		err = writeFile(path, data, f.force)
	}
	if err != nil {
		path += " NOT written (see the error below)"
	}
	return path, err
}

// runCheckDaemonSet is `simrun check --mode daemonset`
// (checker.CheckDaemonSet).
func runCheckDaemonSet(cmd *cobra.Command, f *checkFlags) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for _, n := range []string{"max-replicas", "faults", "max-deployments", "max-total", "misconfigure"} {
		if cmd.Flags().Changed(n) {
			return usageErr("--%s does not apply to --mode daemonset (use --max-nodes, --unscheduled, --taints, --dotted)", n)
		}
	}
	if f.format != "text" {
		return usageErr("--mode daemonset writes text only (--format text), got %q", f.format)
	}
	v2140, _ := model.ReducerByName("v2.14.0")
	r, err := modeReducer(f, v2140)
	if err != nil {
		return err
	}
	depth := f.depth
	if !f.depthSet {
		depth = 2
	}
	if f.maxNodes < 1 || f.maxNodes > checker.MaxDaemonSetNodes {
		return usageErr("--max-nodes must be between 1 and %d, got %d", checker.MaxDaemonSetNodes, f.maxNodes)
	}
	if depth < 0 || depth > 32 {
		return usageErr("--depth must be between 0 and 32 for --mode daemonset, got %d", depth)
	}
	if f.workers < 0 || f.workers > checker.MaxWorkers {
		return usageErr("--workers must be between 0 (GOMAXPROCS) and %d, got %d", checker.MaxWorkers, f.workers)
	}
	unscheduled := f.unscheduled
	switch unscheduled {
	case "none":
		unscheduled = ""
	case "track", "all":
	default:
		return usageErr("--unscheduled must be track, all or none, got %q", f.unscheduled)
	}
	name := fmt.Sprintf("check-daemonset-%s-n%d-k%d-%s", r.Name(), f.maxNodes, depth, f.unscheduled)
	if f.taints {
		name += "-taints"
	}
	if f.dotted {
		name += "-dotted"
	}
	path, err := counterexamplePath(f, name)
	if err != nil {
		return err
	}
	opt := checker.DaemonSetOptions{Reducer: r, MaxNodes: f.maxNodes, Depth: depth, Unscheduled: unscheduled, Taints: f.taints, Dotted: f.dotted, Workers: f.workers}
	terminal := isTerminal(errOut)
	opt.Progress = progressTo[checker.StaticProgress](errOut, "check --mode daemonset", terminal, f.progress)
	res, cx, err := checker.CheckDaemonSet(opt)
	if terminal && res != nil && res.Elapsed.Seconds() >= 2 {
		fmt.Fprint(errOut, "\r\x1b[K")
	}
	if err != nil {
		var tm *checker.TooManyReplaysError
		if errors.As(err, &tm) {
			return usageErr("check --mode daemonset: %v: lower --max-nodes or --depth", err)
		}
		return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
	}
	var writeErr error
	if cx != nil {
		x, err := cx.Export(name)
		if err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
		}
		path, writeErr = writeCounterexample(f, path, x.JSON)
	}
	if err := checker.WriteDaemonSetText(out, opt, res, cx, path); err != nil {
		return err
	}
	if writeErr != nil {
		return usageErr("--out: %v (the counterexample is in the report above)", writeErr)
	}
	if cx != nil {
		return &exitError{code: exitViolated, err: errors.New("a property is violated")}
	}
	return nil
}
