package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// DefaultInterval is the scrape and evaluation interval when Config.Interval
// is zero.
const DefaultInterval = 30 * time.Second

// Config says when rules are evaluated.
type Config struct {
	// Interval is the scrape and evaluation interval, DefaultInterval if zero.
	Interval time.Duration
	// End is the last evaluation time: rules are evaluated at 0, Interval,
	// 2*Interval, ... up to End inclusive.
	End time.Duration
}

func (c Config) interval() time.Duration {
	if c.Interval == 0 {
		return DefaultInterval
	}
	return c.Interval
}

// A RuleFile is a Prometheus rules file: its name (used in errors, reports
// and as the rule_files entry of a promtool test) and its content.
type RuleFile struct {
	Name string
	Data []byte
}

// Report is the outcome of Evaluate.
type Report struct {
	// Alerts has one entry per alerting rule, in file order.
	Alerts []AlertReport
	// Evals has one entry per evaluation time, in time order.
	Evals []Eval
}

// AlertReport is what one alerting rule did over the evaluation.
type AlertReport struct {
	Name  string // the alert name
	File  string // the rules file's name
	Group string // the rule group
	Expr  string // the expression as written in the file
	For   time.Duration
	// PendingAt is the first evaluation time at which an alert of the rule
	// was pending or firing; Pended says whether there was one.
	PendingAt time.Duration
	Pended    bool
	// FiresAt is the first evaluation time at which an alert of the rule was
	// firing; Fired says whether there was one.
	FiresAt time.Duration
	Fired   bool
	// Firing lists the intervals [from, to] of evaluation times (both
	// inclusive) at which at least one alert of the rule was firing.
	Firing [][2]time.Duration
	// MaxFiring is the largest number of alerts of the rule firing at once.
	MaxFiring int
}

// Eval is one evaluation time and the alerts firing then.
type Eval struct {
	At time.Duration
	// Firing are the firing alerts of every rule, in rule order, then sorted
	// by labels.
	Firing []Alert
}

// Alert is one firing alert as Prometheus's rule engine produced it.
type Alert struct {
	Rule        int           // index of its rule in Report.Alerts
	Labels      labels.Labels // including alertname and the rule's labels
	Annotations labels.Labels // templates expanded
	ActiveAt    time.Duration // when it became pending
	Value       float64
}

// Name returns the alert's name.
func (a Alert) Name() string { return a.Labels.Get(labels.AlertName) }

// loadedRule is an alerting rule of a file with where it comes from.
type loadedRule struct {
	rule  *rules.AlertingRule
	file  string
	group string
	expr  string
	hold  time.Duration
}

// promqlParser is the parser promtool uses without feature flags.
var promqlParser = parser.NewParser(parser.Options{})

// loadRules parses the files as Prometheus does and returns their alerting
// rules in file order. Recording rules are not evaluated: an error names them.
func loadRules(files []RuleFile) ([]loadedRule, error) {
	var out []loadedRule
	for _, f := range files {
		rgs, err := parseRuleFile(f)
		if err != nil {
			return nil, err
		}
		for _, g := range rgs.Groups {
			if g.QueryOffset != nil && *g.QueryOffset != 0 {
				return nil, fmt.Errorf("monitor: rules file %s: group %s: query_offset is not supported", f.Name, g.Name)
			}
			for _, r := range g.Rules {
				if r.Alert == "" {
					return nil, fmt.Errorf("monitor: rules file %s: group %s: recording rule %s: only alerting rules are evaluated", f.Name, g.Name, r.Record)
				}
				expr, err := promqlParser.ParseExpr(r.Expr)
				if err != nil {
					return nil, fmt.Errorf("monitor: rules file %s: alert %s: %w", f.Name, r.Alert, err)
				}
				ar := rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
					rules.FromMaps(g.Labels, r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "",
					true, slog.New(slog.DiscardHandler))
				out = append(out, loadedRule{rule: ar, file: f.Name, group: g.Name, expr: r.Expr, hold: time.Duration(r.For)})
			}
		}
	}
	return out, nil
}

