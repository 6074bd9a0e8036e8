package model

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// Selector is a parsed list/watch selector, the form in which the API
// server holds the labelSelector and fieldSelector of one LIST or WATCH.
// The zero value is not valid; use ParseSelector.
type Selector struct {
	Label labels.Selector
	Field fields.Selector
}

// StatefulSetFields returns the fields a StatefulSet can be selected by.
// The apps/v1 StatefulSet registry only supports the generic object-meta
// fields (k8s.io/apiserver generic.ObjectMetaFieldsSet): metadata.name and
// metadata.namespace.
func StatefulSetFields(ss *appsv1.StatefulSet) fields.Set {
	return fields.Set{
		"metadata.name":      ss.Name,
		"metadata.namespace": ss.Namespace,
	}
}

// ParseSelector parses the selectors of opts the way the API server does
// for a StatefulSet LIST or WATCH. An unparsable selector, or a field
// selector on a field other than metadata.name or metadata.namespace, is
// an error (the API server answers 400 Bad Request).
func ParseSelector(opts metav1.ListOptions) (Selector, error) {
	ls, err := labels.Parse(opts.LabelSelector)
	if err != nil {
		return Selector{}, fmt.Errorf("invalid labelSelector %q: %w", opts.LabelSelector, err)
	}
	fs, err := fields.ParseSelector(opts.FieldSelector)
	if err != nil {
		return Selector{}, fmt.Errorf("invalid fieldSelector %q: %w", opts.FieldSelector, err)
	}
	for _, r := range fs.Requirements() {
		if r.Field != "metadata.name" && r.Field != "metadata.namespace" {
			return Selector{}, fmt.Errorf("field label not supported for StatefulSet: %s", r.Field)
		}
	}
	return Selector{Label: ls, Field: fs}, nil
}

// Matches reports whether ss passes both selectors.
func (s Selector) Matches(ss *appsv1.StatefulSet) bool {
	return s.Label.Matches(labels.Set(ss.Labels)) && s.Field.Matches(StatefulSetFields(ss))
}

// String renders the selector as query parameters, for logs.
func (s Selector) String() string {
	var out string
	if l := s.Label.String(); l != "" {
		out = "labelSelector=" + l
	}
	if f := s.Field.String(); f != "" {
		if out != "" {
			out += " "
		}
		out += "fieldSelector=" + f
	}
	if out == "" {
		return "everything"
	}
	return out
}
