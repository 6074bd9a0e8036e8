package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/shardsim/shardsim/internal/golden"
	"github.com/shardsim/shardsim/properties"
)

// campaignArgs are the flags of the small campaign the tests run: 60
// traces of label-selector on the model, 3 distinct counterexamples.
var campaignArgs = []string{"campaign", "--reducer", "label-selector", "--seed", "1", "--traces", "60"}

// runSlices runs the campaign in count slices into dir, each as `simrun
// campaign --index I --count C`, and fails t unless each exits 0 and
// writes its file.
func runSlices(t *testing.T, dir string, count int, extra ...string) {
	t.Helper()
	for i := range count {
		args := append(slices.Clone(campaignArgs), "--index", strconv.Itoa(i), "--count", strconv.Itoa(count), "--out", dir)
		args = append(args, extra...)
		code, out, errOut := runSimrun(t, args...)
		path := filepath.Join(dir, sliceFileName(i, count))
		if code != exitHolds || !strings.Contains(string(out), "wrote "+path) {
			t.Fatalf("simrun %s: exit %d, want 0 and %s written\n%s%s", strings.Join(args, " "), code, path, out, errOut)
		}
	}
}

// merge runs `simrun campaign merge args...` and returns its exit status,
// stdout and stderr.
func merge(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, out, errOut := runSimrun(t, append([]string{"campaign", "merge"}, args...)...)
	return code, string(out), string(errOut)
}

