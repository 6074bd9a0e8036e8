package monitor

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// A Scrape is one scrape round at simulated time At (a multiple of the scrape
// interval, from 0): every KSM pod that was up then, and the API server.
type Scrape struct {
	At      time.Duration
	Targets []Target
	// Objects counts the live objects by resource ("configmaps", "pods"): the
	// API server's apiserver_storage_objects.
	Objects map[string]int
}

// A Target is one KSM pod's /metrics as scraped (honor_labels: true, as
// kube-prometheus scrapes KSM).
type Target struct {
	Job       string   // the job label: "kube-state-metrics"
	Instance  string   // the KSM pod's name
	Shard     int32    // kube_state_metrics_shard_ordinal{shard_ordinal="<Shard>"} <Shard>
	Total     int      // kube_state_metrics_total_shards <Total>
	Resource  string   // "configmaps" or "pods": what Exported names
	Namespace string   // the exported objects' namespace
	Exported  []string // the objects' names it exports, sorted
}

// Metric names of the series built from scrapes.
const (
	metricShardOrdinal   = "kube_state_metrics_shard_ordinal"
	metricTotalShards    = "kube_state_metrics_total_shards"
	metricConfigMapInfo  = "kube_configmap_info"
	metricPodInfo        = "kube_pod_info"
	metricStorageObjects = "apiserver_storage_objects"
	apiserverJob         = "apiserver"
)

// sample is one float sample; t in milliseconds since simulated time 0.
type sample struct {
	t int64
	f float64
}

// series is one time series with its samples in time order.
type series struct {
	lset    labels.Labels
	samples []sample
	// seen is the index of the last scrape that had this series.
	seen int
}

// seriesKey identifies a series, or a target's object series, while scrapes
// are read, without building labels: the metric name and the values of the
// few labels it can have.
type seriesKey struct {
	metric, job, instance, a string
}

// objectSeries are a target's series of one kind of object, by object name,
// and in the order of its last scrape.
type objectSeries struct {
	byName map[string]*series
	names  []string
	last   []*series
}

// buildSeries turns scrapes into series, sorted by labels. A series present
// in one scrape and absent from the next gets a staleness marker
// (value.StaleNaN) at the next scrape's time, as Prometheus's scrape loop
// writes them when a series or a whole target disappears. Scrapes must be in
// increasing order of At, each At a multiple of interval.
func buildSeries(scrapes []Scrape, interval time.Duration) ([]*series, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("monitor: interval %v is not positive", interval)
	}
	index := make(map[seriesKey]*series) // the series of targets and of the API server
	objects := make(map[seriesKey]*objectSeries)
	var all, prev, cur []*series
	for i, sc := range scrapes {
		if sc.At < 0 || sc.At%interval != 0 {
			return nil, fmt.Errorf("monitor: scrape %d at %v is not a non-negative multiple of the interval %v", i, sc.At, interval)
		}
		if i > 0 && sc.At <= scrapes[i-1].At {
			return nil, fmt.Errorf("monitor: scrape %d at %v is not after scrape %d at %v", i, sc.At, i-1, scrapes[i-1].At)
		}
		t := sc.At.Milliseconds()
		cur = cur[:0]
		// record appends the scrape's sample to s.
		record := func(s *series, f float64) {
			if s.seen == i {
				return // the same series twice in one scrape: the first wins
			}
			s.seen = i
			s.samples = append(s.samples, sample{t, f})
			cur = append(cur, s)
		}
		newSeries := func(kv ...string) *series {
			// Room for a sample per remaining scrape and a staleness marker.
			s := &series{lset: labels.FromStrings(kv...), seen: -1, samples: make([]sample, 0, min(len(scrapes)-i+1, 64))}
			all = append(all, s)
			return s
		}
		lookup := func(k seriesKey, kv ...string) *series {
			s := index[k]
			if s == nil {
				s = newSeries(kv...)
				index[k] = s
			}
			return s
		}
		for _, tg := range sc.Targets {
			ord := strconv.Itoa(int(tg.Shard))
			record(lookup(seriesKey{metric: metricShardOrdinal, job: tg.Job, instance: tg.Instance, a: ord},
				model.MetricNameLabel, metricShardOrdinal, "instance", tg.Instance, "job", tg.Job, "shard_ordinal", ord), float64(tg.Shard))
			record(lookup(seriesKey{metric: metricTotalShards, job: tg.Job, instance: tg.Instance},
				model.MetricNameLabel, metricTotalShards, "instance", tg.Instance, "job", tg.Job), float64(tg.Total))
			if len(tg.Exported) == 0 {
				continue
			}
			var metric, objLabel string
			switch tg.Resource {
			case "configmaps":
				metric, objLabel = metricConfigMapInfo, "configmap"
			case "pods":
				metric, objLabel = metricPodInfo, "pod"
			default:
				return nil, fmt.Errorf("monitor: scrape at %v: target %q exports resource %q, want configmaps or pods", sc.At, tg.Instance, tg.Resource)
			}
			k := seriesKey{metric: metric, job: tg.Job, instance: tg.Instance, a: tg.Namespace}
			os := objects[k]
			if os == nil {
				os = &objectSeries{byName: make(map[string]*series, len(tg.Exported))}
				objects[k] = os
			}
			// Fast path: the target exports the same objects as in its
			// last scrape, in the same (sorted) order.
			same := len(os.names) == len(tg.Exported)
			for j, name := range tg.Exported {
				if same && os.names[j] == name {
					record(os.last[j], 1)
					continue
				}
				if same {
					same = false
					os.names, os.last = os.names[:j], os.last[:j]
				}
				s := os.byName[name]
				if s == nil {
					s = newSeries(model.MetricNameLabel, metric, objLabel, name, "instance", tg.Instance, "job", tg.Job, "namespace", tg.Namespace)
					os.byName[name] = s
				}
				record(s, 1)
				os.names, os.last = append(os.names, name), append(os.last, s)
			}
			if !same && len(os.names) > len(tg.Exported) {
				os.names, os.last = os.names[:len(tg.Exported)], os.last[:len(tg.Exported)]
			}
		}
		for res, n := range sc.Objects {
			record(lookup(seriesKey{metric: metricStorageObjects, job: apiserverJob, a: res},
				model.MetricNameLabel, metricStorageObjects, "job", apiserverJob, "resource", res), float64(n))
		}
		for _, s := range prev {
			if s.seen != i {
				s.samples = append(s.samples, sample{t, math.Float64frombits(value.StaleNaN)})
			}
		}
		prev, cur = cur, prev
	}
	slices.SortFunc(all, func(a, b *series) int { return labels.Compare(a.lset, b.lset) })
	return all, nil
}
