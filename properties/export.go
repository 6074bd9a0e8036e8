package properties

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/sim"
)

// ExistsError is returned by Export when the file is already there and
// overwriting was not asked for.
type ExistsError = atomicfile.ExistsError

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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("export: %w", err)
	}
	if err := atomicfile.Write(path, data, force); err != nil {
		var ee *ExistsError
		if errors.As(err, &ee) {
			return "", err
		}
		return "", fmt.Errorf("export: %w", err)
	}
	return path, nil
}

// Verify checks that data is a valid trace (named path in errors) and,
// when it has expectations, that replaying it against every reducer it
// names, named reducers and releases alike, gives the expected verdicts.
func Verify(path string, data []byte) error {
	t, err := sim.ParseTrace(path, data)
	if err != nil {
		return err
	}
	for _, r := range sim.ExpectedReducers(t) {
		name := r.Name()
		want, ok := t.Expect[name]
		if !ok {
			continue
		}
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
