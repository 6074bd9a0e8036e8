package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/htmlreport"
	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/sim"
)

// addHTMLFlag adds --html FILE to cmd, stored in target, with completion
// of *.html files.
func addHTMLFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVar(target, "html", "",
		"also write the report as one self-contained HTML page to FILE: per reducer a timeline with a lane per KSM pod (its shard/total; DaemonSet sharding: by node, with a node view of the field selectors), with gaps and overlaps (opens offline in any browser); an existing FILE only with --force; - writes the page to standard output in place of the report")
	_ = cmd.MarkFlagFilename("html", "html", "htm")
}

// writeFile writes every file simrun writes after its work is done (a
// variable so that tests can make a write fail after the checks passed).
var writeFile = atomicfile.Write

// renderHTML renders rep as one self-contained HTML page. rep should come
// straight from sim.Replay (before Report.Cap): the page takes its pod
// start and stop markers from the event logs and names up to five example
// UIDs per band.
func renderHTML(rep *sim.Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := htmlreport.Write(&buf, rep); err != nil {
		return nil, fmt.Errorf("render the HTML report: %w", err)
	}
	return buf.Bytes(), nil
}

// writeHTML writes a rendered page to path through atomicfile: a reader
// never sees half a page, an existing file is replaced only with force,
// and never one that is not a regular file.
func writeHTML(path string, page []byte, force bool) error {
	if err := writeFile(path, page, force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("--html: %w; choose another file or add --force to replace it", err)
		}
		return fmt.Errorf("--html: %w", err)
	}
	return nil
}
