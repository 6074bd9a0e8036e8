// Command simrun replays kube-state-metrics autosharding traces against the
// label-selector (KSM <= v2.12.0) and field-selector (KSM >= v2.13.0)
// reducers and checks that the objects covered by all shards stay complete
// and disjoint at every quiescent point.
//
// Usage:
//
//	simrun --trace traces/relabel.json                 # both reducers, text report
//	simrun --trace traces/relabel.json --format json   # machine-readable report
//	simrun --trace T --reducer field-selector          # one reducer
//	simrun --trace T --log                             # with the event log
//	simrun --trace T --promtool-test out/t.yaml        # the scrapes and alerts for promtool
//
// Under each verdict the report gives the replay in simulated time: each
// step's duration, the missing and duplicated series-seconds, the worst
// windows, Prometheus's scrapes every --scrape-interval, and when the KSM
// mixin's sharding alerts and the coverage alerts (package monitor,
// evaluated by Prometheus's rule engine) fire. --latency, --latency-seed,
// --jitter and --hold tune the time; --no-timeline skips it.
//
// Exit status: 0 every selected reducer holds, 1 a property is violated,
// 2 bad input or usage, or an output file that cannot be written, 3 a
// backend failed (client-go, or a KSM pod or process of the ksm backend).
//
// Every file it writes (--html, import --out, the traces of hunt and check
// --out) goes through internal/atomicfile: written atomically, an existing
// file replaced only with --force, never something that is not a regular
// file, a symbolic link replaced only with --force and then written
// through to the regular file it leads to, "-" as standard output where a
// file (not a directory) is expected. The path is checked before the work;
// a write that fails after it is reported after the report.
//
// The command is thin: it parses flags, calls package sim and prints.
package main
