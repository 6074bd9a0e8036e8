package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/monitor"
	"github.com/shardsim/shardsim/sim"
)

// TestBackendByName: both names resolve to the backend of that name; an
// unknown one is a usage error naming the valid ones.
func TestBackendByName(t *testing.T) {
	for _, name := range []string{"model", "client-go"} {
		nb, err := backendByName(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := nb(model.FieldSelector{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.Name() != name {
			t.Errorf("backendByName(%q) made backend %q", name, b.Name())
		}
		b.Close()
	}
	_, err := backendByName("kind")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "model, client-go, ksm") {
		t.Errorf("unknown backend: err %v, want a usage error listing model, client-go, ksm", err)
	}
}

// TestBackendFlag: --backend defaults to model, takes client-go, and
// completes both names.
func TestBackendFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "model"},
		{[]string{"--backend", "client-go"}, "client-go"},
		{[]string{"--backend=model"}, "model"},
	} {
		var f backendFlags
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		addBackendFlag(cmd, &f)
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if f.name != tc.want {
			t.Errorf("%v: --backend %q, want %q", tc.args, f.name, tc.want)
		}
		if _, err := backendByName(f.name); err != nil {
			t.Errorf("%v: %v", tc.args, err)
		}
	}
	cmd := &cobra.Command{Use: "x"}
	var f backendFlags
	addBackendFlag(cmd, &f)
	complete, ok := cmd.GetFlagCompletionFunc("backend")
	if !ok {
		t.Fatal("no completion for --backend")
	}
	if names, _ := complete(cmd, nil, ""); strings.Join(names, " ") != "model client-go ksm" {
		t.Errorf("completion %v", names)
	}
}

// TestClientGoBackendGolden: the relabel trace replayed on the client-go
// backend prints exactly the golden reports of the model backend (the
// ones TestGolden checks simrun against), text and JSON.
func TestClientGoBackendGolden(t *testing.T) {
	nb, err := backendByName("client-go")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sim.LoadTrace(relabelTrace)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Replay(tr, model.Reducers(), sim.Options{Backend: nb, Timeline: &sim.TimelineOptions{Series: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evaluateAlerts(rep, tr.Cluster.Namespace, monitor.DefaultRuleFiles()); err != nil {
		t.Fatal(err)
	}
	for _, golden := range []string{"relabel.txt", "relabel.json"} {
		want, err := os.ReadFile(filepath.Join("testdata", golden))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if strings.HasSuffix(golden, ".json") {
			err = rep.WriteJSON(&got, false)
		} else {
			err = rep.WriteText(&got, false)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("client-go backend differs from testdata/%s\n--- got ---\n%s\n--- want ---\n%s", golden, got.Bytes(), want)
		}
	}
}
