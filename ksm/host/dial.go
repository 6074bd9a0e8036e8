package main

import (
	"context"
	"errors"
	"net"
	"sort"
	"sync"
	"sync/atomic"
)

// connCounter counts the bytes every open connection to the API server
// has read and written, by local port. The simulator's server counts the
// same from its side, by remote port: when both agree on every connection
// still open here, nothing is in flight. A connection closed here reads
// nothing more, so what it left unread does not matter.
type connCounter struct {
	// dialing counts connections being opened: the dialing goroutine
	// waits on the network like an idle one, so it is counted here.
	dialing atomic.Int64

	mu    sync.Mutex
	conns map[*countingConn]bool
}

// connStats are one connection's counts.
type connStats struct {
	Port    int   `json:"port"`
	Read    int64 `json:"read"`
	Written int64 `json:"written"`
}

// snapshot returns the counts of every open connection, by port.
func (c *connCounter) snapshot() []connStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]connStats, 0, len(c.conns))
	for cc := range c.conns {
		out = append(out, connStats{Port: cc.port, Read: cc.read.Load(), Written: cc.written.Load()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

func (c *connCounter) add(cc *countingConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns == nil {
		c.conns = map[*countingConn]bool{}
	}
	c.conns[cc] = true
}

func (c *connCounter) remove(cc *countingConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.conns, cc)
}

// podDialer opens one pod's connections and closes them when the pod stops.
type podDialer struct {
	counter *connCounter
	mu      sync.Mutex
	conns   map[*countingConn]bool
	closed  bool
}

func newPodDialer(c *connCounter) *podDialer {
	return &podDialer{counter: c, conns: map[*countingConn]bool{}}
}

var errPodStopped = errors.New("pod stopped")

// DialContext is the pod's rest.Config.Dial.
func (d *podDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.counter.dialing.Add(1)
	defer d.counter.dialing.Add(-1)
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil, errPodStopped
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, d: d}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		cc.port = a.Port
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		c.Close()
		return nil, errPodStopped
	}
	d.conns[cc] = true
	d.counter.add(cc)
	return cc, nil
}

func (d *podDialer) closeAll() {
	d.mu.Lock()
	d.closed = true
	conns := d.conns
	d.conns = nil
	d.mu.Unlock()
	for c := range conns {
		d.counter.remove(c)
		c.Conn.Close()
	}
}

type countingConn struct {
	net.Conn
	d             *podDialer
	port          int
	read, written atomic.Int64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written.Add(int64(n))
	return n, err
}

func (c *countingConn) Close() error {
	c.d.mu.Lock()
	delete(c.d.conns, c)
	c.d.mu.Unlock()
	c.d.counter.remove(c)
	return c.Conn.Close()
}
