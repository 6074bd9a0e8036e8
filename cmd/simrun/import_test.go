package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

const (
	sampleWatch = "../../importer/testdata/sample-watch.json"
	sampleTrace = "../../importer/testdata/sample.trace.json"
)

// execImport runs a fresh import command with args and stdin and returns
// its stdout, stderr and error.
func execImport(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newImportCommand()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return exitHolds
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage // cobra's own errors, as run() maps them
}

// TestImportSample imports the shipped sample to a file: the trace is the
// importer's golden trace, and replaying it shows the relabel bug.
func TestImportSample(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sample.json")
	stdout, stderr, err := execImport(t, "", "--statefulset-watch", sampleWatch, "--objects", "1000", "--out", out)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if stdout != "" {
		t.Errorf("stdout not empty when writing a file:\n%s", stdout)
	}
	for _, want := range []string{"wrote " + out, "2 steps from 7 watch events", "4 status-only updates dropped", "simrun --trace " + out} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(sampleTrace)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("imported trace differs from %s:\n%s", sampleTrace, got)
	}
	// What `simrun --trace sample.json` does: exit status 1, the label
	// selector violated, the field selector holding.
	code, report, errOut := runSimrun(t, "--trace", out)
	if code != exitViolated {
		t.Errorf("simrun --trace: exit status %d, want %d; stderr:\n%s", code, exitViolated, errOut)
	}
	if !strings.Contains(string(report), "verdict: VIOLATED (permanent): after step 1 (scale)") {
		t.Errorf("the replay does not show the relabel bug:\n%s", report)
	}
	code, _, _ = runSimrun(t, "--trace", out, "--reducer", "field-selector")
	if code != exitHolds {
		t.Errorf("field-selector: exit status %d, want %d", code, exitHolds)
	}
}

// TestImportStdio: - reads standard input; without --out the trace goes to
// standard output.
func TestImportStdio(t *testing.T) {
	in, err := os.ReadFile(sampleWatch)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := execImport(t, string(in), "--statefulset-watch", "-", "--objects", "1000")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sim.ParseTrace("stdout", []byte(stdout))
	if err != nil {
		t.Fatalf("stdout is not a trace: %v\n%s", err, stdout)
	}
	if !strings.Contains(tr.Description, "from standard input") {
		t.Errorf("description %q", tr.Description)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Holds() {
		t.Error("the imported stream should show the relabel bug")
	}
}

// TestImportNoClobber: an existing output file is refused unless --force.
func TestImportNoClobber(t *testing.T) {
	out := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(out, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--statefulset-watch", sampleWatch, "--objects", "10", "--out", out}
	_, _, err := execImport(t, "", args...)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("want exit 2 suggesting --force, got %v", err)
	}
	if got, _ := os.ReadFile(out); string(got) != "mine" {
		t.Errorf("the existing file was replaced: %q", got)
	}
	if _, _, err := execImport(t, "", append(args, "--force")...); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.LoadTrace(out); err != nil {
		t.Errorf("after --force: %v", err)
	}
}

// TestImportDeprecatedOutput: -o FILE and --output FILE still write the
// trace, with a deprecation message on stderr naming --out; given
// together with --out they are refused.
func TestImportDeprecatedOutput(t *testing.T) {
	dir := t.TempDir()
	for _, flag := range []string{"-o", "--output"} {
		out := filepath.Join(dir, strings.TrimLeft(flag, "-")+".json")
		stdout, stderr, err := execImport(t, "", "--statefulset-watch", sampleWatch, "--objects", "10", flag, out)
		if err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		if stdout != "" || !strings.Contains(stderr, "-o/--output FILE is deprecated") || !strings.Contains(stderr, "use --out "+out) || !strings.Contains(stderr, "wrote "+out) {
			t.Errorf("%s: stdout %q, stderr %q", flag, stdout, stderr)
		}
		if _, err := sim.LoadTrace(out); err != nil {
			t.Errorf("%s: %v", flag, err)
		}
	}
	_, _, err := execImport(t, "", "--statefulset-watch", sampleWatch, "--objects", "10", "-o", filepath.Join(dir, "a.json"), "--out", filepath.Join(dir, "b.json"))
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "give only --out") {
		t.Errorf("-o with --out: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d files in %s, want 2", len(entries), dir)
	}
	var help bytes.Buffer
	root := testRoot()
	root.SetOut(&help)
	root.SetArgs([]string{"import", "--help"})
	if err := root.Execute(); err != nil || strings.Contains(help.String(), "-o, --output") || !strings.Contains(help.String(), "--out string") {
		t.Errorf("import --help should list --out and hide -o/--output (%v):\n%s", err, help.String())
	}
}

