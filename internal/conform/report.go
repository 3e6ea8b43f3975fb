package conform

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as a table: one row per check, and under a
// failure what was sent, what came back and what was expected.
func (r *Report) WriteTable(w io.Writer) error {
	mode := "read-only"
	if r.Write {
		mode = "read-write"
	}
	fmt.Fprintf(w, "server %s: announced %s, negotiated %s (%s), storage %q, %s suite\n\n",
		r.Server, r.Announced, r.Negotiated, r.Encoding, r.Storage, mode)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tMETHODS\tRESULT")
	for _, res := range r.Results {
		status := strings.ToUpper(string(res.Status))
		if res.Status == Skip && res.Note != "" {
			status += " (" + res.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res.Check, strings.Join(res.Methods, ", "), status)
		if res.Status == Fail {
			fmt.Fprintf(tw, "  sent:\t%s\t\n", res.Sent)
			fmt.Fprintf(tw, "  got:\t%s\t\n", res.Got)
			fmt.Fprintf(tw, "  expected:\t%s\t\n", res.Want)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p, f, s := r.Counts()
	_, err := fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", p, f, s)
	return err
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Passed bool `json:"passed"`
	}{r, r.Passed()})
}
