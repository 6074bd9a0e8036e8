package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/shardsim/shardsim/internal/textsafe"
	"github.com/shardsim/shardsim/model"
)

// This file is static sharding (KSM README, "Horizontal sharding"): one
// Deployment of KSM pods per shard, each started with --shard and
// --total-shards, and the Deployment controller that rolls them out.

// Deployment is one Deployment of KSM pods run with static sharding flags
// (cluster.deployments, and the apply op). Replicas defaults to 1 and the
// strategy to RollingUpdate with maxSurge and maxUnavailable 25%, as the
// API server's defaulting does.
type Deployment struct {
	Name        string                     `json:"name"`
	Shard       int32                      `json:"shard"`
	TotalShards int                        `json:"totalShards"`
	Replicas    *int32                     `json:"replicas,omitempty"`
	Strategy    *appsv1.DeploymentStrategy `json:"strategy,omitempty"`
}

// Ops of static sharding.
const (
	// OpApply creates or updates Deployments (kubectl apply): a new
	// --shard or --total-shards rolls the Deployment's pods out by its
	// strategy; a new replicas count scales it.
	OpApply = "apply"
	// OpDeleteDeployment deletes a Deployment and its pods.
	OpDeleteDeployment = "deleteDeployment"
)

// MaxDeploymentReplicas bounds one Deployment's replicas (each is a lane).
const MaxDeploymentReplicas = 64

func (d Deployment) replicas() int {
	if d.Replicas == nil {
		return 1
	}
	return int(*d.Replicas)
}

// flags are the sharding flags of the Deployment's pod template.
func (d Deployment) flags() model.Flags { return model.StaticFlags(d.Shard, d.TotalShards) }

// strategyType is the strategy's type, RollingUpdate when unset.
func (d Deployment) strategyType() appsv1.DeploymentStrategyType {
	if d.Strategy == nil || d.Strategy.Type == "" {
		return appsv1.RollingUpdateDeploymentStrategyType
	}
	return d.Strategy.Type
}

