package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The reliability pass (issue 9, part A): for each item an input, the exit
// status, what stdout and stderr say, and the files that must be left
// exactly as they were (bytes, kind and link target compared before and
// after).

// relDevice returns a character device to try to replace: one made with
// mknod in dir when the test runs as root (root could replace /dev/null if
// simrun were wrong), else /dev/null, which only root can replace.
func relDevice(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
			t.Skip("no /dev/null character device")
		}
		return "/dev/null"
	}
	path := filepath.Join(dir, "null")
	if err := mknodNull(path); err != nil {
		t.Skipf("cannot make a character device as root: %v", err)
	}
	return path
}

// relState describes what is at path: kind, link target, content.
func relState(path string) string {
	li, err := os.Lstat(path)
	if err != nil {
		return "absent"
	}
	s := li.Mode().Type().String()
	if li.Mode()&fs.ModeSymlink != 0 {
		l, _ := os.Readlink(path)
		s += " -> " + l
	}
	if li.Mode().IsRegular() {
		data, _ := os.ReadFile(path)
		s += " " + string(data)
	}
	return s
}

// failingWrites makes every write after the checks fail, as a full disk
// would, for the duration of the test.
func failingWrites(t *testing.T) {
	old := writeFile
	writeFile = func(string, []byte, bool) error { return errors.New("write: no space left on device") }
	t.Cleanup(func() { writeFile = old })
}

