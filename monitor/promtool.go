package monitor

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// WritePromtoolTest writes a `promtool test rules` file for scrapes and the
// report Evaluate made of them: rule_files (ruleFilePaths, relative to the
// test file), evaluation_interval and one test whose input_series are the
// scrapes' series, in promtool's expanding notation compressed by runs
// ("1x29" for 30 equal samples, "stale" for a staleness marker, "_xN" for N
// scrapes without a sample), and whose alert_rule_test entries check every
// alert name at the time it first fires (exp_alerts with the labels and
// annotations the engine produced) and at cfg.End (the alerts firing then, or
// none). The output is deterministic: series sorted by labels, alerts by name
// then labels.
func WritePromtoolTest(w io.Writer, scrapes []Scrape, rep *Report, ruleFilePaths []string, cfg Config) error {
	return WritePromtoolTests(w, []PromtoolTest{{Scrapes: scrapes, Report: rep, Config: cfg}}, ruleFilePaths)
}

// PromtoolTest is one test of a promtool test file: a scenario's scrapes,
// the report Evaluate made of them and its Config. Name, if set, is
// written as a comment above the test.
type PromtoolTest struct {
	Name    string
	Scrapes []Scrape
	Report  *Report
	Config  Config
}

// WritePromtoolTests writes one promtool test file with a test per entry
// of tests, each as WritePromtoolTest writes its one. Every test must
// share the first one's interval (promtool's evaluation_interval is the
// file's).
func WritePromtoolTests(w io.Writer, tests []PromtoolTest, ruleFilePaths []string) error {
	if len(tests) == 0 {
		return fmt.Errorf("monitor: no promtool test to write")
	}
	interval := tests[0].Config.interval()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Written by github.com/shardsim/shardsim/monitor: run with `promtool test rules`.\n")
	fmt.Fprintf(bw, "rule_files:\n")
	for _, p := range ruleFilePaths {
		fmt.Fprintf(bw, "  - %s\n", strconv.Quote(p))
	}
	fmt.Fprintf(bw, "evaluation_interval: %s\n", model.Duration(interval))
	fmt.Fprintf(bw, "tests:\n")
	for _, t := range tests {
		if t.Config.interval() != interval {
			return fmt.Errorf("monitor: promtool test %q has interval %s, the file %s", t.Name, t.Config.interval(), interval)
		}
		if err := writePromtoolTest(bw, t); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writePromtoolTest writes one entry of tests.
func writePromtoolTest(bw *bufio.Writer, t PromtoolTest) error {
	scrapes, rep, cfg := t.Scrapes, t.Report, t.Config
	interval := cfg.interval()
	all, err := buildSeries(scrapes, interval)
	if err != nil {
		return err
	}
	if t.Name != "" {
		fmt.Fprintf(bw, "  # %s\n", strings.ReplaceAll(t.Name, "\n", " "))
	}
	fmt.Fprintf(bw, "  - interval: %s\n", model.Duration(interval))
	fmt.Fprintf(bw, "    input_series:\n")
	for _, s := range all {
		fmt.Fprintf(bw, "      - series: %s\n", strconv.Quote(seriesSelector(s.lset)))
		fmt.Fprintf(bw, "        values: %s\n", strconv.Quote(seriesValues(s.samples, interval.Milliseconds())))
	}

	// The checks: each alert name at its first firing time, then every alert
	// name at End.
	type check struct {
		at   time.Duration
		name string
	}
	var names []string
	first := map[string]time.Duration{}
	for _, a := range rep.Alerts {
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
		if f, ok := first[a.Name]; a.Fired && (!ok || a.FiresAt < f) {
			first[a.Name] = a.FiresAt
		}
	}
	slices.Sort(names)
	var checks []check
	for _, n := range names {
		if f, ok := first[n]; ok && f != cfg.End {
			checks = append(checks, check{f, n})
		}
	}
	slices.SortStableFunc(checks, func(a, b check) int { return int(a.at - b.at) })
	for _, n := range names {
		checks = append(checks, check{cfg.End, n})
	}
	if len(checks) == 0 {
		return nil
	}
	fmt.Fprintf(bw, "    alert_rule_test:\n")
	for _, c := range checks {
		fmt.Fprintf(bw, "      - eval_time: %s\n", model.Duration(c.at))
		fmt.Fprintf(bw, "        alertname: %s\n", c.name)
		var firing []Alert
		// promtool checks eval_time t against the evaluation at the last
		// multiple of the interval not after t.
		if ev := rep.evalAt(c.at - c.at%interval); ev != nil {
			for _, a := range ev.Firing {
				if a.Name() == c.name {
					firing = append(firing, a)
				}
			}
		}
		if len(firing) == 0 {
			fmt.Fprintf(bw, "        exp_alerts: []\n")
			continue
		}
		slices.SortFunc(firing, func(a, b Alert) int { return labels.Compare(a.Labels, b.Labels) })
		fmt.Fprintf(bw, "        exp_alerts:\n")
		for _, a := range firing {
			fmt.Fprintf(bw, "          - exp_labels:")
			writeLabels(bw, a.Labels)
			fmt.Fprintf(bw, "            exp_annotations:")
			writeLabels(bw, a.Annotations)
		}
	}
	return nil
}

// evalAt returns the evaluation at time at, or nil.
func (r *Report) evalAt(at time.Duration) *Eval {
	i, ok := slices.BinarySearchFunc(r.Evals, at, func(e Eval, at time.Duration) int { return int(e.At - at) })
	if !ok {
		return nil
	}
	return &r.Evals[i]
}

// writeLabels writes ls as a YAML map, its alertname left out (promtool adds
// it), after a key already written.
func writeLabels(w *bufio.Writer, ls labels.Labels) {
	n := 0
	ls.Range(func(l labels.Label) {
		if l.Name != labels.AlertName {
			n++
		}
	})
	if n == 0 {
		w.WriteString(" {}\n")
		return
	}
	w.WriteString("\n")
	ls.Range(func(l labels.Label) {
		if l.Name == labels.AlertName {
			return
		}
		fmt.Fprintf(w, "              %s: %s\n", l.Name, strconv.Quote(l.Value))
	})
}

// seriesValues writes samples, at multiples of step from 0, in promtool's
// expanding notation: runs of equal values as "vxN" (N+1 samples), a
// staleness marker as "stale", N scrapes without a sample as "_xN".
func seriesValues(samples []sample, step int64) string {
	var b strings.Builder
	item := func(s string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	next := int64(0) // the time of the next position to write
	for i := 0; i < len(samples); {
		s := samples[i]
		if gap := (s.t - next) / step; gap > 0 {
			if gap == 1 {
				item("_")
			} else {
				item("_x" + strconv.FormatInt(gap, 10))
			}
		}
		if value.IsStaleNaN(s.f) {
			item("stale")
			next = s.t + step
			i++
			continue
		}
		// A run: equal values at consecutive positions.
		j := i + 1
		for j < len(samples) && samples[j].t == samples[j-1].t+step && samples[j].f == s.f && !value.IsStaleNaN(samples[j].f) {
			j++
		}
		v := formatValue(s.f)
		if j-i == 1 {
			item(v)
		} else {
			item(v + "x" + strconv.Itoa(j-i-1))
		}
		next = samples[j-1].t + step
		i = j
	}
	return b.String()
}

func formatValue(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// seriesSelector writes ls as promtool's input_series want it:
// name{label="value", ...}.
func seriesSelector(ls labels.Labels) string {
	var b strings.Builder
	b.WriteString(ls.Get(model.MetricNameLabel))
	b.WriteByte('{')
	n := 0
	ls.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel {
			return
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	})
	b.WriteByte('}')
	return b.String()
}
