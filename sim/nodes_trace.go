package sim

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/shardsim/shardsim/internal/textsafe"
)

// This file is DaemonSet sharding's part of the trace format: its
// cluster fields, its ops and their validation.

// DaemonSet is KSM's DaemonSet sharding of pods (cluster.daemonSet).
type DaemonSet struct {
	Name string `json:"name"`
	// Unscheduled says what serves the pods bound to no node: nothing
	// (the default), UnscheduledTrack or UnscheduledAll.
	Unscheduled string `json:"unscheduled,omitempty"`
}

// What serves the unscheduled pods (DaemonSet.Unscheduled).
const (
	// UnscheduledNone: no KSM pod serves them.
	UnscheduledNone = "none"
	// UnscheduledTrack: a Deployment's KSM pod run with
	// --resources=pods --track-unscheduled-pods (v2.14.0, #2388; the
	// flag is unknown before, and KSM exits on it).
	UnscheduledTrack = "track"
	// UnscheduledAll: a Deployment's KSM pod run with --resources=pods
	// and no --node, which serves every pod: before v2.14.0 the only way
	// to export the unscheduled ones, at the price of exporting every
	// scheduled pod twice.
	UnscheduledAll = "all"
)

// PodObjects are the pods at the start of a DaemonSet sharding trace
// (cluster.pods): Generate pods named by UIDs derived from Seed, bound to
// the nodes in turn, except the last Unscheduled of them, bound to none.
type PodObjects struct {
	Generate    int    `json:"generate"`
	Seed        uint64 `json:"seed,omitempty"`
	Unscheduled int    `json:"unscheduled,omitempty"`
}

// Ops of DaemonSet sharding.
const (
	OpAddNode    = "addNode"    // a node joins; the DaemonSet runs a KSM pod on it
	OpRemoveNode = "removeNode" // a node is deleted: its KSM pod and its pods go
	OpTaint      = "taint"      // a NoExecute taint KSM's DaemonSet does not tolerate: its pod is evicted, not replaced
	OpUntaint    = "untaint"    // the taint is removed: the DaemonSet runs a KSM pod there again
	OpEvict      = "evict"      // the node's KSM pod is evicted; the DaemonSet controller replaces it
	OpCreatePods = "createPods" // new pods, bound to a node or ("") to none
	OpBind       = "bind"       // the scheduler binds unscheduled pods to a node
)

func isNodeOp(op string) bool {
	switch op {
	case OpAddNode, OpRemoveNode, OpTaint, OpUntaint, OpEvict, OpCreatePods, OpBind:
		return true
	}
	return false
}