// TestImportErrors: every failure is exit status 2 with a message that
// names the file and says what to do.
func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sample, err := os.ReadFile(sampleWatch)
	if err != nil {
		t.Fatal(err)
	}
	deleted := write("deleted.json", string(sample)+strings.Replace(string(sample[:bytes.Index(sample, []byte("\n}\n"))+3]), `"ADDED"`, `"DELETED"`, 1))
	malformed := write("bad.json", string(sample)+`{"type": "MODIFIED", "object": {"metadata": }}`)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no watch", []string{"--objects", "10"}, []string{"--statefulset-watch is required"}},
		{"no objects", []string{"--statefulset-watch", sampleWatch}, []string{"--objects is required", "e.g. --objects 1000"}},
		{"zero objects", []string{"--statefulset-watch", sampleWatch, "--objects", "0"}, []string{"at least 1"}},
		{"missing file", []string{"--statefulset-watch", filepath.Join(dir, "nope.json"), "--objects", "10"}, []string{"nope.json: cannot read the watch stream"}},
		{"deleted", []string{"--statefulset-watch", deleted, "--objects", "10"}, []string{deleted + ": event 8 (line ", "deleted at event 8", "cut the stream before the deletion"}},
		{"malformed", []string{"--statefulset-watch", malformed, "--objects", "10"}, []string{malformed + ": event 8 (line ", "malformed JSON"}},
		{"positional", []string{"watch.json"}, []string{"unknown command"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := execImport(t, "", tc.args...)
			if code := exitCode(err); code != exitUsage {
				t.Fatalf("exit status %d, want %d (err %v)", code, exitUsage, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if stdout != "" {
				t.Errorf("stdout not empty on error:\n%s", stdout)
			}
		})
	}
}

// TestImportHelp: the help has examples and the exit statuses.
func TestImportHelp(t *testing.T) {
	out, _, err := execImport(t, "", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "simrun import --statefulset-watch", "Exit status:", "0  the trace was written", "2  bad input"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// testRoot is the root command with the subcommands wired as main.go
// wires them.
func testRoot() *cobra.Command {
	root := newRootCommand()
	has := func(name string) bool {
		return slices.ContainsFunc(root.Commands(), func(c *cobra.Command) bool { return c.Name() == name })
	}
	if !has("import") {
		root.AddCommand(newImportCommand())
	}
	if !has("version") {
		root.AddCommand(newVersionCommand())
	}
	return root
}

// TestImportExamples runs the examples of `simrun import --help` that need
// neither a cluster nor a file of the reader's, from the repository root:
// they must work as printed.
func TestImportExamples(t *testing.T) {
	out := t.TempDir()
	t.Chdir("../..")
	ran := 0
	for _, line := range strings.Split(newImportCommand().Example, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "simrun ") || !strings.Contains(line, "importer/testdata/") {
			continue
		}
		args := strings.Fields(line)[1:]
		for i, a := range args {
			if i > 0 && args[i-1] == "--out" {
				args[i] = filepath.Join(out, a)
			}
		}
		root := testRoot()
		root.SetArgs(args)
		var stdout, stderr bytes.Buffer
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		if err := root.Execute(); err != nil {
			t.Errorf("%s: %v", line, err)
		}
		ran++
	}
	if ran == 0 {
		t.Fatal("no runnable example found")
	}
	if _, err := sim.LoadTrace(filepath.Join(out, "sample.json")); err != nil {
		t.Errorf("the example's trace: %v", err)
	}
}

// TestImportCompletion: the stream and the output complete to *.json
// files; the other flags complete to nothing.
func TestImportCompletion(t *testing.T) {
	for _, flag := range []string{"--statefulset-watch", "--out", "--output"} {
		if out := complete(t, testRoot(), "import", flag, ""); !strings.Contains(out, "json\n:8") {
			t.Errorf("%s completion:\n%s", flag, out)
		}
	}
	if out := complete(t, testRoot(), "import", "--objects", ""); !strings.HasSuffix(strings.TrimSpace(out), ":4") { // NoFileComp
		t.Errorf("--objects completion:\n%s", out)
	}
	if out := complete(t, testRoot(), "import", "--"); !strings.Contains(out, "--statefulset-watch") || !strings.Contains(out, "--objects") {
		t.Errorf("flag name completion:\n%s", out)
	}
	// The root's --trace and --reducer, for the traces import writes.
	if out := complete(t, testRoot(), "--reducer", ""); !strings.Contains(out, "label-selector") || !strings.Contains(out, "field-selector") {
		t.Errorf("--reducer completion:\n%s", out)
	}
	if out := complete(t, testRoot(), "--trace", ""); !strings.Contains(out, "json\n:8") {
		t.Errorf("--trace completion:\n%s", out)
	}
	// cobra's completion command exists once the root has subcommands.
	root := testRoot()
	var script bytes.Buffer
	root.SetOut(&script)
	root.SetArgs([]string{"completion", "bash"})
	if err := root.Execute(); err != nil || !strings.Contains(script.String(), "bash completion") {
		t.Errorf("simrun completion bash: %v\n%.200s", err, script.String())
	}
}
