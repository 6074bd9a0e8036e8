package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/shardsim/shardsim/model"
)

func TestVersionCommand(t *testing.T) {
	cmd := newVersionCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, "simrun ") {
		t.Errorf("first line is not the version:\n%s", got)
	}
	for _, r := range model.Reducers() {
		line := ""
		for _, l := range strings.Split(got, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), r.Name()+" ") {
				line = l
			}
		}
		if !strings.Contains(line, r.Models()) {
			t.Errorf("no line with %s and %q:\n%s", r.Name(), r.Models(), got)
		}
	}
	for _, r := range model.Releases() {
		if !strings.Contains(got, "  "+r.Version+"  "+r.Selector.Name()+", client-go "+r.ClientGo) {
			t.Errorf("no line for release %s:\n%s", r.Version, got)
		}
	}
}

func TestVersionText(t *testing.T) {
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want []string
		not  []string
	}{
		{name: "no build info", want: []string{"simrun (devel)\n"}, not: []string{"commit", "built with"}},
		{name: "go run", ok: true, info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/shardsim/shardsim", Version: "(devel)"}},
			want: []string{"simrun (devel)\n", "built with go1.26.8\n"}},
		{name: "empty version", ok: true, info: &debug.BuildInfo{}, want: []string{"simrun (devel)\n"}},
		{name: "release", ok: true, info: &debug.BuildInfo{GoVersion: "go1.26.8",
			Main:     debug.Module{Path: "github.com/shardsim/shardsim", Version: "v0.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}}},
			want: []string{"simrun v0.4.0\n", "commit 0123abcd (with uncommitted changes)\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeVersion(&b, tc.info, tc.ok); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("has %q:\n%s", w, b.String())
				}
			}
			if !strings.Contains(b.String(), "label-selector  kube-state-metrics <= v2.12.0\n") {
				t.Errorf("reducers not listed:\n%s", b.String())
			}
		})
	}
}

func TestVersionHelp(t *testing.T) {
	cmd := newVersionCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Examples:", "simrun version", "Exit status:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	cmd = newVersionCommand()
	cmd.SetArgs([]string{"extra"})
	cmd.SetOut(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil {
		t.Error("version accepted an argument")
	}
}
