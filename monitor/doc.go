// Package monitor evaluates Prometheus alerting rules on the simulated
// scrapes of kube-state-metrics (KSM) pods, to tell which alerts a sharding
// scenario would raise, and writes the same evaluation as a `promtool test
// rules` file.
//
// # From the simulation to series
//
// The simulator reports one Scrape per scrape round, at multiples of the
// scrape interval from 0: every KSM pod that was up then (a Target) and the
// API server's object counts. Each KSM target, scraped with honor_labels as
// kube-prometheus scrapes KSM, gives series with its job and instance labels:
//
//	kube_state_metrics_shard_ordinal{job, instance, shard_ordinal="<n>"}  n
//	kube_state_metrics_total_shards{job, instance}                       total
//	kube_configmap_info{job, instance, namespace, configmap="<name>"}    1  (per exported ConfigMap)
//	kube_pod_info{job, instance, namespace, pod="<name>"}                1  (per exported pod)
//
// and the API server gives apiserver_storage_objects{job="apiserver",
// resource="<r>"}, the number of live objects of each resource. Samples are
// at the scrape's time (milliseconds from simulated time 0, which is the Unix
// epoch for the engine, as in promtool).
//
// # Staleness
//
// A series present in one scrape and absent from the next gets a staleness
// marker (value.StaleNaN) at the next scrape's time, as Prometheus's scrape
// loop writes one when a series leaves a target's /metrics or when a whole
// target disappears (its scrape loop stops). So a KSM pod that goes away, or
// an object a shard stops exporting, ends its series at the next scrape
// rather than 5 minutes (the lookback delta) later. Series of the last
// scrape have no marker: they stay visible for the lookback delta, so the
// scrapes should reach End.
//
// # Rules on Prometheus's own engine
//
// Nothing of PromQL or of the alerting state machine is re-implemented: the
// rules files are parsed by model/rulefmt, every alerting rule is a
// rules.AlertingRule, evaluated by its Eval at 0, Interval, 2*Interval, ...
// up to End inclusive, the loop promtool's rule unit tests run, with a
// promql.Engine set as promtool sets it (5m lookback delta) over an
// in-memory storage.Queryable of the series. For speed, each rule's
// expression is computed for all evaluation times by one range query, which
// PromQL defines as the instant query at each step; Eval receives it time by
// time through its query function and keeps the pending and firing states
// (for, keep_firing_for) itself. A test checks that this reports exactly what
// an instant query per evaluation (rules.EngineQueryFunc) reports. Unlike
// promtool, the ALERTS and ALERTS_FOR_STATE series the rules produce are not
// written back, so a rule that queries them is not supported.
//
// # Alignment with promtool
//
// WritePromtoolTest writes the series in promtool's expanding notation, at
// the same interval as the evaluation (promtool loads input_series every
// `interval` from 0 and evaluates at 0, evaluation_interval, ...), with
// `stale` for staleness markers and `_` for scrapes without a sample, and
// expects at each checked time the firing alerts with the labels and
// annotations the engine produced. promtool limits a query to 10000 samples
// at once; Evaluate does not, so a promtool test of a scenario with more
// object series than that fails in promtool alone.
//
// # Rules files
//
// MixinRules holds the two sharding alerts of the KSM mixin
// (KubeStateMetricsShardingMismatch, KubeStateMetricsShardsMissing), which
// look only at the shards' flags. CoverageRules holds this project's
// proposal, which looks at the objects: KubeStateMetricsObjectsExportedTwice
// (an object with more than one KSM series) and
// KubeStateMetricsObjectsMissing (fewer distinct objects exported than the
// API server stores, which needs apiserver_storage_objects: no KSM series
// carries the number of objects that exist).
//
// What they say, as the tests reproduce with real KSM behaviour (each alert
// after 15 minutes pending): pods configured 0/3 1/3 2/3 raise nothing; after
// a relabel then scale-up that leaves pods 0/2 1/2 2/3,
// KubeStateMetricsShardingMismatch fires and KubeStateMetricsShardsMissing
// does not (ordinals 0, 1, 2 are all there); after a scale-down that leaves
// pods 0/3 1/3, KubeStateMetricsShardsMissing fires and
// KubeStateMetricsShardingMismatch does not. Pods that never configured
// sharding export shard_ordinal 0 and total_shards 1 and every object: three
// of them raise no mixin alert at all, only
// KubeStateMetricsObjectsExportedTwice. When every KSM pod is down, only
// KubeStateMetricsObjectsMissing fires (the mixin's expressions are empty).
package monitor
