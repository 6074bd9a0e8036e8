package model_test

import (
	"testing"

	"github.com/shardsim/shardsim/model"
)

type wrapped struct{ model.Reducer }

func (w wrapped) Unwrap() model.Reducer { return w.Reducer }

// TestNodeRulesOf: a release's node rules reach through wrappers, and the
// named reducers have those of v2.12.0 and v2.13.0.
func TestNodeRulesOf(t *testing.T) {
	v20, _ := model.ReleaseByVersion("v2.20.0")
	v13, _ := model.ReleaseByVersion("v2.13.0")
	for _, tc := range []struct {
		r    model.Reducer
		want model.NodeRules
	}{
		{v20, model.NodeRules{TrackUnscheduledPods: true}},
		{wrapped{v20}, model.NodeRules{TrackUnscheduledPods: true}},
		{wrapped{wrapped{v13}}, model.NodeRules{StripsNode: true}},
		{model.FieldSelector{}, v13.Node},
		{model.LabelSelector{}, model.NodeRules{StripsNode: true}},
	} {
		if got := model.NodeRulesOf(tc.r); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.r.Name(), got, tc.want)
		}
	}
}
