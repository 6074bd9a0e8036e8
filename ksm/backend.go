package ksm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/shardsim/shardsim/model"
	"github.com/shardsim/shardsim/sim"
)

// Name is the backend's name in flags and reports.
const Name = "ksm"

// settleTimeout bounds how long the KSM pods may take to react to one
// delivery before the replay fails. It is a failure deadline, never a wait:
// quiescence is observed (settle), not assumed after a delay. It exceeds
// the longest backoff of a client-go reflector (30 s, doubled by jitter),
// which the pods sit out after a 410 (ksm/host/idle.go).
const settleTimeout = 90 * time.Second

// Config chooses what the ksm backend runs.
type Config struct {
	// Build is the KSM release or checkout; an empty Release means the one
	// each reducer stands for (DefaultRelease: a release is itself).
	Build Build
	// Progress receives the build's progress lines (nil: discarded).
	Progress io.Writer
}

// New returns a sim.NewBackend that runs every pod as real KSM code. The
// host is built on first use (EnsureBuilt).
func New(cfg Config) sim.NewBackend {
	return func(r model.Reducer) (sim.Backend, error) {
		b := cfg.Build
		if b.Release == "" {
			b.Release = DefaultRelease(r.Name())
		}
		progress := cfg.Progress
		if progress == nil {
			progress = io.Discard
		}
		bin, err := EnsureBuilt(b, progress)
		if err != nil {
			return nil, err
		}
		return &Backend{build: b, bin: bin, api: defaultAPIServer, reducer: r, crashing: map[string]bool{}, exits: map[string]string{}}, nil
	}
}

// defaultAPIServer is the API server's configuration until
// ConfigureAPIServer: a default kube-apiserver (watch cache and WatchList
// on) and client-go's page size.
var defaultAPIServer = sim.APIServerConfig{WatchCache: true, WatchList: true, PageSize: 500}

// Backend runs the pods of one replay in one host process, against one
// loopback API server.
type Backend struct {
	build Build
	bin   string
	api   sim.APIServerConfig
	// namespace is the trace's (Check): where the API server keeps the
	// pods and the ConfigMaps when no StatefulSet write names it.
	namespace string
	srv       *server
	host      *process
	// reducer is the replay's model (New): its data plane rules and the
	// field selector its release builds from --node, which the pods' KSM
	// pods are checked against (daemonset.go).
	reducer model.Reducer
	// crashing are the pod incarnations (by UID) whose start-up GET is
	// failing, so whose KSM is expected to exit; exits are the exits
	// settle saw of them, with MetricsHandler.Run's error (failures.go).
	crashing map[string]bool
	exits    map[string]string
}

// Name implements sim.Backend.
func (*Backend) Name() string { return Name }

// Release returns what the backend runs.
func (b *Backend) Release() Build { return b.build }

// Write implements sim.Backend. The first write (the StatefulSet's
// creation) starts the API server and the host in the StatefulSet's
// namespace.
func (b *Backend) Write(ss *appsv1.StatefulSet) error {
	if err := b.start(ss.Namespace); err != nil {
		return err
	}
	b.srv.setStatefulSet(ss)
	return nil
}

// start starts the API server, in namespace, and the host, unless they
// run: at the first write, the StatefulSet's or (without one: static
// sharding) the objects'.
func (b *Backend) start(namespace string) error {
	if b.srv != nil {
		return nil
	}
	srv, err := newServer(namespace, b.api)
	if err != nil {
		return err
	}
	b.srv = srv
	b.host, err = startProcess(b.bin, srv.URL())
	return err
}

// Check implements sim.TraceChecker: the ksm backend replays every trace.
// It records the trace's namespace, which a trace without a StatefulSet
// (static sharding) gives no Write to learn.
func (b *Backend) Check(t *sim.Trace) string {
	b.namespace = t.Cluster.Namespace
	return ""
}

// serverNamespace is the namespace of an API server started without a
// StatefulSet: the trace's, or "default" for a backend that was given no
// trace.
func (b *Backend) serverNamespace() string {
	if b.namespace == "" {
		return "default"
	}
	return b.namespace
}

// WriteObjects implements sim.ObjectWriter: the objects are ConfigMaps
// named by their UID.
func (b *Backend) WriteObjects(created, deleted []string, resourceVersion string) error {
	if err := b.start(b.serverNamespace()); err != nil {
		return err
	}
	b.srv.setObjects(created, deleted, resourceVersion)
	return b.settle()
}

