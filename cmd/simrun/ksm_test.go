package main

import (
	"strings"
	"testing"
)

// TestKSMBadInput: what the ksm backend refuses before building anything,
// each with exit status 2 and a message that says what to do.
func TestKSMBadInput(t *testing.T) {
	notKSM := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown release", []string{"--trace", relabelTrace, "--backend", "ksm", "--ksm-release", "v9.9.9"},
			[]string{`unknown kube-state-metrics release "v9.9.9"`, "simrun ksm list", "--ksm-source"}},
		{"release the proxy refuses", []string{"--trace", relabelTrace, "--backend", "ksm", "--ksm-release", "v2.14.0"},
			[]string{"v2.14.0 is not served by the Go module proxy", "--ksm-source DIR"}},
		{"release without --backend ksm", []string{"--trace", relabelTrace, "--ksm-release", "v2.13.0"},
			[]string{"--ksm-release and --ksm-source need --backend ksm"}},
		{"source that does not exist", []string{"--trace", relabelTrace, "--backend", "ksm", "--ksm-source", "/nonexistent/kube-state-metrics"},
			[]string{"--ksm-source /nonexistent/kube-state-metrics: not a directory"}},
		{"source that is not KSM", []string{"--trace", relabelTrace, "--backend", "ksm", "--ksm-source", notKSM},
			[]string{"is not a kube-state-metrics checkout (no pkg/metricshandler)"}},
		{"reducer the release does not model", []string{"--trace", relabelTrace, "--backend", "ksm", "--ksm-release", "v2.13.0", "-r", "label-selector"},
			[]string{"kube-state-metrics v2.13.0 watches its StatefulSet as field-selector does; --reducer label-selector does not model it"}},
		{"build of an unknown release", []string{"ksm", "build", "v2.99.0"},
			[]string{`unknown kube-state-metrics release "v2.99.0"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runSimrun(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d\nstderr: %s", code, exitUsage, stderr)
			}
			if len(stdout) != 0 {
				t.Errorf("printed a report on refusal:\n%s", stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(stderr), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestKSMList: every release from v2.10.0 to v2.20.0, the served ones and
// the ones that run only from a checkout.
func TestKSMList(t *testing.T) {
	code, stdout, stderr := runSimrun(t, "ksm", "list")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	out := string(stdout)
	for _, v := range []string{"v2.10.0", "v2.11.0", "v2.12.0", "v2.13.0", "v2.14.0", "v2.15.0", "v2.16.0", "v2.17.0", "v2.18.0", "v2.19.0", "v2.19.1", "v2.20.0"} {
		if !strings.Contains(out, v+" ") {
			t.Errorf("ksm list does not list %s:\n%s", v, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		for _, refused := range []string{"v2.14.0", "v2.17.0", "v2.19.0"} {
			if strings.HasPrefix(line, refused+" ") && !strings.Contains(line, "--ksm-source only") {
				t.Errorf("%s is refused by the module proxy, the list says: %s", refused, line)
			}
		}
	}
}
