package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/checker"
	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/model"
)

type checkFlags struct {
	reducer     string
	maxReplicas int
	depth       int
	out         string
	force       bool
	workers     int
	progress    bool
}

// newCheckCommand returns `simrun check`, the exhaustive model checker.
func newCheckCommand() *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check --reducer R [--max-replicas M] [--depth K] [--out DIR]",
		Short: "Explore every op sequence and delivery order within bounds, for every UID",
		Long: `check explores, breadth first, every sequence of up to K cluster ops (relabel to the
original labels, a superset, a changed value or a removed key; scale to 0..M; restart one
pod) from a settled cluster of every replica count 1..M, and every order in which the pods
receive their inbox items between the ops (a pod's start is two items, GET then LIST, so ops
can land between them). At every quiescent point it checks complete and disjoint for every
jump-hash trajectory class, which covers every possible UID.

It prints "holds for all UIDs", or the shortest counterexample (fewest cluster ops) in plain
words. The counterexample is turned into an ordinary explicit trace, with a UID of each
violating class, and replayed with the simulator, which must say violated; --out writes it.

Exit status:
  0  the properties hold at every quiescent point of every path within the bounds
  1  a counterexample was found
  2  bad usage
  3  internal error (the simulator does not confirm the counterexample)`,
		Example: `  # KSM >= v2.13.0: holds for all UIDs (exit 0)
  simrun check --reducer field-selector --max-replicas 3 --depth 3

  # KSM <= v2.12.0: a shortest counterexample, written as a replayable trace (exit 1)
  simrun check --reducer label-selector --max-replicas 3 --depth 3 --out /tmp/cx
  simrun --trace /tmp/cx/check-label-selector-m3-k3.json --reducer label-selector`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.reducer, "reducer", "r", "", "reducer to check: "+strings.Join(model.ReducerNames(), ", ")+" (required)")
	fl.IntVarP(&f.maxReplicas, "max-replicas", "m", 3, fmt.Sprintf("largest replica count (1..%d)", checker.MaxReplicas))
	fl.IntVarP(&f.depth, "depth", "k", 3, "largest number of cluster ops on a path")
	fl.StringVar(&f.out, "out", "", "directory to write the counterexample trace to (created if missing); an existing file is kept unless --force")
	fl.BoolVar(&f.force, "force", false, "with --out, replace an existing counterexample file")
	fl.IntVar(&f.workers, "workers", 0, "goroutines expanding the frontier (0: GOMAXPROCS); the result does not depend on it")
	fl.BoolVar(&f.progress, "progress", false, "report progress on stderr even when it is not a terminal")
	_ = cmd.RegisterFlagCompletionFunc("reducer", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return model.ReducerNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagDirname("out")
	return cmd
}

// maxCheckDepth bounds --depth: far beyond what can finish, and the
// reachable states of every reducer saturate long before.
const maxCheckDepth = 1000

func runCheck(out, errOut io.Writer, f *checkFlags) error {
	if f.reducer == "" {
		return usageErr("--reducer is required: one of %s", strings.Join(model.ReducerNames(), ", "))
	}
	r, ok := model.ReducerByName(f.reducer)
	if !ok {
		return usageErr("unknown reducer %q, want one of %s", f.reducer, strings.Join(model.ReducerNames(), ", "))
	}
	if f.maxReplicas < 1 || f.maxReplicas > checker.MaxReplicas {
		return usageErr("--max-replicas must be between 1 and %d, got %d", checker.MaxReplicas, f.maxReplicas)
	}
	if f.depth < 0 || f.depth > maxCheckDepth {
		return usageErr("--depth must be between 0 and %d, got %d", maxCheckDepth, f.depth)
	}
	if f.workers < 0 {
		return usageErr("--workers must be 0 (GOMAXPROCS) or more, got %d", f.workers)
	}
	opt := checker.Options{Reducer: r, MaxReplicas: f.maxReplicas, Depth: f.depth, Workers: f.workers}
	terminal := isTerminal(errOut)
	if terminal || f.progress {
		opt.Progress = func(p checker.Progress) {
			if terminal {
				fmt.Fprintf(errOut, "\rcheck: %s\x1b[K", p)
			} else {
				fmt.Fprintf(errOut, "check: %s\n", p)
			}
		}
	}
	res, err := checker.Check(opt)
	if terminal && res != nil && res.Elapsed.Seconds() >= 2 {
		fmt.Fprint(errOut, "\r\x1b[K") // clear the progress line
	}
	if err != nil {
		return usageErr("%v", err)
	}
	var x *checker.Export
	var path string
	if cx := res.Counterexample; cx != nil {
		name := fmt.Sprintf("check-%s-m%d-k%d", r.Name(), f.maxReplicas, f.depth)
		if x, err = cx.Export(name); err != nil {
			return &exitError{code: exitInternal, err: fmt.Errorf("internal error: %w", err)}
		}
		if f.out != "" {
			if err := os.MkdirAll(f.out, 0o755); err != nil {
				return usageErr("--out: %v", err)
			}
			path = filepath.Join(f.out, name+".json")
			if err := atomicfile.Write(path, x.JSON, f.force); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return usageErr("--out: %s exists; choose another directory or add --force to overwrite it", path)
				}
				return usageErr("--out: %v", err)
			}
		}
	}
	if err := res.WriteText(out, x, path); err != nil {
		return err
	}
	if !res.Holds {
		return &exitError{code: exitViolated, err: errors.New("a property is violated")}
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
