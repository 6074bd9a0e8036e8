package main

// The protocol between simrun (package github.com/shardsim/shardsim/ksm,
// which keeps the other copy of these types: the two modules cannot share
// code) and this process: one request a line on standard input, one
// response a line on standard output, in order.

const (
	// opStart starts pod Pod (incarnation UID) with KSM flags Args.
	opStart = "start"
	// opStop stops pod incarnation UID as if its process were killed: its
	// context is cancelled and its connections are closed.
	opStop = "stop"
	// opIdle reports whether every goroutine of this process is blocked
	// and how many bytes its connections have read and written.
	opIdle = "idle"
	// opScrape returns what pod incarnation UID's /metrics serves and its
	// self-metrics.
	opScrape = "scrape"
	// opSelf returns only pod incarnation UID's self-metrics: what a
	// delivery needs, without the /metrics body.
	opSelf = "self"
	// opQuit ends the process.
	opQuit = "quit"
)

type request struct {
	ID   int      `json:"id"`
	Op   string   `json:"op"`
	Pod  string   `json:"pod,omitempty"`
	UID  string   `json:"uid,omitempty"`
	Args []string `json:"args,omitempty"`
}

type response struct {
	ID    int    `json:"id"`
	Error string `json:"error,omitempty"`
	// Idle: every goroutine is blocked; Conns are the bytes each open
	// connection to the API server has read and written so far.
	Idle  bool        `json:"idle,omitempty"`
	Conns []connStats `json:"conns,omitempty"`
	// Busy names a goroutine that was not blocked, for diagnostics.
	Busy string `json:"busy,omitempty"`
	// Exited lists pods whose MetricsHandler.Run returned while they were
	// running, with its error (KSM's process would exit).
	Exited []exit `json:"exited,omitempty"`
	// Metrics is the body of GET /metrics; Self the self-metrics registry
	// in the text format.
	Metrics string `json:"metrics,omitempty"`
	Self    string `json:"self,omitempty"`
}

type exit struct {
	Pod   string `json:"pod"`
	UID   string `json:"uid"`
	Error string `json:"error"`
}
