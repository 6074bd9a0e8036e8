package model

import (
	"fmt"
	"strconv"
)

// Flags are the sharding flags a KSM pod runs with (pkg/options): how its
// Deployment, StatefulSet or DaemonSet starts it. The zero value is a pod
// with the flags' defaults: --shard=0 --total-shards=1, no --node, which
// serves every object.
type Flags struct {
	// Autosharding: --pod and --pod-namespace are set (from the downward
	// API), so MetricsHandler.Run detects the StatefulSet and takes shard
	// and total from it, ignoring --shard and --total-shards.
	Autosharding bool
	// Shard and TotalShards are --shard and --total-shards (defaults 0
	// and 1).
	Shard       int32
	TotalShards int
	// Node is --node (DaemonSet sharding: a spec.nodeName field selector
	// on pods).
	Node string
	// TrackUnscheduledPods is --track-unscheduled-pods (v2.14.0, #2388):
	// the spec.nodeName= field selector, the pods no node runs.
	TrackUnscheduledPods bool
	// Resource is the one resource the pod serves, as --resources names
	// it: "configmaps" (the sharded objects) or "pods" (DaemonSet
	// sharding, whose field selector only pods support).
	Resource string
}

// StaticFlags returns the flags of a pod of a statically sharded
// Deployment (KSM README, "Horizontal sharding"): --shard and
// --total-shards, no --pod.
func StaticFlags(shard int32, total int) Flags {
	return Flags{Shard: shard, TotalShards: total, Resource: "configmaps"}
}

// AutoshardingFlags returns the flags of a pod of KSM's autosharding
// StatefulSet (KSM README, "Automated sharding").
func AutoshardingFlags() Flags {
	return Flags{Autosharding: true, TotalShards: 1, Resource: "configmaps"}
}

// Args renders the flags as KSM's command line for pod name in namespace,
// in a fixed order. Defaults are left out, as a manifest leaves them
// out, except a static shard's --shard and --total-shards.
func (f Flags) Args(name, namespace string) []string {
	var args []string
	if f.Autosharding {
		args = append(args, "--pod="+name, "--pod-namespace="+namespace)
	}
	static := !f.Autosharding && f.Node == "" && !f.TrackUnscheduledPods
	if f.Shard != 0 || static {
		args = append(args, "--shard="+strconv.Itoa(int(f.Shard)))
	}
	if f.TotalShards != 1 || static {
		args = append(args, "--total-shards="+strconv.Itoa(f.TotalShards))
	}
	if f.Node != "" {
		args = append(args, "--node="+f.Node)
	}
	if f.TrackUnscheduledPods {
		args = append(args, "--track-unscheduled-pods")
	}
	if f.Resource != "" {
		args = append(args, "--resources="+f.Resource)
	}
	return args
}

// String renders the sharding flags for logs and reports.
func (f Flags) String() string {
	switch {
	case f.Autosharding:
		return "autosharding"
	case f.TrackUnscheduledPods:
		return "--track-unscheduled-pods"
	case f.Node != "":
		return "--node=" + f.Node
	}
	return fmt.Sprintf("--shard=%d --total-shards=%d", f.Shard, f.TotalShards)
}
