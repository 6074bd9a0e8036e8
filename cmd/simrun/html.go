package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/htmlreport"
	"github.com/shardsim/shardsim/internal/atomicfile"
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
	if err := atomicfile.Write(path, buf.Bytes(), true); err != nil {
		return fmt.Errorf("write the HTML report: %w", err)
	}
	return nil
}
