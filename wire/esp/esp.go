// Package esp frames IP Encapsulating Security Payload packets (RFC 4303)
// and their UDP encapsulation for NAT traversal (RFC 3948).
//
// It knows nothing of keys or algorithms: it splits a packet into its
// fields given the IV and ICV lengths of the SA's transform, builds the
// cleartext trailer (padding, pad length, next header) that is encrypted
// with the payload, and checks it after decryption. Parsing never
// allocates; every view returned aliases the input.
package esp

import "encoding/binary"

// Sizes of the fixed parts of an ESP packet.
const (
	HeaderLen  = 8 // SPI + sequence number
	TrailerLen = 2 // pad length + next header
	MaxPadLen  = 255
)

// NextHeaderNone is the Next Header value of a dummy packet (RFC 4303
// §2.6, traffic flow confidentiality); receivers discard such packets.
const NextHeaderNone = 59

// Header is the cleartext start of every ESP packet.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
//	|               Security Parameters Index (SPI)                 | ^Int.
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
//	|                      Sequence Number                          | |ered
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
//	|                    Payload Data* (variable)                   | |   ^
//	~                                                               ~ |   |
//	|                                                               | |Conf.
//	+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
//	|               |     Padding (0-255 bytes)                     | |ered*
//	+-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
//	|                               |  Pad Length   | Next Header   | v   v
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
//	|         Integrity Check Value-ICV   (variable)                |
//	~                                                               ~
//	|                                                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Sequence Number holds the low-order 32 bits of the (possibly extended,
// RFC 4303 §2.2.1) sequence number; the high-order bits are never sent.
type Header struct {
	SPI uint32
	Seq uint32
}

// ParseHeader reads the SPI and sequence number. SPI 0 is rejected: it is
// reserved for local use (RFC 4303 §2.1) and marks IKE on port 4500.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &Error{Field: FieldHeader, Kind: KindShort, Got: len(b), Want: HeaderLen}
	}
	h := Header{SPI: binary.BigEndian.Uint32(b), Seq: binary.BigEndian.Uint32(b[4:])}
	if h.SPI == 0 {
		return Header{}, &Error{Field: FieldSPI, Kind: KindReserved, Got: 0}
	}
	return h, nil
}

// Append appends the encoded header to b.
func (h Header) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, h.SPI)
	return binary.BigEndian.AppendUint32(b, h.Seq)
}

// Put writes the header into the first HeaderLen bytes of b, which must be
// long enough.
func (h Header) Put(b []byte) {
	_ = b[HeaderLen-1]
	binary.BigEndian.PutUint32(b, h.SPI)
	binary.BigEndian.PutUint32(b[4:], h.Seq)
}

// Packet is a view of an ESP packet split by the lengths of its SA's
// transform. All slices alias the parsed bytes.
type Packet struct {
	Header
	IV         []byte // explicit IV (may be empty)
	Ciphertext []byte // encrypted payload, padding, pad length and next header
	ICV        []byte // integrity check value (may be empty)
}

// Parse splits b into header, IV, ciphertext and ICV. ivLen and icvLen come
// from the SA; blockSize (1 for stream and AEAD ciphers that need no block
// alignment) is the cipher's block size, and the ciphertext length must be
// a multiple of it and of 4 (RFC 4303 §2.4), and hold at least a trailer.
func Parse(b []byte, ivLen, icvLen, blockSize int) (Packet, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Packet{}, err
	}
	if ivLen < 0 || icvLen < 0 || blockSize < 1 {
		return Packet{}, &Error{Field: FieldTransform, Kind: KindInvalid}
	}
	min := HeaderLen + ivLen + TrailerLen + icvLen
	if len(b) < min {
		return Packet{}, &Error{Field: FieldPacket, Kind: KindShort, Got: len(b), Want: min}
	}
	ctLen := len(b) - HeaderLen - ivLen - icvLen
	align := 4
	if blockSize > align {
		align = blockSize // block sizes are powers of two of at least 4
	}
	if ctLen%align != 0 {
		return Packet{}, &Error{Field: FieldCiphertext, Kind: KindAlignment, Got: ctLen, Want: align}
	}
	p := Packet{Header: h}
	p.IV = b[HeaderLen : HeaderLen+ivLen : HeaderLen+ivLen]
	end := HeaderLen + ivLen + ctLen
	p.Ciphertext = b[HeaderLen+ivLen : end : end]
	p.ICV = b[end:len(b):len(b)]
	return p, nil
}

// Append appends the packet's fields to b in wire order.
func (p *Packet) Append(b []byte) []byte {
	b = p.Header.Append(b)
	b = append(b, p.IV...)
	b = append(b, p.Ciphertext...)
	return append(b, p.ICV...)
}

// Trailer is the decrypted end of the payload.
type Trailer struct {
	PadLen     uint8
	NextHeader uint8
}

// PadLen returns the number of padding bytes that makes a payload of n
// bytes plus the trailer a multiple of blockSize and of 4 (RFC 4303 §2.4).
func PadLen(n, blockSize int) int {
	align := 4
	if blockSize > align {
		align = blockSize
	}
	return (align - (n+TrailerLen)%align) % align
}

// AppendTrailer appends padLen monotonic padding bytes 1, 2, 3, ... (RFC
// 4303 §2.4), the pad length and the next header. padLen must be at most
// MaxPadLen.
func AppendTrailer(b []byte, padLen int, nextHeader uint8) []byte {
	for i := 1; i <= padLen; i++ {
		b = append(b, byte(i))
	}
	return append(b, byte(padLen), nextHeader)
}

// PutTrailer writes padding and trailer into b, whose length must be
// padLen+TrailerLen.
func PutTrailer(b []byte, nextHeader uint8) {
	padLen := len(b) - TrailerLen
	for i := 0; i < padLen; i++ {
		b[i] = byte(i + 1)
	}
	b[padLen] = byte(padLen)
	b[padLen+1] = nextHeader
}

// ParseTrailer strips padding and trailer from decrypted plaintext and
// returns the payload. The padding must be the monotonic sequence 1, 2, 3,
// ... that RFC 4303 §2.4 prescribes by default; anything else is rejected.
func ParseTrailer(plain []byte) ([]byte, Trailer, error) {
	if len(plain) < TrailerLen {
		return nil, Trailer{}, &Error{Field: FieldTrailer, Kind: KindShort, Got: len(plain), Want: TrailerLen}
	}
	t := Trailer{PadLen: plain[len(plain)-2], NextHeader: plain[len(plain)-1]}
	padLen := int(t.PadLen)
	avail := len(plain) - TrailerLen
	if padLen > avail {
		return nil, Trailer{}, &Error{Field: FieldPadLength, Kind: KindTooLong, Got: padLen, Want: avail}
	}
	pad := plain[avail-padLen : avail]
	for i, v := range pad {
		if v != byte(i+1) {
			return nil, Trailer{}, &Error{Field: FieldPadding, Kind: KindInvalid, Got: int(v), Want: i + 1, Index: i}
		}
	}
	return plain[: avail-padLen : avail-padLen], t, nil
}
