// Command simrun replays kube-state-metrics autosharding traces against the
// sharding reducers KSM has shipped and reports whether the objects covered
// by all shards stay complete and disjoint. See doc.go.
package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/ksm"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/monitor"
	"github.com/shardsim/shardsim/sim"
)

// Exit statuses.
const (
	exitHolds    = 0
	exitViolated = 1
	exitUsage    = 2
	exitInternal = 3
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes simrun with args and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runWithInput(args, os.Stdin, stdout, stderr)
}

// runWithInput is run reading standard input from stdin.
func runWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCommand()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.Execute()
	if err == nil {
		return exitHolds
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != exitViolated {
			fmt.Fprintln(stderr, "simrun:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors: unknown flags, bad flag values, unknown commands.
	fmt.Fprintln(stderr, "simrun:", err)
	fmt.Fprintln(stderr, "Run 'simrun --help' for usage.")
	return exitUsage
}

type replayFlags struct {
	trace    string
	reducers []string
	format   string
	maxUIDs  int
	log      bool
	strict   bool
	windows  bool
	html     string
	force    bool
	backend  backendFlags
	time     timeFlags

	formatSet bool // --format was given
	cmd       *cobra.Command
}

func newRootCommand() *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "simrun --trace FILE [flags]",
		Short: "Replay kube-state-metrics autosharding traces and check shard coverage",
		Long: `simrun replays a watch-event trace (relabel, scale, restart, object churn)
against the sharding reducers kube-state-metrics has shipped and checks, at every
quiescent point, that the objects covered by all shards are complete (every object
exported by at least one pod) and disjoint (no object exported twice).

What a pod exports is what its store holds: its objects reflector lists and
watches through KSM's sharded ListWatch and the API server's list/watch protocol
(paged LISTs, resourceVersions, 410 Gone, relists), so a trace can also inject
faults (compact, disconnect, cacheLag) and configure the API server
(cluster.apiServer, cluster.pageSize). Each violation is marked permanent (at a
quiescent point: it lasts until an op changes something) or self-healing (at a
transient point: delivering what is pending heals it).

Besides autosharding (cluster.statefulSet, OrderedReady or Parallel pod
management, start-ups that fail: failStart, crashLoop, recover), a trace can
shard statically (cluster.deployments: one Deployment per --shard, rolled out
by apply with RollingUpdate or Recreate) or by node (cluster.daemonSet with
cluster.nodes and cluster.pods: --node, --track-unscheduled-pods; addNode,
removeNode, taint, untaint, createPods, bind), alone or beside autosharding.
See traces/static, traces/daemonset and traces/podmanagement.

Reducers:
  label-selector   kube-state-metrics <= v2.12.0: the pods watch their StatefulSet
                   through a label selector frozen at start.
  field-selector   kube-state-metrics >= v2.13.0: the pods watch it by
                   metadata.name.

Time: every replay runs in simulated time. Each watch event, LIST page, pod
start and pod stop takes a latency (defaults 100ms, 250ms, 5s, 2s, jittered by
25% from a seed: cluster.latencies in the trace, or --latency, --latency-seed,
--jitter), and after the last step the final state holds for --hold (20m).
Under each verdict the report gives each step's duration, the missing and
duplicated series-seconds (objects x seconds exported by no pod, or by two),
the worst windows, what Prometheus scraping every --scrape-interval (30s) saw
(missed and doubled samples), and when each alert fires: the KSM mixin's
KubeStateMetricsShardingMismatch and KubeStateMetricsShardsMissing and this
project's coverage alerts, evaluated by Prometheus's own rule engine on the
simulated self-metrics and object series. --promtool-test FILE writes all of
it as a promtool test rules file. --no-timeline skips it all.

Files: --html FILE is checked before the replay: an existing file is replaced
only with --force, and never something that is not a regular file (a directory,
a device); a symbolic link counts as an existing file and, with --force, the
regular file it leads to is replaced. --html - writes the page to standard
output instead of the report.

Exit status:
  0  every selected reducer holds at every quiescent point
  1  a property is violated (the report says where)
  2  bad input or usage (the message names the file, step and field), or an
     output file that cannot be written: refused before the replay, or, if
     writing still fails after it, reported after the report (which still
     gives the verdict)
  3  a backend failed: the client-go informers, or a KSM pod or process of
     the ksm backend (the message ends with the end of its log)`,
		Example: `  # The relabel bug: label-selector violated, field-selector holds (exit 1)
  simrun --trace traces/relabel.json

  # One reducer, machine-readable
  simrun --trace traces/relabel.json --reducer field-selector --format json

  # What each pod saw and did, step by step
  simrun --trace traces/get-list-race.json --log

  # A known KSM bug (traces/bugs/) on the release that had it (v2.19.1) and
  # the one that fixed it (v2.20.0), named in the trace's expect
  simrun --trace traces/bugs/3065-paged-list-keeps-first-page.json
  simrun --trace traces/bugs/3065-paged-list-keeps-first-page.json --reducer v2.19.1 --log

  # Static sharding: a --total-shards rollout with Recreate leaves a gap
  simrun --trace traces/static/rollout-recreate.json --windows

  # DaemonSet sharding: v2.11.0 to v2.13.0 strip the dots of --node (#2374)
  simrun --trace traces/bugs/2374-node-name-with-dots.json

  # The same replay with every pod on a real client-go informer
  simrun --trace traces/relabel.json --backend client-go

  # Every pod as real kube-state-metrics code (v2.12.0 and v2.13.0; built on
  # first use), another release, or your checkout of KSM
  simrun --trace traces/relabel.json --backend ksm
  simrun --trace traces/relabel.json --backend ksm --ksm-release v2.20.0
  simrun --trace traces/relabel.json --backend ksm --ksm-source ../kube-state-metrics

  # Replay what kubectl recorded, without an intermediate file
  simrun import --statefulset-watch watch.json --objects 1000 | simrun --trace -

  # Below the informer: without the watch cache a paged LIST loses its later
  # pages in KSM's sharded List (until v2.20.0): a permanent gap
  simrun --trace traces/faults/paged-list.json

  # A timeline to look at: one self-contained HTML page per run
  simrun --trace traces/relabel.json --html report.html

  # The scenario as a promtool test (rules files written beside it)
  simrun --trace traces/relabel.json --promtool-test out/relabel.yaml
  (cd out && promtool test rules relabel.yaml)

  # A slow image pull: pods take 90s to start
  simrun --trace traces/relabel.json --latency podStart=90s`,
		Args:          rootArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.formatSet = cmd.Flags().Changed("format")
			f.cmd = cmd
			return replay(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.trace, "trace", "t", "", "trace file to replay (JSON, see README); - reads standard input")
	fl.StringSliceVarP(&f.reducers, "reducer", "r", nil, "reducer to run: "+model.KnownReducers()+" (repeatable; default: label-selector, field-selector and every release the trace's expect names)")
	fl.StringVarP(&f.format, "format", "o", "text", "report format: text or json")
	fl.IntVar(&f.maxUIDs, "max-uids", -1, "list at most N UIDs per gap or overlap in JSON (counts stay exact; -1: all)")
	fl.BoolVar(&f.log, "log", false, "include the event log: what each pod received and did")
	fl.BoolVar(&f.strict, "strict", false, "also fail on violations at non-quiescent points (transient entries, and windows with --windows)")
	fl.BoolVar(&f.windows, "windows", false, "measure transient windows: the properties after every delivery that changes a pod's configuration, between quiescent points")
	_ = cmd.RegisterFlagCompletionFunc("reducer", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return model.ReducerNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.MarkFlagFilename("trace", "json")
	addHTMLFlag(cmd, &f.html)
	fl.BoolVar(&f.force, "force", false, "with --html, replace an existing file (never a directory or a device)")
	addBackendFlag(cmd, &f.backend)
	addTimeFlags(cmd, &f.time)
	cmd.AddCommand(newHuntCommand(), newCheckCommand(), newImportCommand(), newKSMCommand(), newVersionCommand(), newCampaignCommand())
	return cmd
}

func replay(in io.Reader, out, errOut io.Writer, f *replayFlags) error {
	if f.trace == "" {
		return usageErr("--trace is required (try: simrun --trace traces/relabel.json)")
	}
	if f.format != "text" && f.format != "json" {
		return usageErr("--format must be text or json, got %q", f.format)
	}
	if f.maxUIDs < -1 {
		return usageErr("--max-uids must be -1 (all) or a non-negative number, got %d", f.maxUIDs)
	}
	reducers, err := selectReducers(f.reducers)
	if err != nil {
		return err
	}
	if err := checkHTMLPath(f); err != nil {
		return err
	}
	if err := checkPromtoolPath(f); err != nil {
		return err
	}
	var t *sim.Trace
	if f.trace == "-" {
		t, err = sim.ReadTrace("standard input", in) // at most sim.MaxTraceBytes
	} else {
		t, err = sim.LoadTrace(f.trace)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if len(f.reducers) == 0 {
		reducers = sim.ExpectedReducers(t)
	}
	newBackend, reducers, err := f.backend.resolve(reducers, len(f.reducers) > 0)
	if err != nil {
		return err
	}
	if f.backend.name == ksm.Name && t.DataPlane == sim.Explicit {
		fmt.Fprintln(errOut, `simrun: note: the ksm backend answers its pods' ConfigMap requests at once, so under "dataPlane": "explicit" real KSM runs its data plane eagerly: transient points may differ from the model's, quiescent points agree`)
	}
	timeline, err := f.time.apply(f.cmd, t)
	if err != nil {
		return err
	}
	rep, err := sim.Replay(t, reducers, sim.Options{Strict: f.strict, Backend: newBackend, Windows: f.windows, Timeline: timeline})
	if err != nil {
		var te *sim.TraceError
		if errors.Is(err, sim.ErrUnsupported) {
			return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", f.trace, err)}
		}
		if !errors.As(err, &te) {
			return &exitError{code: exitInternal, err: err}
		}
		if te.File == "" {
			te.File = f.trace
			if f.trace == "-" {
				te.File = "standard input"
			}
		}
		return &exitError{code: exitUsage, err: err}
	}
	tests, err := evaluateAlerts(rep, t.Cluster.Namespace, monitor.DefaultRuleFiles())
	if err != nil {
		return &exitError{code: exitInternal, err: err}
	}
	// The page is rendered from the full report, before Cap, and written
	// after the text report: a write that fails loses nothing but itself.
	var page []byte
	if f.html != "" {
		if page, err = renderHTML(rep); err != nil {
			return &exitError{code: exitInternal, err: err}
		}
	}
	if f.html == atomicfile.Stdout {
		_, err = out.Write(page)
	} else {
		rep.Cap(f.maxUIDs)
		if f.format == "json" {
			err = rep.WriteJSON(out, f.log)
		} else {
			err = rep.WriteText(out, f.log)
		}
	}
	if err != nil {
		return err
	}
	if f.html != "" && f.html != atomicfile.Stdout {
		if err := writeHTML(f.html, page, f.force); err != nil {
			verdict := "holds"
			if !rep.Holds() {
				verdict = "violated"
			}
			return usageErr("%v (the report above is complete; its verdict: %s)", err, verdict)
		}
	}
	if f.time.promtoolTest != "" {
		if err := writePromtoolTest(f.time.promtoolTest, tests, f.force); err != nil {
			return usageErr("%v (the report above is complete)", err)
		}
		if note := promtoolNote(tests); note != "" {
			fmt.Fprintln(errOut, note)
		}
	}
	if !rep.Holds() {
		return &exitError{code: exitViolated, err: errors.New("a property is violated")}
	}
	return nil
}

// checkHTMLPath refuses, before the replay, an --html path that could not
// be written: the trace itself, an existing file without --force,
// anything that is not a regular file, a missing or read-only directory.
func checkHTMLPath(f *replayFlags) error {
	if f.html == "" {
		return nil
	}
	if f.html == atomicfile.Stdout {
		if f.formatSet || f.log || f.maxUIDs != -1 {
			return usageErr("--html - writes the HTML page to standard output in place of the report: drop --format, --log and --max-uids, or write the page to a file")
		}
		return nil
	}
	if f.trace != "-" {
		ti, terr := os.Stat(f.trace)
		hi, herr := os.Stat(f.html)
		if terr == nil && herr == nil && os.SameFile(ti, hi) {
			return usageErr("--html %s: that is the trace being replayed; refusing to replace it, even with --force", f.html)
		}
	}
	if err := atomicfile.Check(f.html, f.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErr("--html: %v; choose another file or add --force to replace it", err)
		}
		return usageErr("--html: %v", err)
	}
	return nil
}

// rootArgs rejects positional arguments; one that looks like a trace file
// gets a hint to pass it with --trace.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	a := args[0]
	_, statErr := os.Stat(a)
	if statErr == nil || a == "-" || strings.HasSuffix(a, ".json") || strings.ContainsRune(a, '/') {
		return usageErr("unexpected argument %q: the trace to replay is given with --trace, e.g. simrun --trace %s", a, shellWord(a))
	}
	msg := fmt.Sprintf("unknown command %q for %q", a, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(a); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageErr("%s (run 'simrun --help' for usage)", msg)
}

// shellWord quotes s for a shell command line when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '+' || r == ':' || r == ',' || r == '=' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func selectReducers(names []string) ([]model.Reducer, error) {
	if len(names) == 0 {
		return model.Reducers(), nil
	}
	var out []model.Reducer
	seen := map[string]bool{}
	for _, n := range names {
		r, ok := model.ReducerByName(n)
		if !ok {
			return nil, usageErr("unknown reducer %q, want %s", n, model.KnownReducers())
		}
		if seen[r.Name()] {
			return nil, usageErr("--reducer %s is given twice: each reducer runs once; give each at most once", n)
		}
		seen[r.Name()] = true
		out = append(out, r)
	}
	return out, nil
}
