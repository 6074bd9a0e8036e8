package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shardsim/shardsim/properties"
)

// BenchmarkCampaignMerge1000 is `simrun campaign merge DIR --no-timings`
// (in process) over the 1,000 slice files of a campaign of 60,000 traces:
// each file holds the three distinct counterexamples of
// testdata/campaign/label-selector-60.txt, found again in every slice,
// so the merge reads, checks and deduplicates 3,000 counterexamples.
func BenchmarkCampaignMerge1000(b *testing.B) {
	const count, perSlice = 1000, 60
	one, err := properties.RunCampaignSlice(properties.CampaignOptions{
		HuntOptions: properties.HuntOptions{Reducer: "label-selector", Seed: 1, Traces: perSlice},
	})
	if err != nil {
		b.Fatal(err)
	}
	id := properties.CampaignID{Reducer: "label-selector", Backend: "model", Seed: 1, Traces: count * perSlice, MaxOps: properties.DefaultMaxOps}
	dir := b.TempDir()
	for i := range count {
		s := *one
		s.Index, s.Count, s.Traces = i, count, perSlice
		s.Counterexamples = nil
		for j, c := range one.Counterexamples {
			c.First = i + count*j
			s.Counterexamples = append(s.Counterexamples, c)
		}
		data, err := properties.MarshalSlice(&properties.SliceFile{Campaign: id, CampaignSlice: s})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sliceFileName(i, count)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		var out, errOut bytes.Buffer
		if code := run([]string{"campaign", "merge", dir, "--no-timings"}, &out, &errOut); code != exitViolated {
			b.Fatalf("exit %d\n%s", code, errOut.String())
		}
	}
}

// buildSimrun builds simrun into a temporary directory of b's (the build
// cache makes it quick after the first time).
func buildSimrun(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "simrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkCampaignProcesses runs one campaign (label-selector on the
// model, 400 traces, seed 1) as P concurrent `simrun campaign --index I
// --count P` processes, P = 1 and 2: the time of one op is the campaign's
// wall-clock time. Linear scaling halves it from P=1 to P=2 on a machine
// with two free cores. cpu-ns/op, the processes' user and system time
// together, is the work: it stays the same when the slicing adds none.
// The /GOMAXPROCS=1 variants run each slice on one core, as
// deploy/campaign-job.yaml does.
func BenchmarkCampaignProcesses(b *testing.B) {
	bin := buildSimrun(b)
	for _, v := range []struct {
		name string
		env  []string
	}{{"", nil}, {"/GOMAXPROCS=1", []string{"GOMAXPROCS=1"}}} {
		for _, procs := range []int{1, 2} {
			benchmarkProcesses(b, bin, "procs="+strconv.Itoa(procs)+v.name, procs, v.env)
		}
	}
}

// benchmarkProcesses is one sub-benchmark of BenchmarkCampaignProcesses:
// procs concurrent slices, with env added to their environment.
func benchmarkProcesses(b *testing.B, bin, name string, procs int, env []string) {
	b.Run(name, func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			dir := b.TempDir()
			b.StartTimer()
			var wg sync.WaitGroup
			errs := make([]error, procs)
			cpus := make([]time.Duration, procs)
			for i := range procs {
				wg.Go(func() {
					cmd := exec.Command(bin, "campaign", "--reducer", "label-selector", "--seed", "1", "--traces", "400",
						"--index", strconv.Itoa(i), "--count", strconv.Itoa(procs), "--out", dir)
					cmd.Env = append(os.Environ(), env...)
					if out, err := cmd.CombinedOutput(); err != nil {
						errs[i] = fmt.Errorf("slice %d: %v\n%s", i, err, out)
						return
					}
					cpus[i] = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpus[i]
			}
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}
