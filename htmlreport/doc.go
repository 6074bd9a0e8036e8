// Package htmlreport renders a replay report (a *sim.Report) as one
// self-contained HTML page: no network access, no scripts, no external
// fonts or style sheets. For each reducer the page shows its verdict in
// words and an SVG timeline:
//
//   - one column per point of the replay: the initial one, then one per
//     step; a quiescent checkpoint has a filled marker, a transient point
//     (items still undelivered, explicit schedules only) a dashed one;
//   - one lane per KSM instance, whatever the sharding mode (below);
//   - markers where a pod starts, stops or restarts, where its watch lost
//     the StatefulSet (a DELETED event or a failed LIST) and where KSM
//     exited at start-up (on its flags, or a failed start-up GET; the
//     kubelet's restart of the container is a start), taken from the
//     event log (Result.Log);
//   - a gap band and an overlap band with the number of objects (pods)
//     exported by no pod or by two.
//
// The lanes follow the sharding mode (sim.Result.Mode):
//
//   - autosharding: a lane per pod ordinal, with labelled "shard/total"
//     segments: green when the pod agrees with spec.replicas, red when it
//     serves a stale configuration, grey and dashed while it serves
//     nothing (0/0);
//   - static sharding: a lane per Deployment replica slot, labelled by its
//     Deployment (sim.PodConfig.Name, "name#slot" beyond the first
//     replica), with its --shard/--total-shards: green when it agrees with
//     the other pods, red on a conflict (a shard run twice, another
//     --total-shards, a shard out of range), said in words on hover;
//   - DaemonSet sharding: a lane per node (its KSM pod, --node) and one
//     for the unscheduled pods' Deployment, labelled "(unscheduled)" or
//     "(all pods)", each segment saying in words what the KSM pod does:
//     "36 pods" (its field selector selects its node; the count it
//     exports), "wrong sel · 0" (it does not: #2374's stripped node
//     names), "all · 80" (no field selector: every pod), "exited" (KSM
//     exited on its flags, e.g. --track-unscheduled-pods before v2.14.0),
//     "tainted: none" or "no KSM pod" (none runs on the node);
//   - mixed sharding (ConfigMaps by autosharding, pods by DaemonSet
//     sharding): both groups of lanes, headed "configmaps — autosharding"
//     and "pods — DaemonSet sharding", each with its gap and overlap
//     bands.
//
// With DaemonSet sharding a node view follows the timeline: for each run
// of points with the same state, a table with a row per node (the pods
// bound to it, its KSM pod, its flags and field selector, what it
// exports, which KSM pods select the node's pods: a GAP or an OVERLAP in
// words), a row for the unscheduled pods and the totals. A selector that
// does not select its node is shown next to the one it should be.
//
// When the replay ran with a timeline (sim.Options.Timeline, which simrun
// sets unless --no-timeline) the timeline is drawn over simulated time
// (Result.Timeline) rather than one column per point:
//
//   - a time axis in seconds, linear from 0 to the last step's point,
//     then the hold of the final state compressed after a break and said
//     in words ("⋯ held 20m0s ⋯"), the end's time at its right;
//   - each point's marker at its time and its step's run, from its op to
//     its point, shaded; step labels in two rows, shortened to the step's
//     number (or left to the hover text) where points crowd;
//   - the lanes' states from each point to the next, the event markers at
//     the times of their events;
//   - the gap and overlap bands from Timeline.Points: how many objects are
//     missing or exported twice from each change to the next (mixed
//     sharding: ConfigMaps and pods together), the worst windows outlined;
//   - a mark per scrape (Timeline.Scrapes): grey, red when it missed
//     samples, purple when it doubled some;
//   - a row per alert (Timeline.Alerts): pending and firing spans.
//
// Under it an impact section: per step its op's time, its point's, how
// long it took and the missing and duplicated series-seconds; the totals;
// the worst windows; the scrapes with their missed and doubled samples;
// and whether each alert fires and when ("fires at 1m30s (pending from
// 30s, for: 1m0s)"), or that it never does. A report without a timeline
// (older JSON, --no-timeline) keeps the columns per point. The event log
// gives every entry's simulated time, the table of checkpoints every
// point's; the list of verdicts at the top adds each reducer's
// series-seconds and the alerts that fire.
//
// Hovering any element shows what it stands for (SVG <title> elements):
// a band names the step, the op and the first example UIDs.
//
// The output is deterministic: the same report gives the same bytes.
//
//	rep, _ := sim.Replay(trace, model.Reducers(), sim.Options{})
//	err := htmlreport.Write(w, rep)
package htmlreport
