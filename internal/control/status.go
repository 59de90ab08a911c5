package control

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Status is what `mip6 status` shows of a daemon.
type Status struct {
	Role     string    `json:"role"` // "ha" or "mn"
	Identity string    `json:"identity,omitempty"`
	Started  time.Time `json:"started"`
	// Store is where a home agent keeps leases and PAD entries: a file
	// path, or "etcd:" with the endpoints and prefix.
	Store    string            `json:"store,omitempty"`
	Bindings []Binding         `json:"bindings"`
	IKESAs   []IKESA           `json:"ike_sas"`
	ChildSAs []ChildSA         `json:"child_sas"`
	Counters map[string]uint64 `json:"counters"`
}

// Binding is one binding cache (HA) or binding update list (MN) entry.
type Binding struct {
	Identity    string    `json:"identity"`
	HomeAddress string    `json:"home_address"`
	CareOf      string    `json:"care_of_address"`
	HomeAgent   string    `json:"home_agent,omitempty"`
	Sequence    uint16    `json:"sequence"`
	Expires     time.Time `json:"expires"`
	State       string    `json:"state"`
	// WireForm is how Binding Updates travel: "tunnel" (RFC 4877 §3) or
	// "transport" (RFC 3776).
	WireForm string `json:"wire_form,omitempty"`
}

// IKESA is one IKE SA.
type IKESA struct {
	Identity string    `json:"identity"`
	Local    string    `json:"local"`
	Remote   string    `json:"remote"`
	SPIi     string    `json:"spi_i"`
	SPIr     string    `json:"spi_r"`
	Suite    string    `json:"suite"`
	State    string    `json:"state"`
	Since    time.Time `json:"since"`
}

// ChildSA is one pair of ESP SAs.
type ChildSA struct {
	Identity   string `json:"identity"`
	Name       string `json:"name"`
	SPIIn      string `json:"spi_in"`
	SPIOut     string `json:"spi_out"`
	Mode       string `json:"mode"`
	Suite      string `json:"suite"`
	LocalTS    string `json:"local_ts"`
	RemoteTS   string `json:"remote_ts"`
	PacketsIn  uint64 `json:"packets_in"`
	PacketsOut uint64 `json:"packets_out"`
}

// WriteText renders s for people.
func (s *Status) WriteText(w io.Writer, now time.Time) {
	fmt.Fprintf(w, "%s %s, up %s\n", roleName(s.Role), s.Identity, now.Sub(s.Started).Round(time.Second))
	if s.Store != "" {
		fmt.Fprintf(w, "store %s\n", s.Store)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nBindings (%d)\n", len(s.Bindings))
	if len(s.Bindings) > 0 {
		fmt.Fprintln(tw, "  IDENTITY\tHOME ADDRESS\tCARE-OF ADDRESS\tSEQ\tEXPIRES IN\tSTATE\tWIRE FORM")
		for _, b := range s.Bindings {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\n", b.Identity, b.HomeAddress, b.CareOf, b.Sequence,
				b.Expires.Sub(now).Round(time.Second), b.State, orDash(b.WireForm))
		}
	}
	fmt.Fprintf(tw, "\nIKE SAs (%d)\n", len(s.IKESAs))
	if len(s.IKESAs) > 0 {
		fmt.Fprintln(tw, "  IDENTITY\tLOCAL\tREMOTE\tSPIs\tSUITE\tSTATE")
		for _, a := range s.IKESAs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s_i %s_r\t%s\t%s\n", a.Identity, a.Local, a.Remote, a.SPIi, a.SPIr, a.Suite, a.State)
		}
	}
	fmt.Fprintf(tw, "\nCHILD SAs (%d)\n", len(s.ChildSAs))
	if len(s.ChildSAs) > 0 {
		fmt.Fprintln(tw, "  IDENTITY\tNAME\tSPI IN/OUT\tMODE\tSUITE\tTS\tPACKETS IN/OUT")
		for _, c := range s.ChildSAs {
			fmt.Fprintf(tw, "  %s\t%s\t%s/%s\t%s\t%s\t%s === %s\t%d/%d\n", c.Identity, c.Name, c.SPIIn, c.SPIOut,
				c.Mode, c.Suite, c.LocalTS, c.RemoteTS, c.PacketsIn, c.PacketsOut)
		}
	}
	tw.Flush()
	if len(s.Counters) > 0 {
		fmt.Fprintln(w, "\nCounters")
		names := make([]string, 0, len(s.Counters))
		for n := range s.Counters {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-40s %d\n", n, s.Counters[n])
		}
	}
}

func roleName(r string) string {
	switch r {
	case "ha":
		return "home agent"
	case "mn":
		return "mobile node"
	}
	return strings.TrimSpace(r)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
