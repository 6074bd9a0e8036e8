// Package ksm is the ksm backend: every simulated pod runs as real
// kube-state-metrics (KSM) code, of any release from v2.10.0 to v2.20.0 or
// of a local checkout.
//
// A host program (ksm/host, a nested module built once per release with
// that release's go.mod and go.sum from ksm/host/releases) links KSM's own
// packages: options.NewOptions/AddFlags/Parse/Validate on the real flags
// (--pod, --pod-namespace, --resources=configmaps), the store builder
// (pkg/builder) wired as the release's pkg/app/server.go wires it, and the
// autosharding metrics handler (pkg/metricshandler: its start-up GETs, its
// StatefulSet informer and handlers, ConfigureSharding and the store
// rebuild), each pod on its own clientset of the client-go the release
// pins. One host process runs all the pods of a replay.
//
// Pods of statically sharded Deployments (sim.FlagsBackend) run with the
// real --shard, --total-shards and --resources=configmaps, no --pod:
// KSM's MetricsHandler.Run logs "Autosharding disabled" and configures
// at once. Such a pod's Pod object has no owner, and KSM starts when the
// simulator delivers its start (model.Started), not when it is created, so
// a Recreate rollout's new pods export nothing before they start.
//
// DaemonSet sharding runs too (daemonset.go, pods.go): the backend is a
// sim.PodWriter whose server serves the trace's pods (v1.Pods named by
// their UID, spec.nodeName their node) and filters LIST and WATCH of
// /api/v1/pods by the field selector KSM sends, parsed and matched with
// k8s.io/apimachinery/pkg/fields against the pod registry's selectable
// fields, each watch per watcher as the watch cache filters it (ADDED into
// the selector, DELETED out of it, MODIFIED within). Its KSM pods start
// with --resources=pods and the real --node or --track-unscheduled-pods;
// where KSM's own flag parsing refuses them (--track-unscheduled-pods
// before v2.14.0) the pod is Crashed, as the process would exit. Each such
// pod is a sim.ObjectsRunner: its pods reflector's LIST or watch list and
// each write of its watch wait at the server until the simulator delivers
// the matching item, answered only if the server's own answer is the
// simulator's, and after each the request it has in flight and the pods
// its /metrics shows are returned for the simulator to compare.
//
// Pod failures run too (failures.go, sim.StartFailer): for a failing
// start-up (model.StartFailed) the server answers the pod's held start-up
// request, the GET of its own Pod, with 403 Forbidden (the API server's
// RBAC Status); KSM's MetricsHandler.Run must return "detect StatefulSet:
// ...", an exit the backend expects rather than a failure, and the pod is
// Crashed. The kubelet's restart (model.ContainerRestarted) starts a new
// KSM process in the same Pod object (name and UID), its GET held again.
// Both are checked against model.Step's phase and restart count.
//
// The pods talk HTTP to this package's API server on loopback, which
// serves the simulator's state: the KSM pods, the StatefulSet (GET, LIST and
// WATCH, plain or as a watch list, with label and field selectors, by the
// simulator's own rules: model.ParseSelector, sim.WatchEvent) and the
// trace's objects as ConfigMaps named by their UID. It holds each pod's
// start-up GET, its informer's first LIST and every StatefulSet watch event
// until the simulator delivers the matching inbox item, so explicit
// schedules reproduce with real code. After a delivery it waits until the
// pods have finished reacting, observed, never assumed: no request in hand
// or event unwritten at the server, every goroutine of the host blocked
// (one stop-the-world stack snapshot), and both ends agreeing on the bytes
// of every open connection.
//
// What a pod exports is read from its real /metrics (Exporter); its
// configuration from the ConfigMap lists it sends (none until its first
// ConfigureSharding: 0/0) and its self-metrics
// (kube_state_metrics_shard_ordinal, kube_state_metrics_total_shards).
//
// Builds go to the user's cache directory (CacheDir), keyed by the release,
// the host source and the Go version; EnsureBuilt builds on first use.
package ksm
