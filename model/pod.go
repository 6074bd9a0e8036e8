package model

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Config is a pod's sharding configuration: it serves shard Shard of
// Total. The zero value, 0/0, is what a KSM pod holds before its informer
// delivers the first Add, and it keeps nothing.
type Config struct {
	Shard int32 `json:"shard"`
	Total int   `json:"total"`
}

// String renders the configuration as "shard/total".
func (c Config) String() string { return fmt.Sprintf("%d/%d", c.Shard, c.Total) }

// Phase is where a KSM pod is in its life.
type Phase int

const (
	// Starting: the pod exists but has not read its StatefulSet yet.
	Starting Phase = iota
	// Detected: the start-up GET has fixed the StatefulSet name and the
	// informer's list options; the informer has not listed yet.
	Detected
	// Watching: the informer has listed and follows the watch.
	Watching
	// Stopped: the pod is gone; it serves nothing.
	Stopped
	// Static: the pod started without autosharding; its configuration
	// comes from its flags and never changes.
	Static
	// Crashed: KSM exited at start-up (its GET failed); the kubelet
	// restarts the container after a back-off. It serves nothing.
	Crashed
)

var phaseNames = [...]string{"Starting", "Detected", "Watching", "Stopped", "Static", "Crashed"}

func (p Phase) String() string {
	if p < 0 || int(p) >= len(phaseNames) {
		return "Phase(" + strconv.Itoa(int(p)) + ")"
	}
	return phaseNames[p]
}

// PodState is everything one KSM pod knows about sharding. It is a value:
// Step never modifies the state it is given.
type PodState struct {
	// Name is the pod's name, "<statefulset>-<ordinal>".
	Name  string
	Phase Phase
	// StatefulSetName is fixed by the start-up GET.
	StatefulSetName string
	// ListOptions are the informer's options, fixed by the start-up GET.
	ListOptions metav1.ListOptions
	// Cache is the informer's store, keyed by StatefulSet name (the
	// informer is namespaced). Shared between states: copy before writing.
	Cache map[string]*appsv1.StatefulSet
	// Config is the configuration the metrics handler runs with.
	Config Config
	// Restarts counts the container's restarts (the kubelet's
	// restartCount).
	Restarts int
}

// NewPod returns the state of a freshly created pod.
func NewPod(name string) PodState { return PodState{Name: name} }

// Serving reports whether the pod is running; a running pod keeps the
// objects its Config keeps (possibly none).
func (s PodState) Serving() bool { return s.Phase != Stopped && s.Phase != Crashed }

// Ready reports whether the pod is Running and Ready as the StatefulSet
// controller reads it: its process has started and passed its start-up
// (the GET for autosharding). KSM's readiness probe (/readyz) answers as
// soon as the telemetry server runs, long before the probe's first
// period ends, so the pod is Ready once its start-up did not crash it.
func (s PodState) Ready() bool {
	switch s.Phase {
	case Detected, Watching, Static:
		return true
	}
	return false
}

// An Event is something a pod's informer or its own start-up code
// observes. Events are values of the types below.
type Event interface{ isEvent() }

// Got is the result of the pod's start-up GET (KSM detectStatefulSet: GET
// own Pod, follow its controller owner reference, GET that StatefulSet).
type Got struct{ StatefulSet *appsv1.StatefulSet }

// Listed is the informer's initial LIST: the StatefulSets that pass the
// informer's selectors at that moment.
type Listed struct{ Items []*appsv1.StatefulSet }

// Watched is one watch event let through by the informer's selectors.
type Watched struct {
	Type   watch.EventType
	Object *appsv1.StatefulSet
}

// Stop ends the pod: it was deleted (scale down) or restarted.
type Stop struct{}

// StartFailed is a start-up GET that failed (the API server answered an
// error: RBAC, a 5xx, a timeout): MetricsHandler.Run returns "detect
// StatefulSet: ...", the process exits, and the container waits for the
// kubelet's back-off (CrashLoopBackOff).
type StartFailed struct{ Reason string }

