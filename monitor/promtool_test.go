package monitor

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// promtoolScenarios are the scenarios written as promtool tests: (b), (c) and
// (e) of TestEvaluate.
func promtoolScenarios() map[string]scenario {
	m := time.Minute
	return map[string]scenario{
		"scale-up":   {pods: []pod{ksm(0, 0, 2), ksm(1, 1, 2), ksm(2, 2, 3)}, n: 6, end: 20 * m},
		"scale-down": {pods: []pod{ksm(0, 0, 3), ksm(1, 1, 3)}, n: 6, end: 20 * m},
		"exported-twice": {pods: []pod{
			{name: "kube-state-metrics-0", shard: 0, total: 2, exports: []int{0, 2, 3}},
			{name: "kube-state-metrics-1", shard: 1, total: 2, exports: []int{1, 3}},
		}, n: 4, end: 20 * m},
		"objects-missing": {pods: []pod{ksm(0, 0, 2), ksm(1, 1, 2)}, n: 4, extra: 2, end: 20 * m},
		"all-down": {pods: []pod{
			{name: "kube-state-metrics-0", shard: 0, total: 2, to: 2 * m},
			{name: "kube-state-metrics-1", shard: 1, total: 2, to: 2 * m},
		}, n: 4, end: 20 * m},
		// End is not a multiple of the interval: the last evaluation is at 20m.
		"all-down-end-unaligned": {pods: []pod{
			{name: "kube-state-metrics-0", shard: 0, total: 2, to: 2 * m},
			{name: "kube-state-metrics-1", shard: 1, total: 2, to: 2 * m},
		}, n: 2, end: 20*m + 10*time.Second},
		"transient-overlap": {pods: []pod{
			ksm(0, 0, 2), ksm(1, 1, 2),
			{name: "kube-state-metrics-0-new", shard: 0, total: 2, from: 5 * m, to: 7 * m},
		}, n: 4, end: 20 * m},
	}
}

func writeTest(t *testing.T, sc scenario, ruleFilePaths []string) []byte {
	t.Helper()
	scrapes := sc.scrapes()
	cfg := Config{End: sc.end}
	rep, err := Evaluate(scrapes, DefaultRuleFiles(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WritePromtoolTest(&b, scrapes, rep, ruleFilePaths, cfg); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// goldenRuleFiles are the rule files as the files in testdata/ name them, so
// that `promtool test rules testdata/*.yaml` runs them.
var goldenRuleFiles = []string{"../rules/" + MixinRulesFile, "../rules/" + CoverageRulesFile}

func TestWritePromtoolTestGolden(t *testing.T) {
	for name, sc := range promtoolScenarios() {
		t.Run(name, func(t *testing.T) {
			got := writeTest(t, sc, goldenRuleFiles)
			path := filepath.Join("testdata", name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what WritePromtoolTest writes now (run with -update to rewrite it); got:\n%s", path, got)
			}
			if again := writeTest(t, sc, goldenRuleFiles); !bytes.Equal(got, again) {
				t.Error("two runs write different files")
			}
		})
	}
}

func lookPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found in PATH (Debian: apt-get install prometheus): skipping the check against real promtool")
	}
	return p
}

func runPromtool(t *testing.T, promtool, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(promtool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPromtool runs real promtool on the rules files and on promtool tests
// written by WritePromtoolTest: promtool must agree with Evaluate.
func TestPromtool(t *testing.T) {
	promtool := lookPromtool(t)
	dir := t.TempDir()
	var names []string
	for _, f := range DefaultRuleFiles() {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
	}
	runPromtool(t, promtool, dir, append([]string{"check", "rules"}, names...)...)
	for name, sc := range promtoolScenarios() {
		t.Run(name, func(t *testing.T) {
			file := name + "_test.yaml"
			if err := os.WriteFile(filepath.Join(dir, file), writeTest(t, sc, names), 0o644); err != nil {
				t.Fatal(err)
			}
			runPromtool(t, promtool, dir, "test", "rules", file)
		})
	}
}

// TestPromtoolGolden runs promtool on the golden files as they are.
func TestPromtoolGolden(t *testing.T) {
	promtool := lookPromtool(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	runPromtool(t, promtool, "testdata", append([]string{"test", "rules"}, files...)...)
}
