// Package pcap reads and writes classic libpcap capture files, so tests and
// the lab network can hand packets to tshark and read captures back.
//
// Writing:
//
//	w, err := pcap.NewWriter(f, pcap.LinkTypeRaw) // raw IPv6 packets, no link header
//	err = w.WritePacket(time.Now(), pkt)
//
// Reading (either byte order, micro- or nanosecond timestamps; snaplen and
// per-record lengths are checked before anything is allocated):
//
//	r, err := pcap.NewReader(f)
//	for {
//		ts, data, err := r.Next() // data is reused by the next call
//		if err == io.EOF { break }
//	}
//
// Malformed files yield *pcap.Error naming the record and field.
package pcap
