package ksm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// The protocol with the host process (ksm/host/protocol.go keeps the
// other copy: the two modules cannot share code).
const (
	opStart  = "start"
	opStop   = "stop"
	opIdle   = "idle"
	opScrape = "scrape"
	opSelf   = "self"
	opQuit   = "quit"
)

type request struct {
	ID   int      `json:"id"`
	Op   string   `json:"op"`
	Pod  string   `json:"pod,omitempty"`
	UID  string   `json:"uid,omitempty"`
	Args []string `json:"args,omitempty"`
}

type response struct {
	ID      int         `json:"id"`
	Error   string      `json:"error,omitempty"`
	Idle    bool        `json:"idle,omitempty"`
	Conns   []connStats `json:"conns,omitempty"`
	Busy    string      `json:"busy,omitempty"`
	Exited  []exit      `json:"exited,omitempty"`
	Metrics string      `json:"metrics,omitempty"`
	Self    string      `json:"self,omitempty"`
}

// connStats are one host connection's byte counts, by its local port.
type connStats struct {
	Port    int   `json:"port"`
	Read    int64 `json:"read"`
	Written int64 `json:"written"`
}

type exit struct {
	Pod   string `json:"pod"`
	UID   string `json:"uid"`
	Error string `json:"error"`
}

// process is one running host: the KSM pods of one replay.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	log    *logTail
	nextID int
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, once done
}

func startProcess(bin, apiServer string) (*process, error) {
	p := &process{log: &logTail{max: 64 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, apiServer)
	p.cmd.Stderr = p.log
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.stdout = bufio.NewScanner(out)
	p.stdout.Buffer(make([]byte, 1<<20), 1<<30)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the KSM host %s: %w", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// call sends one request and reads its response. A failed exchange means
// the host is gone: the error carries the tail of its log.
func (p *process) call(req request) (response, error) {
	p.nextID++
	req.ID = p.nextID
	b, _ := json.Marshal(req)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		return response{}, p.died("write to it: " + err.Error())
	}
	if !p.stdout.Scan() {
		msg := "it closed its output"
		if err := p.stdout.Err(); err != nil {
			msg = err.Error()
		}
		return response{}, p.died(msg)
	}
	var resp response
	if err := json.Unmarshal(p.stdout.Bytes(), &resp); err != nil || resp.ID != req.ID {
		return response{}, p.died(fmt.Sprintf("unexpected answer %.200q", p.stdout.Text()))
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

func (p *process) died(what string) error {
	<-p.done
	return fmt.Errorf("the KSM host process failed (%s; %v); the end of its log:\n%s", what, p.err, p.log.String())
}

func (p *process) close() {
	if _, err := p.call(request{Op: opQuit}); err == nil {
		_ = p.stdin.Close()
		<-p.done
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// logTail keeps the last max bytes written to it.
type logTail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (l *logTail) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	if len(l.buf) > l.max {
		l.buf = l.buf[len(l.buf)-l.max:]
	}
	return len(b), nil
}

// String returns the last lines kept (at most 40).
func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(l.buf), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
