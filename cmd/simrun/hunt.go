package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/properties"
)

type huntFlags struct {
	reducer string
	seed    uint64
	out     string
	traces  int
	force   bool
}

func newHuntCommand() *cobra.Command {
	f := &huntFlags{}
	cmd := &cobra.Command{
		Use:   "hunt --reducer R --out DIR [--seed S] [--traces N] [--force]",
		Short: "Search random traces for a counterexample, shrink it and export it as a trace",
		Long: `hunt generates random traces (relabels, scales, restarts, object churn and, under
the explicit schedule, random delivery interleavings), replays each against the
reducer and stops at the first one that violates completeness or disjointness at a
quiescent point. It shrinks that trace to a minimal one and writes it to DIR as an
ordinary trace file: explicit schedule, the affected objects' UIDs, a description of
what goes wrong, and "expect" filled in for every reducer by replaying it. The
search is deterministic: the same seed finds the same counterexample.

The file is written atomically and an existing file is never replaced unless
--force is given.

Exit status:
  0  no counterexample in N traces
  1  a counterexample was found and written
  2  bad usage, or the file exists (without --force)`,
		Example: `  # Find, shrink and export the relabel bug of kube-state-metrics <= v2.12.0
  simrun hunt --reducer label-selector --seed 1 --out traces/regressions

  # The fixed reducer: nothing to find (exit 0)
  simrun hunt --reducer field-selector --seed 1 --out /tmp/hunt`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return hunt(cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.reducer, "reducer", "r", "", "reducer to falsify: "+strings.Join(model.ReducerNames(), ", "))
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the search: the same seed finds the same counterexample")
	fl.StringVar(&f.out, "out", "", "directory to write the counterexample to (created if missing)")
	fl.IntVar(&f.traces, "traces", properties.DefaultTraces, "number of random traces to try")
	fl.BoolVar(&f.force, "force", false, "replace an existing file of the same name")
	_ = cmd.RegisterFlagCompletionFunc("reducer", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return model.ReducerNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

func hunt(out io.Writer, f *huntFlags) error {
	if f.reducer == "" {
		return usageErr("--reducer is required: one of %s", strings.Join(model.ReducerNames(), ", "))
	}
	if _, ok := model.ReducerByName(f.reducer); !ok {
		return usageErr("unknown reducer %q, want one of %s", f.reducer, strings.Join(model.ReducerNames(), ", "))
	}
	if f.out == "" {
		return usageErr("--out is required: the directory to write the counterexample to")
	}
	if f.traces < 1 {
		return usageErr("--traces must be at least 1, got %d", f.traces)
	}
	opts := properties.HuntOptions{Reducer: f.reducer, Seed: f.seed, Traces: f.traces}
	ce, err := properties.Hunt(opts)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if ce == nil {
		fmt.Fprintf(out, "no counterexample for %s in %d traces (seed %d)\n", f.reducer, f.traces, f.seed)
		return nil
	}
	path, err := properties.Export(f.out, ce.Trace, f.force)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w; to replace it: %s --force", err, properties.HuntCommand(opts, f.out))}
	}
	fmt.Fprintf(out, "counterexample for %s: generated trace %d of seed %d, shrunk from %d steps to %d (%d cluster ops)\n",
		f.reducer, ce.Index, f.seed, len(ce.Found.Steps), len(ce.Trace.Steps), len(ce.ClusterOps()))
	fmt.Fprintf(out, "wrote %s\n\n", path)
	fmt.Fprint(out, ce.Summary())
	fmt.Fprintf(out, "\nreplay it:  %s\n", properties.ReplayCommand(path))
	fmt.Fprintf(out, "find again: %s --force\n", properties.HuntCommand(opts, f.out))
	return &exitError{code: exitViolated, err: errors.New("counterexample found")}
}
