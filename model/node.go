package model

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/fields"
)

// This file is DaemonSet sharding (KSM README, "Daemonset sharding"): a
// KSM pod per node, run with --resources=pods --node=$(NODE_NAME), whose
// stores list and watch pods through the field selector spec.nodeName=X;
// and, from v2.14.0, one more with --track-unscheduled-pods for the pods
// no node runs (spec.nodeName=).

// NodeRules are a release's handling of DaemonSet sharding's flags.
type NodeRules struct {
	// StripsNode: GetNodeFieldSelector keeps only the characters
	// [a-zA-Z0-9_,-] of --node (v2.11.0 to v2.13.0, PR #2217), so a node
	// name with dots, as most cloud node names have, selects no pod
	// (issue #2374).
	StripsNode bool
	// TrackUnscheduledPods: the --track-unscheduled-pods flag exists
	// (v2.14.0, PR #2388). Before, KSM exits on it: "unknown flag".
	TrackUnscheduledPods bool
}

// NodeRulesOf returns the node rules of r: a release's own, and for the
// named reducers those of the release each models (label-selector:
// v2.12.0; field-selector: v2.13.0). Both strip --node and lack
// --track-unscheduled-pods.
//
// A reducer that wraps another (an Unwrap() Reducer method, as simrun's
// ksm backend wraps the release it runs) has the rules of the one it
// wraps.
func NodeRulesOf(r Reducer) NodeRules {
	for {
		switch x := r.(type) {
		case Release:
			return x.Node
		case interface{ Unwrap() Reducer }:
			r = x.Unwrap()
			continue
		}
		return NodeRules{StripsNode: true}
	}
}

// stripNode is v2.11.0's sanitising of --node (pkg/options/types.go,
// NodeType.GetNodeFieldSelector).
var stripNode = regexp.MustCompile("[^a-zA-Z0-9_,-]+")

// NodeFieldSelector returns the field selector on pods that a KSM pod
// started with f lists and watches them through, as its release builds it
// (pkg/app/server.go: "spec.nodeName=" with --track-unscheduled-pods,
// otherwise NodeType.GetNodeFieldSelector: no selector without --node). It
// fails, as KSM's flag parsing does, on a flag the release does not have.
func (n NodeRules) NodeFieldSelector(f Flags) (string, error) {
	switch {
	case f.TrackUnscheduledPods && !n.TrackUnscheduledPods:
		return "", fmt.Errorf("unknown flag: --track-unscheduled-pods")
	case f.TrackUnscheduledPods:
		return "spec.nodeName=", nil
	case f.Node == "":
		return fields.Everything().String(), nil
	}
	node := f.Node
	if n.StripsNode {
		node = stripNode.ReplaceAllString(node, "")
	}
	return fields.OneTermEqualSelector("spec.nodeName", node).String(), nil
}

// NodeSelector is a parsed field selector on pods' spec.nodeName.
type NodeSelector struct{ sel fields.Selector }

// ParseNodeSelector parses a selector NodeFieldSelector returned, with
// apimachinery's field selector parser, as the API server does.
func ParseNodeSelector(s string) (NodeSelector, error) {
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return NodeSelector{}, err
	}
	return NodeSelector{sel}, nil
}

// Matches reports whether a pod bound to node ("" for an unscheduled pod)
// passes the selector, as the pod registry's field set
// (pkg/registry/core/pod ToSelectableFields: spec.nodeName) evaluates it.
func (s NodeSelector) Matches(node string) bool {
	return s.sel.Matches(fields.Set{"spec.nodeName": node})
}

// String renders the selector; "" selects every pod.
func (s NodeSelector) String() string { return s.sel.String() }
