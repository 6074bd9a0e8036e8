package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shardsim/shardsim/internal/textsafe"
)

// Simulated time. Every inbox item is due a latency after the moment it
// could first be delivered, and replays deliver what is due first: the
// eager drain is a discrete-event loop over the lanes' heads, ordered by
// (due time, the order items were queued). Nothing here reads a clock:
// the times are the trace's, and the jitter comes from a seeded PRNG, so
// the same trace and seed give the same times.

// The default latencies (cluster.latencies), each justified by the
// Kubernetes SIG Scalability SLOs (sig-scalability/slos/slos.md) or the
// source of the component that takes the time.
const (
	// DefaultWatchLatency: from a write to its watch event in a pod's
	// informer or reflector. The API server sends a watch event as soon
	// as the watch cache has it; tens of milliseconds in a healthy
	// cluster, and 100 ms stays well inside the 1 s the API-call SLO
	// allows a single-object call.
	DefaultWatchLatency = 100 * time.Millisecond
	// DefaultListPageLatency: one LIST request (the StatefulSet
	// informer's, or one page of 500 objects). The SLO allows 5 s for a
	// namespaced and 30 s for a cluster-wide LIST at the 99th percentile;
	// a page of 500 ConfigMaps from the watch cache takes a few hundred
	// milliseconds.
	DefaultListPageLatency = 250 * time.Millisecond
	// DefaultPodStartLatency: from a pod's creation to KSM's first
	// request. The Pod startup latency SLO: 5 s at the 99th percentile
	// for a stateless pod whose image is already pulled.
	DefaultPodStartLatency = 5 * time.Second
	// DefaultPodStopLatency: from a pod's deletion to its leaving the
	// scrape targets and the cluster. The endpoints drop a terminating
	// pod at once, and KSM's run group stops its servers on SIGTERM.
	DefaultPodStopLatency = 2 * time.Second
	// DefaultJitter: each latency is drawn uniformly from
	// [d·(1-j), d·(1+j)].
	DefaultJitter = 0.25
	// DefaultLatencySeed seeds the jitter.
	DefaultLatencySeed = 1

	// The kubelet's container restart back-off (pkg/kubelet/kubelet.go,
	// backOffPeriod and MaxContainerBackOff): 10 s, doubled after every
	// restart, at most 5 minutes. It is not jittered.
	restartBackOff    = 10 * time.Second
	maxRestartBackOff = 300 * time.Second

	// DefaultScrapeInterval is Prometheus's scrape interval for the KSM
	// pods, and the rule evaluation interval.
	DefaultScrapeInterval = 30 * time.Second
	// DefaultHold is how long the final state holds after the last step:
	// long enough for an alert with "for: 15m" to come due, with a few
	// scrape and evaluation intervals to spare.
	DefaultHold = 20 * time.Minute
)

// Latencies is cluster.latencies: each field is a Go duration ("100ms",
// "5s"); an empty one takes its default.
type Latencies struct {
	Watch    string `json:"watch,omitempty"`
	ListPage string `json:"listPage,omitempty"`
	PodStart string `json:"podStart,omitempty"`
	PodStop  string `json:"podStop,omitempty"`
	// Jitter is the fraction each latency varies by (default 0.25; 0
	// makes every latency exact).
	Jitter *float64 `json:"jitter,omitempty"`
	// Seed seeds the jitter (default 1).
	Seed uint64 `json:"seed,omitempty"`
}

// LatencyNames are the latencies a trace and --latency can set.
var LatencyNames = []string{"watch", "listPage", "podStart", "podStop"}

// latencies are Latencies resolved: defaults applied, durations parsed.
type latencies struct {
	watch, listPage, podStart, podStop time.Duration
	jitter                             float64
	seed                               uint64
}

// Set sets the latency named name (one of LatencyNames) to d, as the
// --latency flag does.
func (l *Latencies) Set(name, d string) error {
	switch name {
	case "watch":
		l.Watch = d
	case "listPage":
		l.ListPage = d
	case "podStart":
		l.PodStart = d
	case "podStop":
		l.PodStop = d
	default:
		return fmt.Errorf("unknown latency %s, want one of watch, listPage, podStart, podStop", textsafe.Quote(name))
	}
	return nil
}

