package model

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseSelector(t *testing.T) {
	ss := statefulSet("ksm", "1", nil, map[string]string{"app": "ksm", "version": "2.12.0"})
	tests := []struct {
		opts    metav1.ListOptions
		match   bool
		wantErr bool
	}{
		{opts: metav1.ListOptions{}, match: true},
		{opts: metav1.ListOptions{LabelSelector: "app=ksm,version=2.12.0"}, match: true},
		{opts: metav1.ListOptions{LabelSelector: "app=ksm,version=2.13.0"}, match: false},
		{opts: metav1.ListOptions{LabelSelector: "app=ksm,tier=x"}, match: false},
		{opts: metav1.ListOptions{FieldSelector: "metadata.name=ksm"}, match: true},
		{opts: metav1.ListOptions{FieldSelector: "metadata.name=other"}, match: false},
		{opts: metav1.ListOptions{FieldSelector: "metadata.namespace=monitoring"}, match: true},
		{opts: metav1.ListOptions{FieldSelector: "spec.replicas=3"}, wantErr: true},
		{opts: metav1.ListOptions{FieldSelector: "status.phase=Running"}, wantErr: true},
		{opts: metav1.ListOptions{LabelSelector: "app in (("}, wantErr: true},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.opts)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseSelector(%+v) error = %v, want error %v", tt.opts, err, tt.wantErr)
			continue
		}
		if err == nil && sel.Matches(ss) != tt.match {
			t.Errorf("ParseSelector(%+v).Matches = %v, want %v", tt.opts, !tt.match, tt.match)
		}
	}
}
