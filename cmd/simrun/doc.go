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
//
// Exit status: 0 every selected reducer holds, 1 a property is violated,
// 2 bad input or usage.
//
// The command is thin: it parses flags, calls package sim and prints.
package main
