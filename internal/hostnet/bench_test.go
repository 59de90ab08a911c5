package hostnet

import (
	"net"
	"net/netip"
	"sort"
	"testing"
	"time"

	"mip6/internal/netns"
)

// probePort receives the correspondent's probe datagrams at the home address.
const probePort = 5002

// BenchmarkHandover moves the mobile node between access networks A and B
// in the netns lab, while the correspondent sends a datagram to the home
// address every 100 µs. Per move it reports the time from the new care-of
// address (MobileNode.Attach) to the Binding Acknowledgement ("bu-ba-µs":
// one signalling round trip plus processing on both sides) and to the first
// datagram arriving through the new path ("traffic-µs", 100 µs
// resolution), as means and as the 95th percentile. Moving the cable and
// the addresses is outside the measurement; each move costs tens of
// milliseconds of ip(8) commands, so run it with a count: -benchtime=100x.
func BenchmarkHandover(b *testing.B) {
	netns.Require(b)
	tp := buildTopology(b)
	haSide, mnSide, _ := handKeyed(b, mnIdentity, homeAddr, haAddr)
	h := startHA(b, tp.ha, haSide)
	m := startMN(b, tp.mn, mnSide)
	if err := m.host.Away(); err != nil {
		b.Fatal(err)
	}
	attach(b, h, m, coaA)
	arrivals := probes(b, tp)

	type access struct {
		br  string
		coa netip.Addr
	}
	cur, next := access{"brA", coaA}, access{"brB", coaB}
	var sig, traffic []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		tp.attachMN(b, next.br, cur.coa, next.coa)
		for len(arrivals) > 0 {
			<-arrivals // sent before the move
		}
		b.StartTimer()
		start := time.Now()
		sig = append(sig, attach(b, h, m, next.coa))
		select {
		case at := <-arrivals:
			traffic = append(traffic, at.Sub(start))
		case <-time.After(5 * time.Second):
			b.Fatalf("no datagram to the home address within 5 s of moving to %s", next.coa)
		}
		cur, next = next, cur
	}
	b.StopTimer()
	report(b, sig, "bu-ba")
	report(b, traffic, "traffic")
}

// probes starts the correspondent's datagrams to the home address and
// returns the arrival times at the mobile node.
func probes(b *testing.B, tp *topology) chan time.Time {
	var rx, tx *net.UDPConn
	if err := tp.mn.Do(func() (err error) {
		rx, err = net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(homeAddr, probePort)))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if err := tp.cn.Do(func() (err error) {
		tx, err = net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(homeAddr, probePort)))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	b.Cleanup(func() { close(stop); rx.Close(); tx.Close() })
	arrivals := make(chan time.Time, 1024)
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
			select {
			case arrivals <- time.Now():
			default:
			}
		}
	}()
	go func() {
		tk := time.NewTicker(100 * time.Microsecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				tx.Write([]byte("probe")) // errors: the path is down while moving
			}
		}
	}()
	return arrivals
}

func report(b *testing.B, d []time.Duration, name string) {
	if len(d) == 0 {
		return
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(sum.Microseconds())/float64(len(d)), name+"-µs")
	b.ReportMetric(float64(d[len(d)*95/100].Microseconds()), name+"-p95-µs")
}

// BenchmarkTunnelTCP streams TCP from the correspondent to the home address
// of a registered mobile node (CN -> home link -> HA TUN -> ESP-in-UDP ->
// MN TUN), 4 MiB per op, every byte checked.
func BenchmarkTunnelTCP(b *testing.B) {
	netns.Require(b)
	tp := buildTopology(b)
	haSide, mnSide, _ := handKeyed(b, mnIdentity, homeAddr, haAddr)
	h := startHA(b, tp.ha, haSide)
	m := startMN(b, tp.mn, mnSide)
	if err := m.host.Away(); err != nil {
		b.Fatal(err)
	}
	attach(b, h, m, coaA)
	st := startStream(b, tp.mn, tp.cn, 0)
	st.await(b, 1<<20) // slow start
	b.SetBytes(4 << 20)
	b.ResetTimer()
	for range b.N {
		st.await(b, 4<<20)
	}
}
