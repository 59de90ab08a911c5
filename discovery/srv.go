package discovery

import (
	"math/rand/v2"
	"slices"

	"github.com/miekg/dns"
)

// OrderSRV orders SRV records as RFC 2782 prescribes: ascending priority;
// within a priority, repeated weighted random selection where a record of
// weight w is picked with probability w/(sum of remaining weights), and
// zero-weight records placed first so they are picked rarely. intn(n)
// returns a uniform integer in [0, n); nil uses math/rand/v2. A record
// whose target is "." (service decidedly not available) is dropped.
func OrderSRV(recs []*dns.SRV, intn func(n int) int) []*dns.SRV {
	if intn == nil {
		intn = rand.IntN
	}
	rs := make([]*dns.SRV, 0, len(recs))
	for _, r := range recs {
		if r.Target != "." {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b *dns.SRV) int {
		if a.Priority != b.Priority {
			return int(a.Priority) - int(b.Priority)
		}
		// RFC 2782: "arrange all SRV RRs (that have not been ordered
		// yet) in any order, except that all those with weight 0 are
		// placed at the beginning of the list".
		return min(int(a.Weight), 1) - min(int(b.Weight), 1)
	})
	out := make([]*dns.SRV, 0, len(rs))
	for start := 0; start < len(rs); {
		end := start
		for end < len(rs) && rs[end].Priority == rs[start].Priority {
			end++
		}
		out = appendWeighted(out, slices.Clone(rs[start:end]), intn)
		start = end
	}
	return out
}

// appendWeighted runs RFC 2782's selection on one priority's records.
func appendWeighted(out, group []*dns.SRV, intn func(int) int) []*dns.SRV {
	for len(group) > 0 {
		sum := 0
		for _, r := range group {
			sum += int(r.Weight)
		}
		// "choose a uniform random number between 0 and the sum computed
		// (inclusive), and select the RR whose running sum value is the
		// first in the selected order which is greater than or equal to
		// the random number selected".
		x := intn(sum + 1)
		run, pick := 0, len(group)-1
		for i, r := range group {
			run += int(r.Weight)
			if run >= x {
				pick = i
				break
			}
		}
		out = append(out, group[pick])
		group = slices.Delete(group, pick, pick+1)
	}
	return out
}
