package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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
