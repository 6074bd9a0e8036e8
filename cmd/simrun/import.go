package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/importer"
	"github.com/shardsim/shardsim/internal/atomicfile"
)

type importFlags struct {
	watch     string
	objects   int
	seed      uint64
	name      string
	traceName string
	out       string
	output    string // the deprecated -o/--output
	force     bool
}

// newImportCommand returns `simrun import`: a kubectl watch of the KSM
// StatefulSet in, a trace out.
func newImportCommand() *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import --statefulset-watch FILE --objects N [--out TRACE.json]",
		Short: "Turn a kubectl watch of the KSM StatefulSet into a trace",
		Long: `import reads what this prints while you operate on the cluster:

  kubectl get statefulset NAME -n NAMESPACE --watch --output-watch-events -o json

(watch events, one JSON object each, compact or pretty-printed) and writes a
trace that replays it:

  - the first event (ADDED or MODIFIED) sets the cluster: the namespace and the
    StatefulSet's name, labels and spec.replicas;
  - a later change of metadata.labels becomes a relabel step;
  - a later change of spec.replicas becomes a scale step;
  - a later change of the pod template becomes a restart of the pods its rolling
    update replaces (none under updateStrategy OnDelete);
  - updates that change none of these (status-only updates) are dropped;
  - a DELETED event is an error: cut the stream before it.

The watch has no sharded objects in it: --objects N generates N UIDs (say, the
number of pods or other objects your KSM exports; --seed picks them). The
trace uses the eager schedule and has no "expect": add one to make it a test.

--out FILE is checked before the stream is read: an existing file is replaced
only with --force, and never something that is not a regular file (a directory,
a device); a symbolic link counts as an existing file and, with --force, the
regular file it leads to is replaced. --out - (the default) is standard output.
-o FILE and --output FILE still work but are deprecated: in kubectl, and in
simrun's replay, -o is the output format.

Exit status:
  0  the trace was written
  2  bad input or usage: malformed stream (the message names the file, the
     event and its line), a deletion, a missing flag, or an output file that
     exists (use --force) or cannot be written`,
		Example: `  # Capture while you relabel and scale (stop kubectl with Ctrl-C), then import
  kubectl get statefulset kube-state-metrics -n monitoring --watch --output-watch-events -o json > watch.json
  simrun import --statefulset-watch watch.json --objects 1000 --out incident.json
  simrun --trace incident.json --html incident.html

  # The sample stream shipped with shardsim (a relabel, then a scale 2 -> 3);
  # run from the repository root
  simrun import --statefulset-watch importer/testdata/sample-watch.json --objects 1000 --out sample.json
  simrun --trace sample.json

  # From standard input to standard output
  simrun import --statefulset-watch - --objects 500 < watch.json

  # A watch of several StatefulSets: follow one
  simrun import --statefulset-watch all.json --name monitoring/kube-state-metrics --objects 1000 --out ksm.json`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImport(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.watch, "statefulset-watch", "", "the watch stream to read (kubectl get statefulset NAME -n NS --watch --output-watch-events -o json); - reads standard input")
	fl.IntVar(&f.objects, "objects", 0, "how many sharded objects the trace generates (required: the watch has none)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the generated object UIDs")
	fl.StringVar(&f.name, "name", "", "follow this StatefulSet (NAME or NAMESPACE/NAME) and skip events for others; default: the stream must be about one")
	fl.StringVar(&f.traceName, "trace-name", "", "the trace's name (default: the StatefulSet's)")
	fl.StringVar(&f.out, "out", "-", "write the trace to this file (- is standard output); an existing file only with --force")
	fl.StringVarP(&f.output, "output", "o", "", "deprecated spelling of --out (in kubectl -o is the output format)")
	_ = fl.MarkHidden("output")
	fl.BoolVar(&f.force, "force", false, "replace the --out file if it exists (never a directory or a device)")
	_ = cmd.MarkFlagFilename("statefulset-watch", "json")
	_ = cmd.MarkFlagFilename("out", "json")
	_ = cmd.MarkFlagFilename("output", "json")
	for _, name := range []string{"objects", "seed", "name", "trace-name"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
	return cmd
}

func runImport(cmd *cobra.Command, f *importFlags) error {
	if f.watch == "" {
		return usageErr("--statefulset-watch is required: the file kubectl wrote (%s), or - for standard input", importer.Capture)
	}
	if !cmd.Flags().Changed("objects") {
		return usageErr("--objects is required: a watch of the StatefulSet says nothing about the objects KSM exports; give how many to simulate, e.g. --objects 1000")
	}
	if f.objects < 1 {
		return usageErr("--objects must be at least 1, got %d", f.objects)
	}
	if cmd.Flags().Changed("output") {
		if cmd.Flags().Changed("out") {
			return usageErr("-o/--output and --out both name the output file; give only --out (-o/--output is its deprecated spelling)")
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "simrun import: -o/--output FILE is deprecated and will become the output format, as in kubectl and in simrun's replay; use --out %s\n", shellWord(f.output))
		f.out = f.output
	}
	if f.out == "" {
		return usageErr("--out must name a file, or - for standard output")
	}
	if err := atomicfile.Check(f.out, f.force); err != nil {
		return outErr(err)
	}

	var in io.Reader = cmd.InOrStdin()
	if f.watch != "-" {
		file, err := os.Open(f.watch)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return usageErr("%s: cannot read the watch stream: %v", f.watch, err)
		}
		defer file.Close()
		in = file
	}
	res, err := importer.Import(in, importer.Options{
		Source: f.watch, Objects: f.objects, Seed: f.seed, Name: f.name, TraceName: f.traceName,
	})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}

	if err := atomicfile.Output(cmd.OutOrStdout(), f.out, res.JSON, f.force); err != nil {
		return outErr(err)
	}
	if f.out == atomicfile.Stdout {
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %d steps from %d watch events (%d status-only updates dropped", f.out, len(res.Trace.Steps), res.Events, res.Dropped)
	if res.Skipped > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), ", %d events for other StatefulSets skipped", res.Skipped)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), ")\nreplay it: simrun --trace %s\n", shellWord(f.out))
	return nil
}

// outErr is the usage error for an --out file that cannot be written.
func outErr(err error) error {
	if errors.Is(err, fs.ErrExist) {
		return usageErr("--out: %v; choose another file or add --force to replace it", err)
	}
	return usageErr("--out: %v", err)
}
