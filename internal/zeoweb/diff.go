package zeoweb

// diffLine is one line of a diff: Op is ' ' (in both), '-' (only in the
// older revision), '+' (only in the newer) or '…' (unchanged lines left
// out).
type diffLine struct {
	Op   string
	Text string
}

const (
	// maxDiffCells bounds the table of the longest-common-subsequence
	// diff (the lines that differ, after the common start and end are
	// taken off); beyond it the diff shows the changed region as removed
	// then added.
	maxDiffCells = 4 << 20
	// diffContext is how many unchanged lines are kept around a change.
	diffContext = 3
)

// diffLines compares two texts line by line. cut reports that the changed
// region was too big for a line-by-line comparison.
func diffLines(a, b []string) (lines []diffLine, cut bool) {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var all []diffLine
	for _, s := range a[:pre] {
		all = append(all, diffLine{" ", s})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if (len(ma)+1)*(len(mb)+1) > maxDiffCells {
		cut = true
		for _, s := range ma {
			all = append(all, diffLine{"-", s})
		}
		for _, s := range mb {
			all = append(all, diffLine{"+", s})
		}
	} else {
		all = append(all, lcsDiff(ma, mb)...)
	}
	for _, s := range a[len(a)-suf:] {
		all = append(all, diffLine{" ", s})
	}
	return elide(all), cut
}

// lcsDiff is the classic longest-common-subsequence diff.
func lcsDiff(a, b []string) []diffLine {
	w := len(b) + 1
	// lcs[i*w+j] is the LCS length of a[i:] and b[j:].
	lcs := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{" ", a[i]})
			i, j = i+1, j+1
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}

// elide keeps diffContext unchanged lines around each change and replaces
// longer unchanged runs by one '…' line.
func elide(all []diffLine) []diffLine {
	keep := make([]bool, len(all))
	for i, l := range all {
		if l.Op == " " {
			continue
		}
		for j := max(0, i-diffContext); j <= min(len(all)-1, i+diffContext); j++ {
			keep[j] = true
		}
	}
	var out []diffLine
	for i, l := range all {
		switch {
		case keep[i]:
			out = append(out, l)
		case len(out) == 0 || out[len(out)-1].Op != "…":
			out = append(out, diffLine{"…", ""})
		}
	}
	return out
}
