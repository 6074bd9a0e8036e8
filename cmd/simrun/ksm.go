package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/ksm"
	"github.com/shardsim/shardsim/model"
)

// newKSMCommand returns `simrun ksm` and its subcommands.
func newKSMCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ksm",
		Short: "The kube-state-metrics releases the ksm backend runs (list, build)",
		Long: `The ksm backend (--backend ksm) runs every simulated pod as real
kube-state-metrics code: its flag parsing, its store builder and its
autosharding metrics handler, on the client-go the release pins, against the
simulator's API server on loopback. Each release is built on first use from
ksm/host of this checkout (ksm/host/releases/vX.Y.Z.mod and .sum pin it) into
the user's cache directory, which takes a minute or two, and reused after.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the kube-state-metrics releases the ksm backend knows and which are built",
		Long: `list prints every release from v2.10.0 to v2.20.0: whether the Go module
proxy serves it (the others run only from a checkout, --ksm-source), the
strategy of its StatefulSet watch (label-selector or field-selector), the
client-go it pins, the quirks of its sharded ListWatch the model follows
(see 'simrun --reducer vX.Y.Z'), and where its build is cached, if it is built
for this checkout and Go version. Each release is also a reducer: the model of
its whole sharding behaviour, the one --backend ksm checks it against.

Exit status:
  0  always (2 for usage errors)`,
		Example: `  simrun ksm list

  # Build and run a release
  simrun --trace traces/relabel.json --backend ksm --ksm-release v2.20.0`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeReleases(cmd.OutOrStdout())
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "build [vX.Y.Z ...]",
		Short: "Build kube-state-metrics releases for the ksm backend ahead of use",
		Long: `build builds the named releases (default: v2.12.0 and v2.13.0, the ones the
reducers model) into the cache, so that later replays start at once.

Exit status:
  0  built (or already built)
  2  an unknown release, one the module proxy does not serve, or a failed
     build (the message says why)`,
		Example: `  simrun ksm build
  simrun ksm build v2.19.1 v2.20.0`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"v2.12.0", "v2.13.0"}
			}
			for _, v := range args {
				bin, err := ensureBuilt(ksm.Build{Release: v}, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\n", v, bin)
			}
			return nil
		},
	})
	return cmd
}

// ensureBuilt builds b for the ksm backend; every failure is a usage error
// (exit status 2) that says why.
func ensureBuilt(b ksm.Build, progress io.Writer) (string, error) {
	if _, err := ksm.LookupRelease(b.Release); err != nil {
		return "", usageErr("%v", err)
	}
	bin, err := ksm.EnsureBuilt(b, progress)
	if err != nil {
		return "", usageErr("%v", err)
	}
	return bin, nil
}

func writeReleases(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tPROXY\tSTATEFULSET WATCH\tCLIENT-GO\tLISTWATCH\tBUILT")
	for _, r := range ksm.Releases {
		served := "served"
		if !r.Served {
			served = "refused: --ksm-source only"
		}
		built := "no"
		if bin := ksm.Built(r.Version); bin != "" {
			built = bin
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Version, served, r.Model.Selector.Name(), r.Model.ClientGo, quirks(r.Model.Rules), built)
	}
	return tw.Flush()
}

// quirks is the LISTWATCH column: the release's rules (model
// ListWatchRules.Quirks), "-" for none.
func quirks(r model.ListWatchRules) string {
	if q := r.Quirks(); len(q) > 0 {
		return strings.Join(q, ",")
	}
	return "-"
}
