package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardsim/shardsim/internal/atomicfile"
	"github.com/shardsim/shardsim/monitor"
	"github.com/shardsim/shardsim/sim"
)

// timeFlags are the replay's simulated-time flags.
type timeFlags struct {
	latencies      []string // name=duration
	seed           uint64
	jitter         float64
	scrapeInterval time.Duration
	hold           time.Duration
	noTimeline     bool
	promtoolTest   string

	seedSet, jitterSet bool
}

func addTimeFlags(cmd *cobra.Command, f *timeFlags) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.latencies, "latency", nil, "override a latency of cluster.latencies, as name=duration: watch, listPage, podStart, podStop (repeatable; e.g. --latency podStart=30s)")
	fl.Uint64Var(&f.seed, "latency-seed", 0, "seed of the latencies' jitter (default: cluster.latencies.seed, else 1)")
	fl.Float64Var(&f.jitter, "jitter", 0, "fraction each latency varies by, 0 to 1 (default: cluster.latencies.jitter, else 0.25)")
	fl.DurationVar(&f.scrapeInterval, "scrape-interval", sim.DefaultScrapeInterval, "Prometheus's scrape and rule evaluation interval")
	fl.DurationVar(&f.hold, "hold", sim.DefaultHold, "how long the final state holds after the last step (long enough for a for: 15m alert)")
	fl.BoolVar(&f.noTimeline, "no-timeline", false, "skip the timeline: no impact, scrapes or alerts (the verdicts stay)")
	fl.StringVar(&f.promtoolTest, "promtool-test", "", "write the replay as a `promtool test rules` file to FILE, a test per reducer (its scrapes and when its alerts fire), with the rules files it names beside it")
}

// apply checks the flags and applies them to t's latencies; it returns
// the timeline options (nil with --no-timeline).
func (f *timeFlags) apply(cmd *cobra.Command, t *sim.Trace) (*sim.TimelineOptions, error) {
	f.seedSet, f.jitterSet = cmd.Flags().Changed("latency-seed"), cmd.Flags().Changed("jitter")
	if f.scrapeInterval < time.Second || f.scrapeInterval > time.Hour {
		return nil, usageErr("--scrape-interval must be from 1s to 1h, got %s", f.scrapeInterval)
	}
	if f.hold < 0 || f.hold > sim.MaxDuration {
		return nil, usageErr("--hold must be from 0 to %s, got %s", sim.MaxDuration, f.hold)
	}
	if f.jitterSet && (f.jitter < 0 || f.jitter > 1) {
		return nil, usageErr("--jitter must be a fraction from 0 to 1, got %v", f.jitter)
	}
	if len(f.latencies) > 0 || f.seedSet || f.jitterSet {
		l := sim.Latencies{}
		if t.Cluster.Latencies != nil {
			l = *t.Cluster.Latencies
		}
		for _, kv := range f.latencies {
			name, d, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, usageErr("--latency %q: want name=duration, e.g. podStart=30s (names: %s)", kv, strings.Join(sim.LatencyNames, ", "))
			}
			if _, err := sim.ParseDuration(d); err != nil {
				return nil, usageErr("--latency %s: %v", name, err)
			}
			if err := l.Set(name, d); err != nil {
				return nil, usageErr("--latency: %v", err)
			}
		}
		if f.seedSet {
			l.Seed = f.seed
		}
		if f.jitterSet {
			j := f.jitter
			l.Jitter = &j
		}
		t.Cluster.Latencies = &l
	}
	if f.noTimeline {
		if f.promtoolTest != "" {
			return nil, usageErr("--promtool-test needs the timeline: leave out --no-timeline")
		}
		return nil, nil
	}
	hold := f.hold
	if hold == 0 {
		hold = -1 // none: sim reads 0 as the default
	}
	return &sim.TimelineOptions{ScrapeInterval: f.scrapeInterval, Hold: hold, Series: true}, nil
}

// Prometheus job labels of the simulated KSM pods: one job for the
// StatefulSet's or Deployments' pods, the mixin's selector; in a mixed
// trace the DaemonSet's pods are a job of their own, as their Service is.
const (
	ksmJob     = "kube-state-metrics"
	ksmPodsJob = "kube-state-metrics-pods"
)

// monitorScrapes converts a replay's scrapes for package monitor.
func monitorScrapes(res *sim.Result, namespace string) []monitor.Scrape {
	out := make([]monitor.Scrape, len(res.Timeline.Scrapes))
	for i, sc := range res.Timeline.Scrapes {
		m := monitor.Scrape{At: time.Duration(sc.At), Objects: sc.Objects, Targets: make([]monitor.Target, len(sc.Targets))}
		for j, tg := range sc.Targets {
			job := ksmJob
			if res.Mode == sim.ModeMixed && tg.Resource == "pods" {
				job = ksmPodsJob
			}
			m.Targets[j] = monitor.Target{Job: job, Instance: tg.Instance, Shard: tg.Shard, Total: tg.Total,
				Resource: tg.Resource, Namespace: namespace, Exported: tg.Names}
		}
		out[i] = m
	}
	return out
}

