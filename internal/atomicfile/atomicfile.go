package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Stdout is the path that means standard output to Output and Check.
const Stdout = "-"

// ExistsError is returned when path exists and overwrite (force) is
// false. errors.Is(err, fs.ErrExist) holds for it.
type ExistsError struct {
	Path string
	// Link is the target when Path is a symbolic link, else "".
	Link string
}

func (e *ExistsError) Error() string {
	if e.Link != "" {
		return e.Path + " already exists (a symbolic link to " + e.Link + "); not overwriting it"
	}
	return e.Path + " already exists; not overwriting it"
}

// Unwrap makes errors.Is(err, fs.ErrExist) true.
func (e *ExistsError) Unwrap() error { return fs.ErrExist }

// NotRegularError is returned when path (or, for a symbolic link, its
// target) exists and is not a regular file: a directory, a device, a
// named pipe, a socket, or a symbolic link that leads nowhere. Such a path
// is never replaced, whatever force says.
type NotRegularError struct {
	Path string
	What string // "a directory", "a device", …
}

func (e *NotRegularError) Error() string {
	return "refusing to replace " + e.Path + ": it is " + e.What + ", not a regular file"
}

// describe names the kind of a file that is not regular.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file (mode " + m.String() + ")"
}

// target says what Write would do with path: the file to create or
// replace (path itself, or the end of the symbolic link path is), whether
// it exists (then it is a regular file) and its permission bits.
func target(path string, overwrite bool) (dest string, exists bool, perm fs.FileMode, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, false, 0o644, nil
	}
	if err != nil {
		return "", false, 0, err
	}
	switch {
	case fi.Mode().IsRegular():
		if !overwrite {
			return "", false, 0, &ExistsError{Path: path}
		}
		return path, true, fi.Mode().Perm(), nil
	case fi.Mode()&fs.ModeSymlink != 0:
		link, _ := os.Readlink(path)
		if !overwrite {
			return "", false, 0, &ExistsError{Path: path, Link: link}
		}
		resolved, rerr := filepath.EvalSymlinks(path)
		if rerr != nil {
			return "", false, 0, &NotRegularError{Path: path, What: "a symbolic link to " + link + ", which does not resolve (" + unwrapPath(rerr).Error() + ")"}
		}
		ti, serr := os.Stat(resolved)
		if serr != nil {
			return "", false, 0, serr
		}
		if !ti.Mode().IsRegular() {
			return "", false, 0, &NotRegularError{Path: path, What: "a symbolic link to " + resolved + ", which is " + describe(ti.Mode())}
		}
		return resolved, true, ti.Mode().Perm(), nil
	}
	return "", false, 0, &NotRegularError{Path: path, What: describe(fi.Mode())}
}

// unwrapPath drops the operation and path of an *fs.PathError.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Check reports, without writing anything that stays, whether Write(path,
// …, overwrite) would succeed as far as can be known beforehand: path is
// not an existing file (unless overwrite), not something other than a
// regular file, and its directory exists and takes a new file. Commands
// call it before long work so that a path that cannot be written is
// refused before the work is done. Check(Stdout, …) is nil.
func Check(path string, overwrite bool) error {
	if path == Stdout {
		return nil
	}
	dest, _, _, err := target(path, overwrite)
	if err != nil {
		return err
	}
	return probeDir(filepath.Dir(dest), filepath.Base(dest))
}

// probeDir checks that dir is a directory in which a file can be created,
// by creating and removing a temporary one.
func probeDir(dir, base string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w", dir, unwrapPath(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, "."+base+".probe-*")
	if err != nil {
		return fmt.Errorf("cannot create a file in %s: %w", dir, unwrapPath(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// CheckDir reports whether files could be created in dir, creating it if
// missing (MkdirAll): dir, when it exists, must be a directory (or a
// symbolic link to one) that takes a new file; when it does not, its
// nearest existing ancestor must. Nothing is created.
func CheckDir(dir string) error {
	d := filepath.Clean(dir)
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", d)
			}
			return probeDir(d, "dir")
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("directory %s: %w", d, unwrapPath(err))
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fmt.Errorf("directory %s: %w", d, unwrapPath(err))
		}
		d = parent
	}
}

// Output is Write, except that path Stdout ("-") writes data to stdout.
func Output(stdout io.Writer, path string, data []byte, overwrite bool) error {
	if path == Stdout {
		_, err := stdout.Write(data)
		return err
	}
	return Write(path, data, overwrite)
}

// Write writes data to path through a temporary file in the same
// directory, synced, then renamed over the old file (overwrite) or
// hard-linked to path, which fails if path exists: there is no window in
// which another writer's file could be replaced. On a file system without
// hard links it checks, then renames.
//
// What is at path decides what happens:
//
//   - nothing: the file is created, mode 0644;
//   - a regular file: *ExistsError unless overwrite; with overwrite it is
//     replaced and the new file keeps its permission bits;
//   - a symbolic link: *ExistsError unless overwrite; with overwrite, if
//     the link resolves to a regular file, that file is replaced (the
//     link stays and leads to the new content); if it resolves to
//     anything else or nowhere, *NotRegularError;
//   - anything else (a directory, a device such as /dev/null, a named
//     pipe, a socket): *NotRegularError, whatever overwrite says.
//
// The kind of path is checked just before the temporary file is written;
// the rename itself cannot replace a directory.
func Write(path string, data []byte, overwrite bool) (err error) {
	dest, exists, perm, err := target(path, overwrite)
	if err != nil {
		return err
	}
	dir := filepath.Dir(dest)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op after a rename; removes the link source otherwise
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Chmod(perm) // CreateTemp makes it 0600
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if exists {
		// Re-check: what was a regular file must still be one.
		if fi, lerr := os.Lstat(dest); lerr == nil && !fi.Mode().IsRegular() {
			return &NotRegularError{Path: path, What: describe(fi.Mode())}
		}
		err = os.Rename(name, dest)
	} else if err = os.Link(name, dest); errors.Is(err, fs.ErrExist) {
		return &ExistsError{Path: path}
	} else if err != nil {
		if _, serr := os.Lstat(dest); serr == nil {
			return &ExistsError{Path: path}
		}
		err = os.Rename(name, dest)
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
