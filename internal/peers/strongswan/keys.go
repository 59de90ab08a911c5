package strongswan

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"mip6/internal/tshark"
)

// Keys are the secrets charon logged at ike=4 chd=4 (Options.KeyLog).
type Keys struct {
	IKE []IKEKeys
	ESP []ESPKeys
}

// IKEKeys are one IKE SA's keys (RFC 7296 §2.14), named as charon logs
// them. SKai/SKar are empty for combined-mode (AEAD) algorithms.
type IKEKeys struct {
	Conn                                    string // connection name
	UniqueID                                int    // IKE SA unique id, as in ListSAs
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte
}

// ESPKeys is one installed ESP SA (one direction).
type ESPKeys struct {
	Conn      string
	UniqueID  int // of the IKE SA
	Child     string
	ChildID   int
	SPI       uint32
	Src, Dst  netip.Addr
	Inbound   bool
	Encr      string // charon's algorithm name, e.g. AES_GCM_16
	EncKey    []byte // for AEAD algorithms including the 4-byte salt (RFC 4106 §8.1)
	IntegKey  []byte
	Initiator bool // this charon initiated the CHILD_SA exchange
}

// KeyError reports a log that could not be parsed.
type KeyError struct {
	Line   int
	Reason string
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("strongswan: key log line %d: %s", e.Line, e.Reason)
}

var (
	// "12:39:47 15[IKE] <c|1> rest"
	logLine  = regexp.MustCompile(`^\s*\S+ \d+\[([A-Z]+)\] (?:<(?:([^|>]*)\|)?(\d+)> )?(.*)$`)
	dumpHead = regexp.MustCompile(`^(.+?) => (\d+) bytes @ 0x[0-9a-f]+$`)
	dumpRow  = regexp.MustCompile(`^\s*\d+: ((?:[0-9A-F]{2} ?)+)`)
	espSPI   = regexp.MustCompile(`^\s*SPI 0x([0-9a-f]{8}), src (\S+) dst (\S+)$`)
	// A rekeyed CHILD_SA is installed in two steps, "inbound CHILD_SA x{n}
	// established" then "outbound CHILD_SA x{n} established" (5.9).
	estab    = regexp.MustCompile(`^(?:inbound |outbound )?CHILD_SA (.+)\{(\d+)\} established`)
	creating = regexp.MustCompile(`^establishing CHILD_SA (.+)\{(\d+)\}`)
	usingEnc = regexp.MustCompile(`^\s*using (\S+) for encryption`)
)

// keyParser walks charon's log; one dump (label + hex rows) at a time.
type keyParser struct {
	keys    Keys
	ike     map[int]*IKEKeys
	dumps   map[int]map[string][]byte // per IKE SA: last dump per label
	curDump []byte
	curSA   int
	curLbl  string
	encr    map[int]string
	dir     map[int]bool // next "SPI" line is inbound
	childI  map[int]bool // CHILD_SA exchange initiated by us, per IKE SA
	pending map[int][]ESPKeys
}

// ParseKeys extracts IKE and ESP keys and SPIs from a charon log written
// with Options.KeyLog.
func ParseKeys(log string) (Keys, error) {
	p := &keyParser{ike: map[int]*IKEKeys{}, dumps: map[int]map[string][]byte{}, encr: map[int]string{},
		dir: map[int]bool{}, childI: map[int]bool{}, pending: map[int][]ESPKeys{}}
	for i, line := range strings.Split(log, "\n") {
		if err := p.line(i+1, line); err != nil {
			return Keys{}, err
		}
	}
	p.flush()
	return p.keys, nil
}

func (p *keyParser) line(n int, line string) error {
	m := logLine.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	if m[3] == "" {
		p.flush()
		return nil
	}
	id, err := strconv.Atoi(m[3])
	if err != nil {
		return &KeyError{n, "bad IKE SA id " + m[3]}
	}
	rest := m[4]
	if r := dumpRow.FindStringSubmatch(rest); r != nil && p.curLbl != "" {
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(r[1]), " ", ""))
		if err != nil {
			return &KeyError{n, err.Error()}
		}
		p.curDump = append(p.curDump, b...)
		return nil
	}
	p.flush()
	if h := dumpHead.FindStringSubmatch(rest); h != nil {
		p.curSA, p.curLbl, p.curDump = id, h[1], nil
		return nil
	}
	return p.event(n, m[2], id, rest)
}

func (p *keyParser) flush() {
	if p.curLbl == "" {
		return
	}
	if p.dumps[p.curSA] == nil {
		p.dumps[p.curSA] = map[string][]byte{}
	}
	p.dumps[p.curSA][p.curLbl] = p.curDump
	p.curLbl, p.curDump = "", nil
}