// TestCampaignSlicesMergeLikeOneProcess: three slices (three processes of
// a Job) merge to the report of one, byte for byte, text and JSON, without
// the timings; with them, the report lists every slice. The text report
// is testdata/campaign/label-selector-60.txt.
func TestCampaignSlicesMergeLikeOneProcess(t *testing.T) {
	one, three := t.TempDir(), filepath.Join(t.TempDir(), "created")
	runSlices(t, one, 1)
	runSlices(t, three, 3)
	for _, format := range []string{"text", "json"} {
		code, want, errOut := merge(t, one, "--no-timings", "--format", format)
		if code != exitViolated || errOut != "" {
			t.Fatalf("merge of one slice (%s): exit %d, want %d\n%s", format, code, exitViolated, errOut)
		}
		code, got, errOut := merge(t, three, "--no-timings", "--format", format)
		if code != exitViolated || errOut != "" {
			t.Fatalf("merge of three slices (%s): exit %d, want %d\n%s", format, code, exitViolated, errOut)
		}
		if got != want {
			t.Errorf("%s: three slices merge to\n%s\none process to\n%s", format, got, want)
		}
		if format == "text" {
			golden.Check(t, filepath.Join("testdata", "campaign", "label-selector-60.txt"), []byte(got), "go test ./cmd/simrun -run TestCampaignSlicesMergeLikeOneProcess")
			continue
		}
		var rep struct {
			Run, Violations int
			Counterexamples []struct {
				Traces int
				Trace  json.RawMessage
			}
		}
		if err := json.Unmarshal([]byte(got), &rep); err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, c := range rep.Counterexamples {
			sum += c.Traces
		}
		if rep.Run != 60 || rep.Violations == 0 || sum != rep.Violations || len(rep.Counterexamples) == 0 {
			t.Errorf("JSON: %d traces run, %d violations, %d counterexamples of %d traces", rep.Run, rep.Violations, len(rep.Counterexamples), sum)
		}
		// Each counterexample is a trace file that replays as it expects.
		for i, c := range rep.Counterexamples {
			path := filepath.Join(t.TempDir(), fmt.Sprintf("cx-%d.json", i))
			if err := properties.Verify(path, c.Trace); err != nil {
				t.Errorf("counterexample %d: %v", i, err)
			}
		}
	}
	code, out, _ := merge(t, three)
	for _, want := range []string{"slices (3; wall-clock, not deterministic):", sliceFileName(0, 3), sliceFileName(2, 3)} {
		if code != exitViolated || !strings.Contains(out, want) {
			t.Errorf("merge with timings: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	// The JSON report has the timings too, unless --no-timings.
	_, out, _ = merge(t, three, "--format", "json")
	var timed struct {
		SliceCount int `json:"sliceCount"`
		Slices     []struct {
			Index  int
			Traces int
			Timing struct{ ElapsedNs int64 }
		}
	}
	if err := json.Unmarshal([]byte(out), &timed); err != nil {
		t.Fatal(err)
	}
	if timed.SliceCount != 3 || len(timed.Slices) != 3 || timed.Slices[2].Index != 2 || timed.Slices[2].Traces != 20 || timed.Slices[0].Timing.ElapsedNs <= 0 {
		t.Errorf("JSON with timings: %+v", timed)
	}
}

// TestCampaignLocalProcesses: three concurrent simrun processes, each
// given its slice by $JOB_COMPLETION_INDEX as a Job's pods are, merge to
// the report of one in-process run, byte for byte.
func TestCampaignLocalProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs subprocesses")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	one, three := t.TempDir(), t.TempDir()
	runSlices(t, one, 1)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() {
			cmd := exec.Command(exe, "-test.run=^TestBadInputHelperProcess$", "--")
			cmd.Args = append(cmd.Args, append(slices.Clone(campaignArgs), "--count", "3", "--out", three, "--progress")...)
			cmd.Env = append(os.Environ(), "SIMRUN_TEST_MAIN=1", jobIndexEnv+"="+strconv.Itoa(i))
			if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("wrote "+filepath.Join(three, sliceFileName(i, 3)))) {
				errs[i] = fmt.Errorf("process %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	_, want, _ := merge(t, one, "--no-timings", "--format", "json")
	code, got, errOut := merge(t, three, "--no-timings", "--format", "json")
	if code != exitViolated || got != want || !strings.Contains(got, `"violations": 19`) {
		t.Errorf("three processes: exit %d\n%s%s\none process:\n%s", code, got, errOut, want)
	}
}

// TestCampaignFieldSelectorHolds: no violation, exit status 0, in the
// slice and in the merge.
func TestCampaignFieldSelectorHolds(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runSimrun(t, "campaign", "--reducer", "field-selector", "--traces", "30", "--out", dir)
	if code != exitHolds || !strings.Contains(string(out), "30 traces, 0 violations, 0 distinct counterexamples") {
		t.Fatalf("slice: exit %d\n%s%s", code, out, errOut)
	}
	code, mout, merr := merge(t, dir, "--no-timings")
	want := "campaign: field-selector on the model backend, seed 1, 30 traces of up to 24 ops\ntraces run: 30\nviolations: 0 traces violate field-selector\ndistinct minimal counterexamples: 0\n"
	if code != exitHolds || mout != want {
		t.Fatalf("merge: exit %d, want 0\n%s%s", code, mout, merr)
	}
}

// TestCampaignJobIndex: without --index the slice is
// $JOB_COMPLETION_INDEX; a bad one, or none with --count above 1, is
// refused naming it.
func TestCampaignJobIndex(t *testing.T) {
	dir := t.TempDir()
	base := []string{"campaign", "--reducer", "field-selector", "--traces", "10", "--count", "4", "--out", dir}
	t.Setenv(jobIndexEnv, "2")
	code, out, errOut := runSimrun(t, base...)
	if code != exitHolds || !strings.Contains(string(out), "wrote "+filepath.Join(dir, "slice-00002-of-00004.json")) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// --index wins over the variable.
	code, out, errOut = runSimrun(t, append(base, "--index", "3")...)
	if code != exitHolds || !strings.Contains(string(out), "slice-00003-of-00004.json") {
		t.Fatalf("--index 3: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"two", nil, `$JOB_COMPLETION_INDEX="two" is not a slice index`},
		{"4", nil, "$JOB_COMPLETION_INDEX 4: the slice index must be 0 <= index < --count (4)"},
		{"-1", nil, "$JOB_COMPLETION_INDEX -1: the slice index must be"},
		{"", []string{"--index", "4"}, "--index 4: the slice index must be 0 <= index < --count (4)"},
		{"unset", nil, "--index is required with --count 4"},
		{"0", []string{"--count", "0"}, "--count must be at least 1"},
		{"0", []string{"--traces", "0"}, "--traces must be at least 1"},
		{"0", []string{"--reducer", "nope"}, `unknown reducer "nope"`},
		{"0", []string{"--backend", "nope"}, `unknown backend "nope"`},
		{"0", []string{"--out", "-"}, "--out names a directory"},
		{"0", []string{"--ksm-release", "v2.20.0"}, "--ksm-release and --ksm-source need --backend ksm"},
		{"0", []string{"--mode", "nope"}, `unknown --mode "nope"`},
		{"0", []string{"--mode", "static", "--faults"}, "not with --mode static"},
		{"0", []string{"--mode", "daemonset", "--backend", "client-go"}, "--mode daemonset runs on the model backend only"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if tc.env == "unset" {
				os.Unsetenv(jobIndexEnv) // restored by t.Setenv's cleanup
			} else {
				t.Setenv(jobIndexEnv, tc.env)
			}
			code, out, errOut := runSimrun(t, append(slices.Clone(base), tc.args...)...)
			if code != exitUsage || len(out) != 0 || !strings.Contains(string(errOut), tc.want) {
				t.Errorf("exit %d, want %d and %q\nstdout: %s\nstderr: %s", code, exitUsage, tc.want, out, errOut)
			}
		})
	}
}

// TestCampaignRerunReplaces: an index the Job controller re-runs
// (backoffLimitPerIndex) replaces its own file, whatever the earlier run
// wrote, and the merge counts it once; a file that is not this slice's is
// kept unless --force.
func TestCampaignRerunReplaces(t *testing.T) {
	one, three := t.TempDir(), t.TempDir()
	runSlices(t, one, 1)
	runSlices(t, three, 3)
	_, want, _ := merge(t, one, "--no-timings")

	// The earlier run of index 1 wrote a different outcome (say, a
	// backend that flaked): its file is replaced by the re-run.
	path := filepath.Join(three, sliceFileName(1, 3))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := properties.ParseSlice(path, data)
	if err != nil {
		t.Fatal(err)
	}
	f.Violations, f.Counterexamples = 0, nil
	stale, _ := properties.MarshalSlice(f)
	if err := os.WriteFile(path, stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := merge(t, three, "--no-timings"); got == want {
		t.Fatal("the stale slice file changed nothing: the test tests nothing")
	}
	args := append(slices.Clone(campaignArgs), "--index", "1", "--count", "3", "--out", three)
	code, out, errOut := runSimrun(t, args...)
	if code != exitHolds || !strings.Contains(string(out), "replaced "+path+" (the result of an earlier run of this slice)") {
		t.Fatalf("re-run: exit %d\n%s%s", code, out, errOut)
	}
	if code, got, _ := merge(t, three, "--no-timings"); code != exitViolated || got != want {
		t.Errorf("after the re-run the merge differs from one process:\n%s\nwant\n%s", got, want)
	}
	if entries, _ := os.ReadDir(three); len(entries) != 3 {
		t.Errorf("%s holds %d entries, want the 3 slice files (no temporary file left)", three, len(entries))
	}

	// A file of another campaign (another seed) is not replaced...
	other := append(slices.Clone(args[:len(args)-2]), "--seed", "2", "--out", three)
	code, out, errOut = runSimrun(t, other...)
	if code != exitUsage || len(out) != 0 || !strings.Contains(string(errOut), "not the result of this slice of this campaign") {
		t.Fatalf("another campaign over the file: exit %d, want 2\n%s%s", code, out, errOut)
	}
	if got := mustRead(t, path); !bytes.Contains(got, []byte(`"seed": 1,`)) {
		t.Fatal("the slice file of seed 1 was replaced by a campaign of seed 2 without --force")
	}
	// ...nor garbage...
	if err := os.WriteFile(path, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ = runSimrun(t, args...); code != exitUsage {
		t.Fatalf("over garbage: exit %d, want 2", code)
	}
	if got := mustRead(t, path); string(got) != "garbage" {
		t.Fatal("garbage replaced without --force")
	}
	// ...except with --force.
	if code, out, errOut = runSimrun(t, append(other, "--force")...); code != exitHolds {
		t.Fatalf("--force: exit %d\n%s%s", code, out, errOut)
	}
	// Now the set mixes two campaigns: merge says which files.
	mcode, mout, merr := merge(t, three)
	if mcode != exitUsage || mout != "" || !strings.Contains(merr, "not of one campaign") || !strings.Contains(merr, "seed 2") || !strings.Contains(merr, path) {
		t.Errorf("merge of two campaigns: exit %d\n%s%s", mcode, mout, merr)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCampaignMergeRefuses: missing slices and duplicated slices are
// refused (exit 2) naming the indices and the files; --partial merges what
// is there and lists the rest.
func TestCampaignMergeRefuses(t *testing.T) {
	dir := t.TempDir()
	runSlices(t, dir, 4)
	if err := os.Remove(filepath.Join(dir, sliceFileName(1, 4))); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, sliceFileName(2, 4))); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := merge(t, dir)
	if code != exitUsage || out != "" || !strings.Contains(errOut, "2 of 4 slices missing: 1-2") {
		t.Errorf("missing: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = merge(t, dir, "--partial", "--no-timings")
	if code != exitViolated || !strings.Contains(out, "PARTIAL: 2 of 4 slices merged; missing: 1-2\ntraces run: 30\n") || !strings.Contains(errOut, "2 of 4 slices missing: 1-2") {
		t.Errorf("--partial: exit %d\n%s%s", code, out, errOut)
	}

	// The same slice twice: in two directories, or as a file named twice.
	copyDir := t.TempDir()
	src := filepath.Join(dir, sliceFileName(3, 4))
	dup := filepath.Join(copyDir, sliceFileName(3, 4))
	if err := os.WriteFile(dup, mustRead(t, src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = merge(t, dir, copyDir, "--partial")
	if code != exitUsage || out != "" || !strings.Contains(errOut, src+" and "+dup+" both hold slice 3") {
		t.Errorf("duplicate: exit %d\n%s%s", code, out, errOut)
	}

	// Bad input: named, exit 2, no panic.
	garbage := filepath.Join(t.TempDir(), "slice-00000-of-00001.json")
	if err := os.WriteFile(garbage, []byte(`{"format": "shardsim.campaign.slice/v1", "count": `), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give the directories (or files) holding the slice files"},
		{[]string{garbage}, garbage + ": not a campaign slice file"},
		{[]string{"../../traces/relabel.json"}, `../../traces/relabel.json: not a campaign slice file: format ""`},
		{[]string{filepath.Join(empty, "nothing")}, "no such file or directory"},
		{[]string{empty}, empty + ": no slice files (slice-*.json) in it"},
		{[]string{dir, "--format", "yaml"}, `--format must be text or json, got "yaml"`},
		{[]string{dir, "--html", "-"}, "--html -"},
		{[]string{dir, "--html", empty}, "--html: refusing to replace " + empty + ": it is a directory"},
	} {
		code, out, errOut := merge(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("merge %v: exit %d, want 2 and %q\n%s%s", tc.args, code, tc.want, out, errOut)
		}
	}
}

// TestCampaignMergeHTML: --html writes a summary page, checked before the
// merge: an existing file only with --force.
func TestCampaignMergeHTML(t *testing.T) {
	dir := t.TempDir()
	runSlices(t, dir, 2)
	page := filepath.Join(t.TempDir(), "report.html")
	code, _, errOut := merge(t, dir, "--html", page)
	if code != exitViolated {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	html := string(mustRead(t, page))
	for _, want := range []string{"<!DOCTYPE html>", "<h1>Campaign: label-selector</h1>", "label-selector-scale-up-overlap-seed-1-trace-1", "1: scale to 2", "Slices (2; wall-clock)"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if err := os.WriteFile(page, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := merge(t, dir, "--html", page)
	if code != exitUsage || out != "" || !strings.Contains(errOut, "already exists") || string(mustRead(t, page)) != "mine" {
		t.Fatalf("existing page without --force: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut = merge(t, dir, "--html", page, "--force"); code != exitViolated || string(mustRead(t, page)) == "mine" {
		t.Fatalf("--force: exit %d\n%s", code, errOut)
	}
}

// TestCampaignHelp: the help teaches, with examples.
func TestCampaignHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"campaign", "--help"}, []string{"JOB_COMPLETION_INDEX", "k % C == I", "simrun campaign merge /tmp/c3", "Exit status:"}},
		{[]string{"campaign", "merge", "--help"}, []string{"--no-timings", "--partial", "hold the same slice", "Exit status:"}},
		{[]string{"--help"}, []string{"campaign"}},
	} {
		code, out, _ := runSimrun(t, tc.args...)
		for _, w := range tc.want {
			if code != exitHolds || !strings.Contains(string(out), w) {
				t.Errorf("simrun %s: exit %d, lacks %q", strings.Join(tc.args, " "), code, w)
			}
		}
	}
}

// TestCampaignManifests: deploy/campaign-job.yaml decodes with client-go's
// scheme as a batch/v1 Indexed Job whose container runs `simrun campaign`
// with flags simrun accepts (parsed by the real command, so the manifest
// cannot drift), --count equal to the completions, no --index (each pod
// takes $JOB_COMPLETION_INDEX) and --out on the results volume; the merge
// Pod runs `simrun campaign merge` on the same claim.
func TestCampaignManifests(t *testing.T) {
	decode := func(path string) any {
		t.Helper()
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(mustRead(t, path), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return obj
	}
	job, ok := decode("../../deploy/campaign-job.yaml").(*batchv1.Job)
	if !ok {
		t.Fatal("campaign-job.yaml is not a batch/v1 Job")
	}
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", spec.CompletionMode)
	}
	if spec.Completions == nil || spec.Parallelism == nil || spec.BackoffLimitPerIndex == nil {
		t.Fatal("completions, parallelism and backoffLimitPerIndex must be set")
	}
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (podFailurePolicy and backoffLimitPerIndex need it)", spec.Template.Spec.RestartPolicy)
	}
	if spec.PodFailurePolicy == nil {
		t.Error("no podFailurePolicy")
	} else {
		usage := false
		for _, r := range spec.PodFailurePolicy.Rules {
			if r.OnExitCodes != nil && r.Action == batchv1.PodFailurePolicyActionFailJob && slices.Contains(r.OnExitCodes.Values, exitUsage) {
				usage = true
			}
			if r.OnExitCodes != nil && slices.Contains(r.OnExitCodes.Values, exitViolated) {
				t.Error("podFailurePolicy handles exit status 1, which a slice never returns")
			}
		}
		if !usage {
			t.Errorf("podFailurePolicy does not fail the Job on exit status %d (bad usage)", exitUsage)
		}
	}
	claims := map[string]string{} // volume -> claim
	for _, v := range spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	if len(spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Template.Spec.Containers))
	}
	c := spec.Template.Spec.Containers[0]
	args := append(slices.Clone(c.Command), c.Args...)
	root := newRootCommand()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd.Name() != "campaign" || cmd.Parent() != root {
		t.Fatalf("the container runs %v, not simrun campaign (%v)", args, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Fatalf("simrun campaign refuses the manifest's flags %v: %v", rest, err)
	}
	if extra := cmd.Flags().Args(); len(extra) > 0 {
		t.Errorf("positional arguments %v", extra)
	}
	fl := cmd.Flags()
	if fl.Changed("index") {
		t.Error("--index is set: every pod would run the same slice; leave it to $JOB_COMPLETION_INDEX")
	}
	if n, _ := fl.GetInt("count"); n != int(*spec.Completions) {
		t.Errorf("--count %d, completions %d: they must be equal", n, *spec.Completions)
	}
	reducer, _ := fl.GetString("reducer")
	out, _ := fl.GetString("out")
	backend, _ := fl.GetString("backend")
	if reducer == "" || out == "" || backend == "" {
		t.Errorf("--reducer %q, --out %q, --backend %q: all needed", reducer, out, backend)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMAXPROCS" && e.Value == "1" }) {
		t.Error("the slices do not run with GOMAXPROCS=1 (one core per slice: BENCHMARKS.md, Campaigns)")
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == out && claims[m.Name] != "" {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("--out %s is not a mounted claim", out)
	}

	pvc, ok := decode("../../deploy/campaign-pvc.yaml").(*corev1.PersistentVolumeClaim)
	if !ok || !slices.Contains(slices.Collect(func(yield func(string) bool) {
		for _, claim := range claims {
			if !yield(claim) {
				return
			}
		}
	}), pvc.Name) {
		t.Errorf("campaign-pvc.yaml is not the Job's claim")
	}
	pod, ok := decode("../../deploy/campaign-merge.yaml").(*corev1.Pod)
	if !ok || len(pod.Spec.Containers) != 1 {
		t.Fatal("campaign-merge.yaml is not a Pod of one container")
	}
	margs := append(slices.Clone(pod.Spec.Containers[0].Command), pod.Spec.Containers[0].Args...)
	mcmd, mrest, err := newRootCommand().Find(margs)
	if err != nil || mcmd.Name() != "merge" || mcmd.Parent().Name() != "campaign" {
		t.Fatalf("the merge pod runs %v, not simrun campaign merge (%v)", margs, err)
	}
	if err := mcmd.ParseFlags(mrest); err != nil {
		t.Fatalf("simrun campaign merge refuses the manifest's flags %v: %v", mrest, err)
	}
	if dirs := mcmd.Flags().Args(); !slices.Contains(dirs, out) {
		t.Errorf("the merge pod merges %v, not the Job's --out %s", dirs, out)
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].PersistentVolumeClaim == nil || pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Error("the merge pod does not mount the Job's claim")
	}
}

// TestCampaignMergeExport: --export writes every distinct counterexample
// as a trace file that replays to its expect; exporting again leaves them
// as they are; a different file of the same name is refused before the
// merge unless --force.
func TestCampaignMergeExport(t *testing.T) {
	dir := t.TempDir()
	runSlices(t, dir, 2)
	out := filepath.Join(t.TempDir(), "traces")
	code, _, errOut := merge(t, dir, "--export", out)
	if code != exitViolated || strings.Count(errOut, "simrun: wrote ") != 3 {
		t.Fatalf("exit %d, want 1 and 3 files written\n%s", code, errOut)
	}
	first := filepath.Join(out, "label-selector-scale-up-overlap-seed-1-trace-1.json")
	if code, rout, _ := runSimrun(t, "--trace", first); code != exitViolated || !bytes.Contains(rout, []byte("verdict: holds")) {
		t.Fatalf("simrun --trace %s: exit %d\n%s", first, code, rout)
	}
	code, _, errOut = merge(t, dir, "--export", out)
	if code != exitViolated || strings.Count(errOut, "already holds this counterexample; left as it is") != 3 {
		t.Fatalf("second export: exit %d\n%s", code, errOut)
	}
	if err := os.WriteFile(first, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, mout, errOut := merge(t, dir, "--export", out)
	if code != exitUsage || mout != "" || !strings.Contains(errOut, "holds something else") || string(mustRead(t, first)) != "mine" {
		t.Fatalf("export over a different file: exit %d\n%s%s", code, mout, errOut)
	}
	if code, _, errOut = merge(t, dir, "--export", out, "--force"); code != exitViolated || string(mustRead(t, first)) == "mine" {
		t.Fatalf("--force: exit %d\n%s", code, errOut)
	}
	if code, _, errOut = merge(t, dir, "--export", "-"); code != exitUsage || !strings.Contains(errOut, "--export names a directory") {
		t.Fatalf("--export -: exit %d\n%s", code, errOut)
	}
}

// TestCampaignUnsupportedTraces: traces a backend cannot replay (client-go
// and a disconnect) are counted without a verdict and named, in the slice
// and the merge; a slice none of whose traces the backend can replay
// (client-go and v2.19.1's sharded ListWatch) is refused, nothing written.
func TestCampaignUnsupportedTraces(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runSimrun(t, "campaign", "--reducer", "field-selector", "--backend", "client-go", "--faults", "--traces", "12", "--out", dir)
	if code != exitHolds || !bytes.Contains(out, []byte("not replayable on the backend")) || !bytes.Contains(errOut, []byte("does not model the disconnect op")) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	code, mout, merr := merge(t, dir, "--no-timings")
	if code != exitHolds || !strings.Contains(mout, "not replayable on the backend: ") || !strings.Contains(mout, "disagreements with the model: 0 traces") {
		t.Fatalf("merge: exit %d\n%s%s", code, mout, merr)
	}
	empty := t.TempDir()
	code, out, errOut = runSimrun(t, "campaign", "--reducer", "v2.19.1", "--backend", "client-go", "--traces", "3", "--out", empty)
	if code != exitUsage || !bytes.Contains(errOut, []byte("--backend client-go cannot replay any trace of this slice")) {
		t.Fatalf("v2.19.1 on client-go: exit %d, want 2\n%s%s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("%d files written", len(entries))
	}
}

// TestCampaignMode: a campaign of static sharding (--mode static, as
// hunt's) merges its slices like one, its steps told as hunt tells them.
func TestCampaignMode(t *testing.T) {
	one, two := t.TempDir(), t.TempDir()
	args := []string{"campaign", "--reducer", "field-selector", "--mode", "static", "--traces", "20"}
	for i := range 2 {
		if code, out, errOut := runSimrun(t, append(slices.Clone(args), "--index", strconv.Itoa(i), "--count", "2", "--out", two)...); code != exitHolds {
			t.Fatalf("slice %d: exit %d\n%s%s", i, code, out, errOut)
		}
	}
	if code, out, errOut := runSimrun(t, append(slices.Clone(args), "--out", one)...); code != exitHolds {
		t.Fatalf("one slice: exit %d\n%s%s", code, out, errOut)
	}
	_, want, _ := merge(t, one, "--no-timings")
	code, got, errOut := merge(t, two, "--no-timings")
	if code != exitViolated || got != want {
		t.Fatalf("two slices: exit %d\n%s%s\none:\n%s", code, got, errOut, want)
	}
	for _, w := range []string{"field-selector on the model backend, seed 1, 20 traces of up to 24 ops, static sharding", "static sharding, ", "step 0: apply ", "Found by"} {
		if w == "Found by" {
			_, j, _ := merge(t, two, "--no-timings", "--format", "json")
			if !strings.Contains(j, "Found by `simrun campaign --reducer field-selector --seed 1 --traces 20 --mode static` in generated trace") {
				t.Errorf("the descriptions do not name the campaign:\n%.2000s", j)
			}
			continue
		}
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q:\n%s", w, got)
		}
	}
}
