package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ExistsError is returned by Write when path exists and overwrite is
// false. errors.Is(err, fs.ErrExist) holds for it.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string { return e.Path + " already exists; not overwriting it" }

// Unwrap makes errors.Is(err, fs.ErrExist) true.
func (e *ExistsError) Unwrap() error { return fs.ErrExist }

// Write writes data to path with mode 0644 through a temporary file in the
// same directory, synced, then renamed over path (overwrite) or hard-linked
// to it, which fails if path exists: there is no window in which another
// writer's file could be replaced. On a file system without hard links it
// checks, then renames.
func Write(path string, data []byte, overwrite bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op after a rename; removes the link source otherwise
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes it 0600
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if overwrite {
		err = os.Rename(name, path)
	} else if err = os.Link(name, path); errors.Is(err, fs.ErrExist) {
		return &ExistsError{Path: path}
	} else if err != nil {
		if _, serr := os.Lstat(path); serr == nil {
			return &ExistsError{Path: path}
		}
		err = os.Rename(name, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil { // make the entry durable where the file system can
		_ = d.Sync()
		d.Close()
	}
	return nil
}
