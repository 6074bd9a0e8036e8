package ksm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// HostSourceEnv names the environment variable that overrides where the
// KSM host module (ksm/host of a shardsim checkout) is.
const HostSourceEnv = "SHARDSIM_KSM_HOST"

// HostSource returns the directory of the KSM host module: $SHARDSIM_KSM_HOST,
// or ksm/host beside this package's source in a shardsim checkout.
func HostSource() (string, error) {
	if d := os.Getenv(HostSourceEnv); d != "" {
		return d, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if ok {
		d := filepath.Join(filepath.Dir(file), "host")
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("the ksm backend builds ksm/host of a shardsim checkout and cannot find it; run simrun from a checkout (go run ./cmd/simrun) or set %s", HostSourceEnv)
}

// CacheDir is where built hosts live: $XDG_CACHE_HOME/shardsim/ksm (or the
// platform's user cache directory).
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the KSM builds: %w", err)
	}
	return filepath.Join(d, "shardsim", "ksm"), nil
}

// A Build says which KSM the host links: a release from Releases, or a
// local checkout.
type Build struct {
	// Release is the version, "v2.13.0"; with Source it names the release
	// whose go.mod/go.sum seed the build.
	Release string
	// Source is a kube-state-metrics checkout, used instead of the
	// release's module (a replace directive).
	Source string
}

func (b Build) String() string {
	if b.Source != "" {
		return "kube-state-metrics from " + b.Source
	}
	return "kube-state-metrics " + b.Release
}

// Built returns the path of the host binary for release v if it is built
// and up to date, or "".
func Built(v string) string {
	bin, err := binaryPath(Build{Release: v})
	if err != nil {
		return ""
	}
	if _, err := os.Stat(bin); err != nil {
		return ""
	}
	return bin
}

// binaryPath is where the host for b is cached: keyed by the release (or
// source directory), the host source, its module files and the Go version,
// so any change rebuilds.
func binaryPath(b Build) (string, error) {
	src, err := HostSource()
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), b.Release, b.Source)
	files, _ := filepath.Glob(filepath.Join(src, "*.go"))
	seed := b.Release
	if b.Source != "" {
		if rel, err := LookupRelease(b.Release); err == nil {
			seed = seedRelease(rel).Version
		}
	}
	files = append(files, filepath.Join(src, "releases", seed+".mod"), filepath.Join(src, "releases", seed+".sum"))
	slices.Sort(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		fmt.Fprintln(h, filepath.Base(f), len(data))
		h.Write(data)
	}
	name := b.Release
	if b.Source != "" {
		name = "source-" + b.Release
	}
	return filepath.Join(cache, name+"-"+hex.EncodeToString(h.Sum(nil))[:16], "ksm-host"), nil
}

// EnsureBuilt builds the host for b unless it is already built, writing a
// progress line to progress, and returns the binary's path. A release
// build needs no checksum database (each release's go.sum is committed);
// a source build resolves the checkout's dependencies through the module
// proxy and runs go build (incremental) on its first use in each process,
// so that changes to the checkout are picked up by the next run.
func EnsureBuilt(b Build, progress io.Writer) (string, error) {
	src, err := HostSource()
	if err != nil {
		return "", err
	}
	rel, err := LookupRelease(b.Release)
	if err != nil {
		return "", err
	}
	seed := rel
	if b.Source != "" {
		seed = seedRelease(rel)
	}
	modfile := filepath.Join(src, "releases", seed.Version+".mod")
	if _, err := os.Stat(modfile); err != nil {
		if !rel.Served {
			return "", fmt.Errorf("kube-state-metrics %s is not served by the Go module proxy; run it from a checkout of that tag: --ksm-source DIR", rel.Version)
		}
		return "", fmt.Errorf("no module files for kube-state-metrics %s (%s): %w", rel.Version, modfile, err)
	}
	bin, err := binaryPath(b)
	if err != nil {
		return "", err
	}
	if b.Source == "" {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	} else if _, done := sourceBuilt.Load(b); done {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(filepath.Dir(bin), "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if b.Source == "" {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil // built by another process while we waited
		}
	}

	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "CGO_ENABLED=0")
	if b.Source != "" {
		abs, err := filepath.Abs(b.Source)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(filepath.Join(abs, "pkg", "metricshandler")); err != nil {
			return "", fmt.Errorf("--ksm-source %s is not a kube-state-metrics checkout (no pkg/metricshandler)", b.Source)
		}
		// Seed the module files from the release, point KSM at the
		// checkout and let the go command resolve what it needs.
		dir := filepath.Dir(bin)
		mod, err := os.ReadFile(modfile)
		if err != nil {
			return "", err
		}
		sum, _ := os.ReadFile(strings.TrimSuffix(modfile, ".mod") + ".sum")
		mod = append(mod, []byte("\nreplace k8s.io/kube-state-metrics/v2 => "+abs+"\n")...)
		modfile = filepath.Join(dir, "host.mod")
		if err := os.WriteFile(modfile, mod, 0o644); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, "host.sum"), sum, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(progress, "simrun: resolving the dependencies of %s ...\n", b)
		tidy := exec.Command("go", "mod", "tidy", "-modfile="+modfile)
		tidy.Dir, tidy.Env = src, append(env, "GOFLAGS=-mod=mod")
		if out, err := tidy.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go mod tidy for %s failed: %v\n%s", b, err, tail(out, 4000))
		}
	}
	fmt.Fprintf(progress, "simrun: building %s for the ksm backend (first use takes a minute or two; cached in %s) ...\n", b, filepath.Dir(bin))
	start := time.Now()
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-modfile="+modfile, "-o", tmp, ".")
	cmd.Dir, cmd.Env = src, append(env, "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s failed (%v); it may not have autosharding or may not fit the host's use of KSM's packages:\n%s", b, err, tail(out, 4000))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "simrun: built %s in %s\n", b, time.Since(start).Round(time.Second))
	if b.Source != "" {
		sourceBuilt.Store(b, true)
	}
	return bin, nil
}

// sourceBuilt holds the source builds this process has made: each
// checkout is built once per process (the first replay), not once per
// replay, as the checkout is not expected to change while it runs.
var sourceBuilt sync.Map

// seedRelease is the release whose module files seed a source build
// tagged rel: rel itself when the module proxy serves it; otherwise the
// served release that pins the same client-go (v2.19.1 for v2.19.0), or
// else the newest served one before it, whose lower requirements the
// checkout's own go.mod raises (minimal version selection).
func seedRelease(rel Release) Release {
	if rel.Served {
		return rel
	}
	for _, r := range Releases {
		if r.Served && r.Model.ClientGo == rel.Model.ClientGo {
			return r
		}
	}
	seed := rel
	for _, r := range Releases { // oldest first
		if r.Version == rel.Version {
			break
		}
		if r.Served {
			seed = r
		}
	}
	return seed
}

// tail returns the last n bytes of b, from a line start.
func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
