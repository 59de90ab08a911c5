package eap

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	wire "mip6/wire/eap"
)

// EAP-TLS limits. The reassembly cap keeps the other side from making us
// buffer without bound (certificate chains are a few kilobytes).
const (
	DefaultTLSFragment = 1000     // TLS data per EAP-TLS packet
	maxTLSMessage      = 64 << 10 // largest reassembled TLS message
	tlsStepTimeout     = 10 * time.Second
	tlsMSKLabel        = "client EAP encryption" // RFC 5216 §2.3
)

var (
	errTLSTooLong    = errors.New("TLS message longer than 64 KiB")
	errTLSLength     = errors.New("reassembled TLS message length differs from TLS Message Length")
	errTLSStalled    = errors.New("TLS handshake stalled")
	errTLSAfterFinal = errors.New("TLS data after the handshake finished")
)

// tlsDriver runs a crypto/tls handshake in a goroutine over an eapConn:
// step feeds one whole TLS message from the other side and returns what
// TLS wrote in answer, once the handshake wants more input or ended.
type tlsDriver struct {
	conn     *eapConn
	tc       *tls.Conn
	hs       chan error
	finished bool
	err      error
	server   bool
	// Without the extended master secret (tlsnoems.go): the key log and
	// the ServerHello random, nil unless allowed.
	noEMS        *masterSecretLog
	serverRandom []byte
}

// startTLS starts a handshake; server selects tls.Server over tls.Client.
// withoutEMS allows handshakes without the extended master secret.
func startTLS(cfg *tls.Config, server, withoutEMS bool) *tlsDriver {
	d := &tlsDriver{conn: newEAPConn(), hs: make(chan error, 1), server: server}
	if withoutEMS {
		cfg = cfg.Clone()
		d.noEMS = &masterSecretLog{}
		noEMSConfig(cfg, d.noEMS)
	}
	if server {
		d.tc = tls.Server(d.conn, cfg)
	} else {
		d.tc = tls.Client(d.conn, cfg)
	}
	go func() { d.hs <- d.tc.Handshake() }()
	return d
}

// step gives data to the handshake and collects its output.
func (d *tlsDriver) step(data []byte) ([]byte, error) {
	if d.finished {
		return nil, errTLSAfterFinal
	}
	d.conn.feed(data)
	timer := time.NewTimer(tlsStepTimeout)
	defer timer.Stop()
	select {
	case <-d.conn.waiting:
	case err := <-d.hs:
		d.finished, d.err = true, err
	case <-timer.C:
		d.close()
		return nil, errTLSStalled
	}
	out := d.conn.drain()
	if d.noEMS != nil && d.serverRandom == nil {
		flight := data // the server's flight starts with the ServerHello
		if d.server {
			flight = out
		}
		d.serverRandom, _ = serverHelloRandom(flight)
	}
	if d.err != nil {
		d.close()
		return out, d.err
	}
	return out, nil
}

// msk is the first 64 bytes of the "client EAP encryption" exporter, or
// the same derived here when the peer did not negotiate the extended
// master secret and that is allowed (tlsnoems.go).
func (d *tlsDriver) msk() ([]byte, error) {
	st := d.tc.ConnectionState()
	msk, err := st.ExportKeyingMaterial(tlsMSKLabel, nil, MSKLen)
	if err == nil || st.Version != tls.VersionTLS12 {
		return msk, err
	}
	if d.noEMS == nil {
		return nil, errNoEMSRefused
	}
	return noEMSMSK(st, d.noEMS, d.serverRandom)
}

func (d *tlsDriver) close() {
	d.conn.Close()
	if d.noEMS != nil {
		d.noEMS.wipe()
	}
}

// tlsReassembler collects the fragments of one TLS message (RFC 5216 §2.1.5).
type tlsReassembler struct {
	buf   []byte
	total int // announced TLS Message Length, 0 if none
}

// add takes one EAP-TLS packet's framing; it returns the whole message
// once the last fragment arrived, or more=true while fragments follow.
func (r *tlsReassembler) add(in *wire.TLS) (msg []byte, more bool, err error) {
	if in.Flags&wire.TLSLengthIncluded != 0 && len(r.buf) == 0 {
		if in.MessageLength > maxTLSMessage {
			return nil, false, errTLSTooLong
		}
		r.total = int(in.MessageLength)
	}
	if len(r.buf)+len(in.Data) > maxTLSMessage {
		return nil, false, errTLSTooLong
	}
	r.buf = append(r.buf, in.Data...)
	if in.Flags&wire.TLSMoreFragments != 0 {
		return nil, true, nil
	}
	msg = r.buf
	total := r.total
	r.buf, r.total = nil, 0
	if total != 0 && len(msg) != total {
		return nil, false, errTLSLength
	}
	return msg, false, nil
}

// tlsFragmenter sends a TLS message in pieces: the first of several
// carries L and the total, all but the last carry M.
type tlsFragmenter struct {
	out      []byte
	sentPart bool
	size     int
}

func (f *tlsFragmenter) pending() bool { return len(f.out) > 0 }

func (f *tlsFragmenter) next(t wire.Type) *wire.TLS {
	size := f.size
	if size <= 0 {
		size = DefaultTLSFragment
	}
	body := &wire.TLS{Type: t}
	if len(f.out) > size {
		body.Flags = wire.TLSMoreFragments
		if !f.sentPart {
			body.Flags |= wire.TLSLengthIncluded
			body.MessageLength = uint32(len(f.out))
		}
		body.Data, f.out = f.out[:size:size], f.out[size:]
		f.sentPart = true
		return body
	}
	body.Data, f.out = f.out, nil
	f.sentPart = false
	return body
}

// eapConn is the net.Conn crypto/tls talks through. Writes collect in out;
// a Read with nothing buffered signals waiting and blocks for feed.
type eapConn struct {
	mu      sync.Mutex
	in      []byte
	out     []byte
	input   chan []byte
	waiting chan struct{}
	closed  chan struct{}
	once    sync.Once
}

func newEAPConn() *eapConn {
	return &eapConn{input: make(chan []byte, 1), waiting: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (c *eapConn) feed(b []byte) {
	if len(b) > 0 {
		c.input <- b
	}
}

func (c *eapConn) drain() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.out
	c.out = nil
	return b
}

func (c *eapConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		select {
		case c.waiting <- struct{}{}:
		default:
		}
		select {
		case c.in = <-c.input:
		case <-c.closed:
			return 0, io.EOF
		}
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *eapConn) Write(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	c.out = append(c.out, p...)
	c.mu.Unlock()
	return len(p), nil
}

func (c *eapConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *eapConn) LocalAddr() net.Addr              { return eapAddr{} }
func (c *eapConn) RemoteAddr() net.Addr             { return eapAddr{} }
func (c *eapConn) SetDeadline(time.Time) error      { return nil }
func (c *eapConn) SetReadDeadline(time.Time) error  { return nil }
func (c *eapConn) SetWriteDeadline(time.Time) error { return nil }

type eapAddr struct{}

func (eapAddr) Network() string { return "eap" }
func (eapAddr) String() string  { return "eap" }
