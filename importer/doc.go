// Package importer turns what happened to a real StatefulSet into a
// shardsim trace. Its input is what
//
//	kubectl get statefulset NAME -n NAMESPACE --watch --output-watch-events -o json
//
// prints: a stream of WatchEvent objects ({"type": "ADDED" | "MODIFIED" |
// "DELETED", "object": <apps/v1 StatefulSet>}). kubectl prints one compact
// object per line; the same stream pretty-printed (say, piped through jq)
// or concatenated without separators reads the same.
//
// The mapping:
//
//   - the first event (ADDED or MODIFIED) sets the cluster: the namespace,
//     the StatefulSet's name, labels and spec.replicas;
//   - a later change of metadata.labels becomes a relabel step (with the
//     complete new label map);
//   - a later change of spec.replicas becomes a scale step;
//   - a later change of spec.template becomes a restart step of the pods
//     the StatefulSet controller's rolling update replaces (ordinals
//     spec.replicas-1 down to the partition; none under OnDelete), as if
//     the rollout ran at once;
//   - one event changing several of these gives relabel, then scale, then
//     restart;
//   - updates that change none of them (status, annotations, a repeated
//     resourceVersion) are dropped;
//   - a DELETED event is an error: the KSM pods are gone with their
//     StatefulSet, so the stream must be cut before it.
//
// The stream says nothing about the objects KSM exports, so the caller
// gives their number (Options.Objects) and the trace generates that many
// UIDs. The trace has the eager schedule and no expect map (the user adds
// it); it is validated with sim.ParseTrace before it is returned.
//
// Errors (*Error) name the input, the event (counted from 1) and the line
// where it starts.
package importer
