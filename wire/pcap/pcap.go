package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Link types (https://www.tcpdump.org/linktypes.html).
const (
	LinkTypeEthernet uint32 = 1
	LinkTypeRaw      uint32 = 101 // raw IPv4/IPv6, version taken from the first nibble
)

// DefaultSnapLen is the snapshot length written by NewWriter and the largest
// snapshot length NewReader accepts.
const DefaultSnapLen = 262144

const (
	magicMicro      = 0xa1b2c3d4
	magicNano       = 0xa1b23c4d
	fileHeaderLen   = 24
	recordHeaderLen = 16
	versionMajor    = 2
	versionMinor    = 4
)

// File header (all fields in the writer's byte order):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                          Magic Number                         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          Major Version        |         Minor Version         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Reserved1                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           Reserved2                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                            SnapLen                            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| FCS |f|0 0 0 0 0 0 0 0 0 0 0 0|         LinkType              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Record header:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                      Timestamp (Seconds)                      |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|            Timestamp (Microseconds or nanoseconds)            |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Captured Packet Length                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                    Original Packet Length                     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

// Error reports a malformed capture file; Field names what was wrong.
type Error struct {
	Record int // 0 for the file header, else the 1-based record number
	Field  string
	Detail string
}

func (e *Error) Error() string {
	if e.Record == 0 {
		return fmt.Sprintf("pcap: file header: %s: %s", e.Field, e.Detail)
	}
	return fmt.Sprintf("pcap: record %d: %s: %s", e.Record, e.Field, e.Detail)
}

// Writer writes a classic little-endian, microsecond-resolution pcap file.
type Writer struct {
	w        io.Writer
	snapLen  uint32
	hdr      [recordHeaderLen]byte
	linkType uint32
}

// NewWriter writes the file header for linkType and returns a Writer.
func NewWriter(w io.Writer, linkType uint32) (*Writer, error) {
	var h [fileHeaderLen]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], magicMicro)
	le.PutUint16(h[4:], versionMajor)
	le.PutUint16(h[6:], versionMinor)
	le.PutUint32(h[16:], DefaultSnapLen)
	le.PutUint32(h[20:], linkType)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, snapLen: DefaultSnapLen, linkType: linkType}, nil
}

// LinkType returns the link type given to NewWriter.
func (w *Writer) LinkType() uint32 { return w.linkType }

// WritePacket appends one record. Packets longer than the snapshot length
// are rejected rather than silently truncated.
func (w *Writer) WritePacket(ts time.Time, data []byte) error {
	if len(data) > int(w.snapLen) {
		return fmt.Errorf("pcap: packet of %d bytes exceeds snapshot length %d", len(data), w.snapLen)
	}
	sec := ts.Unix()
	if sec < 0 || sec > 0xffffffff {
		return fmt.Errorf("pcap: timestamp %v outside the 32-bit seconds range", ts)
	}
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:], uint32(sec))
	le.PutUint32(w.hdr[4:], uint32(ts.Nanosecond()/1000))
	le.PutUint32(w.hdr[8:], uint32(len(data)))
	le.PutUint32(w.hdr[12:], uint32(len(data)))
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err := w.w.Write(data)
	return err
}

// Reader reads a classic pcap file in either byte order, with microsecond
// or nanosecond timestamps.
type Reader struct {
	r        io.Reader
	order    binary.ByteOrder
	nano     bool
	snapLen  uint32
	linkType uint32
	record   int
	hdr      [recordHeaderLen]byte
	buf      []byte
}

// NewReader reads and checks the file header.
func NewReader(r io.Reader) (*Reader, error) {
	var h [fileHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, &Error{Field: "length", Detail: fmt.Sprintf("short file header: %v", err)}
	}
	rd := &Reader{r: r}
	switch {
	case binary.LittleEndian.Uint32(h[0:]) == magicMicro:
		rd.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[0:]) == magicMicro:
		rd.order = binary.BigEndian
	case binary.LittleEndian.Uint32(h[0:]) == magicNano:
		rd.order, rd.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[0:]) == magicNano:
		rd.order, rd.nano = binary.BigEndian, true
	default:
		return nil, &Error{Field: "magic", Detail: fmt.Sprintf("unknown magic %#08x", binary.BigEndian.Uint32(h[0:]))}
	}
	if major := rd.order.Uint16(h[4:]); major != versionMajor {
		return nil, &Error{Field: "version", Detail: fmt.Sprintf("major version %d, want %d", major, versionMajor)}
	}
	rd.snapLen = rd.order.Uint32(h[16:])
	if rd.snapLen == 0 || rd.snapLen > DefaultSnapLen {
		return nil, &Error{Field: "snaplen", Detail: fmt.Sprintf("%d outside 1..%d", rd.snapLen, DefaultSnapLen)}
	}
	rd.linkType = rd.order.Uint32(h[20:]) & 0x0fffffff // upper bits carry FCS info
	return rd, nil
}

// LinkType is the file's link-layer header type.
func (r *Reader) LinkType() uint32 { return r.linkType }

// SnapLen is the file's snapshot length.
func (r *Reader) SnapLen() uint32 { return r.snapLen }

// Next returns the next packet. data is valid until the following call to
// Next. At the end of the file it returns io.EOF; a record cut short is an
// *Error, never io.EOF.
func (r *Reader) Next() (ts time.Time, data []byte, err error) {
	n, err := io.ReadFull(r.r, r.hdr[:])
	if err == io.EOF {
		return time.Time{}, nil, io.EOF
	}
	r.record++
	if err != nil {
		return time.Time{}, nil, &Error{Record: r.record, Field: "header", Detail: fmt.Sprintf("%d of %d bytes", n, recordHeaderLen)}
	}
	sec := r.order.Uint32(r.hdr[0:])
	frac := r.order.Uint32(r.hdr[4:])
	capLen := r.order.Uint32(r.hdr[8:])
	origLen := r.order.Uint32(r.hdr[12:])
	if err := r.checkRecord(frac, capLen, origLen); err != nil {
		return time.Time{}, nil, err
	}
	if cap(r.buf) < int(capLen) {
		r.buf = make([]byte, capLen) // capLen <= snapLen <= DefaultSnapLen
	}
	r.buf = r.buf[:capLen]
	if n, err := io.ReadFull(r.r, r.buf); err != nil {
		return time.Time{}, nil, &Error{Record: r.record, Field: "data", Detail: fmt.Sprintf("%d of %d bytes", n, capLen)}
	}
	nsec := int64(frac)
	if !r.nano {
		nsec *= 1000
	}
	return time.Unix(int64(sec), nsec).UTC(), r.buf, nil
}

func (r *Reader) checkRecord(frac, capLen, origLen uint32) error {
	limit := uint32(1_000_000)
	if r.nano {
		limit = 1_000_000_000
	}
	switch {
	case frac >= limit:
		return &Error{Record: r.record, Field: "timestamp", Detail: fmt.Sprintf("fraction %d not below %d", frac, limit)}
	case capLen > r.snapLen:
		return &Error{Record: r.record, Field: "caplen", Detail: fmt.Sprintf("%d exceeds snaplen %d", capLen, r.snapLen)}
	case capLen > origLen:
		return &Error{Record: r.record, Field: "caplen", Detail: fmt.Sprintf("%d exceeds original length %d", capLen, origLen)}
	}
	return nil
}
