package esp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"math"
	"unsafe"

	wire "mip6/wire/esp"
)

type ivSetter interface{ SetIV([]byte) }

// Seal encrypts plaintext (an inner IPv6 packet in tunnel mode, nextHeader
// 41; or an upper-layer payload in transport mode) into one ESP packet
// appended to dst, and returns the extended slice.
//
// To work in place without copying, put the plaintext at
// dst[len(dst)+sa.HeaderLen():] and give dst capacity for
// sa.Overhead(len(plaintext)) more bytes; any other placement is copied.
func (sa *SA) Seal(dst, plaintext []byte, nextHeader uint8) ([]byte, error) {
	if sa.dir != Outbound {
		return dst, &Error{SPI: sa.spi, Reason: ErrWrongDirection}
	}
	seq := sa.seq.Add(1)
	if seq == 0 || (!sa.esn && seq > math.MaxUint32) {
		// RFC 4303 §3.3.3: the counter must not cycle; the SA needs rekeying.
		return dst, &Error{SPI: sa.spi, Reason: ErrSequenceExhausted}
	}
	n := len(plaintext)
	if !sa.account(n) {
		return dst, &Error{SPI: sa.spi, Reason: ErrLifetimeExpired}
	}
	bodyLen := n + padLen(n, sa.blockSize) + wire.TrailerLen
	hdr := wire.HeaderLen + sa.ivLen
	ret, out := sliceForAppend(dst, hdr+bodyLen+sa.icvLen)
	body := out[hdr : hdr+bodyLen]
	copy(body, plaintext) // a no-op move when already in place
	wire.PutTrailer(body[n:], nextHeader)
	wire.Header{SPI: sa.spi, Seq: uint32(seq)}.Put(out)
	iv := out[wire.HeaderLen:hdr]
	s := sa.pool.Get().(*scratch)
	if sa.aead != nil {
		// RFC 4106 §3.1 / RFC 7634 §2: the IV is the sequence number,
		// unique per key, and the nonce is salt || IV.
		binary.BigEndian.PutUint64(iv, seq)
		nonce := sa.nonce(s, iv)
		sa.aead.Seal(body[:0], nonce, body, sa.aad(s, seq))
	} else {
		rand.Read(iv) // CBC needs an unpredictable IV (RFC 3602 §2.3)
		s.enc.(ivSetter).SetIV(iv)
		s.enc.CryptBlocks(body, body)
		copy(out[hdr+bodyLen:], sa.mac(s, out[:hdr+bodyLen], seq))
	}
	sa.pool.Put(s)
	return ret, nil
}

// Open authenticates and decrypts one ESP packet in place and returns the
// payload (a subslice of packet) and its Next Header. The anti-replay
// window is checked before decryption and updated only after the ICV
// verified. A Next Header of wire.NextHeaderNone marks a dummy packet that
// the caller discards. Each failure is counted by reason (Stats).
func (sa *SA) Open(packet []byte) (payload []byte, nextHeader uint8, err error) {
	return sa.open(nil, packet, true)
}

// OpenTo is Open without touching packet: the payload is appended to dst,
// which must not overlap packet, and the extended slice returned. On
// failure dst is returned unchanged in length.
func (sa *SA) OpenTo(dst, packet []byte) ([]byte, uint8, error) {
	if overlaps(dst[len(dst):cap(dst)], packet) {
		return dst, 0, &Error{SPI: sa.spi, Reason: ErrOverlap}
	}
	out, nh, err := sa.open(dst, packet, false)
	if err != nil {
		return dst, 0, err
	}
	return out, nh, nil
}