// resolve applies the defaults and parses the durations; field prefixes
// the field names of its errors.
func (l *Latencies) resolve(field string) (latencies, error) {
	out := latencies{
		watch: DefaultWatchLatency, listPage: DefaultListPageLatency,
		podStart: DefaultPodStartLatency, podStop: DefaultPodStopLatency,
		jitter: DefaultJitter, seed: DefaultLatencySeed,
	}
	if l == nil {
		return out, nil
	}
	for _, f := range []struct {
		name string
		s    string
		d    *time.Duration
	}{{"watch", l.Watch, &out.watch}, {"listPage", l.ListPage, &out.listPage}, {"podStart", l.PodStart, &out.podStart}, {"podStop", l.PodStop, &out.podStop}} {
		if f.s == "" {
			continue
		}
		d, err := ParseDuration(f.s)
		if err != nil {
			return out, &TraceError{Step: -1, Field: field + "." + f.name, Msg: err.Error()}
		}
		*f.d = d
	}
	if l.Jitter != nil {
		if j := *l.Jitter; j < 0 || j > 1 || math.IsNaN(j) {
			return out, &TraceError{Step: -1, Field: field + ".jitter", Msg: fmt.Sprintf("must be a fraction from 0 to 1, got %v", j)}
		}
		out.jitter = *l.Jitter
	}
	if l.Seed != 0 {
		out.seed = l.Seed
	}
	return out, nil
}

// MaxDuration bounds every duration a trace or a flag gives: a day of
// simulated time.
const MaxDuration = 24 * time.Hour

// ParseDuration parses a non-negative Go duration of at most MaxDuration.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %s: want a Go duration such as \"100ms\", \"5s\" or \"15m\"", textsafe.Quote(s))
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %s is negative", textsafe.Quote(s))
	}
	if d > MaxDuration {
		return 0, fmt.Errorf("duration %s is more than the simulator's limit of %s", textsafe.Quote(s), MaxDuration)
	}
	return d, nil
}

// clock is a replay's simulated time.
type clock struct {
	now time.Duration
	lat latencies
	rng *rand.Rand
	seq uint64 // items queued so far: the tie-break among equal due times
}

func newClock(l latencies) clock {
	return clock{lat: l, rng: rand.New(rand.NewPCG(l.seed, 0x73686172647369))}
}

// draw returns d jittered, to the millisecond.
func (c *clock) draw(d time.Duration) time.Duration {
	if c.lat.jitter > 0 && d > 0 {
		f := 1 + c.lat.jitter*(2*c.rng.Float64()-1)
		d = time.Duration(float64(d) * f)
	}
	return d.Round(time.Millisecond)
}

// latency is how long an item of kind takes once it could start.
func (c *clock) latency(kind itemKind, restarts int) time.Duration {
	switch kind {
	case itemGet, itemStart:
		return c.draw(c.lat.podStart)
	case itemList, itemObjPage:
		return c.draw(c.lat.listPage)
	case itemStop:
		return c.draw(c.lat.podStop)
	case itemRestart:
		return restartBackOffAfter(restarts)
	}
	return c.draw(c.lat.watch) // watch events, and re-watches after a watch ends
}

// restartBackOffAfter is the kubelet's back-off before the restart that
// follows restarts earlier ones.
func restartBackOffAfter(restarts int) time.Duration {
	return min(restartBackOff<<min(restarts, 16), maxRestartBackOff)
}

// nodeLatency is latency for a DaemonSet sharding item.
func (c *clock) nodeLatency(kind nodeItemKind) time.Duration {
	switch kind {
	case nodeStart:
		return c.draw(c.lat.podStart)
	case nodePage:
		return c.draw(c.lat.listPage)
	case nodeStop:
		return c.draw(c.lat.podStop)
	}
	return c.draw(c.lat.watch)
}

