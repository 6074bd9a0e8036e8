package ksm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostCrash: a host that dies mid-exchange gives an error with the end
// of its log, not a hang or a panic (simrun turns it into exit status 3).
func TestHostCrash(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "crashing-host")
	script := "#!/bin/sh\nread line\necho 'panic: runtime error: index out of range [3] with length 3' >&2\necho 'goroutine 1 [running]:' >&2\nexit 2\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := startProcess(bin, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	_, err = p.call(request{Op: opIdle})
	if err == nil {
		t.Fatal("a crashed host answered")
	}
	for _, want := range []string{"the KSM host process failed", "exit status 2", "panic: runtime error: index out of range", "goroutine 1 [running]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// TestLogTail keeps the end of a long log, whole lines, at most 40.
func TestLogTail(t *testing.T) {
	l := &logTail{max: 1 << 10}
	for i := range 500 {
		l.Write([]byte(strings.Repeat("x", i%7) + "line\n"))
	}
	got := strings.Split(l.String(), "\n")
	if len(got) != 40 {
		t.Errorf("%d lines, want 40", len(got))
	}
	if got[len(got)-1] != strings.Repeat("x", 499%7)+"line" {
		t.Errorf("last line %q", got[len(got)-1])
	}
}

// TestSelfConfig reads the configuration from KSM's self-metrics, and
// refuses self-metrics without it.
func TestSelfConfig(t *testing.T) {
	self := "# HELP kube_state_metrics_shard_ordinal Current sharding ordinal/index of this instance\n" +
		"# TYPE kube_state_metrics_shard_ordinal gauge\n" +
		"kube_state_metrics_shard_ordinal{shard_ordinal=\"2\"} 2\n" +
		"# TYPE kube_state_metrics_total_shards gauge\n" +
		"kube_state_metrics_total_shards 3\n"
	c, err := selfConfig(self)
	if err != nil || c.Shard != 2 || c.Total != 3 {
		t.Errorf("selfConfig = %v, %v; want 2/3", c, err)
	}
	if _, err := selfConfig("kube_state_metrics_total_shards 3\n"); err == nil {
		t.Error("no shard ordinal: no error")
	}
}

// TestExportedConfigMaps reads the configmap label of every sample, once.
func TestExportedConfigMaps(t *testing.T) {
	body := "# HELP kube_configmap_info Information about configmap.\n" +
		"kube_configmap_info{namespace=\"monitoring\",configmap=\"b\"} 1\n" +
		"kube_configmap_created{namespace=\"monitoring\",configmap=\"b\"} 1.7e+09\n" +
		"kube_configmap_info{configmap=\"a\",namespace=\"monitoring\"} 1\n" +
		"kube_configmap_metadata_resource_version{namespace=\"monitoring\",configmapx=\"c\"} 3\n"
	got := strings.Join(exportedConfigMaps(body), ",")
	if got != "a,b" {
		t.Errorf("exported %s, want a,b", got)
	}
}