// ContainerRestarted is the kubelet restarting the crashed container after
// its back-off: a new KSM process in the same pod, starting from nothing.
type ContainerRestarted struct{}

// Started is the start of a pod without autosharding (no --pod and
// --pod-namespace): MetricsHandler.Run logs "Autosharding disabled" and
// calls ConfigureSharding(opts.Shard, opts.TotalShards) at once; no GET,
// no informer. Shard and TotalShards are the pod's flags.
type Started struct {
	Shard       int32
	TotalShards int
}

func (Got) isEvent()                {}
func (Listed) isEvent()             {}
func (Watched) isEvent()            {}
func (Stop) isEvent()               {}
func (Started) isEvent()            {}
func (StartFailed) isEvent()        {}
func (ContainerRestarted) isEvent() {}

// Step folds one event into a pod's state and returns the new state and a
// one-line account of what the pod did, for the event log. It reproduces
// KSM's MetricsHandler.Run: the start-up detection, the informer's store
// updates (client-go processDeltas: an Add or Update of an object already
// in the store is an update, otherwise an add; a delete only removes it),
// and the AddFunc/UpdateFunc handlers. There is no DeleteFunc.
func Step(r Reducer, s PodState, e Event) (PodState, string) {
	if s.Phase == Stopped {
		return s, "ignored: pod stopped"
	}
	switch e := e.(type) {
	case StartFailed:
		if s.Phase != Starting {
			return s, "ignored: not starting"
		}
		s.Phase = Crashed
		return s, "exited: detect StatefulSet: " + e.Reason + "; the container waits for its restart (CrashLoopBackOff)"
	case ContainerRestarted:
		if s.Phase != Crashed {
			return s, "ignored: not crashed"
		}
		restarts := s.Restarts + 1
		s = NewPod(s.Name)
		s.Restarts = restarts
		return s, fmt.Sprintf("container restarted (restart %d): a new KSM process starts", restarts)
	case Started:
		if s.Phase != Starting {
			return s, "ignored: already started"
		}
		s.Phase = Static
		s.Config = Config{Shard: e.Shard, Total: e.TotalShards}
		return s, fmt.Sprintf("autosharding disabled: configured %s from --shard and --total-shards", s.Config)
	case Got:
		if s.Phase != Starting {
			return s, "ignored: StatefulSet already detected"
		}
		s.Phase = Detected
		s.StatefulSetName = e.StatefulSet.Name
		s.ListOptions = r.ListOptions(e.StatefulSet)
		return s, fmt.Sprintf("detected StatefulSet %s; informer %s", s.StatefulSetName, DescribeOptions(s.ListOptions))
	case Listed:
		switch s.Phase {
		case Watching:
			return s.relisted(e.Items)
		case Detected:
		default:
			return s, "ignored: informer not expected to list now"
		}
		s.Phase = Watching
		s.Cache = map[string]*appsv1.StatefulSet{}
		if len(e.Items) == 0 {
			return s, "listed nothing: no Add, the pod stays " + s.Config.String()
		}
		var notes []string
		for _, ss := range e.Items {
			var note string
			s, note = s.upsert(ss)
			notes = append(notes, note)
		}
		return s, strings.Join(notes, "; ")
	case Watched:
		if s.Phase != Watching {
			return s, "ignored: informer not watching"
		}
		switch e.Type {
		case watch.Added, watch.Modified:
			return s.upsert(e.Object)
		case watch.Deleted:
			s.Cache = maps.Clone(s.Cache)
			delete(s.Cache, e.Object.Name)
			return s, "removed from informer cache; no DeleteFunc, the pod stays " + s.Config.String()
		default:
			return s, "ignored: watch event " + string(e.Type)
		}
	case Stop:
		s.Phase = Stopped
		return s, "stopped"
	}
	return s, fmt.Sprintf("ignored: unknown event %T", e)
}

