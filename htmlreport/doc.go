// Package htmlreport renders a replay report (a *sim.Report) as one
// self-contained HTML page: no network access, no scripts, no external
// fonts or style sheets. For each reducer the page shows its verdict in
// words and an SVG timeline:
//
//   - one column per point of the replay: the initial one, then one per
//     step; a quiescent checkpoint has a filled marker, a transient point
//     (items still undelivered, explicit schedules only) a dashed one;
//   - one lane per pod ordinal, with labelled "shard/total" segments:
//     green when the pod agrees with spec.replicas, red when it serves a
//     stale configuration, grey and dashed while it serves nothing (0/0);
//   - markers where a pod starts, stops or restarts and where its watch
//     lost the StatefulSet (a DELETED event or a failed LIST), taken from
//     the event log (Result.Log);
//   - a gap band and an overlap band with the number of objects exported
//     by no pod or by two.
//
// Hovering any element shows what it stands for (SVG <title> elements):
// a band names the step, the op and the first example UIDs.
//
// The output is deterministic: the same report gives the same bytes.
//
//	rep, _ := sim.Replay(trace, model.Reducers(), sim.Options{})
//	err := htmlreport.Write(w, rep)
package htmlreport
