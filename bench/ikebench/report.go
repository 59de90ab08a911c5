package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
)

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func loadResult(path string) (*result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(r.Phases) == 0 {
		return nil, fmt.Errorf("%s: no phases", path)
	}
	return &r, nil
}

func runReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	mip6 := fs.String("mip6", "", "mip6 responder result")
	var charons, extras listFlag
	fs.Var(&charons, "charon", "charon result (repeatable; none: mip6 alone)")
	fs.Var(&extras, "extra", "another result to list without ratios (repeatable)")
	fs.Parse(args)
	if *mip6 == "" {
		return errors.New("report: -mip6 is required")
	}
	m, err := loadResult(*mip6)
	if err != nil {
		return err
	}
	all := []*result{m}
	for _, c := range append(charons, extras...) {
		r, err := loadResult(c)
		if err != nil {
			return err
		}
		all = append(all, r)
	}
	printPhases(all)
	for _, c := range all[1 : 1+len(charons)] {
		printRatios(m, c)
	}
	return nil
}

// rate is handshakes per responder CPU-second (0 when unmeasurable).
func rate(est int, cpu float64) float64 {
	if cpu <= 0 {
		return 0
	}
	return float64(est) / cpu
}

func perSA(grown int64, sas int) float64 {
	if sas <= 0 {
		return 0
	}
	return float64(grown) / float64(sas) / 1024
}

func printPhases(all []*result) {
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "responder\tSAs\thandshakes\tfailed\tCPU-s\thandshakes/CPU-s\twall-s\tRSS KiB/SA\theap KiB/SA\t")
	for _, r := range all {
		est, cpu, wall := 0, 0.0, 0.0
		for _, p := range r.Phases {
			est, cpu, wall = est+p.Established, cpu+p.CPUSeconds, wall+p.WallSeconds
			heap := "-"
			if p.HeapEnd > 0 {
				heap = fmt.Sprintf("%.2f", perSA(int64(p.HeapEnd)-int64(r.HeapBase), p.ToSAs))
			}
			fmt.Fprintf(w, "%s\t%d→%d\t%d\t%d\t%.2f\t%.0f\t%.1f\t%.2f\t%s\t\n", r.Label, p.FromSAs, p.ToSAs,
				p.Established, p.Failed, p.CPUSeconds, rate(p.Established, p.CPUSeconds), p.WallSeconds,
				perSA(p.RSSEnd-r.RSSBase, p.ToSAs), heap)
		}
		fmt.Fprintf(w, "%s\t0→%d (all)\t%d\t\t%.2f\t%.0f\t%.1f\t\t\t\n", r.Label, est, est, cpu, rate(est, cpu), wall)
	}
	w.Flush()
	for _, r := range all {
		fmt.Printf("  %s: %s; %d handshakes in flight\n", r.Label, r.Config, r.Concurrency)
		if r.Capped != "" {
			fmt.Printf("  %s: CAPPED: %s (target %d)\n", r.Label, r.Capped, r.Target)
		}
	}
}

// printRatios compares mip6 with one charon run at each sampling point
// both reached: the rate of the phase ending there (the marginal cost at
// that SA count), the rate from zero, and memory per SA.
func printRatios(m, c *result) {
	fmt.Printf("\nmip6 / %s:\n", c.Label)
	mEst, mCPU, cEst, cCPU := 0, 0.0, 0, 0.0
	for i := range min(len(m.Phases), len(c.Phases)) {
		mp, cp := m.Phases[i], c.Phases[i]
		mEst, mCPU, cEst, cCPU = mEst+mp.Established, mCPU+mp.CPUSeconds, cEst+cp.Established, cCPU+cp.CPUSeconds
		mr, cr := rate(mp.Established, mp.CPUSeconds), rate(cp.Established, cp.CPUSeconds)
		ma, ca := rate(mEst, mCPU), rate(cEst, cCPU)
		mm, cm := perSA(mp.RSSEnd-m.RSSBase, mp.ToSAs), perSA(cp.RSSEnd-c.RSSBase, cp.ToSAs)
		fmt.Printf("  at %d / %d SAs: handshakes per responder CPU-s %.0f / %.0f = %s (phase %d→%d); from 0: %.0f / %.0f = %s; RSS per SA %.2f / %.2f KiB = %s\n",
			mp.ToSAs, cp.ToSAs, mr, cr, ratio(mr, cr), mp.FromSAs, mp.ToSAs, ma, ca, ratio(ma, ca), mm, cm, ratio(mm, cm))
	}
	if len(c.Phases) < len(m.Phases) {
		fmt.Printf("  %s stopped after %d of %d phases (%s)\n", c.Label, len(c.Phases), len(m.Phases), c.Capped)
	}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
