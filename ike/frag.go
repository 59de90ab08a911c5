package ike

import (
	"errors"

	"mip6/wire/ikev2"
)

// maxFragments bounds reassembly state an authenticated peer can make us
// hold (RFC 7383 §2.6.3 leaves the limit to the receiver).
const maxFragments = 64

// reassembly collects the decrypted fragments of one message (RFC 7383
// §2.6.3). Fragments are authenticated before they get here.
type reassembly struct {
	msgID    uint32
	response bool
	total    uint16
	first    ikev2.PayloadType
	parts    [][]byte
	have     int
}

func (r *reassembly) add(h ikev2.Header, first ikev2.PayloadType, num, total uint16, plain []byte) ([]byte, ikev2.PayloadType, bool, error) {
	if total > maxFragments {
		return nil, 0, false, dropErr(DropFragment, errors.New("too many fragments"))
	}
	if r.parts == nil || r.msgID != h.MessageID || r.response != h.IsResponse() || r.total != total {
		*r = reassembly{msgID: h.MessageID, response: h.IsResponse(), total: total, parts: make([][]byte, total)}
	}
	i := int(num) - 1
	if r.parts[i] != nil {
		return nil, 0, false, dropErr(DropFragment, errors.New("duplicate fragment"))
	}
	r.parts[i] = append([]byte(nil), plain...)
	if num == 1 {
		r.first = first
	}
	r.have++
	if r.have < int(total) {
		return nil, 0, false, nil
	}
	var whole []byte
	for _, p := range r.parts {
		whole = append(whole, p...)
	}
	first = r.first
	*r = reassembly{}
	return whole, first, true, nil
}