// ConfigureAPIServer implements sim.FaultBackend: the configuration of
// the API server the first Write starts. A page size of 0 is client-go's,
// 500.
func (b *Backend) ConfigureAPIServer(c sim.APIServerConfig) error {
	if c.PageSize < 0 {
		return fmt.Errorf("page size %d: must not be negative", c.PageSize)
	}
	if c.PageSize == 0 {
		c.PageSize = defaultAPIServer.PageSize
	}
	if b.srv != nil {
		return fmt.Errorf("ConfigureAPIServer after the first write: the API server runs already")
	}
	b.api = c
	return nil
}

// Compact implements sim.FaultBackend. It ends no watch: only a watch or
// a read that starts from an older resourceVersion meets it.
func (b *Backend) Compact(rv string) error {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil || b.srv == nil {
		return fmt.Errorf("compact at resourceVersion %q: not a resourceVersion of this replay", rv)
	}
	b.srv.compact(n)
	return nil
}

// CacheLag implements sim.FaultBackend. It changes only what later reads
// with resourceVersion "0" see.
func (b *Backend) CacheLag(writes int) error {
	if writes < 0 || b.srv == nil {
		return fmt.Errorf("cache lag of %d writes: must be at least 0, after the first write", writes)
	}
	b.srv.setLag(uint64(writes))
	return nil
}

// NewPod implements sim.Backend: it creates the Pod object and starts KSM
// with the flags of an autosharding StatefulSet pod. Its start-up GET
// waits at the API server until the simulator delivers it.
func (b *Backend) NewPod(name, uid string) (sim.PodRunner, error) {
	if b.srv == nil || b.srv.ss == nil {
		return nil, errors.New("an autosharding pod before the StatefulSet's first write")
	}
	conn := b.srv.addPod(name, uid, true)
	flags := model.AutoshardingFlags()
	p := &pod{b: b, conn: conn, state: model.NewPod(name), flags: flags, args: flags.Args(name, b.srv.namespace)}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

// NewPodWithFlags implements sim.FlagsBackend. Autosharding flags are
// NewPod's pod. Any other pod gets a Pod object with no StatefulSet owner
// reference, and KSM starts only when the simulator delivers its start
// (model.Started), with flags.Args: the real --shard, --total-shards and
// --resources=configmaps, no --pod; or, for DaemonSet sharding,
// --resources=pods with --node or --track-unscheduled-pods (or neither:
// every pod), its pods reflector an ObjectsRunner (daemonset.go).
func (b *Backend) NewPodWithFlags(name, uid string, flags model.Flags) (sim.PodRunner, error) {
	switch {
	case flags.Resource == "pods":
		if flags.Autosharding || flags.Shard != 0 || flags.TotalShards != 1 {
			return nil, fmt.Errorf("the %s backend runs KSM pods of DaemonSet sharding unsharded (--shard=0 --total-shards=1, no --pod), not %s: %w (%w)", Name, flags, errors.ErrUnsupported, sim.ErrUnsupported)
		}
	case flags.Node != "" || flags.TrackUnscheduledPods:
		return nil, fmt.Errorf("KSM shards only pods by node (--node, --track-unscheduled-pods), not %q: %w (%w)", flags.Resource, errors.ErrUnsupported, sim.ErrUnsupported)
	case flags.Resource != "configmaps":
		return nil, fmt.Errorf("the %s backend runs KSM with --resources=configmaps or pods only, not %q: %w (%w)", Name, flags.Resource, errors.ErrUnsupported, sim.ErrUnsupported)
	case flags.Autosharding:
		if flags != model.AutoshardingFlags() {
			return nil, fmt.Errorf("the %s backend runs autosharding pods with KSM's default --shard and --total-shards only, not %+v: %w (%w)", Name, flags, errors.ErrUnsupported, sim.ErrUnsupported)
		}
		return b.NewPod(name, uid)
	}
	if err := b.start(b.serverNamespace()); err != nil {
		return nil, err
	}
	conn := b.srv.addPod(name, uid, false)
	p := &pod{b: b, conn: conn, state: model.NewPod(name), flags: flags, args: flags.Args(name, b.srv.namespace)}
	if flags.Resource == "pods" {
		return podsPod{p}, nil
	}
	return p, nil
}

// Close implements sim.Backend.
func (b *Backend) Close() {
	if b.host != nil {
		b.host.close()
	}
	if b.srv != nil {
		b.srv.close()
	}
}

// settle returns once nothing is in flight: the server has no request in
// hand and no event unwritten, every goroutine of the host is blocked, and
// both sides agree on the bytes exchanged (so no byte sits in a socket).
// It polls the host, which cannot wake the simulator by itself.
func (b *Backend) settle() error {
	deadline := time.Now().Add(settleTimeout)
	delay := 20 * time.Microsecond
	why := ""
	for {
		s := b.srv
		if n := s.busy(); n == 0 {
			resp, err := b.host.call(request{Op: opIdle})
			if err != nil {
				return err
			}
			for _, e := range resp.Exited {
				if !b.crashing[e.UID] {
					return fmt.Errorf("KSM pod %s exited: %s; the end of its log:\n%s", e.Pod, e.Error, b.host.log.String())
				}
				b.exits[e.UID] = e.Error // expected: a failing start-up (failures.go)
			}
			sync, diff := s.inSync(resp.Conns)
			if resp.Idle && sync && s.busy() == 0 {
				return nil
			}
			why = "host busy: " + resp.Busy
			if resp.Idle {
				why = "bytes in flight: " + diff
			}
		} else {
			why = fmt.Sprintf("server: %d requests or events in hand", n)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the KSM pods did not settle within %s (%s); the end of the log:\n%s", settleTimeout, why, b.host.log.String())
		}
		s.mu.Lock()
		ch := s.activity
		s.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(delay):
			delay = min(2*delay, 5*time.Millisecond)
		}
	}
}

