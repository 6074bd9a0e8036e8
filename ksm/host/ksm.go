package main

import (
	"context"
	"fmt"
	"reflect"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"k8s.io/kube-state-metrics/v2/pkg/allowdenylist"
	"k8s.io/kube-state-metrics/v2/pkg/builder"
	generator "k8s.io/kube-state-metrics/v2/pkg/metric_generator"
	"k8s.io/kube-state-metrics/v2/pkg/metricshandler"
	"k8s.io/kube-state-metrics/v2/pkg/optin"
	"k8s.io/kube-state-metrics/v2/pkg/options"
)

// newKSM parses args with KSM's own options and wires one pod the way the
// release's pkg/app/server.go (RunKubeStateMetrics) does, step by step,
// with these differences, each because the simulator needs it:
//
//   - the clientset is made here, not by util.CreateKubeClient (before
//     v2.14 a process-wide singleton; every pod needs its own, with its own
//     User-Agent and connections). It sets the same content types; it skips
//     the discovery ServerVersion call and client-side rate limiting (time
//     is the simulator's, not the wall clock's);
//   - the self-metrics registry is per pod and holds only what the store
//     builder registers (kube_state_metrics_shard_ordinal, _total_shards,
//     the list/watch counters); no process or Go collectors, no telemetry
//     or metrics HTTP servers: /metrics is the handler's ServeHTTP;
//   - the store builder is the public pkg/builder, which lacks the internal
//     builder's WithUtilOptions (custom-resource clients only) and, from
//     v2.17, WithObjectLimit (left at 0, the flag's default: no limit);
//   - no custom-resource-state config, no config-file reload, no
//     proc.StartReaper.
//
// Any sharding flags run as the release runs them: with --pod and
// --pod-namespace MetricsHandler.Run detects the StatefulSet
// (autosharding); without them it logs "Autosharding disabled" and
// configures --shard and --total-shards at once (static sharding).
//
// It returns the pod's MetricsHandler.Run.
func newKSM(ctx context.Context, p *pod, apiServer string, args []string) (func(context.Context) error, error) {
	opts := options.NewOptions()
	cmd := &cobra.Command{
		Use:           "kube-state-metrics",
		RunE:          func(*cobra.Command, []string) error { return nil },
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	opts.AddFlags(cmd)
	cmd.SetArgs(args)
	if err := opts.Parse(); err != nil {
		return nil, fmt.Errorf("parse flags %q: %w", args, err)
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("validate flags %q: %w", args, err)
	}
	registry := prometheus.NewRegistry()
	b := builder.NewBuilder()
	b.WithMetrics(registry)

	var resources []string
	if len(opts.Resources) == 0 {
		resources = options.DefaultResources.AsSlice()
	} else {
		resources = opts.Resources.AsSlice()
	}
	if err := b.WithEnabledResources(resources); err != nil {
		return nil, fmt.Errorf("failed to set up resources: %w", err)
	}

	namespaces := opts.Namespaces.GetNamespaces()
	nsFieldSelector := namespaces.GetExcludeNSFieldSelector(opts.NamespacesDenylist)
	nodeFieldSelector := opts.Node.GetNodeFieldSelector()
	if trackUnscheduledPods(opts) { // v2.14.0, #2388
		nodeFieldSelector = "spec.nodeName="
	}
	merged, err := options.MergeFieldSelectors([]string{nsFieldSelector, nodeFieldSelector})
	if err != nil {
		return nil, err
	}
	b.WithNamespaces(namespaces)
	b.WithFieldSelectorFilter(merged)

	allowDenyList, err := allowdenylist.New(opts.MetricAllowlist, opts.MetricDenylist)
	if err != nil {
		return nil, err
	}
	if err := allowDenyList.Parse(); err != nil {
		return nil, fmt.Errorf("error initializing the allowdeny list: %w", err)
	}
	optIn, err := optin.NewMetricFamilyFilter(opts.MetricOptInList)
	if err != nil {
		return nil, fmt.Errorf("error initializing the opt-in metric list: %w", err)
	}
	b.WithFamilyGeneratorFilter(generator.NewCompositeFamilyGeneratorFilter(allowDenyList, optIn))
	b.WithUsingAPIServerCache(opts.UseAPIServerCache)
	b.WithGenerateStoresFunc(b.DefaultGenerateStoresFunc())

	client, err := newClient(apiServer, p)
	if err != nil {
		return nil, err
	}
	b.WithKubeClient(client)
	b.WithSharding(opts.Shard, opts.TotalShards)
	if err := withAllowAnnotations(b, opts.AnnotationsAllowList); err != nil {
		return nil, fmt.Errorf("failed to set up annotations allowlist: %w", err)
	}
	if err := b.WithAllowLabels(opts.LabelsAllowList); err != nil {
		return nil, fmt.Errorf("failed to set up labels allowlist: %w", err)
	}

	m := metricshandler.New(opts, client, b, opts.EnableGZIPEncoding)
	p.handler, p.registry = m, registry
	return m.Run, nil
}

// newClient makes the pod's clientset as util.CreateKubeClient configures
// it (protobuf preferred, JSON accepted), over the pod's own connections.
func newClient(apiServer string, p *pod) (kubernetes.Interface, error) {
	cfg := &rest.Config{
		Host:      apiServer,
		UserAgent: "kube-state-metrics/shardsim pod=" + p.name + " uid=" + p.uid,
		QPS:       -1, // no client-side rate limiting
		Dial:      p.dialer.DialContext,
	}
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	return kubernetes.NewForConfig(cfg)
}

// trackUnscheduledPods reads opts.TrackUnscheduledPods, a field from
// v2.14.0 on (false before).
func trackUnscheduledPods(opts *options.Options) bool {
	f := reflect.ValueOf(opts).Elem().FieldByName("TrackUnscheduledPods")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

// withAllowAnnotations calls Builder.WithAllowAnnotations, which returns an
// error from v2.11.0 on and nothing before.
func withAllowAnnotations(b *builder.Builder, l any) error {
	out := reflect.ValueOf(b).MethodByName("WithAllowAnnotations").Call([]reflect.Value{reflect.ValueOf(l)})
	if len(out) == 1 && !out[0].IsNil() {
		return out[0].Interface().(error)
	}
	return nil
}
