package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
)

type huntFlags struct {
	reducer   string
	seed      uint64
	out       string
	traces    int
	force     bool
	progress  bool
	faults    bool
	apiServer bool
	mode      string
}

func newHuntCommand() *cobra.Command {
	f := &huntFlags{}
	cmd := &cobra.Command{
		Use:   "hunt --reducer R --out DIR [--seed S] [--traces N] [--faults] [--api-server] [--mode static|daemonset] [--force]",
		Short: "Search random traces for a counterexample, shrink it and export it as a trace",
		Long: `hunt generates random traces (relabels, scales, restarts, object churn and, under
the explicit schedule, random delivery interleavings), replays each against the
reducer and stops at the first one that violates completeness or disjointness at a
quiescent point. It shrinks that trace to a minimal one and writes it to DIR as an
ordinary trace file: explicit schedule, the affected objects' UIDs, a description of
what goes wrong, and "expect" filled in for every reducer by replaying it. The
search is deterministic: the same seed finds the same counterexample.

With --faults the generated ops also include the fault ops (compact, disconnect a
subset of the pods, cacheLag 0..3 writes) and, for explicit traces, the explicit data
plane (list pages and object events delivered one by one, between the other ops).

R is a named reducer (label-selector, field-selector) or a kube-state-metrics
release (v2.10.0 to v2.20.0), meaning its whole sharding behaviour. For a release,
and with --api-server for a named reducer, each trace also draws the API server's
configuration: the watch cache on or off, the WatchList gate on or off, and a page
size of the default 500, the object count, or a half or a quarter of it, so that
lists are paged. That is where the releases' data planes differ: without the watch
cache a LIST is paged from etcd, and up to v2.19.1 KSM's sharded List drops the
continue token (#3065); with WatchList, v2.19.0's sharded Watch filters the
initial-events-end bookmark (#2973). Otherwise the API server keeps its default
configuration (watch cache and WatchList on). The shrinker moves each setting back to
its default where the violation persists without it, and drops objects and lowers the
page size. A release's counterexample is replayed against the named reducers, the
release, and the first later release that holds on it (the fix), and "expect" names
them all.

--mode static hunts static sharding instead (Deployments run with --shard and
--total-shards: reshards, restarts, ConfigMap churn and misconfigured applies, any
strategy); --mode daemonset hunts DaemonSet sharding (nodes, dotted names among them,
taints, pod creations and bindings, the unscheduled pods tracked with
--track-unscheduled-pods). Their counterexamples are shrunk by a shrinker of their own
(steps, Deployments, nodes, pods) and replayed against the hunted reducer and the named
reducers, whichever replay the trace; --faults and --api-server do not apply.

DIR is checked before the search (a directory that takes a new file, or one that
can be created). The file is written atomically. A file of the same name that
already holds exactly this counterexample is left as it is (the same seed finds
the same one, so hunting again is harmless); one that holds something else is
replaced only with --force, and never a directory or a device. If the write
fails after the search, the counterexample is printed first.

Progress goes to stderr on a terminal from two seconds into the search, or
always with --progress.

Exit status:
  0  no counterexample in N traces
  1  a counterexample was found, and written (or already there, identical)
  2  bad usage, or DIR or the file cannot be written: refused before the search,
     or, if the write fails after it, reported after the counterexample`,
		Example: `  # Find, shrink and export the relabel bug of kube-state-metrics <= v2.12.0
  simrun hunt --reducer label-selector --seed 1 --out traces/regressions

  # A release: #3065 (paged lists keep their first page) on v2.19.1, nothing on v2.20.0,
  # #2973 (the watch list's bookmark reaches one shard) on v2.19.0
  simrun hunt --reducer v2.19.1 --seed 1 --out /tmp/hunt
  simrun hunt --reducer v2.20.0 --seed 1 --out /tmp/hunt
  simrun hunt --reducer v2.19.0 --seed 1 --out /tmp/hunt

  # The other sharding modes: a misconfigured Deployment; a tainted node's pods
  simrun hunt --reducer field-selector --mode static --seed 1 --out /tmp/hunt
  simrun hunt --reducer v2.20.0 --mode daemonset --seed 1 --out /tmp/hunt

  # The fixed reducer: nothing to find (exit 0), with faults too
  simrun hunt --reducer field-selector --seed 1 --out /tmp/hunt
  simrun hunt --reducer field-selector --seed 1 --faults --out /tmp/hunt`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return hunt(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.reducer, "reducer", "r", "", "reducer to falsify: "+model.KnownReducers())
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the search: the same seed finds the same counterexample")
	fl.StringVar(&f.out, "out", "", "directory to write the counterexample to (created if missing)")
	fl.IntVar(&f.traces, "traces", properties.DefaultTraces, "number of random traces to try")
	fl.BoolVar(&f.force, "force", false, "replace an existing file of the same name that holds something else (never a directory or a device)")
	fl.BoolVar(&f.progress, "progress", false, "report progress on stderr even when it is not a terminal")
	fl.BoolVar(&f.faults, "faults", false, "also generate the fault ops (compact, disconnect, cacheLag) and the explicit data plane")
	fl.StringVar(&f.mode, "mode", "", "sharding mode of the generated traces: static or daemonset (default: autosharding)")
	fl.BoolVar(&f.apiServer, "api-server", false, "also draw the API server's configuration (watch cache, WatchList, page size) for a named reducer; always on for a release")
	_ = cmd.RegisterFlagCompletionFunc("reducer", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return append(model.ReducerNames(), model.ReleaseVersions()...), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

func hunt(out, errOut io.Writer, f *huntFlags) error {
	if f.reducer == "" {
		return usageErr("--reducer is required: %s", model.KnownReducers())
	}
	if _, ok := model.ReducerByName(f.reducer); !ok {
		return usageErr("unknown reducer %q, want %s", f.reducer, model.KnownReducers())
	}
	if f.out == "" {
		return usageErr("--out is required: the directory to write the counterexample to")
	}
	if f.traces < 1 {
		return usageErr("--traces must be at least 1, got %d", f.traces)
	}
	if f.out == atomicfile.Stdout {
		return usageErr("--out names a directory (the file's name comes from the counterexample); - (standard output) does not apply: give a directory, e.g. --out /tmp/hunt")
	}
	if err := atomicfile.CheckDir(f.out); err != nil {
		return usageErr("--out: %v", err)
	}
	opts := properties.HuntOptions{Reducer: f.reducer, Seed: f.seed, Traces: f.traces, Mode: f.mode}
	with := ""
	if f.mode != "" {
		with = ", " + f.mode + " sharding"
	}
	if f.faults {
		opts.Gen = properties.FaultGenConfig()
		with = ", with fault ops"
	}
	if f.apiServer || properties.IsRelease(f.reducer) && f.mode == "" {
		opts.Gen.APIServer = true
		with += ", drawing the API server's configuration"
	}
	terminal := isTerminal(errOut)
	opts.Progress = progressTo[properties.HuntProgress](errOut, "hunt", terminal, f.progress)
	start := time.Now()
	ce, err := properties.Hunt(opts)
	if terminal && time.Since(start) >= 2*time.Second {
		fmt.Fprint(errOut, "\r\x1b[K") // clear the progress line
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if ce == nil {
		fmt.Fprintf(out, "no counterexample for %s in %d traces (seed %d%s)\n", f.reducer, f.traces, f.seed, with)
		return nil
	}
	path, werr := properties.Export(f.out, ce.Trace, f.force)
	var ee *properties.ExistsError
	unchanged := false
	if errors.As(werr, &ee) {
		if data, merr := properties.Marshal(ce.Trace); merr == nil {
			if old, rerr := os.ReadFile(ee.Path); rerr == nil && bytes.Equal(old, data) {
				path, werr, unchanged = ee.Path, nil, true
			}
		}
	}
	fmt.Fprintf(out, "counterexample for %s: generated trace %d of seed %d: %s in %s (%s schedule); shrunk to %s in %s (%s schedule)\n",
		f.reducer, ce.Index, f.seed,
		count(len(properties.ClusterOps(ce.Found)), "cluster op", "cluster ops"), count(len(ce.Found.Steps), "step", "steps"), ce.Found.Schedule,
		count(len(ce.ClusterOps()), "cluster op", "cluster ops"), count(len(ce.Trace.Steps), "step", "steps"), ce.Trace.Schedule)
	switch {
	case werr != nil:
		fmt.Fprintf(out, "NOT written to %s (see the error below)\n\n", f.out)
	case unchanged:
		fmt.Fprintf(out, "%s already holds this counterexample; left as it is\n\n", path)
	default:
		fmt.Fprintf(out, "wrote %s\n\n", path)
	}
	fmt.Fprint(out, ce.Summary())
	if werr != nil {
		if ee != nil {
			return usageErr("--out: %s already exists and holds a different trace; not overwriting it; to replace it: %s --force", ee.Path, properties.HuntCommand(opts, f.out))
		}
		return usageErr("--out: %v; the counterexample is above; to write it: %s", werr, properties.HuntCommand(opts, "DIR"))
	}
	fmt.Fprintf(out, "\nreplay it:  %s\n", properties.ReplayCommand(path))
	fmt.Fprintf(out, "find again: %s\n", properties.HuntCommand(opts, f.out))
	return &exitError{code: exitViolated, err: errors.New("counterexample found")}
}

// count renders n with the singular or plural noun.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
