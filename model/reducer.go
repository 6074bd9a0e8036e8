package model

import (
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// A Reducer is one strategy a KSM pod uses to keep following its
// StatefulSet after start. Strategies differ only in the list/watch options
// of the StatefulSet informer, built from the StatefulSet the pod read with
// its start-up GET; the handlers that fold the informer's events into a
// sharding configuration are KSM's and shared by all (see Step).
//
// A new strategy is one new file: a type implementing Reducer, added to
// Reducers.
type Reducer interface {
	// Name is the stable identifier used in traces, flags and reports.
	Name() string
	// Models names the KSM releases whose behaviour the reducer reproduces.
	Models() string
	// ListOptions returns the options of the StatefulSet informer, given
	// the StatefulSet as read at pod start. It mirrors KSM's
	// NewFilteredListWatchFromClient tweak function.
	ListOptions(ss *appsv1.StatefulSet) metav1.ListOptions
	// ListWatch returns the rules of the data plane: KSM's sharded
	// ListWatch and the client-go reflector over it.
	ListWatch() ListWatchRules
}

// LabelSelector is KSM up to v2.12.0: the informer selects the StatefulSet
// by the labels it had when the pod started (pkg/metricshandler,
// `o.LabelSelector = fields.SelectorFromSet(ss.Labels).String()`).
// Changing or removing one of those labels makes the StatefulSet vanish
// from the watch; empty labels select everything.
type LabelSelector struct{}

// Name implements Reducer.
func (LabelSelector) Name() string { return "label-selector" }

// Models implements Reducer.
func (LabelSelector) Models() string { return "kube-state-metrics <= v2.12.0" }

// ListOptions implements Reducer. KSM builds the label selector string with
// fields.SelectorFromSet, which lists the terms in map iteration order; the
// API server parses it as a label selector, so the order does not matter.
// The string is returned in the canonical (sorted) form labels.Parse gives
// it, so that logs and reports are deterministic.
func (LabelSelector) ListOptions(ss *appsv1.StatefulSet) metav1.ListOptions {
	sel := fields.SelectorFromSet(ss.Labels).String()
	if parsed, err := labels.Parse(sel); err == nil {
		sel = parsed.String()
	}
	return metav1.ListOptions{LabelSelector: sel}
}

// ListWatch implements Reducer: v2.12.0's (KSMListWatch).
func (LabelSelector) ListWatch() ListWatchRules { return KSMListWatch }

// FieldSelector is KSM from v2.13.0 (kubernetes/kube-state-metrics#2347):
// the informer selects the StatefulSet by metadata.name, which labels
// cannot break.
type FieldSelector struct{}

// Name implements Reducer.
func (FieldSelector) Name() string { return "field-selector" }

// Models implements Reducer.
func (FieldSelector) Models() string { return "kube-state-metrics >= v2.13.0" }

// ListOptions implements Reducer.
func (FieldSelector) ListOptions(ss *appsv1.StatefulSet) metav1.ListOptions {
	return metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", ss.Name).String()}
}

// ListWatch implements Reducer: v2.13.0's (KSMListWatch).
func (FieldSelector) ListWatch() ListWatchRules { return KSMListWatch }

// Reducers returns the named reducers, in report order: the two
// StatefulSet strategies. Every release is a reducer too (Releases,
// ReducerByName).
func Reducers() []Reducer {
	return []Reducer{LabelSelector{}, FieldSelector{}}
}

// ReducerNames returns the names of Reducers, in report order.
func ReducerNames() []string {
	var names []string
	for _, r := range Reducers() {
		names = append(names, r.Name())
	}
	return names
}

// ReducerByName returns the reducer with the given name: a named reducer
// or a release ("v2.19.1").
func ReducerByName(name string) (Reducer, bool) {
	i := slices.IndexFunc(Reducers(), func(r Reducer) bool { return r.Name() == name })
	if i < 0 {
		if r, ok := ReleaseByVersion(name); ok {
			return r, true
		}
		return nil, false
	}
	return Reducers()[i], true
}

// KnownReducers describes the names ReducerByName accepts, for messages:
// "label-selector, field-selector or a release v2.10.0 to v2.20.0".
func KnownReducers() string {
	vs := ReleaseVersions()
	return strings.Join(ReducerNames(), ", ") + " or a kube-state-metrics release " + vs[0] + " to " + vs[len(vs)-1] + " (" + strings.Join(vs, ", ") + ")"
}
