package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/model"
)

// newVersionCommand returns `simrun version`.
func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print simrun's version and the kube-state-metrics releases each reducer models",
		Long: `version prints the version of the shardsim module simrun was built from
("(devel)" for a build from a work tree, as with go run), the commit when the
build recorded one, and for each reducer the kube-state-metrics releases whose
sharding behaviour it reproduces.

Exit status:
  0  always (2 for usage errors such as unknown flags)`,
		Example: `  simrun version

  # The reducer names are what --reducer takes
  simrun --trace traces/relabel.json --reducer field-selector`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, ok := debug.ReadBuildInfo()
			return writeVersion(cmd.OutOrStdout(), info, ok)
		},
	}
}

// moduleVersion is the main module's version from the build info, or
// "(devel)" when there is none.
func moduleVersion(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

func writeVersion(w io.Writer, info *debug.BuildInfo, ok bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "simrun %s\n", moduleVersion(info, ok))
	if ok && info != nil {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			fmt.Fprintf(&b, "commit %s", rev)
			if modified == "true" {
				b.WriteString(" (with uncommitted changes)")
			}
			b.WriteString("\n")
		}
		if info.GoVersion != "" {
			fmt.Fprintf(&b, "built with %s\n", info.GoVersion)
		}
	}
	b.WriteString("reducers (--reducer) and the kube-state-metrics releases they model:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range model.Reducers() {
		fmt.Fprintf(tw, "  %s\t%s\n", r.Name(), r.Models())
	}
	tw.Flush()
	b.WriteString("and every release as a reducer of its own (model.Changes):\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range model.Releases() {
		fmt.Fprintf(tw, "  %s\t%s\n", r.Name(), r.Summary())
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
