package properties

import (
	"slices"

	"github.com/shardsim/shardsim/sim"
	appsv1 "k8s.io/api/apps/v1"
)

// This file is the pod failure ops of the autosharding generator
// (GenConfig.Failures): the pod management policy drawn per trace, and
// failStart, crashLoop and recover among the ops.

// MaxFailStarts bounds the count of a generated failStart op (1..3).
const MaxFailStarts = 3

// maxFailPods bounds the ordinals one failure op names (1..2).
const maxFailPods = 2

// drawPolicy draws the StatefulSet's podManagementPolicy, OrderedReady
// (the API server's default) first.
func drawPolicy(src Source) appsv1.PodManagementPolicyType {
	return []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement}[src.Draw("pod management", 2)]
}

// Failures reports whether the builder's Op draws the pod failure ops.
func (b *Builder) Failures() bool { return b.cfg.Failures }

// PodManagementPolicy is the StatefulSet's podManagementPolicy.
func (b *Builder) PodManagementPolicy() appsv1.PodManagementPolicyType {
	return b.trace.Cluster.StatefulSet.PodManagementPolicy
}

// CrashLooping returns the ordinals a crashLoop op named and no recover
// or failStart op has named since, sorted.
func (b *Builder) CrashLooping() []int { return slices.Clone(b.looping) }

// failureOrdinals draws 1..maxFailPods distinct ordinals among those that
// have had a pod and the next one (so that a scale-up can meet it),
// sorted.
func (b *Builder) failureOrdinals(src Source, what string) []int {
	n := min(b.slots+1, sim.MaxReplicas)
	rest := make([]int, n)
	for i := range rest {
		rest[i] = i
	}
	k := 1 + src.Draw(what+" count", min(maxFailPods, n))
	var pods []int
	for range k {
		i := src.Draw(what+" pod", len(rest))
		pods = append(pods, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	slices.Sort(pods)
	return pods
}

// FailStart makes the next 1..MaxFailStarts start-ups of 1..2 ordinals
// fail, each followed by the container's restart. It ends a crash loop
// of those ordinals.
func (b *Builder) FailStart(src Source) {
	pods := b.failureOrdinals(src, "failStart")
	c := 1 + src.Draw("failStart starts", MaxFailStarts)
	b.looping = slices.DeleteFunc(b.looping, func(o int) bool { return slices.Contains(pods, o) })
	b.apply(sim.Step{Op: sim.OpFailStart, Pods: pods, Count: c})
}

// CrashLoop makes every start-up of 1..2 ordinals fail until recover.
func (b *Builder) CrashLoop(src Source) {
	pods := b.failureOrdinals(src, "crashLoop")
	for _, o := range pods {
		if !slices.Contains(b.looping, o) {
			b.looping = append(b.looping, o)
		}
	}
	slices.Sort(b.looping)
	b.apply(sim.Step{Op: sim.OpCrashLoop, Pods: pods})
}

// CanRecover reports whether an ordinal crash-loops.
func (b *Builder) CanRecover() bool { return len(b.looping) > 0 }

// Recover ends the crash loop of a non-empty subset of the crash-looping
// ordinals. It reports false, drawing nothing, unless CanRecover.
func (b *Builder) Recover(src Source) bool {
	if !b.CanRecover() {
		return false
	}
	rest := slices.Clone(b.looping)
	k := 1 + src.Draw("recover count", len(rest))
	var pods []int
	for range k {
		i := src.Draw("recover pod", len(rest))
		pods = append(pods, rest[i])
		rest = slices.Delete(rest, i, i+1)
	}
	slices.Sort(pods)
	b.looping = rest
	b.apply(sim.Step{Op: sim.OpRecover, Pods: pods})
	return true
}

// failureOps adds the failure ops valid now to ops.
func (b *Builder) failureOps(ops []opWeight) []opWeight {
	ops = append(ops, opWeight{sim.OpFailStart, 3}, opWeight{sim.OpCrashLoop, 3})
	if b.CanRecover() {
		ops = append(ops, opWeight{sim.OpRecover, 3})
	}
	return ops
}

// failureOp applies the failure op drawn by Op.
func (b *Builder) failureOp(src Source, op string) {
	switch op {
	case sim.OpFailStart:
		b.FailStart(src)
	case sim.OpCrashLoop:
		b.CrashLoop(src)
	case sim.OpRecover:
		b.Recover(src)
	}
}
