package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Check fails t unless got equals the content of the golden file at path;
// with -update it writes got to path instead. rerun is the command that
// reproduces the test, for the message.
func Check(t testing.TB, path string, got []byte, rerun string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run %s -update to create it)", err, rerun)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run %s -update to accept it)\n--- got ---\n%s", path, rerun, got)
	}
}
