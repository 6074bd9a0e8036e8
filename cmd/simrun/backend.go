package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/clientgo"
	"github.com/shardsim/shardsim/ksm"
	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// backends maps each --backend value to the backend it selects, in help
// order. The ksm backend's constructor depends on --ksm-release and
// --ksm-source (backendFlags.resolve).
var backends = []struct {
	name string
	help string
	new  sim.NewBackend
}{
	{"model", "pods folded with model.Step, fast", sim.ModelBackend},
	{clientgo.Name, "pods on real client-go informers over a fake clientset, same reports, slower", clientgo.New},
	{ksm.Name, "every pod is real kube-state-metrics code of the release each reducer stands for, over HTTP; built on first use", nil},
}

func backendNames() []string {
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.name
	}
	return names
}

// backendFlags are --backend and the ksm backend's --ksm-release and
// --ksm-source.
type backendFlags struct {
	name       string
	ksmRelease string
	ksmSource  string
}

// addBackendFlag adds --backend NAME (default "model"), --ksm-release and
// --ksm-source to cmd, with completion.
func addBackendFlag(cmd *cobra.Command, f *backendFlags) {
	help := make([]string, len(backends))
	for i, b := range backends {
		help[i] = b.name + " (" + b.help + ")"
	}
	cmd.Flags().StringVar(&f.name, "backend", backends[0].name, "what runs the KSM pods: "+strings.Join(help, " or "))
	_ = cmd.RegisterFlagCompletionFunc("backend", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return backendNames(), cobra.ShellCompDirectiveNoFileComp
	})
	cmd.Flags().StringVar(&f.ksmRelease, "ksm-release", "", "with --backend ksm: run this kube-state-metrics release (v2.10.0 to v2.20.0, see 'simrun ksm list') instead of the one each reducer stands for (a release: itself, label-selector: v2.12.0, field-selector: v2.13.0); the replay's reducer is then that release's model, and --reducer, if given, must name it (its StatefulSet strategy's name, label-selector or field-selector, is accepted too and also means the release)")
	_ = cmd.RegisterFlagCompletionFunc("ksm-release", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var vs []string
		for _, r := range ksm.Releases {
			vs = append(vs, r.Version)
		}
		return vs, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.Flags().StringVar(&f.ksmSource, "ksm-source", "", "with --backend ksm: run the kube-state-metrics checkout in `DIR` (a fork, a branch, a pull request), its dependencies seeded from --ksm-release (default v2.20.0), checked against that release's model")
	_ = cmd.MarkFlagDirname("ksm-source")
}

// backendByName returns the backend --backend names with its defaults,
// for sim.Options. An unknown name is a usage error (exit status 2).
func backendByName(name string) (sim.NewBackend, error) {
	nb, _, err := (&backendFlags{name: name}).resolve(nil, false)
	return nb, err
}

// resolve returns the backend the flags select and the reducers to replay
// with it. explicit says whether the user chose the reducers.
//
// With --backend ksm alone each reducer runs the release it stands for
// (ksm.DefaultRelease): a release itself, label-selector v2.12.0,
// field-selector v2.13.0. A release the module proxy refuses is an error
// when chosen, and skipped with a note when it only comes from the trace's
// expect. With --ksm-release X (or --ksm-source, seeded from X, default
// the newest release) the replay's reducer is the model of release X
// (model.ReleaseByVersion); an explicit --reducer must be X, or the name
// of X's StatefulSet strategy (label-selector or field-selector, as before
// releases were reducers), which then also means X.
func (f *backendFlags) resolve(reducers []model.Reducer, explicit bool) (sim.NewBackend, []model.Reducer, error) {
	if f.name != ksm.Name && (f.ksmRelease != "" || f.ksmSource != "") {
		return nil, nil, usageErr("--ksm-release and --ksm-source need --backend ksm")
	}
	if f.name != ksm.Name {
		for _, b := range backends {
			if b.name == f.name {
				return b.new, reducers, nil
			}
		}
		return nil, nil, usageErr("unknown backend %q, want one of %s", f.name, strings.Join(backendNames(), ", "))
	}
	cfg := ksm.Config{Build: ksm.Build{Release: f.ksmRelease, Source: f.ksmSource}, Progress: os.Stderr}
	if f.ksmRelease == "" && f.ksmSource == "" { // each reducer runs the release it stands for
		var out []model.Reducer
		for _, r := range reducers {
			b := ksm.Build{Release: ksm.DefaultRelease(r.Name())}
			if rel, err := ksm.LookupRelease(b.Release); err == nil && !rel.Served && !explicit {
				fmt.Fprintf(os.Stderr, "simrun: note: kube-state-metrics %s, which the trace expects a verdict of, is not served by the Go module proxy: skipped (run it from a checkout of that tag: --ksm-source DIR --ksm-release %s)\n", rel.Version, rel.Version)
				continue
			}
			if _, err := ensureBuilt(b, os.Stderr); err != nil {
				return nil, nil, err
			}
			out = append(out, ksmReducer{Reducer: r, build: b})
		}
		return ksm.New(cfg), out, nil
	}
	if cfg.Build.Release == "" {
		cfg.Build.Release = ksm.Releases[len(ksm.Releases)-1].Version
	}
	rel, err := ksm.LookupRelease(cfg.Build.Release)
	if err != nil {
		return nil, nil, usageErr("--ksm-release: %v", err)
	}
	if f.ksmSource != "" {
		if st, err := os.Stat(f.ksmSource); err != nil || !st.IsDir() {
			return nil, nil, usageErr("--ksm-source %s: not a directory", f.ksmSource)
		}
	}
	if explicit {
		for _, x := range reducers {
			if x.Name() == rel.Version || x.Name() == rel.Model.Selector.Name() {
				continue
			}
			if _, isRelease := x.(model.Release); isRelease {
				return nil, nil, usageErr("--ksm-release %s runs kube-state-metrics %s; --reducer %s is another release (use --reducer %s, or drop --reducer)", rel.Version, rel.Version, x.Name(), rel.Version)
			}
			return nil, nil, usageErr("kube-state-metrics %s watches its StatefulSet as %s does; --reducer %s does not model it (use --reducer %s, or drop --reducer)", rel.Version, rel.Model.Selector.Name(), x.Name(), rel.Version)
		}
	}
	if _, err := ensureBuilt(cfg.Build, os.Stderr); err != nil {
		return nil, nil, err
	}
	return ksm.New(cfg), []model.Reducer{ksmReducer{Reducer: rel.Model, build: cfg.Build}}, nil
}

// ksmReducer names, in reports, the KSM a replay ran.
type ksmReducer struct {
	model.Reducer
	build ksm.Build
}

// Unwrap returns the reducer the ksm backend runs (model.NodeRulesOf
// reads its release's rules through it).
func (r ksmReducer) Unwrap() model.Reducer { return r.Reducer }

func (r ksmReducer) Models() string {
	return fmt.Sprintf("%s, run as real code by the ksm backend", r.build)
}