// surge resolves maxSurge and maxUnavailable against the replicas as the
// Deployment controller's ResolveFenceposts does
// (pkg/controller/deployment/util/deployment_util.go): a percentage of
// maxSurge rounds up, one of maxUnavailable down, and when both come to
// 0 maxUnavailable is 1.
func (d Deployment) surge() (maxSurge, maxUnavailable int, err error) {
	quarter := intstr.FromString("25%")
	s, u := &quarter, &quarter
	if d.Strategy != nil && d.Strategy.RollingUpdate != nil {
		if d.Strategy.RollingUpdate.MaxSurge != nil {
			s = d.Strategy.RollingUpdate.MaxSurge
		}
		if d.Strategy.RollingUpdate.MaxUnavailable != nil {
			u = d.Strategy.RollingUpdate.MaxUnavailable
		}
	}
	n := d.replicas()
	if maxSurge, err = intstr.GetScaledValueFromIntOrPercent(s, n, true); err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	if maxUnavailable, err = intstr.GetScaledValueFromIntOrPercent(u, n, false); err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if maxSurge == 0 && maxUnavailable == 0 {
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable, nil
}

// validate checks one Deployment as the API server's validation would
// (apps/v1 ValidateDeploymentSpec), and the flags as KSM parses them.
func (d Deployment) validate() *fieldErr {
	switch {
	case d.Name == "":
		return &fieldErr{".name", "required"}
	case len(validation.IsDNS1123Subdomain(d.Name)) > 0:
		return &fieldErr{".name", fmt.Sprintf("invalid Deployment name %s: %s", textsafe.Quote(d.Name), strings.Join(validation.IsDNS1123Subdomain(d.Name), "; "))}
	case d.Shard < 0:
		return &fieldErr{".shard", fmt.Sprintf("must be a non-negative integer (--shard), got %d", d.Shard)}
	case d.TotalShards < 1:
		return &fieldErr{".totalShards", fmt.Sprintf("must be at least 1 (--total-shards; 1 disables sharding), got %d", d.TotalShards)}
	case d.Replicas != nil && (*d.Replicas < 0 || *d.Replicas > MaxDeploymentReplicas):
		return &fieldErr{".replicas", fmt.Sprintf("must be between 0 and the simulator's limit of %d, got %d", MaxDeploymentReplicas, *d.Replicas)}
	}
	if d.Strategy == nil {
		return nil
	}
	switch d.Strategy.Type {
	case "", appsv1.RollingUpdateDeploymentStrategyType:
	case appsv1.RecreateDeploymentStrategyType:
		if d.Strategy.RollingUpdate != nil {
			return &fieldErr{".strategy.rollingUpdate", "may not be specified when strategy type is 'Recreate'"}
		}
	default:
		return &fieldErr{".strategy.type", fmt.Sprintf("unknown strategy %s, want %q or %q", textsafe.Quote(string(d.Strategy.Type)), appsv1.RollingUpdateDeploymentStrategyType, appsv1.RecreateDeploymentStrategyType)}
	}
	if ru := d.Strategy.RollingUpdate; ru != nil {
		// apps/v1 ValidateRollingUpdateDeployment.
		for _, f := range []struct {
			name string
			v    *intstr.IntOrString
		}{{"maxSurge", ru.MaxSurge}, {"maxUnavailable", ru.MaxUnavailable}} {
			if f.v == nil {
				continue
			}
			n, err := intstr.GetScaledValueFromIntOrPercent(f.v, 100, true)
			if err != nil || n < 0 {
				return &fieldErr{".strategy.rollingUpdate." + f.name, fmt.Sprintf("must be a non-negative integer or percentage, got %s", textsafe.Quote(f.v.String()))}
			}
			if f.name == "maxUnavailable" && f.v.Type == intstr.String && n > 100 {
				return &fieldErr{".strategy.rollingUpdate." + f.name, "must not be greater than 100%"}
			}
		}
		if isZero(ru.MaxSurge) && isZero(ru.MaxUnavailable) {
			return &fieldErr{".strategy.rollingUpdate.maxUnavailable", "may not be 0 when maxSurge is 0"}
		}
	}
	return nil
}

// isZero reports whether v is set and comes to 0 whatever the replicas.
func isZero(v *intstr.IntOrString) bool {
	if v == nil {
		return false
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(v, 100, true)
	return err == nil && n == 0
}

// deployment is one Deployment's state in a replay: its current spec, its
// template revision and the lane of each replica slot.
type deployment struct {
	spec     Deployment
	revision int
	lanes    []int // lanes[slot], allocated when the slot is first used
	created  int   // pods created, for their names
}

// applyDeployments is the apply op (and the cluster's start): each
// Deployment is created, or updated and rolled out.
func (s *Sim) applyDeployments(specs []Deployment) {
	for _, spec := range specs {
		i := slices.IndexFunc(s.deployments, func(d *deployment) bool { return d.spec.Name == spec.Name })
		if i < 0 {
			d := &deployment{spec: spec, revision: 1}
			s.deployments = append(s.deployments, d)
			s.logf(LogWrite, -1, "", "Deployment %s created: %d replica(s) with %s", spec.Name, spec.replicas(), spec.flags().String())
			s.scaleDeployment(d)
			continue
		}
		d := s.deployments[i]
		old := d.spec
		d.spec = spec
		templateChanged := old.Shard != spec.Shard || old.TotalShards != spec.TotalShards
		if !templateChanged && old.replicas() == spec.replicas() {
			s.logf(LogNoWrite, -1, "", "Deployment %s unchanged: no rollout", spec.Name)
			continue
		}
		if !templateChanged {
			s.logf(LogWrite, -1, "", "Deployment %s scaled %d -> %d", spec.Name, old.replicas(), spec.replicas())
			s.scaleDeployment(d)
			continue
		}
		s.rollout(d, old)
	}
}

// scaleDeployment is the ReplicaSet controller of the current revision:
// it creates pods in the slots below replicas that have none and deletes
// the pods of the slots at or above it.
func (s *Sim) scaleDeployment(d *deployment) {
	want := d.spec.replicas()
	for slot := range max(want, len(d.lanes)) {
		p := s.laneNewest(d, slot)
		alive := p != nil && !p.stopping && p.state.Phase != model.Stopped
		switch {
		case slot < want && !alive:
			s.createDeploymentPod(d, slot, nil)
		case slot >= want && alive:
			s.stop(p)
		}
	}
}

// rollout replaces the pods of d's old template (old) by pods of its new
// one, slot by slot, as the Deployment controller orders them:
//   - RollingUpdate with maxSurge >= 1: the slot's new pod first; the old
//     one is deleted once the new one is ready (KSM's readiness probe,
//     /readyz, answers once the process serves: it does not wait for the
//     stores to sync);
//   - RollingUpdate with maxSurge 0: the old pod first, its replacement
//     created as it terminates;
//   - Recreate: every old pod first; the new pods start once all the old
//     ones are gone.
//
// Bound: slots roll one after another within the delivery order; how many
// roll at once (maxSurge, maxUnavailable above 1) is not modelled.
func (s *Sim) rollout(d *deployment, old Deployment) {
	d.revision++
	spec := d.spec
	strategy := spec.strategyType()
	surge, _, _ := spec.surge()
	s.logf(LogWrite, -1, "", "Deployment %s rolled out (revision %d, %s): %s -> %s, %d replica(s)",
		spec.Name, d.revision, describeStrategy(spec), old.flags().String(), spec.flags().String(), spec.replicas())
	want := spec.replicas()
	var olds []*pod
	for slot := range max(want, len(d.lanes)) {
		p := s.laneNewest(d, slot)
		alive := p != nil && !p.stopping && p.state.Phase != model.Stopped
		switch {
		case slot >= want:
			if alive {
				s.stop(p)
			}
		case !alive:
			s.createDeploymentPod(d, slot, nil)
		case strategy == appsv1.RecreateDeploymentStrategyType:
			s.stop(p)
			olds = append(olds, p)
		case surge >= 1:
			s.createDeploymentPod(d, slot, nil)
			s.stop(p)
		default:
			s.stop(p)
			s.createDeploymentPod(d, slot, nil)
		}
	}
	if strategy == appsv1.RecreateDeploymentStrategyType {
		for slot := range want {
			if p := s.laneNewest(d, slot); p == nil || p.stopping || p.state.Phase == model.Stopped {
				s.createDeploymentPod(d, slot, olds)
			}
		}
	}
}

func describeStrategy(d Deployment) string {
	if d.strategyType() == appsv1.RecreateDeploymentStrategyType {
		return "Recreate"
	}
	surge, unavailable, _ := d.surge()
	return fmt.Sprintf("RollingUpdate maxSurge=%d maxUnavailable=%d", surge, unavailable)
}

// deleteDeployment deletes a Deployment; its pods terminate.
func (s *Sim) deleteDeployment(name string) {
	i := slices.IndexFunc(s.deployments, func(d *deployment) bool { return d.spec.Name == name })
	if i < 0 {
		return
	}
	d := s.deployments[i]
	s.deployments = slices.Delete(s.deployments, i, i+1)
	s.logf(LogWrite, -1, "", "Deployment %s deleted: its pods terminate", name)
	for slot := range d.lanes {
		if p := s.laneNewest(d, slot); p != nil {
			s.stop(p)
		}
	}
}

// laneNewest returns the newest pod of d's slot (nil if the slot never had
// one).
func (s *Sim) laneNewest(d *deployment, slot int) *pod {
	if slot >= len(d.lanes) {
		return nil
	}
	return s.newest(d.lanes[slot])
}

// createDeploymentPod creates a pod of d's current template in slot; its
// start waits until every pod of waitStopped is gone (Recreate).
func (s *Sim) createDeploymentPod(d *deployment, slot int, waitStopped []*pod) {
	for len(d.lanes) <= slot {
		d.lanes = append(d.lanes, s.newLane(laneName(d.spec.Name, len(d.lanes))))
	}
	s.createPod(d.lanes[slot], d.nextPodName(), d.spec.flags(), waitStopped)
}

// nextPodName names the Deployment's next pod, as its ReplicaSet would
// give it a fresh suffix: "<deployment>-<revision>-<n>".
func (d *deployment) nextPodName() string {
	d.created++
	return d.spec.Name + "-" + strconv.Itoa(d.revision) + "-" + strconv.Itoa(d.created)
}

// laneName names a Deployment's lane: the Deployment for its first slot,
// "<deployment>#<slot>" for the others.
func laneName(deployment string, slot int) string {
	if slot == 0 {
		return deployment
	}
	return deployment + "#" + strconv.Itoa(slot)
}

// desiredStatic is the number of pods the Deployments want.
func (s *Sim) desiredStatic() int {
	n := 0
	for _, d := range s.deployments {
		n += d.spec.replicas()
	}
	return n
}

// laneTracker follows, for Validate, the lanes the Deployments of a
// trace use, allocated in the order the simulator allocates them: by
// Deployment, then by slot, each slot when first wanted.
type laneTracker struct {
	deps  []*trackedDeployment
	lanes int
}

type trackedDeployment struct {
	name     string
	replicas int
	lanes    []int
}

func (t *laneTracker) apply(specs []Deployment, field string) *fieldErr {
	seen := map[string]bool{}
	for j, d := range specs {
		at := fmt.Sprintf("%s[%d]", field, j)
		if err := d.validate(); err != nil {
			return &fieldErr{at + err.field, err.msg}
		}
		if seen[d.Name] {
			return &fieldErr{at + ".name", fmt.Sprintf("Deployment %s is named twice", textsafe.Quote(d.Name))}
		}
		seen[d.Name] = true
		i := slices.IndexFunc(t.deps, func(x *trackedDeployment) bool { return x.name == d.Name })
		if i < 0 {
			t.deps = append(t.deps, &trackedDeployment{name: d.Name})
			i = len(t.deps) - 1
		}
		td := t.deps[i]
		td.replicas = d.replicas()
		for len(td.lanes) < td.replicas {
			td.lanes = append(td.lanes, t.lanes)
			t.lanes++
		}
	}
	return nil
}

func (t *laneTracker) delete(name string) bool {
	i := slices.IndexFunc(t.deps, func(x *trackedDeployment) bool { return x.name == name })
	if i >= 0 {
		t.deps = slices.Delete(t.deps, i, i+1)
	}
	return i >= 0
}

// live reports whether lane holds a pod a restart can delete.
func (t *laneTracker) live(lane int) bool {
	for _, d := range t.deps {
		if i := slices.Index(d.lanes, lane); i >= 0 && i < d.replicas {
			return true
		}
	}
	return false
}

func (t *laneTracker) names() []string {
	out := make([]string, len(t.deps))
	for i, d := range t.deps {
		out[i] = d.name
	}
	return out
}

// describe renders the live lanes: "0 (ksm-shard-0), 1 (ksm-shard-1)".
func (t *laneTracker) describe() string {
	var parts []string
	for _, d := range t.deps {
		for slot, l := range d.lanes {
			if slot < d.replicas {
				parts = append(parts, fmt.Sprintf("%d (%s)", l, laneName(d.name, slot)))
			}
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
