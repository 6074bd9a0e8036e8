package model

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

func statefulSet(name, rv string, replicas *int32, labels map[string]string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "monitoring", ResourceVersion: rv, Labels: labels},
		Spec:       appsv1.StatefulSetSpec{Replicas: replicas},
	}
}

func ptr(n int32) *int32 { return &n }

var ksmLabels = map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}

// started returns pod ordinal 1 after GET and LIST of a StatefulSet with
// the given replicas at resourceVersion "1".
func started(t *testing.T, r Reducer, replicas int32) PodState {
	t.Helper()
	ss := statefulSet("ksm", "1", ptr(replicas), ksmLabels)
	s := NewPod("ksm-1")
	s, _ = Step(r, s, Got{StatefulSet: ss})
	s, _ = Step(r, s, Listed{Items: []*appsv1.StatefulSet{ss}})
	return s
}

func TestStepHandlers(t *testing.T) {
	r := FieldSelector{}
	tests := []struct {
		name       string
		from       func(t *testing.T) PodState
		event      Event
		wantConfig Config
		wantPhase  Phase
		wantNote   string
	}{
		{
			name:       "before the first Add the pod holds 0/0",
			from:       func(*testing.T) PodState { return NewPod("ksm-1") },
			event:      Got{StatefulSet: statefulSet("ksm", "1", ptr(3), ksmLabels)},
			wantConfig: Config{0, 0}, wantPhase: Detected, wantNote: "detected StatefulSet ksm",
		},
		{
			name: "LIST delivers an Add: shard from the ordinal, total from replicas",
			from: func(*testing.T) PodState {
				s, _ := Step(r, NewPod("ksm-1"), Got{StatefulSet: statefulSet("ksm", "1", ptr(3), nil)})
				return s
			},
			event:      Listed{Items: []*appsv1.StatefulSet{statefulSet("ksm", "1", ptr(3), nil)}},
			wantConfig: Config{1, 3}, wantPhase: Watching, wantNote: "AddFunc: reconfigured 0/0 -> 1/3",
		},
		{
			name: "nil replicas means one shard",
			from: func(*testing.T) PodState {
				s, _ := Step(r, NewPod("ksm-1"), Got{StatefulSet: statefulSet("ksm", "1", nil, nil)})
				return s
			},
			event:      Listed{Items: []*appsv1.StatefulSet{statefulSet("ksm", "1", nil, nil)}},
			wantConfig: Config{1, 1}, wantPhase: Watching, wantNote: "reconfigured 0/0 -> 1/1",
		},
		{
			name: "an empty LIST delivers no Add",
			from: func(*testing.T) PodState {
				s, _ := Step(r, NewPod("ksm-1"), Got{StatefulSet: statefulSet("ksm", "1", ptr(3), nil)})
				return s
			},
			event:      Listed{},
			wantConfig: Config{0, 0}, wantPhase: Watching, wantNote: "no Add",
		},
		{
			name:       "UpdateFunc reconfigures on a new total",
			from:       func(t *testing.T) PodState { return started(t, r, 2) },
			event:      Watched{Type: watch.Modified, Object: statefulSet("ksm", "2", ptr(3), ksmLabels)},
			wantConfig: Config{1, 3}, wantPhase: Watching, wantNote: "UpdateFunc: reconfigured 1/2 -> 1/3",
		},
		{
			name:       "UpdateFunc ignores an unchanged resourceVersion",
			from:       func(t *testing.T) PodState { return started(t, r, 2) },
			event:      Watched{Type: watch.Modified, Object: statefulSet("ksm", "1", ptr(3), ksmLabels)},
			wantConfig: Config{1, 2}, wantPhase: Watching, wantNote: "resourceVersion unchanged",
		},
		{
			name:       "an unchanged configuration does nothing",
			from:       func(t *testing.T) PodState { return started(t, r, 2) },
			event:      Watched{Type: watch.Modified, Object: statefulSet("ksm", "2", ptr(2), nil)},
			wantConfig: Config{1, 2}, wantPhase: Watching, wantNote: "UpdateFunc: unchanged 1/2",
		},
		{
			name:       "handlers ignore other StatefulSets",
			from:       func(t *testing.T) PodState { return started(t, r, 2) },
			event:      Watched{Type: watch.Added, Object: statefulSet("other", "2", ptr(5), ksmLabels)},
			wantConfig: Config{1, 2}, wantPhase: Watching, wantNote: "AddFunc: ignored, StatefulSet other is not ksm",
		},
		{
			name:       "a DELETED event only empties the cache: no DeleteFunc",
			from:       func(t *testing.T) PodState { return started(t, r, 2) },
			event:      Watched{Type: watch.Deleted, Object: statefulSet("ksm", "1", ptr(2), ksmLabels)},
			wantConfig: Config{1, 2}, wantPhase: Watching, wantNote: "no DeleteFunc",
		},
		{
			name: "ADDED after DELETED is an Add again",
			from: func(t *testing.T) PodState {
				s, _ := Step(r, started(t, r, 2), Watched{Type: watch.Deleted, Object: statefulSet("ksm", "1", ptr(2), ksmLabels)})
				return s
			},
			event:      Watched{Type: watch.Added, Object: statefulSet("ksm", "3", ptr(4), ksmLabels)},
			wantConfig: Config{1, 4}, wantPhase: Watching, wantNote: "AddFunc: reconfigured 1/2 -> 1/4",
		},
		{
			name:       "ADDED of a cached object is an update (client-go processDeltas)",
			from:       func(t *testing.T) PodState { return started(t, r, 2) },
			event:      Watched{Type: watch.Added, Object: statefulSet("ksm", "1", ptr(4), ksmLabels)},
			wantConfig: Config{1, 2}, wantPhase: Watching, wantNote: "UpdateFunc: ignored, resourceVersion unchanged",
		},
		{
			name:       "a stopped pod serves nothing and ignores events",
			from:       func(t *testing.T) PodState { s, _ := Step(r, started(t, r, 2), Stop{}); return s },
			event:      Watched{Type: watch.Modified, Object: statefulSet("ksm", "2", ptr(3), ksmLabels)},
			wantConfig: Config{1, 2}, wantPhase: Stopped, wantNote: "ignored: pod stopped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := tt.from(t)
			got, note := Step(r, from, tt.event)
			if got.Config != tt.wantConfig || got.Phase != tt.wantPhase {
				t.Errorf("Step = %v %v, want %v %v (note %q)", got.Phase, got.Config, tt.wantPhase, tt.wantConfig, note)
			}
			if !strings.Contains(note, tt.wantNote) {
				t.Errorf("note = %q, want it to contain %q", note, tt.wantNote)
			}
		})
	}
}