func TestReliability(t *testing.T) {
	relabel, err := os.ReadFile(relabelTrace)
	if err != nil {
		t.Fatal(err)
	}
	const mine = "mine: not to be replaced\n"
	type env struct {
		dir   string
		trace string // a copy of traces/relabel.json in dir
		mine  string // a file of ours in dir
	}
	for _, tc := range []struct {
		item string
		name string
		// args returns the command line; keep lists the paths that must
		// be left untouched.
		args func(t *testing.T, e env) (args, keep []string)
		code int
		// stderr and stdout must contain these; stdout "" means empty.
		stderr   []string
		stdout   []string
		noStdout bool
		// after, if set, checks the files once the command ran.
		after func(t *testing.T, e env, stdout string)
	}{
		// 1: one writer, no clobbering.
		{item: "1", name: "html over the trace", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", e.trace}, []string{e.trace}
			},
			stderr: []string{"--html ", "that is the trace being replayed", "even with --force"}},
		{item: "1", name: "html over the trace with force", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", e.trace, "--force"}, []string{e.trace}
			},
			stderr: []string{"that is the trace being replayed"}},
		{item: "1", name: "html over a file", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", e.mine}, []string{e.mine}
			},
			stderr: []string{"--html: ", "already exists; not overwriting it", "--force"}},
		{item: "1", name: "html over a file with force", code: exitViolated,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", e.mine, "--force"}, nil
			},
			stdout: []string{"verdict: VIOLATED"},
			after: func(t *testing.T, e env, _ string) {
				if data, _ := os.ReadFile(e.mine); !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) {
					t.Errorf("--force did not replace the file with the page: %.60q", data)
				}
			}},
		{item: "1", name: "html over a device with force", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				dev := relDevice(t, e.dir)
				return []string{"--trace", e.trace, "--html", dev, "--force"}, []string{dev}
			},
			stderr: []string{"it is a character device, not a regular file"}},
		{item: "1", name: "html over a directory with force", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", e.dir, "--force"}, []string{e.dir}
			},
			stderr: []string{"it is a directory, not a regular file"}},
		{item: "1", name: "html over a symlink", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				link := filepath.Join(e.dir, "link.html")
				if err := os.Symlink(e.mine, link); err != nil {
					t.Skip(err)
				}
				return []string{"--trace", e.trace, "--html", link}, []string{link, e.mine}
			},
			stderr: []string{"a symbolic link to", "--force"}},
		{item: "1", name: "html through a symlink with force", code: exitViolated,
			args: func(t *testing.T, e env) ([]string, []string) {
				link := filepath.Join(e.dir, "link.html")
				if err := os.Symlink(e.mine, link); err != nil {
					t.Skip(err)
				}
				return []string{"--trace", e.trace, "--html", link, "--force"}, nil
			},
			stdout: []string{"verdict: VIOLATED"},
			after: func(t *testing.T, e env, _ string) {
				link := filepath.Join(e.dir, "link.html")
				if li, err := os.Lstat(link); err != nil || li.Mode()&fs.ModeSymlink == 0 {
					t.Errorf("the symbolic link was replaced: %v", err)
				}
				if data, _ := os.ReadFile(e.mine); !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) {
					t.Errorf("the link's target was not written through: %.60q", data)
				}
			}},
		{item: "1", name: "html to a dangling symlink with force", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				link := filepath.Join(e.dir, "dangling.html")
				if err := os.Symlink(filepath.Join(e.dir, "nowhere"), link); err != nil {
					t.Skip(err)
				}
				return []string{"--trace", e.trace, "--html", link, "--force"}, []string{link}
			},
			stderr: []string{"which does not resolve"}},
		{item: "1", name: "html to standard output", code: exitViolated,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", "-"}, []string{e.trace}
			},
			stdout: []string{"<!DOCTYPE html>", "</html>"},
			after: func(t *testing.T, _ env, stdout string) {
				if strings.Contains(stdout, "verdict: VIOLATED") {
					t.Error("--html - printed the text report too")
				}
			}},
		{item: "1", name: "html to standard output with json", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", "-", "--format", "json"}, nil
			},
			stderr: []string{"--html - writes the HTML page to standard output in place of the report"}},
		{item: "1", name: "import over a file", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"import", "--statefulset-watch", sampleWatch, "--objects", "10", "--out", e.mine}, []string{e.mine}
			},
			stderr: []string{"--out: ", "already exists", "--force"}},
		{item: "1", name: "import over a device with force", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				dev := relDevice(t, e.dir)
				return []string{"import", "--statefulset-watch", sampleWatch, "--objects", "10", "--out", dev, "--force"}, []string{dev}
			},
			stderr: []string{"it is a character device, not a regular file"}},
		{item: "1", name: "import -o over a directory with force", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"import", "--statefulset-watch", sampleWatch, "--objects", "10", "-o", e.dir, "--force"}, []string{e.dir}
			},
			stderr: []string{"deprecated", "it is a directory"}},
		{item: "1", name: "import to standard output", code: exitHolds,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"import", "--statefulset-watch", sampleWatch, "--objects", "10", "--out", "-"}, nil
			},
			stdout: []string{`"name": "kube-state-metrics"`}},

		// 4: the target is checked before the work; a late failure
		// still prints what was found.
		{item: "4", name: "check --out file exists", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				p := filepath.Join(e.dir, "check-label-selector-m2-k2.json")
				if err := os.WriteFile(p, []byte(mine), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"check", "-r", "label-selector", "-m", "2", "-k", "2", "--out", e.dir}, []string{p}
			},
			stderr: []string{"--out: ", "check-label-selector-m2-k2.json already exists", "--force"}},
		{item: "4", name: "check --out is a file", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"check", "-r", "label-selector", "-m", "2", "-k", "2", "--out", e.mine}, []string{e.mine}
			},
			stderr: []string{"--out: ", "is not a directory"}},
		{item: "4", name: "check write fails after the search", code: exitUsage,
			args: func(t *testing.T, e env) ([]string, []string) {
				failingWrites(t)
				return []string{"check", "-r", "label-selector", "-m", "2", "-k", "2", "--out", e.dir}, []string{e.mine}
			},
			stdout: []string{"verdict: VIOLATED: shortest counterexample", "NOT written (see the error below)"},
			stderr: []string{"--out: write: no space left on device", "the counterexample is in the report above"}},
		{item: "4", name: "hunt --out is a file", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"hunt", "-r", "label-selector", "--out", e.mine}, []string{e.mine}
			},
			stderr: []string{"--out: ", "is not a directory"}},
		{item: "1", name: "hunt --out -", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"hunt", "-r", "label-selector", "--out", "-"}, nil
			},
			stderr: []string{"--out names a directory", "- (standard output) does not apply"}},
		{item: "1", name: "check --out -", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"check", "-r", "label-selector", "--out", "-"}, nil
			},
			stderr: []string{"--out names a directory", "- (standard output) does not apply"}},
		{item: "4", name: "hunt over a different file", code: exitUsage,
			args: func(t *testing.T, e env) ([]string, []string) {
				p := filepath.Join(e.dir, "label-selector-scale-up-overlap-seed-1.json")
				if err := os.WriteFile(p, []byte(mine), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"hunt", "-r", "label-selector", "--seed", "1", "--out", e.dir}, []string{p}
			},
			stdout: []string{"NOT written to", "step 0: relabel", "label-selector: VIOLATED"},
			stderr: []string{"already exists and holds a different trace", "--force"}},
		{item: "4", name: "the README's hunt in a fresh clone", code: exitViolated,
			args: func(t *testing.T, e env) ([]string, []string) {
				dir := filepath.Join("..", "..", "traces", "regressions")
				return []string{"hunt", "--reducer", "label-selector", "--seed", "1", "--out", dir},
					[]string{filepath.Join(dir, "label-selector-scale-up-overlap-seed-1.json")}
			},
			stdout: []string{"already holds this counterexample; left as it is"}},
		{item: "4", name: "html write fails after the replay", code: exitUsage,
			args: func(t *testing.T, e env) ([]string, []string) {
				failingWrites(t)
				return []string{"--trace", e.trace, "--html", filepath.Join(e.dir, "r.html")}, []string{filepath.Join(e.dir, "r.html")}
			},
			stdout: []string{"label-selector (kube-state-metrics <= v2.12.0)", "verdict: VIOLATED", "verdict: holds"},
			stderr: []string{"--html: write: no space left on device", "the report above is complete; its verdict: violated"}},
		{item: "4", name: "html into a missing directory", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "--html", filepath.Join(e.dir, "missing", "r.html")}, nil
			},
			stderr: []string{"--html: directory ", "missing"}},

		// 6: smaller ones.
		{item: "6", name: "trace without --trace", code: exitUsage, noStdout: true,
			args:   func(t *testing.T, e env) ([]string, []string) { return []string{e.trace}, []string{e.trace} },
			stderr: []string{"unexpected argument", "the trace to replay is given with --trace, e.g. simrun --trace "}},
		{item: "6", name: "reducer twice", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"--trace", e.trace, "-r", "label-selector", "-r", "label-selector"}, nil
			},
			stderr: []string{"--reducer label-selector is given twice"}},
		{item: "6", name: "check workers unbounded", code: exitUsage, noStdout: true,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"check", "-r", "field-selector", "--workers", "1000000"}, nil
			},
			stderr: []string{"--workers must be between 0 (GOMAXPROCS) and 1024, got 1000000"}},
		{item: "6", name: "import -o still works", code: exitHolds,
			args: func(t *testing.T, e env) ([]string, []string) {
				return []string{"import", "--statefulset-watch", sampleWatch, "--objects", "10", "-o", filepath.Join(e.dir, "new.json")}, []string{e.mine}
			},
			stderr: []string{"-o/--output FILE is deprecated", "use --out "}},
	} {
		t.Run(tc.item+"/"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := env{dir: dir, trace: filepath.Join(dir, "relabel.json"), mine: filepath.Join(dir, "mine.html")}
			if err := os.WriteFile(e.trace, relabel, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.mine, []byte(mine), 0o644); err != nil {
				t.Fatal(err)
			}
			args, keep := tc.args(t, e)
			before := make([]string, len(keep))
			for i, p := range keep {
				before[i] = relState(p)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("simrun %s: exit status %d, want %d\nstdout: %.500s\nstderr: %s", strings.Join(args, " "), code, tc.code, stdout.String(), stderr.String())
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%.2000s", w, stdout.String())
				}
			}
			if tc.noStdout && stdout.Len() != 0 {
				t.Errorf("stdout not empty (the check should come before the work):\n%.500s", stdout.String())
			}
			for _, m := range badPanicMarkers {
				if strings.Contains(stderr.String(), m) {
					t.Errorf("stderr looks like a panic (%q):\n%s", m, stderr.String())
				}
			}
			for i, p := range keep {
				if after := relState(p); after != before[i] {
					t.Errorf("%s changed:\nbefore %.200s\nafter  %.200s", p, before[i], after)
				}
			}
			if tc.after != nil {
				tc.after(t, e, stdout.String())
			}
			entries, _ := os.ReadDir(dir)
			for _, en := range entries {
				if strings.HasPrefix(en.Name(), ".") {
					t.Errorf("temporary file left behind: %s", en.Name())
				}
			}
		})
	}
}
