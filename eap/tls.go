package eap

import (
	"crypto/tls"

	wire "mip6/wire/eap"
)

// TLS is the peer side of EAP-TLS (RFC 5216) over crypto/tls: TLS 1.2 at
// most (FreeRADIUS 3.2's TLS 1.3 EAP is experimental), the server's
// certificate checked against Config.RootCAs and Config.ServerName, the
// peer's certificate from Config.Certificates. MSK = TLS-PRF(master,
// "client EAP encryption", client.random || server.random), first 64 of
// the 128 bytes (RFC 5216 §2.3), i.e. the keying-material exporter; Go
// offers it for TLS 1.2 only with the extended master secret, which
// FreeRADIUS (OpenSSL) negotiates and strongSwan does not (WithoutEMS).
//
// A handshake goroutine runs from the EAP-TLS Start until Close or the end
// of the handshake; the EAP conversation drives it through an in-memory
// conn, so no network I/O happens here.
type TLS struct {
	Config   *tls.Config
	Fragment int // TLS data per Response; DefaultTLSFragment if 0
	// WithoutEMS accepts servers that do not negotiate the extended master
	// secret (strongSwan's eap-tls), restricted to full ECDHE handshakes;
	// see tlsnoems.go for why that is safe.
	WithoutEMS bool

	drv  *tlsDriver
	in   tlsReassembler
	out  tlsFragmenter
	msk  []byte
	done bool
}

// NewTLS returns an EAP-TLS method for cfg (cloned; MaxVersion forced to TLS 1.2).
func NewTLS(cfg *tls.Config) *TLS {
	return &TLS{Config: tls12(cfg)}
}

func tls12(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.MaxVersion = tls.VersionTLS12
	if c.MinVersion == 0 || c.MinVersion > tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
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
	if m.drv != nil {
		m.drv.close()
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
		if m.drv != nil {
			return nil, &ProtocolError{Method: m.Type(), Detail: "second Start"}
		}
		m.drv = startTLS(m.Config, false, m.WithoutEMS)
		m.out.size = m.Fragment
		return m.step(nil)
	case m.drv == nil:
		return nil, &ProtocolError{Method: m.Type(), Detail: "request before Start"}
	case len(in.Data) == 0 && m.out.pending():
		return m.out.next(0), nil // the server acknowledged a fragment
	}
	msg, more, err := m.in.add(&in)
	if err != nil {
		return nil, &ProtocolError{Method: m.Type(), Detail: "reassembly", Err: err}
	}
	if more {
		return &wire.TLS{}, nil // ACK, RFC 5216 §2.1.5
	}
	return m.step(msg)
}

// step gives a server message to the handshake and answers with our flight,
// or, once the handshake is over, derives the MSK and acknowledges.
func (m *TLS) step(msg []byte) (wire.Body, error) {
	out, err := m.drv.step(msg)
	if err == errTLSAfterFinal || err == errTLSStalled {
		return nil, &ProtocolError{Method: m.Type(), Detail: "handshake", Err: err}
	}
	if err != nil {
		return nil, &ServerAuthError{Method: m.Type(), Detail: "TLS handshake", Err: err}
	}
	m.out.out = append(m.out.out, out...)
	if m.drv.finished && !m.out.pending() {
		msk, err := m.drv.msk()
		if err != nil {
			return nil, &ProtocolError{Method: m.Type(), Detail: "deriving the MSK", Err: err}
		}
		m.msk, m.done = msk, true
		m.drv.close()
		return &wire.TLS{}, nil
	}
	return m.out.next(0), nil
}
