package strongswan

import (
	"fmt"
	"strconv"
	"strings"
)

// IKESA is one IKE SA from `swanctl --list-sas`.
type IKESA struct {
	Name         string
	UniqueID     int
	State        string
	LocalHost    string
	LocalPort    int
	LocalID      string
	RemoteHost   string
	RemotePort   int
	RemoteID     string
	Initiator    bool
	InitiatorSPI string
	ResponderSPI string
	EncrAlg      string
	EncrKeysize  int
	PRFAlg       string
	DHGroup      string
	LocalVIPs    []string
	RemoteVIPs   []string
	Children     []ChildSA
	Fields       map[string]string // every scalar field as printed
}

// ChildSA is one CHILD_SA of an IKE SA.
type ChildSA struct {
	Name        string
	UniqueID    int
	State       string
	Mode        string
	Protocol    string
	Encap       bool
	SPIIn       uint32
	SPIOut      uint32
	EncrAlg     string
	EncrKeysize int
	IntegAlg    string
	BytesIn     uint64
	BytesOut    uint64
	PacketsIn   uint64
	PacketsOut  uint64
	LocalTS     []string
	RemoteTS    []string
	Fields      map[string]string
}

// node is the tree of `swanctl --pretty` output: sections, lists, values.
type node struct {
	name     string
	values   map[string]string
	lists    map[string][]string
	sections []*node
}

func newNode(name string) *node {
	return &node{name: name, values: map[string]string{}, lists: map[string][]string{}}
}

// parsePretty reads the --pretty format: "name {", "}", "k = v", "k = [", "]".
func parsePretty(s string) (*node, error) {
	root := newNode("")
	stack := []*node{root}
	var listNode *node // inside "k = [" ... "]"
	var listKey string
	for i, raw := range strings.Split(s, "\n") {
		line := strings.TrimSpace(raw)
		top := stack[len(stack)-1]
		switch {
		case line == "":
		case listNode != nil && line == "]":
			listNode = nil
		case listNode != nil:
			listNode.lists[listKey] = append(listNode.lists[listKey], line)
		case strings.HasSuffix(line, " {"):
			n := newNode(strings.TrimSuffix(line, " {"))
			top.sections = append(top.sections, n)
			stack = append(stack, n)
		case line == "}":
			if len(stack) == 1 {
				return nil, fmt.Errorf("strongswan: list-sas line %d: unbalanced }", i+1)
			}
			stack = stack[:len(stack)-1]
		case strings.HasSuffix(line, " = ["):
			listNode, listKey = top, strings.TrimSuffix(line, " = [")
			top.lists[listKey] = []string{}
		default:
			k, v, ok := strings.Cut(line, " = ")
			if !ok {
				return nil, fmt.Errorf("strongswan: list-sas line %d: cannot parse %q", i+1, line)
			}
			top.values[k] = v
		}
	}
	return root, nil
}

func parseListSAs(s string) ([]IKESA, error) {
	root, err := parsePretty(s)
	if err != nil {
		return nil, err
	}
	var out []IKESA
	for _, ev := range root.sections {
		if ev.name != "list-sa event" {
			continue
		}
		for _, ike := range ev.sections {
			out = append(out, toIKESA(ike))
		}
	}
	return out, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atou(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

func spi32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 16, 32)
	return uint32(n)
}

func toIKESA(n *node) IKESA {
	v := n.values
	sa := IKESA{Name: n.name, UniqueID: atoi(v["uniqueid"]), State: v["state"], LocalHost: v["local-host"],
		LocalPort: atoi(v["local-port"]), LocalID: v["local-id"], RemoteHost: v["remote-host"],
		RemotePort: atoi(v["remote-port"]), RemoteID: v["remote-id"], Initiator: v["initiator"] == "yes",
		InitiatorSPI: v["initiator-spi"], ResponderSPI: v["responder-spi"], EncrAlg: v["encr-alg"],
		EncrKeysize: atoi(v["encr-keysize"]), PRFAlg: v["prf-alg"], DHGroup: v["dh-group"],
		LocalVIPs: n.lists["local-vips"], RemoteVIPs: n.lists["remote-vips"], Fields: v}
	for _, s := range n.sections {
		if s.name != "child-sas" {
			continue
		}
		for _, c := range s.sections {
			cv := c.values
			sa.Children = append(sa.Children, ChildSA{Name: cv["name"], UniqueID: atoi(cv["uniqueid"]),
				State: cv["state"], Mode: cv["mode"], Protocol: cv["protocol"], Encap: cv["encap"] == "yes",
				SPIIn: spi32(cv["spi-in"]), SPIOut: spi32(cv["spi-out"]), EncrAlg: cv["encr-alg"],
				EncrKeysize: atoi(cv["encr-keysize"]), IntegAlg: cv["integ-alg"], BytesIn: atou(cv["bytes-in"]),
				BytesOut: atou(cv["bytes-out"]), PacketsIn: atou(cv["packets-in"]), PacketsOut: atou(cv["packets-out"]),
				LocalTS: c.lists["local-ts"], RemoteTS: c.lists["remote-ts"], Fields: cv})
		}
	}
	return sa
}
