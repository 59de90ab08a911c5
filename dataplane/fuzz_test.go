package dataplane

import (
	"testing"

	"mip6/esp"
)

// FuzzInbound feeds arbitrary datagrams to the inbound path (what anyone
// on the network can send to port 4500, or as raw ESP): nothing may panic,
// and only a packet that authenticates may reach the TUN.
func FuzzInbound(f *testing.F) {
	a, b := benchPlanes(f)
	out := newBatch(1, txBufSize)
	out.sizes[0] = copy(out.bufs[0][txHead:], udpPacket(hoaA, hostB, 1))
	a.seal(out, 0, &sealCache{})
	f.Add(append([]byte(nil), out.pkts[0]...), false)
	f.Add(append([]byte(nil), out.pkts[0]...), true)
	f.Add([]byte{0xff}, false)
	f.Add([]byte{0, 0, 0, 0, 1}, false)
	f.Add([]byte{0, 0, 0, 0, 1}, true)
	f.Add([]byte{0, 0, 0x20, 0x02, 0, 0, 0, 1}, false)
	in := newBatch(1, rxBufSize)
	sa := b.sad.Inbound(0x1001).SA
	f.Fuzz(func(t *testing.T, d []byte, raw bool) {
		if len(d) > rxBufSize-rxHead {
			return
		}
		in.from = carrierIndex(esp.CarrierUDP)
		if raw {
			in.from = carrierIndex(esp.CarrierESP)
		}
		in.dgs[0].Buf = in.bufs[0][rxHead : rxHead+copy(in.bufs[0][rxHead:], d)]
		before := sa.Stats().Packets
		ok := b.open(in, 0)
		if ok != (in.pkts[0] != nil) || ok && sa.Stats().Packets != before+1 {
			t.Fatal("a packet reached the TUN without being authenticated")
		}
	})
}

// FuzzOutbound feeds arbitrary packets from the TUN to the outbound path.
func FuzzOutbound(f *testing.F) {
	a, _ := benchPlanes(f)
	f.Add(udpPacket(hoaA, hostB, 1))
	f.Add([]byte{0x60, 0, 0, 0, 0, 8, 0, 64})
	out := newBatch(1, txBufSize)
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > txBufSize-txHead-128 {
			return
		}
		out.sizes[0] = copy(out.bufs[0][txHead:], p)
		a.seal(out, 0, &sealCache{})
	})
}
