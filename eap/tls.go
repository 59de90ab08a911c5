package eap

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	wire "mip6/wire/eap"
)

// EAP-TLS limits. The reassembly cap keeps a server from making the peer
// buffer without bound (certificate chains are a few kilobytes).
const (
	DefaultTLSFragment = 1000     // TLS data per EAP-TLS Response
	maxTLSMessage      = 64 << 10 // largest reassembled TLS message
	tlsStepTimeout     = 10 * time.Second
)

// TLS is the peer side of EAP-TLS (RFC 5216) over crypto/tls: TLS 1.2 at
// most (FreeRADIUS 3.2's TLS 1.3 EAP is experimental), the server's
// certificate checked against Config.RootCAs and Config.ServerName, the
// peer's certificate from Config.Certificates. MSK = TLS-PRF(master,
// "client EAP encryption", client.random || server.random), first 64 of
// the 128 bytes (RFC 5216 §2.3), i.e. the keying-material exporter.
//
// A handshake goroutine runs from the EAP-TLS Start until Close or the end
// of the handshake; the EAP conversation drives it through an in-memory
// conn, so no network I/O happens here.
type TLS struct {
	Config   *tls.Config
	Fragment int // TLS data per Response; DefaultTLSFragment if 0

	conn     *eapConn
	tc       *tls.Conn
	hsDone   chan error
	hsErr    error
	finished bool
	inbuf    []byte // reassembly of a fragmented server message
	inLen    int    // announced total length, 0 if none
	out      []byte // client TLS bytes not yet sent
	sentPart bool   // a fragment of out was sent: the next has no L flag
	msk      []byte
	done     bool
}

// NewTLS returns an EAP-TLS method for cfg (cloned; MaxVersion forced to TLS 1.2).
func NewTLS(cfg *tls.Config) *TLS {
	c := cfg.Clone()
	c.MaxVersion = tls.VersionTLS12
	if c.MinVersion == 0 || c.MinVersion > tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return &TLS{Config: c}
}

func (m *TLS) Type() wire.Type { return wire.TypeTLS }
func (m *TLS) Done() bool      { return m.done }

// MSK is the 64-byte MSK once the handshake completed, else nil.
func (m *TLS) MSK() []byte {
	if !m.done {
		return nil
	}
	return m.msk
}

// Close stops the handshake goroutine if it still runs.
func (m *TLS) Close() {
	if m.conn != nil {
		m.conn.Close()
	}
}

// Process handles one EAP-TLS Request: Start, a (fragment of a) server
// flight, or an empty acknowledgement of our last fragment.
func (m *TLS) Process(req *wire.Packet) (wire.Body, error) {
	var in wire.TLS
	if err := wire.ParseTLS(wire.TypeTLS, req.TypeData, &in); err != nil {
		return nil, &ProtocolError{Method: m.Type(), Detail: "malformed request", Err: err}
	}
	switch {
	case in.Flags&wire.TLSStart != 0:
		if m.conn != nil {
			return nil, &ProtocolError{Method: m.Type(), Detail: "second Start"}
		}
		m.start()
		return m.step(nil)
	case m.conn == nil:
		return nil, &ProtocolError{Method: m.Type(), Detail: "request before Start"}
	case len(in.Data) == 0 && len(m.out) > 0:
		return m.nextFragment(), nil // the server acknowledged a fragment
	}
	return m.receive(&in)
}

func (m *TLS) start() {
	m.conn = newEAPConn()
	m.tc = tls.Client(m.conn, m.Config)
	m.hsDone = make(chan error, 1)
	go func() { m.hsDone <- m.tc.Handshake() }()
}

// receive reassembles server data and, once a message is whole, feeds it to TLS.
func (m *TLS) receive(in *wire.TLS) (wire.Body, error) {
	if in.Flags&wire.TLSLengthIncluded != 0 && len(m.inbuf) == 0 {
		if in.MessageLength > maxTLSMessage {
			return nil, &ProtocolError{Method: m.Type(), Detail: "TLS message longer than 64 KiB"}
		}
		m.inLen = int(in.MessageLength)
	}
	if len(m.inbuf)+len(in.Data) > maxTLSMessage {
		return nil, &ProtocolError{Method: m.Type(), Detail: "TLS message longer than 64 KiB"}
	}
	m.inbuf = append(m.inbuf, in.Data...)
	if in.Flags&wire.TLSMoreFragments != 0 {
		return &wire.TLS{}, nil // ACK, RFC 5216 §2.1.5
	}
	if m.inLen != 0 && len(m.inbuf) != m.inLen {
		return nil, &ProtocolError{Method: m.Type(), Detail: "reassembled TLS message length differs from TLS Message Length"}
	}
	data := m.inbuf
	m.inbuf, m.inLen = nil, 0
	if m.finished {
		return nil, &ProtocolError{Method: m.Type(), Detail: "TLS data after the handshake finished"}
	}
	return m.step(data)
}

// step gives data to the handshake and waits until it wants more input or ends.
func (m *TLS) step(data []byte) (wire.Body, error) {
	m.conn.feed(data)
	select {
	case <-m.conn.waiting:
	case err := <-m.hsDone:
		m.finished = true
		m.hsErr = err
	case <-time.After(tlsStepTimeout):
		m.Close()
		return nil, &ProtocolError{Method: m.Type(), Detail: "TLS handshake stalled"}
	}
	m.out = append(m.out, m.conn.drain()...)
	if m.hsErr != nil {
		m.Close()
		return nil, &ServerAuthError{Method: m.Type(), Detail: "TLS handshake", Err: m.hsErr}
	}
	if m.finished && len(m.out) == 0 {
		return m.complete()
	}
	return m.nextFragment(), nil
}

// complete derives the MSK and acknowledges the server's last flight.
func (m *TLS) complete() (wire.Body, error) {
	st := m.tc.ConnectionState()
	msk, err := st.ExportKeyingMaterial("client EAP encryption", nil, MSKLen)
	if err != nil {
		return nil, &ProtocolError{Method: m.Type(), Detail: "deriving the MSK", Err: err}
	}
	m.msk, m.done = msk, true
	m.Close()
	return &wire.TLS{}, nil
}

// nextFragment sends the next piece of m.out; the first of several carries
// L and the total, all but the last carry M.
func (m *TLS) nextFragment() wire.Body {
	size := m.Fragment
	if size <= 0 {
		size = DefaultTLSFragment
	}
	body := &wire.TLS{}
	if len(m.out) > size {
		body.Flags = wire.TLSMoreFragments
		if !m.midMessage() {
			body.Flags |= wire.TLSLengthIncluded
			body.MessageLength = uint32(len(m.out))
		}
		body.Data = m.out[:size:size]
		m.out = m.out[size:]
		m.sentPart = true
		return body
	}
	body.Data = m.out
	m.out = nil
	m.sentPart = false
	return body
}

func (m *TLS) midMessage() bool { return m.sentPart }

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