func (p *keyParser) event(n int, conn string, id int, rest string) error {
	switch {
	case strings.HasPrefix(rest, "Sk_pr secret"):
		return nil // the dump follows; IKE keys are collected at "establish"
	case strings.HasPrefix(rest, "IKE_SA ") && strings.Contains(rest, " established between"):
		p.ikeKeys(conn, id)
	case creating.MatchString(rest):
		p.childI[id] = true
	case usingEnc.MatchString(rest):
		p.encr[id] = usingEnc.FindStringSubmatch(rest)[1]
	case rest == "adding inbound ESP SA":
		p.dir[id] = true
	case rest == "adding outbound ESP SA", rest == "registering outbound ESP SA":
		// A rekey registers the outbound SA with the inbound one and adds
		// it after the inbound half is established: the first sighting
		// counts (espSA skips the second).
		p.dir[id] = false
	case espSPI.MatchString(rest):
		return p.espSA(n, conn, id, espSPI.FindStringSubmatch(rest))
	case estab.MatchString(rest):
		m := estab.FindStringSubmatch(rest)
		cid, _ := strconv.Atoi(m[2])
		for _, e := range p.pending[id] {
			e.Child, e.ChildID = m[1], cid
			p.keys.ESP = append(p.keys.ESP, e)
		}
		delete(p.pending, id)
		delete(p.childI, id)
	}
	return nil
}

func (p *keyParser) ikeKeys(conn string, id int) {
	d := p.dumps[id]
	k := IKEKeys{Conn: conn, UniqueID: id, SKd: d["Sk_d secret"], SKai: d["Sk_ai secret"], SKar: d["Sk_ar secret"],
		SKei: d["Sk_ei secret"], SKer: d["Sk_er secret"], SKpi: d["Sk_pi secret"], SKpr: d["Sk_pr secret"]}
	if k.SKd != nil {
		p.keys.IKE = append(p.keys.IKE, k)
	}
}

// espSA records an ESP SA. Keys named "initiator" protect traffic from the
// CHILD_SA initiator to the responder (RFC 7296 §2.17).
func (p *keyParser) espSA(n int, conn string, id int, m []string) error {
	spi, err := strconv.ParseUint(m[1], 16, 32)
	if err != nil {
		return &KeyError{n, "bad SPI " + m[1]}
	}
	src, err1 := netip.ParseAddr(m[2])
	dst, err2 := netip.ParseAddr(m[3])
	if err1 != nil || err2 != nil {
		return &KeyError{n, "bad SPI addresses " + m[2] + " " + m[3]}
	}
	in, init := p.dir[id], p.childI[id]
	if p.seen(id, uint32(spi), in) {
		return nil
	}
	side := "responder"
	if in != init { // outbound of the initiator or inbound of the responder
		side = "initiator"
	}
	d := p.dumps[id]
	e := ESPKeys{Conn: conn, UniqueID: id, SPI: uint32(spi), Src: src, Dst: dst, Inbound: in, Encr: p.encr[id],
		EncKey: d["encryption "+side+" key"], IntegKey: d["integrity "+side+" key"], Initiator: init}
	if e.EncKey == nil {
		return &KeyError{n, fmt.Sprintf("no %s encryption key logged before SPI %08x (is KeyLog on?)", side, spi)}
	}
	p.pending[id] = append(p.pending[id], e)
	return nil
}

// seen reports whether the SA (IKE SA id, SPI, direction) was recorded.
func (p *keyParser) seen(id int, spi uint32, in bool) bool {
	for _, l := range [][]ESPKeys{p.keys.ESP, p.pending[id]} {
		for _, e := range l {
			if e.UniqueID == id && e.SPI == spi && e.Inbound == in {
				return true
			}
		}
	}
	return false
}

// Find returns the ESP SA with the given SPI.
func (k Keys) Find(spi uint32) (ESPKeys, bool) {
	for i := len(k.ESP) - 1; i >= 0; i-- {
		if k.ESP[i].SPI == spi {
			return k.ESP[i], true
		}
	}
	return ESPKeys{}, false
}

// TsharkESPSA returns the Wireshark esp_sa row that decrypts this SA; ok is
// false for algorithms tshark 4.0 cannot decrypt (ChaCha20-Poly1305).
func (k ESPKeys) TsharkESPSA() (row tshark.UATRecord, ok bool) {
	var encr, auth string
	switch {
	case k.Encr == "AES_GCM_16":
		encr, auth = "AES-GCM with 16 octet ICV [RFC4106]", "NULL"
	case k.Encr == "AES_CBC" && len(k.IntegKey) == 32:
		encr, auth = "AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]"
	case k.Encr == "AES_CBC" && len(k.IntegKey) == 64:
		encr, auth = "AES-CBC [RFC3602]", "HMAC-SHA-512-256 [RFC4868]"
	default:
		return tshark.UATRecord{}, false
	}
	integ := ""
	if len(k.IntegKey) > 0 {
		integ = "0x" + hex.EncodeToString(k.IntegKey)
	}
	return tshark.UATRecord{Table: "esp_sa", Fields: []string{"IPv6", k.Src.String(), k.Dst.String(),
		fmt.Sprintf("0x%08x", k.SPI), encr, "0x" + hex.EncodeToString(k.EncKey), auth, integ}}, true
}
