package properties

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// ExistsError is returned by Export when the file is already there and
// overwriting was not asked for.
type ExistsError struct{ Path string }

func (e *ExistsError) Error() string {
	return e.Path + " already exists; not overwriting it"
}

// Marshal renders t as a trace file: indented JSON ending in a newline.
// Characters such as '>' in descriptions are written as they are.
func Marshal(t *sim.Trace) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Export writes t to dir/<t.Name>.json (creating dir if needed) and
// returns the path. Before writing it checks that the file parses as a
// trace (sim.ParseTrace, which is strict) and, when t.Expect is set, that
// replaying it gives the expected verdicts.
//
// The write is atomic: the data goes to a temporary file in dir, synced,
// then linked (or, with force, renamed) into place, so a reader never sees
// a partial file. An existing file is never replaced unless force is set:
// Export returns an *ExistsError instead.
func Export(dir string, t *sim.Trace, force bool) (string, error) {
	if t.Name == "" || filepath.Base(t.Name) != t.Name || t.Name[0] == '.' {
		return "", fmt.Errorf("export: trace name %q cannot be a file name", t.Name)
	}
	data, err := Marshal(t)
	if err != nil {
		return "", fmt.Errorf("export %s: %w", t.Name, err)
	}
	path := filepath.Join(dir, t.Name+".json")
	if err := Verify(path, data); err != nil {
		return "", fmt.Errorf("export: refusing to write a trace that does not replay as recorded: %w", err)
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return "", &ExistsError{Path: path}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+t.Name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link or a failure; a no-op after a rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("export: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("export: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	if force {
		if err := os.Rename(tmpName, path); err != nil {
			return "", fmt.Errorf("export: %w", err)
		}
		syncDir(dir)
		return path, nil
	}
	// A hard link fails if the name exists: no window in which another
	// writer's file could be replaced.
	switch err := os.Link(tmpName, path); {
	case errors.Is(err, fs.ErrExist):
		return "", &ExistsError{Path: path}
	case err != nil:
		// No hard links on this file system: check, then rename.
		if _, err := os.Lstat(path); err == nil {
			return "", &ExistsError{Path: path}
		}
		if err := os.Rename(tmpName, path); err != nil {
			return "", fmt.Errorf("export: %w", err)
		}
	}
	syncDir(dir)
	return path, nil
}

// syncDir makes the new directory entry durable; file systems that cannot
// sync a directory are not an error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Verify checks that data is a valid trace (named path in errors) and,
// when it has expectations, that replaying it against every reducer it
// names gives the expected verdicts.
func Verify(path string, data []byte) error {
	t, err := sim.ParseTrace(path, data)
	if err != nil {
		return err
	}
	for _, name := range model.ReducerNames() {
		want, ok := t.Expect[name]
		if !ok {
			continue
		}
		r, _ := model.ReducerByName(name)
		res, err := sim.Run(t, r, sim.Options{})
		if err != nil {
			return err
		}
		got := sim.Holds
		if !res.Holds {
			got = sim.Violated
		}
		if got != want {
			return fmt.Errorf("%s: %s replays to %q, the trace expects %q", path, name, got, want)
		}
	}
	return nil
}
