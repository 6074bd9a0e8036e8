package sim

import (
	"strconv"

	"github.com/shardsim/shardsim/model"
)

// Refold re-derives the state of every pod from an event log alone, by
// folding model.Step over the events each pod received, in order. Only
// entries up to and including step upTo are folded (-1: the setup only;
// len(steps): all). The states are returned by pod UID.
//
// This is what makes the simulator event-sourced: a pod's state is never
// anything but this fold, so any point of a run can be reconstructed.
func Refold(r model.Reducer, statefulSet string, log []LogEntry, upTo int) map[string]model.PodState {
	states := map[string]model.PodState{}
	for _, e := range log {
		if e.Step > upTo {
			break
		}
		if e.event == nil {
			continue
		}
		s, ok := states[e.PodUID]
		if !ok {
			s = model.NewPod(statefulSet + "-" + strconv.Itoa(e.Pod))
		}
		states[e.PodUID], _ = model.Step(r, s, e.event)
	}
	return states
}
