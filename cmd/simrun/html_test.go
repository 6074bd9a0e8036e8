package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/htmlreport"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/monitor"
	"github.com/shardsim/shardsim/sim"
)

func relabelReport(t *testing.T) *sim.Report {
	t.Helper()
	tr, err := sim.LoadTrace(relabelTrace)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Timeline: &sim.TimelineOptions{Series: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evaluateAlerts(rep, tr.Cluster.Namespace, monitor.DefaultRuleFiles()); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestWriteHTML writes the relabel report, refuses to replace an existing
// file without force, replaces it with force, and leaves no temporary
// file behind.
func TestWriteHTML(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := relabelReport(t)
	page, err := renderHTML(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeHTML(path, page, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("writing over an existing file without force: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("the existing file was changed to %.40q", got)
	}
	if err := writeHTML(path, page, true); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := htmlreport.Write(&want, rep); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("the file is not the rendered report")
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left in the directory: %v", names)
	}
	if err := writeHTML(filepath.Join(dir, "no-such-dir", "r.html"), page, false); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// TestHTMLFlag: addHTMLFlag adds --html, stored in the target, completed
// with *.html files.
func TestHTMLFlag(t *testing.T) {
	var target string
	cmd := &cobra.Command{Use: "simrun", RunE: func(*cobra.Command, []string) error { return nil }}
	addHTMLFlag(cmd, &target)
	cmd.SetArgs([]string{"--html", "out.html"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if target != "out.html" {
		t.Errorf("target %q", target)
	}
	out := complete(t, cmd, "--html", "")
	if !strings.Contains(out, "html\nhtm\n:8") { // ShellCompDirectiveFilterFileExt
		t.Errorf("--html completion:\n%s", out)
	}
}

// complete runs cobra's hidden completion command on root and returns its
// output: candidates, one a line, then ":<directive>".
func complete(t *testing.T, root *cobra.Command, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %v: %v", args, err)
	}
	return out.String()
}

// TestHTMLEndToEnd: simrun --trace traces/relabel.json --html report.html
// prints the text report, exits 1 and writes the page of the full report;
// --html - prints the page instead of the report.
func TestHTMLEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.html")
	code, out, errOut := runSimrun(t, "--trace", relabelTrace, "--html", path)
	if code != exitViolated {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitViolated, errOut)
	}
	if len(out) == 0 {
		t.Error("the text report is no longer printed")
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := htmlreport.Write(&want, relabelReport(t)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, want.Bytes()) {
		t.Error("report.html is not the rendered relabel report (was it written after --max-uids capped the UIDs?)")
	}
	code, out, errOut = runSimrun(t, "--trace", relabelTrace, "--html", "-")
	if code != exitViolated || len(errOut) != 0 {
		t.Errorf("--html -: exit status %d, want %d; stderr:\n%s", code, exitViolated, errOut)
	}
	if !bytes.Equal(out, want.Bytes()) {
		t.Error("--html - does not print the page (alone) on standard output")
	}
}

// TestHTMLDaemonSet: simrun --html - on the #2374 trace prints the page of
// the trace's releases (ExpectedReducers), with a lane per node and the
// node view showing the stripped field selector of the releases that
// strip --node.
func TestHTMLDaemonSet(t *testing.T) {
	const trace = "../../traces/bugs/2374-node-name-with-dots.json"
	code, out, errOut := runSimrun(t, "--trace", trace, "--html", "-")
	if code != exitViolated || len(errOut) != 0 {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitViolated, errOut)
	}
	page := string(out)
	for _, want := range []string{
		`<section id="r-v2.11.0">`, `<section id="r-v2.14.0">`,
		`data-node="ip-10-0-1-7.ec2.internal"`,
		`<code>spec.nodeName=ip-10-0-1-7ec2internal</code> does not select node ip-10-0-1-7.ec2.internal`,
		`<code>spec.nodeName=ip-10-0-1-7.ec2.internal</code></td>`,
		"wrong sel · 0",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