// pod is one KSM pod incarnation. Its state is what the server observed
// (phase, the StatefulSet name and informer options it requested) and
// what KSM reports (its configuration); Cache stays empty, as the
// informer's store is KSM's own.
type pod struct {
	b     *Backend
	conn  *podConn
	state model.PodState
	flags model.Flags
	args  []string // KSM's command line, flags.Args
	// started: KSM runs (NewPod starts an autosharding pod, whose GET
	// then waits at the server; Started a static one).
	started bool
	// pageSize is the trace's page size (ConfigureSharding of a pods
	// pod), which the requests of its pods reflector are worded with.
	pageSize int
}

// start starts KSM with the pod's flags and waits until it has reacted.
func (p *pod) start() error {
	if _, err := p.b.host.call(request{Op: opStart, Pod: p.conn.name, UID: p.conn.uid, Args: p.args}); err != nil {
		return fmt.Errorf("start KSM with %s: %w", strings.Join(p.args, " "), err)
	}
	p.started = true
	return p.b.settle()
}

// Deliver implements sim.PodRunner: it lets the pod's held request or the
// next watch event through, waits until KSM has reacted, and reads the
// pod's state from what it did: the requests it sent and its /metrics.
func (p *pod) Deliver(ev model.Event) (model.PodState, string, error) {
	s := p.b.srv
	var note string
	switch ev := ev.(type) {
	case model.Started:
		start := p.startStatic
		if p.flags.Resource == "pods" {
			start = p.startPods
		}
		var err error
		if note, err = start(ev); err != nil {
			return p.state, "", err
		}
	case model.Got:
		if err := p.await("its start-up GET of Pod "+p.conn.name, func() bool { return p.conn.get.waiting }); err != nil {
			return p.state, "", err
		}
		s.mu.Lock()
		s.release(&p.conn.get)
		s.mu.Unlock()
		if err := p.b.settle(); err != nil {
			return p.state, "", err
		}
		s.mu.Lock()
		held, opts, name := p.conn.list.waiting, p.conn.listOptions, p.conn.ssName
		s.mu.Unlock()
		if !held {
			return p.state, "", fmt.Errorf("KSM pod %s read its Pod but did not start its StatefulSet informer; its requests: %s", p.conn.name, p.requests())
		}
		if name != ev.StatefulSet.Name {
			return p.state, "", fmt.Errorf("KSM pod %s read StatefulSet %q, the simulator's is %q", p.conn.name, name, ev.StatefulSet.Name)
		}
		p.state.Phase, p.state.StatefulSetName, p.state.ListOptions = model.Detected, name, opts
		note = fmt.Sprintf("KSM detected StatefulSet %s; its informer %s", name, model.DescribeOptions(opts))
	case model.Listed:
		if err := p.resume(); err != nil {
			return p.state, "", err
		}
		s.mu.Lock()
		held := p.conn.list.waiting
		got := s.heldList(p.conn)
		s.mu.Unlock()
		if !held {
			return p.state, "", fmt.Errorf("KSM pod %s has no informer LIST waiting", p.conn.name)
		}
		if err := sameObjects(got, ev.Items); err != nil {
			return p.state, "", fmt.Errorf("KSM pod %s's LIST: %w", p.conn.name, err)
		}
		s.mu.Lock()
		s.release(&p.conn.list)
		s.mu.Unlock()
		if err := p.b.settle(); err != nil {
			return p.state, "", err
		}
		p.state.Phase = model.Watching
		var err error
		if note, err = p.observe(fmt.Sprintf("LIST answered %d StatefulSet(s)", len(got))); err != nil {
			return p.state, "", err
		}
	case model.Watched:
		if err := p.resume(); err != nil {
			return p.state, "", err
		}
		s.mu.Lock()
		var next model.Watched
		ok := len(p.conn.queue) > 0 && p.conn.stream != nil
		if ok {
			next = p.conn.queue[0]
			p.conn.queue = p.conn.queue[1:]
		}
		s.mu.Unlock()
		if !ok {
			return p.state, "", fmt.Errorf("KSM pod %s has no watch event waiting at the API server; the simulator delivers %s", p.conn.name, describe(ev))
		}
		if next.Type != ev.Type || next.Object.Name != ev.Object.Name || next.Object.ResourceVersion != ev.Object.ResourceVersion {
			return p.state, "", fmt.Errorf("KSM pod %s's watch (%s) gets %s; the simulator delivers %s", p.conn.name, model.DescribeOptions(p.conn.listOptions), describe(next), describe(ev))
		}
		s.mu.Lock()
		s.send(p.conn.stream, encodeEvent(next.Type, withKind(next.Object)))
		s.changed()
		s.mu.Unlock()
		if err := p.b.settle(); err != nil {
			return p.state, "", err
		}
		var err error
		if note, err = p.observe("watch " + describe(ev)); err != nil {
			return p.state, "", err
		}
	case model.StartFailed:
		var err error
		if note, err = p.startFailed(ev); err != nil {
			return p.state, "", err
		}
	case model.ContainerRestarted:
		var err error
		if note, err = p.restarted(); err != nil {
			return p.state, "", err
		}
	case model.Stop:
		if _, err := p.b.host.call(request{Op: opStop, Pod: p.conn.name, UID: p.conn.uid}); err != nil {
			return p.state, "", err
		}
		s.stopPod(p.conn.uid)
		if err := p.b.settle(); err != nil {
			return p.state, "", err
		}
		p.state.Phase = model.Stopped
		note = "KSM pod stopped"
	default:
		return p.state, "", fmt.Errorf("unknown event %T", ev)
	}
	return p.state, note, nil
}

