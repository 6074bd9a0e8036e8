package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/sim"
)

// backends maps each --backend value to the backend it selects, in help
// order.
var backends = []struct {
	name string
	help string
	new  sim.NewBackend
}{
	{"model", "pods folded with model.Step, fast", sim.ModelBackend},
	{clientgo.Name, "pods on real client-go informers over a fake clientset, same reports, slower", clientgo.New},
}

func backendNames() []string {
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.name
	}
	return names
}

// addBackendFlag adds --backend NAME to cmd, stored in target (default
// "model"), with completion of the backend names.
func addBackendFlag(cmd *cobra.Command, target *string) {
	help := make([]string, len(backends))
	for i, b := range backends {
		help[i] = b.name + " (" + b.help + ")"
	}
	cmd.Flags().StringVar(target, "backend", backends[0].name, "what runs the KSM pods: "+strings.Join(help, " or "))
	_ = cmd.RegisterFlagCompletionFunc("backend", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return backendNames(), cobra.ShellCompDirectiveNoFileComp
	})
}

// backendByName returns the backend --backend names, for sim.Options. An
// unknown name is a usage error (exit status 2).
func backendByName(name string) (sim.NewBackend, error) {
	for _, b := range backends {
		if b.name == name {
			return b.new, nil
		}
	}
	return nil, usageErr("unknown backend %q, want one of %s", name, strings.Join(backendNames(), ", "))
}