func TestStepDoesNotModifyItsInput(t *testing.T) {
	r := FieldSelector{}
	s := started(t, r, 2)
	cached := s.Cache["ksm"]
	_, _ = Step(r, s, Watched{Type: watch.Modified, Object: statefulSet("ksm", "2", ptr(3), nil)})
	_, _ = Step(r, s, Watched{Type: watch.Deleted, Object: cached})
	if s.Config != (Config{1, 2}) || s.Cache["ksm"] != cached {
		t.Fatalf("input state changed: %+v", s)
	}
}

func TestShardingSettings(t *testing.T) {
	ss := statefulSet("ksm", "1", ptr(3), nil)
	if _, err := ShardingSettings(ss, "other-1"); err == nil {
		t.Error("a pod name without the StatefulSet prefix parsed")
	}
	c, err := ShardingSettings(ss, "ksm-12")
	if err != nil || c != (Config{12, 3}) {
		t.Errorf("ShardingSettings(ksm-12) = %v, %v; want 12/3", c, err)
	}
}

func TestReducerListOptions(t *testing.T) {
	ss := statefulSet("ksm", "1", ptr(3), map[string]string{"b": "2", "a": "1"})
	if got := (LabelSelector{}).ListOptions(ss); got.LabelSelector != "a=1,b=2" || got.FieldSelector != "" {
		t.Errorf("label-selector options = %+v", got)
	}
	many := map[string]string{}
	for _, k := range []string{"e", "d", "c", "b", "a", "f", "g"} {
		many[k] = k
	}
	for range 50 { // map order varies from call to call; the string must not
		if got := (LabelSelector{}).ListOptions(statefulSet("ksm", "1", nil, many)); got.LabelSelector != "a=a,b=b,c=c,d=d,e=e,f=f,g=g" {
			t.Fatalf("label-selector options not canonical: %q", got.LabelSelector)
		}
	}
	if got := (LabelSelector{}).ListOptions(statefulSet("ksm", "1", nil, nil)); got.LabelSelector != "" {
		t.Errorf("empty labels must select everything, got %+v", got)
	}
	if got := (FieldSelector{}).ListOptions(ss); got.FieldSelector != "metadata.name=ksm" || got.LabelSelector != "" {
		t.Errorf("field-selector options = %+v", got)
	}
	for _, name := range ReducerNames() {
		if r, ok := ReducerByName(name); !ok || r.Name() != name {
			t.Errorf("ReducerByName(%q) = %v, %v", name, r, ok)
		}
	}
	if _, ok := ReducerByName("nope"); ok {
		t.Error("ReducerByName(nope) found something")
	}
}