// startStatic starts KSM without autosharding: its MetricsHandler.Run logs
// "Autosharding disabled" and calls ConfigureSharding with --shard and
// --total-shards at once. Once the pod has settled, its state is read
// from what it did: it must have started listing ConfigMaps (built its
// stores), sent no request for a Pod or a StatefulSet, and its
// self-metrics must show the configuration the simulator starts it with.
func (p *pod) startStatic(ev model.Started) (string, error) {
	if p.state.Phase != model.Starting {
		return "ignored: already started", nil
	}
	if p.flags.Autosharding {
		return "", fmt.Errorf("KSM pod %s runs with %s: it detects its StatefulSet; the simulator delivers a start without autosharding", p.conn.name, strings.Join(p.args, " "))
	}
	want := model.Config{Shard: ev.Shard, Total: ev.TotalShards}
	if err := p.start(); err != nil {
		return "", err
	}
	s := p.b.srv
	s.mu.Lock()
	configured, ssName, requests := p.conn.configured, p.conn.ssName, slices.Clone(p.conn.requests)
	s.mu.Unlock()
	for _, r := range requests {
		if strings.Contains(r, "/pods/") || strings.Contains(r, "/statefulsets") {
			return "", fmt.Errorf("KSM pod %s, started with %s, sent %s: autosharding is not disabled", p.conn.name, strings.Join(p.args, " "), r)
		}
	}
	if configured == 0 || ssName != "" {
		return "", fmt.Errorf("KSM pod %s, started with %s, did not configure its sharding at once (it listed no ConfigMaps); its requests: %s; the end of the log:\n%s", p.conn.name, strings.Join(p.args, " "), p.requests(), p.b.host.log.String())
	}
	c, err := p.checkSelfConfig(strings.Join(p.args, " "), want)
	if err != nil {
		return "", err
	}
	p.state.Phase, p.state.Config = model.Static, c
	return fmt.Sprintf("autosharding disabled: KSM started with %s configured %s and built its stores", strings.Join(p.args, " "), c), nil
}

