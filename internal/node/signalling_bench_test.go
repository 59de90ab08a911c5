package node

import (
	"encoding/binary"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"mip6/dataplane"
	"mip6/esp"
	"mip6/ha"
	"mip6/ipsec"
	"mip6/vnet"
	"mip6/wire/ipv6"
	"mip6/wire/mh"
)

// BenchmarkHomeAgentBU is the home agent's whole signalling path for one
// Binding Update in each wire form: open the ESP (tunnelled: as the data
// plane's workers do, SPI lookup and Open, then its Local hook), parse the
// packet, authorise and process the BU, build and seal the acknowledgement
// and hand it to the socket (tunnelled: the plane's, Plane.SendTo). The
// mobile node's sealing is outside the timer.
//
//	go test -run '^$' -bench HomeAgentBU ./internal/node
func BenchmarkHomeAgentBU(b *testing.B) {
	for _, form := range []string{"tunnel", "transport"} {
		b.Run(form, func(b *testing.B) {
			h, out := benchHomeAgent(b, form == "transport")
			coa := vnet.AddrOn(vnet.APrefix, 0x100)
			from := netip.AddrPortFrom(coa, 4500)
			pkts := make([][]byte, 1024)
			seq := uint16(0)
			fill := func() {
				for i := range pkts {
					seq++
					pkts[i] = benchBU(b, out, form == "transport", seq, coa)
				}
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%len(pkts) == 0 {
					b.StopTimer()
					fill()
					b.StartTimer()
				}
				pkt := pkts[i%len(pkts)]
				if form == "transport" {
					h.HandleRaw(pkt, now)
					continue
				}
				e := h.t.sad.Inbound(binary.BigEndian.Uint32(pkt))
				inner, _, err := e.SA.Open(pkt)
				if err != nil || !h.PlaneLocal(e, inner, from) {
					b.Fatalf("BU %d: %v", i, err)
				}
			}
			b.StopTimer()
			if got := h.t.counters.snapshot()[cBAOut]; got != uint64(b.N) {
				b.Fatalf("%d acknowledgements for %d BUs: %v", got, b.N, h.t.counters.snapshot())
			}
		})
	}
}

// benchHomeAgent is a home agent whose sockets discard what it sends, with
// alice's pair of the given mode installed; out is alice's sending SA.
func benchHomeAgent(b *testing.B, transport bool) (*HomeAgent, *ipsec.SAEntry) {
	core, err := ha.New(ha.Config{Address: vnet.HAAddr, HomePrefixes: []netip.Prefix{vnet.HomePrefix}, KeyMgmtMobility: true},
		padFunc(func(id string, a netip.Addr) bool { return id == alice && a == hoa }))
	if err != nil {
		b.Fatal(err)
	}
	spd, sad := ipsec.NewSPD(), ipsec.NewSAD()
	h, err := NewHomeAgent(HomeAgentConfig{Core: core, PAD: ipsec.NewPAD(), SAD: sad, SPD: spd,
		Link: nopLink{}, Raw: discardRaw{}})
	if err != nil {
		b.Fatal(err)
	}
	p, err := dataplane.New(dataplane.Config{TUN: newIdle(), Bind: newIdle(), SPD: spd, SAD: sad, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	h.AttachPlane(p)
	mode, carrier := ipsec.Tunnel, esp.CarrierUDP
	if transport {
		mode, carrier = ipsec.Transport, esp.CarrierESP
	}
	key := []byte("0123456789abcdef0123")
	mk := func(spi uint32, dir esp.Direction) *ipsec.SAEntry {
		sa, err := esp.New(esp.Config{SPI: spi, Direction: dir, Transform: esp.AESGCM128, Key: key,
			Endpoints: esp.Endpoints{Remote: netip.AddrPortFrom(vnet.HAAddr, 4500), Carrier: carrier}})
		if err != nil {
			b.Fatal(err)
		}
		return &ipsec.SAEntry{SA: sa, Mode: mode, Identity: alice, HomeAddress: hoa, PolicyID: uint64(spi)}
	}
	if err := h.Install(&Child{In: mk(0x1000, esp.Inbound), Out: mk(0x2000, esp.Outbound)}); err != nil {
		b.Fatal(err)
	}
	return h, mk(0x1000, esp.Outbound)
}

// benchBU is alice's Binding Update from coa, sealed in the given form.
func benchBU(b *testing.B, out *ipsec.SAEntry, transport bool, seq uint16, coa netip.Addr) []byte {
	m := mh.BindingUpdate{Sequence: seq, Acknowledge: true, HomeRegistration: true, KeyManagementMobilityCapability: true, Lifetime: 100}
	m.Options.Present |= mh.HasAlternateCareOfAddress
	m.Options.AlternateCareOfAddress = coa
	body := m.Append(nil, hoa, vnet.HAAddr)
	if transport {
		sealed, err := out.SA.Seal(nil, body, ipv6.ProtoMobility)
		if err != nil {
			b.Fatal(err)
		}
		p := ipv6.Packet{Header: ipv6.Header{HopLimit: 64, Src: coa, Dst: vnet.HAAddr}, HomeAddress: hoa, Proto: ipv6.ProtoESP}
		return p.Append(nil, sealed)
	}
	inner := ipv6.AppendPacket(nil, hoa, vnet.HAAddr, ipv6.ProtoMobility, body)
	sealed, err := out.SA.Seal(nil, inner, ipv6.ProtoIPv6)
	if err != nil {
		b.Fatal(err)
	}
	return sealed
}

// idle is a TUN and a Bind that never read anything and discard what is
// written, until Close.
type idle struct {
	done chan struct{}
	once sync.Once
}

func newIdle() *idle { return &idle{done: make(chan struct{})} }

func (d *idle) Read([][]byte, []int, int) (int, error)  { <-d.done; return 0, os.ErrClosed }
func (d *idle) Write(bufs [][]byte, _ int) (int, error) { return len(bufs), nil }
func (d *idle) ReadBatch([]dataplane.Datagram) (int, error) {
	<-d.done
	return 0, os.ErrClosed
}
func (d *idle) WriteBatch(ds []dataplane.Datagram) (int, error) { return len(ds), nil }
func (d *idle) BatchSize() int                                  { return 1 }
func (d *idle) Close() error                                    { d.once.Do(func() { close(d.done) }); return nil }

type discardRaw struct{}

func (discardRaw) SendRaw([]byte) error { return nil }