// relisted is a relist after the informer's watch expired (410 Gone):
// client-go's DeltaFIFO.Replace queues every listed object (Replaced) and
// a deletion for each cached one not listed; an object whose
// resourceVersion did not change is a sync, which handlers without a
// resync period never see (sharedIndexInformer.OnUpdate), so upsert's
// "unchanged resourceVersion" rule covers it.
func (s PodState) relisted(items []*appsv1.StatefulSet) (PodState, string) {
	listed := map[string]bool{}
	var notes []string
	for _, ss := range items {
		listed[ss.Name] = true
		var note string
		s, note = s.upsert(ss)
		notes = append(notes, note)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Cache)) {
		if !listed[name] {
			s.Cache = maps.Clone(s.Cache)
			delete(s.Cache, name)
			notes = append(notes, "removed "+name+" from informer cache; no DeleteFunc, the pod stays "+s.Config.String())
		}
	}
	if len(notes) == 0 {
		return s, "relisted nothing: the pod stays " + s.Config.String()
	}
	return s, "relist: " + strings.Join(notes, "; ")
}

// upsert stores ss in the informer cache and runs the handler client-go
// would call: UpdateFunc if the cache held the object, AddFunc otherwise.
func (s PodState) upsert(ss *appsv1.StatefulSet) (PodState, string) {
	old, found := s.Cache[ss.Name]
	s.Cache = maps.Clone(s.Cache)
	s.Cache[ss.Name] = ss
	if !found {
		return s.onAdd(ss)
	}
	return s.onUpdate(old, ss)
}

func (s PodState) onAdd(ss *appsv1.StatefulSet) (PodState, string) {
	if ss.Name != s.StatefulSetName {
		return s, "AddFunc: ignored, StatefulSet " + ss.Name + " is not " + s.StatefulSetName
	}
	return s.configure("AddFunc", ss)
}

func (s PodState) onUpdate(old, cur *appsv1.StatefulSet) (PodState, string) {
	if cur.Name != s.StatefulSetName {
		return s, "UpdateFunc: ignored, StatefulSet " + cur.Name + " is not " + s.StatefulSetName
	}
	if old.ResourceVersion == cur.ResourceVersion {
		return s, "UpdateFunc: ignored, resourceVersion unchanged (" + cur.ResourceVersion + ")"
	}
	return s.configure("UpdateFunc", cur)
}

func (s PodState) configure(handler string, ss *appsv1.StatefulSet) (PodState, string) {
	c, err := ShardingSettings(ss, s.Name)
	if err != nil {
		return s, handler + ": " + err.Error()
	}
	if c == s.Config {
		return s, handler + ": unchanged " + c.String()
	}
	note := fmt.Sprintf("%s: reconfigured %s -> %s", handler, s.Config, c)
	s.Config = c
	return s, note
}

// ShardingSettings derives a pod's configuration from its StatefulSet as
// KSM's shardingSettingsFromStatefulSet does: the shard is the ordinal
// after "<statefulset>-" in the pod name, the total is *spec.replicas, or
// 1 when replicas is nil.
func ShardingSettings(ss *appsv1.StatefulSet, podName string) (Config, error) {
	ordinal := strings.TrimPrefix(podName, ss.Name+"-")
	shard, err := strconv.ParseInt(ordinal, 10, 32)
	if err != nil {
		return Config{}, fmt.Errorf("failed to detect shard index for Pod %s of StatefulSet %s, parsed %s: %w", podName, ss.Name, ordinal, err)
	}
	total := 1
	if ss.Spec.Replicas != nil {
		total = int(*ss.Spec.Replicas)
	}
	return Config{Shard: int32(shard), Total: total}, nil
}

// DescribeOptions renders an informer's list options for logs:
// "selects labelSelector=... fieldSelector=..." or "selects everything".
func DescribeOptions(o metav1.ListOptions) string {
	var parts []string
	if o.LabelSelector != "" {
		parts = append(parts, "labelSelector="+o.LabelSelector)
	}
	if o.FieldSelector != "" {
		parts = append(parts, "fieldSelector="+o.FieldSelector)
	}
	if len(parts) == 0 {
		return "selects everything"
	}
	return "selects " + strings.Join(parts, " ")
}