// resume lets the informer's re-watch after a disconnect through, if it
// waits, and waits until the pod has reacted: it watches again, or after
// a 410 backs off and sends its relist (held in turn).
func (p *pod) resume() error {
	s := p.b.srv
	s.mu.Lock()
	held := p.conn.rewatch.waiting
	if held {
		s.release(&p.conn.rewatch)
	}
	s.mu.Unlock()
	if !held {
		return nil
	}
	return p.b.settle()
}

// observe reads the pod's configuration after a delivery: 0/0 until KSM
// has built its stores (its first ConfigMap list), then the shard and
// total its store builder was configured with, from its self-metrics.
func (p *pod) observe(what string) (string, error) {
	s := p.b.srv
	s.mu.Lock()
	configured := p.conn.configured
	s.mu.Unlock()
	before := p.state.Config
	if configured > 0 {
		resp, err := p.b.host.call(request{Op: opSelf, Pod: p.conn.name, UID: p.conn.uid})
		if err != nil {
			return "", err
		}
		c, err := selfConfig(resp.Self)
		if err != nil {
			return "", fmt.Errorf("KSM pod %s: %w", p.conn.name, err)
		}
		p.state.Config = c
	}
	if p.state.Config == before {
		return fmt.Sprintf("%s: KSM stays %s", what, before), nil
	}
	return fmt.Sprintf("%s: KSM reconfigured %s -> %s and rebuilt its stores", what, before, p.state.Config), nil
}

// Exported implements sim.Exporter: the ConfigMaps the pod's /metrics
// shows, by name (the UID); for a pod run with --resources=pods, the
// pods.
func (p *pod) Exported() ([]string, error) {
	if p.state.Phase == model.Stopped || p.state.Phase == model.Crashed || !p.started {
		return nil, nil
	}
	resp, err := p.b.host.call(request{Op: opScrape, Pod: p.conn.name, UID: p.conn.uid})
	if err != nil {
		return nil, err
	}
	if p.flags.Resource == "pods" {
		return exportedPods(resp.Metrics), nil
	}
	return exportedConfigMaps(resp.Metrics), nil
}

func (p *pod) await(what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if !p.b.srv.waitFor(ctx.Done(), cond) {
		return fmt.Errorf("KSM pod %s did not send %s within %s; the end of the log:\n%s", p.conn.name, what, settleTimeout, p.b.host.log.String())
	}
	return nil
}

// exportedConfigMaps returns the distinct configmap label values of the
// samples in a /metrics body, sorted.
func exportedConfigMaps(body string) []string { return distinctLabel(body, "", "configmap") }

