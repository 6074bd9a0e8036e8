package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := Write(path, []byte("one"), false); err != nil {
		t.Fatal(err)
	}
	err := Write(path, []byte("two"), false)
	var ee *ExistsError
	if !errors.As(err, &ee) || !errors.Is(err, fs.ErrExist) || ee.Path != path {
		t.Fatalf("second write without overwrite: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "one" {
		t.Fatalf("the existing file was changed to %q", got)
	}
	if err := Write(path, []byte("three"), true); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "three" || fi.Mode().Perm() != 0o644 {
		t.Fatalf("after overwrite: %q, mode %v", got, fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := Write(filepath.Join(dir, "missing", "x"), nil, false); err == nil {
		t.Fatal("wrote into a directory that does not exist")
	}
}

// charDevice returns a character device to try to replace: one made with
// mknod in a temporary directory when the test runs as root (which could
// replace /dev/null if the writer were wrong), else /dev/null, which only
// root can replace.
func charDevice(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
			t.Skip("no /dev/null character device")
		}
		return "/dev/null"
	}
	path := filepath.Join(t.TempDir(), "null")
	if err := mknodNull(path); err != nil {
		t.Skipf("cannot make a character device as root: %v", err)
	}
	return path
}

// TestWriteRules is the table of the package doc: what Write does with
// each kind of path, with and without overwrite, and that whatever it
// refuses is left exactly as it was.
func TestWriteRules(t *testing.T) {
	type setup func(t *testing.T, dir string) string
	regular := func(t *testing.T, dir string) string {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	symlinkTo := func(target func(t *testing.T, dir string) string) setup {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "link")
			if err := os.Symlink(target(t, dir), p); err != nil {
				t.Skipf("no symbolic links: %v", err)
			}
			return p
		}
	}
	for _, tc := range []struct {
		name      string
		setup     setup
		overwrite bool
		wantErr   string // "" for success
		exists    bool   // the error is an *ExistsError
		notReg    bool   // the error is a *NotRegularError
		// after success: the file read through the path holds "new";
		// keepLink: the path is still a symbolic link; perm: its mode
		keepLink bool
		perm     fs.FileMode
	}{
		{name: "new", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "new") }, perm: 0o644},
		{name: "new/overwrite", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "new") }, overwrite: true, perm: 0o644},
		{name: "regular", setup: regular, wantErr: "already exists; not overwriting it", exists: true},
		{name: "regular/overwrite", setup: regular, overwrite: true, perm: 0o600},
		{name: "symlink-to-regular", setup: symlinkTo(regular), wantErr: "a symbolic link to", exists: true},
		{name: "symlink-to-regular/overwrite", setup: symlinkTo(regular), overwrite: true, keepLink: true, perm: 0o600},
		{name: "dangling-symlink", setup: symlinkTo(func(_ *testing.T, dir string) string { return filepath.Join(dir, "nowhere") }), wantErr: "already exists", exists: true},
		{name: "dangling-symlink/overwrite", setup: symlinkTo(func(_ *testing.T, dir string) string { return filepath.Join(dir, "nowhere") }), overwrite: true, wantErr: "does not resolve", notReg: true},
		{name: "symlink-to-dir/overwrite", setup: symlinkTo(func(_ *testing.T, dir string) string { return dir }), overwrite: true, wantErr: "which is a directory", notReg: true},
		{name: "directory", setup: func(t *testing.T, dir string) string { return dir }, wantErr: "it is a directory, not a regular file", notReg: true},
		{name: "directory/overwrite", setup: func(t *testing.T, dir string) string { return dir }, overwrite: true, wantErr: "it is a directory, not a regular file", notReg: true},
		{name: "device/overwrite", setup: func(t *testing.T, _ string) string { return charDevice(t) }, overwrite: true, wantErr: "it is a character device, not a regular file", notReg: true},
		{name: "device", setup: func(t *testing.T, _ string) string { return charDevice(t) }, wantErr: "it is a character device", notReg: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.setup(t, dir)
			before := snapshot(t, path)
			checkErr := Check(path, tc.overwrite)
			err := Write(path, []byte("new"), tc.overwrite)
			if (checkErr == nil) != (err == nil) {
				t.Errorf("Check says %v, Write %v", checkErr, err)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want one naming %s and saying %q", err, path, tc.wantErr)
				}
				var ee *ExistsError
				var ne *NotRegularError
				if errors.As(err, &ee) != tc.exists || errors.As(err, &ne) != tc.notReg {
					t.Errorf("error %T: exists %v, not regular %v; want %v, %v", err, errors.As(err, &ee), errors.As(err, &ne), tc.exists, tc.notReg)
				}
				if after := snapshot(t, path); after != before {
					t.Errorf("a refused write changed %s:\nbefore %s\nafter  %s", path, before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, rerr := os.ReadFile(path); rerr != nil || string(got) != "new" {
				t.Fatalf("read back %q, %v", got, rerr)
			}
			li, _ := os.Lstat(path)
			if isLink := li.Mode()&fs.ModeSymlink != 0; isLink != tc.keepLink {
				t.Errorf("symbolic link after the write: %v, want %v", isLink, tc.keepLink)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != tc.perm {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.perm)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("temporary file left behind: %s", e.Name())
				}
			}
		})
	}
}

// snapshot describes what is at path: its kind, its link target, and
// for a regular file its content and mode.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	li, err := os.Lstat(path)
	if err != nil {
		return "absent"
	}
	s := li.Mode().String()
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

func TestOutput(t *testing.T) {
	var out bytes.Buffer
	if err := Output(&out, Stdout, []byte("page"), false); err != nil || out.String() != "page" {
		t.Fatalf("Output(-): %q, %v", out.String(), err)
	}
	if err := Check(Stdout, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	out.Reset()
	if err := Output(&out, path, []byte("file"), false); err != nil || out.Len() != 0 {
		t.Fatalf("Output(file): stdout %q, %v", out.String(), err)
	}
	if got, _ := os.ReadFile(path); string(got) != "file" {
		t.Fatalf("file holds %q", got)
	}
	if err := Output(&out, path, []byte("again"), false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Output over an existing file: %v", err)
	}
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, want string
	}{
		{dir, ""},
		{filepath.Join(dir, "a", "b", "c"), ""}, // created later by MkdirAll
		{file, "is not a directory"},
		{filepath.Join(file, "sub"), "is not a directory"},
	} {
		err := CheckDir(tc.dir)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckDir(%s) = %v, want %q", tc.dir, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("CheckDir created a directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("CheckDir left files behind: %v", entries)
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := CheckDir(ro); err == nil || !strings.Contains(err.Error(), "cannot create a file in "+ro) {
			t.Errorf("CheckDir(read-only) = %v", err)
		}
		if err := Check(filepath.Join(ro, "x"), false); err == nil {
			t.Error("Check in a read-only directory succeeded")
		}
	}
}
