// Package control is the daemons' control socket: a Unix stream socket that
// carries one JSON request and one JSON reply per line, in the spirit of
// strongSwan's vici. `mip6 status` and `mip6 ha show policy` are its clients.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Request is one command sent to a daemon.
type Request struct {
	Command string            `json:"command"`
	Args    map[string]string `json:"args,omitempty"`
}

// Reply is a daemon's answer: a result or an error message.
type Reply struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// Handler answers one command; its result is encoded as JSON.
type Handler func(ctx context.Context, args map[string]string) (any, error)

// Server serves a control socket. Handlers are set before Serve.
type Server struct {
	Path     string
	Log      *slog.Logger
	handlers map[string]Handler

	mu sync.Mutex
	ln net.Listener
	wg sync.WaitGroup
}

// Handle sets the handler for a command.
func (s *Server) Handle(command string, h Handler) {
	if s.handlers == nil {
		s.handlers = map[string]Handler{}
	}
	s.handlers[command] = h
}

// Listen creates the socket, replacing a stale one left by a dead daemon but
// refusing to steal one a live daemon still answers on.
func (s *Server) Listen() error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
		return fmt.Errorf("control socket %s: cannot create its directory: %w", s.Path, err)
	}
	if c, err := net.DialTimeout("unix", s.Path, 200*time.Millisecond); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another daemon is running on it (stop it, or set daemon.control_socket)", s.Path)
	}
	os.Remove(s.Path)
	ln, err := net.Listen("unix", s.Path)
	if err != nil {
		return fmt.Errorf("control socket %s: %w", s.Path, err)
	}
	os.Chmod(s.Path, 0o660)
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Serve accepts connections until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("control: Serve called before Listen")
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.wg.Wait()
			os.Remove(s.Path)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
		}()
	}
}

// maxRequest bounds one request line: commands are small.
const maxRequest = 64 << 10

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(io.LimitReader(c, maxRequest), 4096)
	enc := json.NewEncoder(c)
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		enc.Encode(s.dispatch(ctx, line))
	}
}

func (s *Server) dispatch(ctx context.Context, line []byte) Reply {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Reply{Error: "malformed request: " + err.Error()}
	}
	h, ok := s.handlers[req.Command]
	if !ok {
		return Reply{Error: fmt.Sprintf("unknown command %q", req.Command)}
	}
	res, err := h(ctx, req.Args)
	if err != nil {
		if s.Log != nil {
			s.Log.Warn("control command failed", "command", req.Command, "err", err)
		}
		return Reply{Error: err.Error()}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return Reply{Error: "cannot encode result: " + err.Error()}
	}
	return Reply{Result: b}
}

// Call sends one command to the daemon at path and decodes its result into out.
func Call(path, command string, args map[string]string, out any) error {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return fmt.Errorf("cannot reach the daemon at %s (is it running? is daemon.control_socket this path?): %w", path, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := json.NewEncoder(c).Encode(Request{Command: command, Args: args}); err != nil {
		return err
	}
	var rep Reply
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&rep); err != nil {
		return fmt.Errorf("daemon at %s: bad reply: %w", path, err)
	}
	if rep.Error != "" {
		return fmt.Errorf("daemon at %s: %s", path, rep.Error)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rep.Result, out)
}
