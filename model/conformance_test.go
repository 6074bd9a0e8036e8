package model_test

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKSMConformance runs the conformance module (../conformance), which
// checks Keeps against the real kube-state-metrics v2.13.0 sharding code.
// It is a separate module so that KSM's dependency tree stays out of the
// simulator's build; this test makes `go test ./...` run it too.
func TestKSMConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a nested go test; skipped with -short (run it with: cd conformance && go test ./...)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v (run it with: cd conformance && go test ./...)", err)
	}
	cmd := exec.Command(goBin, "test", "-count=1", "./...")
	cmd.Dir = filepath.Join("..", "conformance")
	out, err := cmd.CombinedOutput()
	t.Logf("cd conformance && go test ./...\n%s", out)
	if err != nil {
		t.Fatalf("conformance tests failed: %v", err)
	}
}