// open decrypts packet in place (inPlace) or into dst's tail, returning
// the payload (inPlace) or dst extended by it.
func (sa *SA) open(dst, packet []byte, inPlace bool) ([]byte, uint8, error) {
	if sa.dir != Inbound {
		return nil, 0, &Error{SPI: sa.spi, Reason: ErrWrongDirection}
	}
	p, perr := wire.Parse(packet, sa.ivLen, sa.icvLen, sa.blockSize)
	if perr != nil {
		return nil, 0, sa.drop(DropMalformed, perr)
	}
	if p.SPI != sa.spi {
		return nil, 0, &Error{SPI: p.SPI, Reason: ErrWrongSPI}
	}
	seq, reason := sa.in.replay.check(p.Seq, sa.esn)
	if reason != 0 {
		return nil, 0, sa.drop(reason, nil)
	}
	plain := p.Ciphertext
	ret := dst
	if !inPlace {
		ret, plain = sliceForAppend(dst, len(p.Ciphertext))
	}
	if !sa.decrypt(packet, p, plain, seq) {
		return nil, 0, sa.drop(DropBadICV, nil)
	}
	if reason := sa.in.replay.update(seq); reason != 0 {
		return nil, 0, sa.drop(reason, nil)
	}
	payload, tr, terr := wire.ParseTrailer(plain)
	if terr != nil {
		return nil, 0, sa.drop(DropBadPadding, terr)
	}
	if !sa.account(len(payload)) {
		return nil, 0, sa.drop(DropExpired, nil)
	}
	if inPlace {
		return payload, tr.NextHeader, nil
	}
	return ret[:len(dst)+len(payload)], tr.NextHeader, nil
}

// decrypt verifies the ICV and decrypts p.Ciphertext into plain, which is
// either p.Ciphertext itself or disjoint from packet.
func (sa *SA) decrypt(packet []byte, p wire.Packet, plain []byte, seq uint64) bool {
	s := sa.pool.Get().(*scratch)
	defer sa.pool.Put(s)
	if sa.aead != nil {
		ct := packet[len(packet)-len(p.Ciphertext)-len(p.ICV):] // ciphertext || ICV
		_, err := sa.aead.Open(plain[:0], sa.nonce(s, p.IV), ct, sa.aad(s, seq))
		return err == nil
	}
	authLen := len(packet) - sa.icvLen
	if subtle.ConstantTimeCompare(sa.mac(s, packet[:authLen], seq), p.ICV) != 1 {
		return false
	}
	s.dec.(ivSetter).SetIV(p.IV)
	s.dec.CryptBlocks(plain, p.Ciphertext)
	return true
}

// overlaps reports whether a and b share memory.
func overlaps(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return a0 < b0+uintptr(len(b)) && b0 < a0+uintptr(len(a))
}

func (sa *SA) nonce(s *scratch, iv []byte) []byte {
	copy(s.nonce[:saltLen], sa.salt[:])
	copy(s.nonce[saltLen:], iv)
	return s.nonce[:]
}

// aad is SPI || sequence number, 8 bytes, or with ESN SPI || high || low,
// 12 bytes (RFC 4106 §5, RFC 7634 §2.1).
func (sa *SA) aad(s *scratch, seq uint64) []byte {
	binary.BigEndian.PutUint32(s.aad[:], sa.spi)
	if !sa.esn {
		binary.BigEndian.PutUint32(s.aad[4:], uint32(seq))
		return s.aad[:8]
	}
	binary.BigEndian.PutUint64(s.aad[4:], seq)
	return s.aad[:12]
}

// mac computes the truncated HMAC over the packet and, with ESN, the
// high-order sequence bits appended for the ICV only (RFC 4303 §2.2.1).
func (sa *SA) mac(s *scratch, covered []byte, seq uint64) []byte {
	s.mac.Reset()
	s.mac.Write(covered)
	if sa.esn {
		binary.BigEndian.PutUint32(s.hi[:], uint32(seq>>32))
		s.mac.Write(s.hi[:])
	}
	return s.mac.Sum(s.sum[:0])[:sa.icvLen]
}

func padLen(n, blockSize int) int { return wire.PadLen(n, blockSize) }

// sliceForAppend extends in by n bytes, reusing its capacity when it can.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	return head, head[len(in):]
}
