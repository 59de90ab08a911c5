package hostnet

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mip6/internal/netns"
)

// streamPort is the TCP port of the test stream to the home address.
const streamPort = 5001

// chunkSize is what the stream's writer writes at once.
const chunkSize = 16 << 10

// patternByte is byte off of the test stream: position-dependent, so a
// lost, repeated or corrupted segment shows.
func patternByte(off uint64) byte { return byte(off*131 ^ off>>8 ^ off>>19) }

// stream is a TCP connection from the correspondent to the home address
// that carries the pattern until stopped, with a reader that checks it.
type stream struct {
	conn, peer net.Conn
	received   atomic.Uint64
	lastRead   atomic.Int64 // unix nanoseconds
	maxGap     atomic.Int64 // longest pause between reads, nanoseconds
	gapFrom    atomic.Int64 // start of the pause measurement window
	// chunkEvery paces the writer: one 16 KiB chunk per interval (zero:
	// as fast as TCP takes it).
	chunkEvery time.Duration
	stop       chan struct{}
	wg         sync.WaitGroup
	errs       chan error
}

// startStream listens on the home address in the MN's namespace, dials it
// from the CN's namespace and starts writing (at most bytesPerSecond, if
// not zero) and checking.
func startStream(t testing.TB, mnNS, cnNS *netns.NS, bytesPerSecond int) *stream {
	t.Helper()
	var ln net.Listener
	if err := mnNS.Do(func() (err error) {
		ln, err = net.Listen("tcp6", netip.AddrPortFrom(homeAddr, streamPort).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &stream{stop: make(chan struct{}), errs: make(chan error, 2)}
	if bytesPerSecond > 0 {
		s.chunkEvery = time.Second * chunkSize / time.Duration(bytesPerSecond)
	}
	if err := cnNS.Do(func() (err error) {
		s.conn, err = net.DialTimeout("tcp6", netip.AddrPortFrom(homeAddr, streamPort).String(), 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	peer, err := ln.Accept()
	if err != nil {
		s.conn.Close()
		t.Fatal(err)
	}
	s.peer = peer
	s.lastRead.Store(time.Now().UnixNano())
	s.wg.Add(2)
	go s.write()
	go s.read()
	t.Cleanup(s.close)
	return s
}

func (s *stream) write() {
	defer s.wg.Done()
	buf := make([]byte, chunkSize)
	var off uint64
	next := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case <-time.After(time.Until(next)):
		}
		next = next.Add(s.chunkEvery)
		for i := range buf {
			buf[i] = patternByte(off + uint64(i))
		}
		s.conn.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := s.conn.Write(buf)
		off += uint64(n)
		if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue // the window is closed while the MN moves
			}
			s.errs <- fmt.Errorf("stream write: %w", err)
			return
		}
		if err != nil {
			return
		}
	}
}

func (s *stream) read() {
	defer s.wg.Done()
	buf := make([]byte, 64<<10)
	var off uint64
	for {
		n, err := s.peer.Read(buf)
		now := time.Now().UnixNano()
		if n > 0 {
			if gap := now - s.lastRead.Load(); s.lastRead.Load() >= s.gapFrom.Load() && gap > s.maxGap.Load() {
				s.maxGap.Store(gap)
			}
			s.lastRead.Store(now)
		}
		for i := range n {
			if buf[i] != patternByte(off+uint64(i)) {
				s.errs <- fmt.Errorf("stream: byte %d is %#x, want %#x", off+uint64(i), buf[i], patternByte(off+uint64(i)))
				return
			}
		}
		off += uint64(n)
		s.received.Store(off)
		if err != nil {
			return
		}
	}
}

// resetGap starts measuring the longest pause between reads afresh.
func (s *stream) resetGap() {
	s.gapFrom.Store(time.Now().UnixNano())
	s.maxGap.Store(0)
}

// await waits until n more bytes than now arrived intact (bounded) and
// returns the rate at which they came.
func (s *stream) await(t testing.TB, n uint64) float64 {
	t.Helper()
	start, from := time.Now(), s.received.Load()
	netns.Eventually(t, 15*time.Second, func() error {
		select {
		case err := <-s.errs:
			t.Fatal(err)
		default:
		}
		if got := s.received.Load() - from; got < n {
			return fmt.Errorf("stream: %d of %d bytes arrived", got, n)
		}
		return nil
	})
	return float64(s.received.Load()-from) * 8 / time.Since(start).Seconds() / 1e6
}

func (s *stream) close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	s.conn.Close()
	s.peer.Close()
	s.wg.Wait()
}