// evaluateAlerts evaluates the rules files (simrun's: the KSM mixin's
// sharding alerts and the coverage alerts) on every result's scrapes with
// Prometheus's rule engine, and fills in Timeline.Alerts. It returns the
// promtool tests of the results.
func evaluateAlerts(rep *sim.Report, namespace string, files []monitor.RuleFile) ([]monitor.PromtoolTest, error) {
	var tests []monitor.PromtoolTest
	// Reducers that behave alike scrape alike (the same items, queued in
	// the same order, draw the same latencies): their scrapes are
	// evaluated once. Evaluate is a function of its input.
	type done struct {
		scrapes []monitor.Scrape
		cfg     monitor.Config
		report  *monitor.Report
	}
	var evaluated []done
	for _, res := range rep.Results {
		tl := res.Timeline
		if tl == nil {
			continue
		}
		scrapes := monitorScrapes(res, namespace)
		cfg := monitor.Config{Interval: time.Duration(tl.ScrapeInterval), End: time.Duration(tl.End)}
		var mr *monitor.Report
		for _, d := range evaluated {
			if d.cfg == cfg && reflect.DeepEqual(d.scrapes, scrapes) {
				mr = d.report
				break
			}
		}
		if mr == nil {
			var err error
			if mr, err = monitor.Evaluate(scrapes, files, cfg); err != nil {
				return nil, err
			}
			evaluated = append(evaluated, done{scrapes, cfg, mr})
		}
		tl.Alerts = alertOutcomes(mr)
		tests = append(tests, monitor.PromtoolTest{Name: res.Reducer + " (" + res.Models + ")", Scrapes: scrapes, Report: mr, Config: cfg})
	}
	return tests, nil
}

// alertOutcomes turns a monitor report into the report's alert outcomes,
// one per alert name (rules of the same name merged), in rule order.
func alertOutcomes(mr *monitor.Report) []sim.AlertOutcome {
	var out []sim.AlertOutcome
	index := map[string]int{}
	for _, a := range mr.Alerts {
		i, seen := index[a.Name]
		if !seen {
			i = len(out)
			index[a.Name] = i
			out = append(out, sim.AlertOutcome{Alert: a.Name, File: a.File, For: sim.Seconds(a.For)})
		}
		o := &out[i]
		if a.Pended && (o.PendingAt == nil || sim.Seconds(a.PendingAt) < *o.PendingAt) {
			t := sim.Seconds(a.PendingAt)
			o.PendingAt = &t
		}
		if a.Fired && (o.FiresAt == nil || sim.Seconds(a.FiresAt) < *o.FiresAt) {
			t := sim.Seconds(a.FiresAt)
			o.FiresAt = &t
		}
		for _, f := range a.Firing {
			o.Firing = append(o.Firing, sim.Interval{From: sim.Seconds(f[0]), To: sim.Seconds(f[1])})
		}
	}
	for i := range out {
		out[i].Firing = mergeIntervals(out[i].Firing)
	}
	return out
}

// mergeIntervals sorts intervals and merges the overlapping ones.
func mergeIntervals(in []sim.Interval) []sim.Interval {
	slices.SortFunc(in, func(a, b sim.Interval) int { return cmp.Compare(a.From, b.From) })
	var out []sim.Interval
	for _, iv := range in {
		if n := len(out); n > 0 && iv.From <= out[n-1].To {
			out[n-1].To = max(out[n-1].To, iv.To)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// promtoolMaxSamples is promtool's limit on the samples one query of a
// rules unit test loads (cmd/promtool/unittest.go: MaxSamples 10000).
const promtoolMaxSamples = 10000

// promtoolNote warns when a scrape of tests has more object series than
// promtool lets a query load: promtool would refuse the file.
func promtoolNote(tests []monitor.PromtoolTest) string {
	most := 0
	for _, t := range tests {
		for _, sc := range t.Scrapes {
			n := 0
			for _, tg := range sc.Targets {
				n += len(tg.Exported)
			}
			most = max(most, n)
		}
	}
	if most <= promtoolMaxSamples {
		return ""
	}
	return fmt.Sprintf("simrun: note: a scrape of this replay has %d object series; promtool lets a query load %d samples, so `promtool test rules` will refuse the file (simrun's own evaluation has no such limit)", most, promtoolMaxSamples)
}

// writePromtoolTest writes the promtool test file and, beside it, the
// rules files it names.
func writePromtoolTest(path string, tests []monitor.PromtoolTest, force bool) error {
	var names []string
	dir := filepath.Dir(path)
	for _, rf := range monitor.DefaultRuleFiles() {
		names = append(names, rf.Name)
		rp := filepath.Join(dir, rf.Name)
		if old, err := os.ReadFile(rp); err == nil && bytes.Equal(old, rf.Data) {
			continue // the same rules: nothing to replace
		}
		if err := writeFile(rp, rf.Data, force); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("--promtool-test: %w (the rules file the test names, beside it); choose another directory or add --force to replace it", err)
			}
			return fmt.Errorf("--promtool-test: %w", err)
		}
	}
	var b bytes.Buffer
	if err := monitor.WritePromtoolTests(&b, tests, names); err != nil {
		return err
	}
	if err := writeFile(path, b.Bytes(), force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("--promtool-test: %w; choose another file or add --force to replace it", err)
		}
		return fmt.Errorf("--promtool-test: %w", err)
	}
	return nil
}

// checkPromtoolPath refuses, before the replay, a --promtool-test path
// that could not be written: the trace itself, an existing file without
// --force, anything that is not a regular file, a missing or read-only
// directory.
func checkPromtoolPath(f *replayFlags) error {
	path := f.time.promtoolTest
	if path == "" {
		return nil
	}
	if path == "-" {
		return usageErr("--promtool-test needs a file: the rules files it names are written beside it")
	}
	if f.trace != "-" {
		ti, terr := os.Stat(f.trace)
		pi, perr := os.Stat(path)
		if terr == nil && perr == nil && os.SameFile(ti, pi) {
			return usageErr("--promtool-test %s: that is the trace being replayed; refusing to replace it, even with --force", path)
		}
	}
	if err := atomicfile.Check(path, f.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErr("--promtool-test: %v; choose another file or add --force to replace it", err)
		}
		return usageErr("--promtool-test: %v", err)
	}
	return nil
}
