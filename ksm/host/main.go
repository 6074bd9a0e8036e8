// Command host runs simulated kube-state-metrics pods in one process, each
// as KSM's own code of the release this module is built against: its flag
// parsing (options.NewOptions, AddFlags, Parse, Validate), its store
// builder (pkg/builder) wired as that release's pkg/app/server.go wires it,
// and its metrics handler (pkg/metricshandler: New, Run, ServeHTTP), which
// autoshards with --pod and --pod-namespace and otherwise configures
// --shard and --total-shards at once. Each pod has its own clientset, User-Agent and connections to
// the simulator's API server.
//
// simrun drives it over standard input and output, one JSON object a line
// (see protocol.go); klog writes to standard error. The simulator's API
// server decides what every pod sees and when; this process reports when
// every pod has finished reacting (idle) and what each pod exports.
//
// The module is built once per release: ksm/host/releases/vX.Y.Z.mod and
// .sum are its go.mod and go.sum for that release (go build -modfile).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: host API-SERVER-URL  (driven by simrun over stdin/stdout)")
		os.Exit(2)
	}
	h := newHost(os.Args[1])
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "host: bad request:", err)
			os.Exit(2)
		}
		resp := h.handle(req)
		resp.ID = req.ID
		if err := out.Encode(resp); err != nil {
			os.Exit(1)
		}
		if req.Op == opQuit {
			return
		}
	}
}
