package monitor

import (
	"context"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// memStorage is a read-only storage.Queryable over series built from scrapes,
// all in memory: the few series of a simulation need no TSDB.
type memStorage struct {
	all    []*series            // sorted by labels
	byName map[string][]*series // by metric name, each sorted by labels
}

func newMemStorage(all []*series) *memStorage {
	m := &memStorage{all: all, byName: make(map[string][]*series)}
	for _, s := range all {
		name := s.lset.Get(model.MetricNameLabel)
		m.byName[name] = append(m.byName[name], s)
	}
	return m
}

func (m *memStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return &memQuerier{m: m, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	m          *memStorage
	mint, maxt int64
}

// candidates returns the series a selection can match: those of one metric
// name when a matcher asks for exactly that name.
func (q *memQuerier) candidates(ms []*labels.Matcher) []*series {
	for _, m := range ms {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return q.m.byName[m.Value]
		}
	}
	return q.m.all
}

func (q *memQuerier) match(ms []*labels.Matcher) []*series {
	var out []*series
	mint, maxt := q.mint, q.maxt
	for _, s := range q.candidates(ms) {
		if n := len(s.samples); n == 0 || s.samples[0].t > maxt || s.samples[n-1].t < mint {
			continue
		}
		ok := true
		for _, m := range ms {
			if !m.Matches(s.lset.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

func (q *memQuerier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	qq := *q
	if hints != nil {
		qq.mint, qq.maxt = max(q.mint, hints.Start), min(q.maxt, hints.End)
	}
	// Candidates are sorted by labels, so the result is sorted too.
	return &memSeriesSet{list: qq.match(ms), idx: -1}
}

func (q *memQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var vals []string
	for _, s := range q.match(ms) {
		if v := s.lset.Get(name); v != "" {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals), nil, nil
}

func (q *memQuerier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var names []string
	for _, s := range q.match(ms) {
		s.lset.Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil, nil
}

func (*memQuerier) Close() error { return nil }

type memSeriesSet struct {
	list []*series
	idx  int
}

func (s *memSeriesSet) Next() bool                      { s.idx++; return s.idx < len(s.list) }
func (s *memSeriesSet) At() storage.Series              { return memSeries{s.list[s.idx]} }
func (*memSeriesSet) Err() error                        { return nil }
func (*memSeriesSet) Warnings() annotations.Annotations { return nil }

type memSeries struct{ s *series }

func (m memSeries) Labels() labels.Labels { return m.s.lset }

// Iterator iterates with Prometheus's own list iterator, reused when it can.
func (m memSeries) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if r, ok := it.(interface{ Reset(storage.Samples) }); ok {
		r.Reset(sampleList(m.s.samples))
		return it
	}
	return storage.NewListSeriesIterator(sampleList(m.s.samples))
}

// sampleList is a storage.Samples over float samples. Get returns a pointer,
// which needs no allocation.
type sampleList []sample

func (l sampleList) Get(i int) chunks.Sample { return &l[i] }
func (l sampleList) Len() int                { return len(l) }

func (s *sample) T() int64                    { return s.t }
func (*sample) ST() int64                     { return 0 }
func (s *sample) F() float64                  { return s.f }
func (*sample) H() *histogram.Histogram       { return nil }
func (*sample) FH() *histogram.FloatHistogram { return nil }
func (*sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s *sample) Copy() chunks.Sample         { c := *s; return &c }
