package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/htmlreport"
	"github.com/shardsim/shardsim/sim"
)

// addHTMLFlag adds --html FILE to cmd, stored in target, with completion
// of *.html files.
func addHTMLFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVar(target, "html", "",
		"also write the report as one self-contained HTML page to FILE: per reducer a timeline of every pod's shard/total, with gaps and overlaps (opens offline in any browser)")
	_ = cmd.MarkFlagFilename("html", "html", "htm")
}

// writeHTML renders rep as a self-contained HTML page and writes it to
// path atomically: a temporary file in the same directory, renamed over
// path, so a reader never sees half a report. An existing file is
// replaced. rep should come straight from sim.Replay (before Report.Cap):
// the page takes its pod start and stop markers from the event logs and
// names up to five example UIDs per band.
func writeHTML(path string, rep *sim.Report) error {
	var buf bytes.Buffer
	if err := htmlreport.Write(&buf, rep); err != nil {
		return fmt.Errorf("render the HTML report: %w", err)
	}
	if err := writeFileAtomic(path, buf.Bytes(), true); err != nil {
		return fmt.Errorf("write the HTML report: %w", err)
	}
	return nil
}

// errExists is returned by writeFileAtomic when path exists and overwrite
// is false.
var errExists = errors.New("file exists")

// writeFileAtomic writes data to path through a temporary file in the
// same directory and a rename, so that path holds either its old content
// or all of data. With overwrite false an existing path is left alone and
// the error wraps errExists.
func writeFileAtomic(path string, data []byte, overwrite bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(name, 0o644); err != nil { // CreateTemp makes it 0600
		return err
	}
	if overwrite {
		return os.Rename(name, path)
	}
	// A hard link is created only if path does not exist: no window in
	// which another writer's file could be replaced.
	if err = os.Link(name, path); err == nil {
		os.Remove(name)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w", path, errExists)
	}
	// A file system without hard links: check, then rename.
	if _, serr := os.Lstat(path); serr == nil {
		err = fmt.Errorf("%s: %w", path, errExists)
		return err
	}
	return os.Rename(name, path)
}