// parsedRules caches parsed rules files by content: a replay evaluates
// the same files once per reducer, and parsing and validating them costs
// more than evaluating a small scenario.
var parsedRules sync.Map // string(RuleFile.Data) -> *rulefmt.RuleGroups

// parseRuleFile parses and validates f as Prometheus loads a rules file.
// The result is shared: callers must not modify it.
func parseRuleFile(f RuleFile) (*rulefmt.RuleGroups, error) {
	if v, ok := parsedRules.Load(string(f.Data)); ok {
		return v.(*rulefmt.RuleGroups), nil
	}
	rgs, errs := rulefmt.Parse(f.Data, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		return nil, fmt.Errorf("monitor: rules file %s: %w", f.Name, errors.Join(errs...))
	}
	parsedRules.Store(string(f.Data), rgs)
	return rgs, nil
}

// newEngine returns a PromQL engine set as promtool's rule unit tests set
// theirs (default 5m lookback delta, subqueries without a step at the
// evaluation interval), except for the limit on samples per query, which
// promtool keeps at 10000.
func newEngine(interval time.Duration) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  100 * time.Second,
		NoStepSubqueryIntervalFn: func(int64) int64 { return interval.Milliseconds() },
		Parser:                   promqlParser,
	})
}

// Evaluate builds the series of scrapes and evaluates every alerting rule of
// files at 0, Interval, 2*Interval, ... up to End inclusive, with Prometheus's
// own rule engine, as promtool's rule unit tests do.
//
// Each rule's expression is computed for all evaluation times by one PromQL
// range query (PromQL defines a range query's value at each step as the
// instant query's at that time), and rules.AlertingRule.Eval gets it, time by
// time, through its query function; any other query (a template's) goes to
// the engine as an instant query, as with rules.EngineQueryFunc.
// TestRangeQueriesAgree checks that both give the same report.
func Evaluate(scrapes []Scrape, files []RuleFile, cfg Config) (*Report, error) {
	return evaluate(scrapes, files, cfg, true)
}

func evaluate(scrapes []Scrape, files []RuleFile, cfg Config, rangeQueries bool) (*Report, error) {
	interval := cfg.interval()
	if cfg.End < 0 {
		return nil, fmt.Errorf("monitor: end %v is negative", cfg.End)
	}
	all, err := buildSeries(scrapes, interval)
	if err != nil {
		return nil, err
	}
	loaded, err := loadRules(files)
	if err != nil {
		return nil, err
	}
	engine, st := newEngine(interval), newMemStorage(all)
	query := rules.EngineQueryFunc(engine, st)
	ctx := context.Background()
	epoch := time.Unix(0, 0).UTC()
	last := cfg.End - cfg.End%interval
	if rangeQueries {
		// The range queries run concurrently: each has its own result.
		pre := make(map[string][]promql.Vector)
		var exprs []string
		var owner []loadedRule
		for _, l := range loaded {
			qs := l.rule.Query().String()
			if _, ok := pre[qs]; !ok {
				pre[qs] = nil
				exprs, owner = append(exprs, qs), append(owner, l)
			}
		}
		results := make([][]promql.Vector, len(exprs))
		errs := make([]error, len(exprs))
		var wg sync.WaitGroup
		for i, qs := range exprs {
			wg.Go(func() { results[i], errs[i] = rangeQuery(ctx, engine, st, qs, epoch, last, interval) })
		}
		wg.Wait()
		for i, qs := range exprs {
			if errs[i] != nil {
				return nil, fmt.Errorf("monitor: rules file %s: alert %s: %w", owner[i].file, owner[i].rule.Name(), errs[i])
			}
			pre[qs] = results[i]
		}
		instant := query
		query = func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
			d := t.Sub(epoch)
			if steps, ok := pre[qs]; ok && d >= 0 && d%interval == 0 && int(d/interval) < len(steps) {
				return steps[d/interval], nil
			}
			return instant(ctx, qs, t)
		}
	}

	rep := &Report{Alerts: make([]AlertReport, len(loaded))}
	for i, l := range loaded {
		rep.Alerts[i] = AlertReport{Name: l.rule.Name(), File: l.file, Group: l.group, Expr: l.expr, For: l.hold}
	}
	for at := time.Duration(0); at <= cfg.End; at += interval {
		ts := epoch.Add(at)
		ev := Eval{At: at}
		for i, l := range loaded {
			if _, err := l.rule.Eval(ctx, 0, ts, query, nil, 0); err != nil {
				return nil, fmt.Errorf("monitor: rules file %s: alert %s at %v: %w", l.file, l.rule.Name(), at, err)
			}
			ar := &rep.Alerts[i]
			n0 := len(ev.Firing)
			pending := false
			for _, a := range l.rule.ActiveAlerts() {
				switch a.State {
				case rules.StatePending:
					pending = true
				case rules.StateFiring:
					ev.Firing = append(ev.Firing, Alert{Rule: i, Labels: a.Labels, Annotations: a.Annotations, ActiveAt: a.ActiveAt.Sub(epoch), Value: a.Value})
				}
			}
			firing := ev.Firing[n0:]
			slices.SortFunc(firing, func(a, b Alert) int { return labels.Compare(a.Labels, b.Labels) })
			if (pending || len(firing) > 0) && !ar.Pended {
				ar.PendingAt, ar.Pended = at, true
			}
			if len(firing) == 0 {
				continue
			}
			if !ar.Fired {
				ar.FiresAt, ar.Fired = at, true
			}
			ar.MaxFiring = max(ar.MaxFiring, len(firing))
			if n := len(ar.Firing); n > 0 && ar.Firing[n-1][1] == at-interval {
				ar.Firing[n-1][1] = at
			} else {
				ar.Firing = append(ar.Firing, [2]time.Duration{at, at})
			}
		}
		rep.Evals = append(rep.Evals, ev)
	}
	return rep, nil
}