// validateDaemonSet checks cluster.daemonSet, cluster.nodes and
// cluster.pods, and returns the nodes (nil without a DaemonSet).
func validateDaemonSet(c *Cluster) (map[string]bool, *fieldErr) {
	if c.DaemonSet == nil {
		switch {
		case c.Nodes != nil:
			return nil, &fieldErr{"cluster.nodes", "nodes need a DaemonSet (cluster.daemonSet) to shard their pods"}
		case c.Pods != nil:
			return nil, &fieldErr{"cluster.pods", "pods are DaemonSet sharding's objects: they need cluster.daemonSet"}
		}
		return nil, nil
	}
	d := c.DaemonSet
	if d.Name == "" {
		return nil, &fieldErr{"cluster.daemonSet.name", "required"}
	}
	if errs := validation.IsDNS1123Subdomain(d.Name); len(errs) > 0 {
		return nil, &fieldErr{"cluster.daemonSet.name", fmt.Sprintf("invalid DaemonSet name %s: %s", textsafe.Quote(d.Name), strings.Join(errs, "; "))}
	}
	switch d.Unscheduled {
	case "", UnscheduledTrack, UnscheduledAll:
	case UnscheduledNone:
		d.Unscheduled = ""
	default:
		return nil, &fieldErr{"cluster.daemonSet.unscheduled", fmt.Sprintf("unknown value %s, want %q (no KSM pod serves the pods bound to no node; the default), %q (a Deployment with --track-unscheduled-pods, v2.14.0) or %q (a Deployment without --node: every pod)",
			textsafe.Quote(d.Unscheduled), UnscheduledNone, UnscheduledTrack, UnscheduledAll)}
	}
	nodes := map[string]bool{}
	for i, n := range c.Nodes {
		if err := validateNodeName(n); err != "" {
			return nil, &fieldErr{fmt.Sprintf("cluster.nodes[%d]", i), err}
		}
		if nodes[n] {
			return nil, &fieldErr{fmt.Sprintf("cluster.nodes[%d]", i), fmt.Sprintf("node %s is named twice", textsafe.Quote(n))}
		}
		nodes[n] = true
	}
	if p := c.Pods; p != nil {
		switch {
		case p.Generate < 0 || p.Generate > MaxObjects:
			return nil, &fieldErr{"cluster.pods.generate", fmt.Sprintf("must be between 0 and the simulator's limit of %d, got %d", MaxObjects, p.Generate)}
		case p.Unscheduled < 0 || p.Unscheduled > p.Generate:
			return nil, &fieldErr{"cluster.pods.unscheduled", fmt.Sprintf("must be between 0 and generate (%d), got %d", p.Generate, p.Unscheduled)}
		case p.Unscheduled < p.Generate && len(c.Nodes) == 0:
			return nil, &fieldErr{"cluster.pods.unscheduled", "with no node (cluster.nodes) every pod is unscheduled: set unscheduled to generate, or add nodes"}
		}
	}
	return nodes, nil
}

// validateNodeName checks a node name as the API server validates a Node's
// (a DNS subdomain: dots allowed, as cloud node names have them).
func validateNodeName(n string) string {
	if n == "" {
		return "empty node name"
	}
	if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
		return fmt.Sprintf("invalid node name %s: %s", textsafe.Quote(n), strings.Join(errs, "; "))
	}
	return ""
}

// validateNodeOp checks a DaemonSet sharding op against the nodes and the
// live pods so far, and follows them.
func validateNodeOp(s *Step, nodes map[string]bool, pods *int) *fieldErr {
	if nodes == nil {
		return &fieldErr{"op", fmt.Sprintf("%q is a DaemonSet sharding op: this trace has no cluster.daemonSet", s.Op)}
	}
	if s.Node == nil {
		return &fieldErr{"node", "required: the node"}
	}
	n := *s.Node
	switch s.Op {
	case OpAddNode:
		if err := validateNodeName(n); err != "" {
			return &fieldErr{"node", err}
		}
		if nodes[n] {
			return &fieldErr{"node", fmt.Sprintf("node %s exists already", textsafe.Quote(n))}
		}
		nodes[n] = true
	case OpRemoveNode, OpTaint, OpUntaint, OpEvict:
		if !nodes[n] {
			return &fieldErr{"node", fmt.Sprintf("no node %s at this step (the nodes are: %s)", textsafe.Quote(n), strings.Join(sortedKeys(nodes), ", "))}
		}
		if s.Op == OpRemoveNode {
			delete(nodes, n)
		}
	case OpCreatePods:
		if n != "" && !nodes[n] {
			return &fieldErr{"node", fmt.Sprintf("no node %s at this step (the nodes are: %s; \"\" creates unscheduled pods)", textsafe.Quote(n), strings.Join(sortedKeys(nodes), ", "))}
		}
		if s.Generate < 1 || s.Generate > MaxObjects-*pods {
			return &fieldErr{"generate", fmt.Sprintf("must be between 1 and the simulator's limit of %d live pods, got %d", MaxObjects-*pods, s.Generate)}
		}
		*pods += s.Generate
	case OpBind:
		if !nodes[n] {
			return &fieldErr{"node", fmt.Sprintf("no node %s at this step (the nodes are: %s)", textsafe.Quote(n), strings.Join(sortedKeys(nodes), ", "))}
		}
		if s.Count < 1 {
			return &fieldErr{"count", fmt.Sprintf("must be at least 1: the number of unscheduled pods to bind, got %d", s.Count)}
		}
	}
	return nil
}
