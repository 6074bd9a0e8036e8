package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
	fl.StringVar(&f.promtoolTest, "promtool-test", "", "write the replay as a `promtool test rules` file (the first reducer's scrapes and alerts) to FILE, with the rules files beside it")
}

// apply checks the flags and applies them to t's latencies; it returns
// the timeline options (nil with --no-timeline).
func (f *timeFlags) apply(cmd *cobra.Command, t *sim.Trace) (*sim.TimelineOptions, error) {
	f.seedSet, f.jitterSet = cmd.Flags().Changed("latency-seed"), cmd.Flags().Changed("jitter")
	if f.noTimeline {
		if f.promtoolTest != "" {
			return nil, usageErr("--promtool-test needs the timeline: leave out --no-timeline")
		}
		return nil, nil
	}
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
	hold := f.hold
	if hold == 0 {
		hold = time.Nanosecond // sim reads 0 as the default
	}
	return &sim.TimelineOptions{ScrapeInterval: f.scrapeInterval, Hold: hold, Series: f.promtoolTest != ""}, nil
}

// describe renders a duration flag for messages.
func describeDuration(d time.Duration) string { return fmt.Sprint(d) }
