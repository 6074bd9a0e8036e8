package sim

import (
	"fmt"
	"slices"
	"strconv"
)

// ResourceVersion returns the API server's current resourceVersion (etcd's
// revision).
func (a *APIServer) ResourceVersion() string { return strconv.FormatUint(a.rv, 10) }

// writeObjects tells an ObjectWriter backend that objects were created or
// deleted.
func (s *Sim) writeObjects(created, deleted []string) {
	w, ok := s.backend.(ObjectWriter)
	if !ok || s.err != nil {
		return
	}
	if err := w.WriteObjects(created, deleted, s.api.ResourceVersion()); err != nil {
		s.err = fmt.Errorf("%s backend: write objects: %w", s.backend.Name(), err)
	}
}

// exportCoverage judges what the pods export, for a backend whose pods
// read the objects from its own API (an ObjectWriter) and report their
// exports (Exporter): an object is covered once per serving pod that
// exports it. The second result is false for the other backends, whose
// pods are judged by their configurations (ObjectSet.Evaluate). As there,
// no object is a gap while the desired replica count is 0.
func (s *Sim) exportCoverage(desired int) ([]PodConfig, Coverage, bool) {
	if _, ok := s.backend.(ObjectWriter); !ok || s.err != nil {
		return nil, Coverage{}, false
	}
	count := make(map[string]int, s.objects.Len())
	var pods []PodConfig
	for _, p := range s.pods {
		if !p.state.Serving() || p.runner == nil {
			continue
		}
		e, ok := p.runner.(Exporter)
		if !ok {
			return nil, Coverage{}, false
		}
		uids, err := e.Exported()
		if err != nil {
			s.err = fmt.Errorf("%s backend: pod %s: read exports: %w", s.backend.Name(), p.state.Name, err)
			return nil, Coverage{}, false
		}
		for _, u := range uids {
			count[u]++
		}
		pods = append(pods, PodConfig{Pod: p.ordinal, Name: s.laneName(p), Shard: p.state.Config.Shard, Total: p.state.Config.Total, Exported: len(uids)})
	}
	slices.SortStableFunc(pods, func(a, b PodConfig) int { return a.Pod - b.Pod })
	return pods, s.countedCoverage(count, desired), true
}

// countedCoverage is the verdict on the live objects given how many
// serving pods export each (by UID): no object is a gap while the desired
// replica count is 0.
func (s *Sim) countedCoverage(count map[string]int, desired int) Coverage {
	var c Coverage
	for i, u := range s.objects.UIDs() {
		switch k := count[u]; {
		case k == 0 && desired > 0:
			c.Gap = append(c.Gap, i)
		case k > 1:
			c.Overlap = append(c.Overlap, i)
		}
	}
	c.Complete, c.Disjoint = len(c.Gap) == 0, len(c.Overlap) == 0
	return c
}