// due stamps an item queued now behind last (the due time of the item
// ahead of it in its queue, or now): a lane is one connection, so an item
// starts once the one ahead of it is done.
func (c *clock) due(last time.Duration, d time.Duration) (time.Duration, uint64) {
	c.seq++
	return max(c.now, last) + d, c.seq
}

// lastDue is the due time of the last item of q, or now.
func lastDue[T interface{ dueAt() time.Duration }](c *clock, q []T) time.Duration {
	if len(q) == 0 {
		return c.now
	}
	return q[len(q)-1].dueAt()
}

func (it item) dueAt() time.Duration     { return it.due }
func (it nodeItem) dueAt() time.Duration { return it.due }

// push queues it in lane's StatefulSet stream.
func (s *Sim) push(lane int, it item) {
	restarts := 0
	if it.pod != nil {
		restarts = it.pod.state.Restarts
	}
	s.pushAfter(lane, it, s.clock.latency(it.kind, restarts))
}

// pushAfter queues it in lane's StatefulSet stream with latency d.
func (s *Sim) pushAfter(lane int, it item, d time.Duration) {
	it.due, it.seq = s.clock.due(lastDue(&s.clock, s.inbox[lane]), d)
	s.inbox[lane] = append(s.inbox[lane], it)
}

// pushObjects queues it in lane's objects stream.
func (s *Sim) pushObjects(lane int, it item) {
	it.due, it.seq = s.clock.due(lastDue(&s.clock, s.objq[lane]), s.clock.latency(it.kind, 0))
	s.objq[lane] = append(s.objq[lane], it)
}

// pushNode queues it in node lane l.
func (s *Sim) pushNode(l *nodeLane, it nodeItem) {
	it.due, it.seq = s.clock.due(lastDue(&s.clock, l.queue), s.clock.nodeLatency(it.kind))
	l.queue = append(l.queue, it)
}

// stream says which queue a due item is at the head of.
type stream int

const (
	streamInbox stream = iota
	streamObjects
	streamNode
)

// next finds the item to deliver next: the earliest due among the heads
// that can be delivered (an item waiting for a Recreate's old pods cannot),
// the first queued among equals. only limits the search to one stream
// (-1: all).
func (s *Sim) next(only stream) (str stream, lane int, ok bool) {
	var bestDue time.Duration
	var bestSeq uint64
	consider := func(st stream, l int, due time.Duration, seq uint64) {
		if !ok || due < bestDue || due == bestDue && seq < bestSeq {
			str, lane, ok, bestDue, bestSeq = st, l, true, due, seq
		}
	}
	for o := range s.inbox {
		if (only < 0 || only == streamInbox) && len(s.inbox[o]) > 0 && s.inbox[o][0].ready() {
			consider(streamInbox, o, s.inbox[o][0].due, s.inbox[o][0].seq)
		}
		if (only < 0 || only == streamObjects) && len(s.objq[o]) > 0 {
			consider(streamObjects, o, s.objq[o][0].due, s.objq[o][0].seq)
		}
	}
	if s.ds != nil && (only < 0 || only == streamNode) {
		for i, l := range s.ds.lanes {
			if len(l.queue) > 0 {
				consider(streamNode, i, l.queue[0].due, l.queue[0].seq)
			}
		}
	}
	return str, lane, ok
}

// deliverNext delivers the item next found, once the clock reaches its
// due time.
func (s *Sim) deliverNext(str stream, lane int) {
	switch str {
	case streamInbox:
		s.advance(s.inbox[lane][0].due)
		s.deliver(lane)
	case streamObjects:
		s.advance(s.objq[lane][0].due)
		s.deliverObjects(lane)
	case streamNode:
		s.advance(s.ds.lanes[lane].queue[0].due)
		s.deliverNode(lane)
	}
	s.recordPoint()
}

// advance moves the clock to t (never back), scraping on the way.
func (s *Sim) advance(t time.Duration) {
	if t <= s.clock.now {
		return
	}
	s.scrapeBefore(t)
	s.clock.now = t
}

// Now is the simulated time: zero at the initial checkpoint.
func (s *Sim) Now() time.Duration { return s.clock.now }

// FormatSeconds renders d in seconds, to the millisecond: "5.312".
func FormatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64)
}