// distinctLabel returns the distinct values of label in the samples of a
// /metrics body whose metric names start with prefix, sorted.
func distinctLabel(body, prefix, label string) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' || !strings.HasPrefix(line, prefix) {
			continue
		}
		if v, ok := labelValue(line, label); ok {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// checkSelfConfig reads the configuration the KSM pod exports in its
// self-metrics (kube_state_metrics_shard_ordinal, _total_shards) and fails
// unless it is want; cmd is how the pod was started, for the message.
func (p *pod) checkSelfConfig(cmd string, want model.Config) (model.Config, error) {
	resp, err := p.b.host.call(request{Op: opSelf, Pod: p.conn.name, UID: p.conn.uid})
	if err != nil {
		return model.Config{}, err
	}
	c, err := selfConfig(resp.Self)
	if err != nil {
		return model.Config{}, fmt.Errorf("KSM pod %s: %w", p.conn.name, err)
	}
	if c != want {
		return model.Config{}, fmt.Errorf("KSM pod %s, started with %s, runs as %s; the simulator starts it as %s", p.conn.name, cmd, c, want)
	}
	return c, nil
}

// SelfMetrics implements sim.SelfMetricsReader: the shard and total the
// KSM pod's self-metrics show now. Before autosharding configures it,
// KSM shows shard 0 of 1: pkg/app/server.go calls WithSharding with the
// flag defaults first.
func (p *pod) SelfMetrics() (int32, int, error) {
	resp, err := p.b.host.call(request{Op: opSelf, Pod: p.conn.name, UID: p.conn.uid})
	if err != nil {
		return 0, 0, err
	}
	c, err := selfConfig(resp.Self)
	if err != nil {
		return 0, 0, fmt.Errorf("KSM pod %s: %w", p.conn.name, err)
	}
	return c.Shard, c.Total, nil
}

// labelValue returns the value of label name in one exposition-format
// sample line. Label values here are UIDs and namespaces: no escapes.
func labelValue(line, name string) (string, bool) {
	i := strings.Index(line, "{"+name+"=\"")
	if i < 0 {
		i = strings.Index(line, ","+name+"=\"")
	}
	if i < 0 {
		return "", false
	}
	rest := line[i+len(name)+3:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}

// selfConfig reads kube_state_metrics_shard_ordinal and
// kube_state_metrics_total_shards from the self-metrics.
func selfConfig(self string) (model.Config, error) {
	var c model.Config
	var haveShard, haveTotal bool
	for _, line := range strings.Split(self, "\n") {
		name, value, ok := sample(line)
		if !ok {
			continue
		}
		switch name {
		case "kube_state_metrics_shard_ordinal":
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return c, fmt.Errorf("self-metric %q: %w", line, err)
			}
			c.Shard, haveShard = int32(n), true
		case "kube_state_metrics_total_shards":
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return c, fmt.Errorf("self-metric %q: %w", line, err)
			}
			c.Total, haveTotal = int(n), true
		}
	}
	if !haveShard || !haveTotal {
		return c, fmt.Errorf("no kube_state_metrics_shard_ordinal and kube_state_metrics_total_shards in the self-metrics")
	}
	return c, nil
}

// sample splits an exposition-format line into metric name and value.
func sample(line string) (name, value string, ok bool) {
	if line == "" || line[0] == '#' {
		return "", "", false
	}
	name = line
	if i := strings.IndexAny(line, "{ "); i >= 0 {
		name = line[:i]
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return "", "", false
	}
	return name, fields[len(fields)-1], true
}

func sameObjects(got, want []*appsv1.StatefulSet) error {
	if len(got) != len(want) {
		return fmt.Errorf("the API server answers %d StatefulSet(s), the simulator %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Name != want[i].Name || got[i].ResourceVersion != want[i].ResourceVersion {
			return fmt.Errorf("the API server answers %s@%s, the simulator %s@%s", got[i].Name, got[i].ResourceVersion, want[i].Name, want[i].ResourceVersion)
		}
	}
	return nil
}

func describe(ev model.Watched) string {
	return fmt.Sprintf("%s %s@%s", ev.Type, ev.Object.Name, ev.Object.ResourceVersion)
}

// Disconnect implements sim.Disconnecter: every open watch of the pod
// ends (server.disconnect), and the pod settles: its reflectors re-watch
// from their last resourceVersion, and after a 410 back off and relist.
// The StatefulSet informer's re-watch waits at the server until the
// simulator delivers the pod's "watch closed" item (Rewatch) or anything
// else to the pod (resume), as its first LIST did.
func (p *pod) Disconnect() error {
	if p.state.Phase == model.Stopped || p.state.Phase == model.Crashed {
		return nil
	}
	p.b.srv.disconnect(p.conn)
	return p.b.settle()
}

// Rewatch implements sim.Rewatcher: the informer's re-watch, held at the
// server since the disconnect, is answered now, when the simulator
// delivers the pod's "watch closed" item (resume).
func (p *pod) Rewatch() error { return p.resume() }

var (
	_ sim.Rewatcher    = (*pod)(nil)
	_ sim.Backend      = (*Backend)(nil)
	_ sim.FlagsBackend = (*Backend)(nil)
	_ sim.TraceChecker = (*Backend)(nil)
	_ sim.ObjectWriter = (*Backend)(nil)
	_ sim.FaultBackend = (*Backend)(nil)
	_ sim.PodRunner    = (*pod)(nil)
	_ sim.Exporter     = (*pod)(nil)
	_ sim.Disconnecter = (*pod)(nil)
	_ sim.StartFailer  = (*Backend)(nil)
)

// requests lists the pod's last requests, for error messages.
func (p *pod) requests() string {
	s := p.b.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(p.conn.requests, "; ")
}