// Alert returns the report of the first alerting rule named name, or nil.
func (r *Report) Alert(name string) *AlertReport {
	for i := range r.Alerts {
		if r.Alerts[i].Name == name {
			return &r.Alerts[i]
		}
	}
	return nil
}

// Fired returns whether any alerting rule named name fired.
func (r *Report) Fired(name string) bool {
	for _, a := range r.Alerts {
		if a.Name == name && a.Fired {
			return true
		}
	}
	return false
}

// String summarizes the report, one line per alerting rule.
func (r *Report) String() string {
	var b strings.Builder
	for _, a := range r.Alerts {
		fmt.Fprintf(&b, "%s (%s): ", a.Name, a.File)
		switch {
		case a.Fired:
			fmt.Fprintf(&b, "pending at %v, firing at %v", a.PendingAt, a.FiresAt)
			for _, iv := range a.Firing {
				fmt.Fprintf(&b, " [%v, %v]", iv[0], iv[1])
			}
			fmt.Fprintf(&b, ", at most %d alerts", a.MaxFiring)
		case a.Pended:
			fmt.Fprintf(&b, "pending at %v, never firing", a.PendingAt)
		default:
			b.WriteString("inactive")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// rangeQuery evaluates qs at start, start+step, ... start+last and returns
// the instant vector of each step.
func rangeQuery(ctx context.Context, engine *promql.Engine, st *memStorage, qs string, start time.Time, last, step time.Duration) ([]promql.Vector, error) {
	q, err := engine.NewRangeQuery(ctx, st, nil, qs, start, start.Add(last), step)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, err
	}
	steps := make([]promql.Vector, last/step+1)
	t0, ms := start.UnixMilli(), step.Milliseconds()
	for _, s := range m {
		if len(s.Histograms) > 0 {
			return nil, fmt.Errorf("%s: histogram samples are not supported", qs)
		}
		for _, p := range s.Floats {
			k := (p.T - t0) / ms
			steps[k] = append(steps[k], promql.Sample{Metric: s.Metric, T: p.T, F: p.F})
		}
	}
	return steps, nil
}
